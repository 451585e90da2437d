//! Components shared by several pages.

mod error_notice;
mod form_draft;
mod layout;
mod lesson_player;
mod live_places;
mod locate;
mod map;
mod scan;
mod session_card;

pub(crate) use error_notice::decode_url_error;
pub use error_notice::{ActionError, ErrorNotice};
pub use form_draft::use_form_draft;
pub use layout::{Footer, Header};
pub use lesson_player::LessonPlayer;
pub use live_places::LivePlaces;
pub use locate::LocateButton;
pub use map::{MapOrigin, MapPlace, MapTexts, MapView};
pub use scan::ScanButton;
pub use session_card::SessionCard;
pub(crate) use session_card::format_yuan;
