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
}
