//! One module per page.

mod account;
mod audit;
mod bookings;
mod coverage;
mod family;
mod home;
mod import;
mod not_found;
mod place;
mod place_edit;
mod priority;
mod priority_members;
mod search;
mod session;
mod settings;
mod sign_in;
mod staff;
mod staff_new_session;

pub use account::AccountPage;
pub use audit::AuditPage;
pub use bookings::{BookingsPage, InboxPage};
pub use coverage::CoveragePage;
pub use family::{AcceptInvitationPage, FamilyPage, InvitationCreatedPage};
pub use home::HomePage;
pub use import::{ImportPage, ImportRunPage};
pub use not_found::NotFoundPage;
pub use place::PlacePage;
pub use place_edit::PlaceEditPage;
pub use priority::PriorityGroupsPage;
pub use priority_members::PriorityMembersPage;
pub use search::SearchPage;
pub use session::SessionPage;
pub use settings::SettingsPage;
pub use sign_in::SignInPage;
pub use staff::{StaffPage, StaffSessionPage};
pub use staff_new_session::NewSessionPage;
