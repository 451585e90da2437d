//! One module per page.

mod account;
mod home;
mod not_found;
mod place;
mod settings;
mod sign_in;

pub use account::AccountPage;
pub use home::HomePage;
pub use not_found::NotFoundPage;
pub use place::PlacePage;
pub use settings::SettingsPage;
pub use sign_in::SignInPage;
