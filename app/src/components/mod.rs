//! Components shared by several pages.

mod error_notice;
mod layout;
mod session_card;

pub use error_notice::{ActionError, ErrorNotice};
pub use layout::{Footer, Header};
pub use session_card::{SessionCard, format_yuan};
