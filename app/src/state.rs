//! Server state shared by pages, server functions and REST handlers.

use sea_orm::DatabaseConnection;

use crate::domain::booking::BookingRules;
use crate::domain::nearby::SearchIndex;
use crate::domain::places::FirstPageCache;
use crate::map::MapSettings;

/// State available to every request handler. Cloning is cheap because the pool is shared.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub booking: BookingRules,
    /// The home page's list of places, shared by the requests of this process.
    pub first_page: FirstPageCache,
    /// Tiles and zoom of the map view.
    pub map: MapSettings,
    /// Nearby search's snapshot of places and sessions, refreshed in the
    /// background.
    pub search: SearchIndex,
    /// Folder of the local copies of course media, and the maximum upload size.
    pub media: MediaSettings,
}

/// Settings for the media files of courses.
#[derive(Clone, Debug)]
pub struct MediaSettings {
    /// This process's copies of media files, made the first time each is
    /// served (`domain::media::cached_copy`). Disposable.
    pub cache_dir: std::path::PathBuf,
    /// Largest file an administrator may upload.
    pub max_upload_bytes: u64,
}
