//! One module per page.

mod home;
mod not_found;
mod place;
mod settings;

pub use home::HomePage;
pub use not_found::NotFoundPage;
pub use place::PlacePage;
pub use settings::SettingsPage;
