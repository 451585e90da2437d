//! Tile settings of the map view and the coordinate system it draws in.
//!
//! Ningyu stores WGS-84. Tiles from OpenStreetMap and Tianditu (CGCS2000)
//! line up with WGS-84 points. AMap and Tencent Maps draw their tiles in
//! GCJ-02, so a marker must be shifted into GCJ-02 to sit on the right
//! street, and a point picked on such tiles must be shifted back before it
//! starts a search.

use serde::{Deserialize, Serialize};

use crate::geo::{Crs, GeoPoint};

/// Highest zoom level when the configuration names none.
pub const DEFAULT_MAX_ZOOM: u8 = 18;

/// Centre of the map when there is no search to show: Xinjiekou, the
/// centre of Nanjing (WGS-84).
pub const NANJING_CENTRE: GeoPoint = GeoPoint {
    latitude: 32.0415,
    longitude: 118.7784,
};

/// Settings of the map view, read from the configuration at start-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapSettings {
    /// The background tiles. `None` draws the markers on a blank
    /// background and requests no tiles from anywhere.
    pub tiles: Option<TileSource>,
    /// Highest zoom level the map allows.
    pub max_zoom: u8,
}

impl Default for MapSettings {
    fn default() -> Self {
        Self {
            tiles: None,
            max_zoom: DEFAULT_MAX_ZOOM,
        }
    }
}

/// A tile provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TileSource {
    /// Leaflet URL template with `{z}`, `{x}` and `{y}`, and `{s}` for a
    /// subdomain.
    pub url: String,
    /// A second template drawn over the first, such as Tianditu's label
    /// layer.
    pub labels_url: Option<String>,
    /// Subdomains that replace `{s}`, one character each.
    pub subdomains: String,
    /// The provider's credit line as plain text.
    pub attribution: String,
    /// The coordinate system the tiles are drawn in.
    pub crs: TileCrs,
}

/// The coordinate systems that Leaflet can draw tiles of with its default
/// Web Mercator projection. Baidu's BD-09 tiles use their own projection
/// and tile grid, so they are not among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TileCrs {
    /// WGS-84: OpenStreetMap, and Tianditu, whose CGCS2000 equals WGS-84
    /// to within centimetres.
    Wgs84,
    /// GCJ-02: AMap and Tencent Maps in mainland China.
    Gcj02,
}

impl TileCrs {
    /// Parses a configured name: `wgs84` (or `cgcs2000`) or `gcj02`,
    /// ignoring case and dashes.
    pub fn parse(value: &str) -> Option<Self> {
        match Crs::parse(value)? {
            Crs::Wgs84 => Some(Self::Wgs84),
            Crs::Gcj02 => Some(Self::Gcj02),
            Crs::Bd09 => None,
        }
    }

    /// Returns the general coordinate reference system.
    pub fn crs(self) -> Crs {
        match self {
            Self::Wgs84 => Crs::Wgs84,
            Self::Gcj02 => Crs::Gcj02,
        }
    }
}

impl MapSettings {
    /// Returns the system the map is drawn in: the tiles' system, or
    /// WGS-84 when there are no tiles to line up with.
    pub fn display_crs(&self) -> Crs {
        self.tiles
            .as_ref()
            .map_or(Crs::Wgs84, |tiles| tiles.crs.crs())
    }

    /// Converts a stored WGS-84 point to where it is drawn on the map.
    pub fn to_display(&self, point: GeoPoint) -> GeoPoint {
        point.from_wgs84(self.display_crs())
    }

    /// Converts a point picked on the map back to WGS-84.
    pub fn from_display(&self, point: GeoPoint) -> GeoPoint {
        point.to_wgs84(self.display_crs())
    }
}

impl TileSource {
    /// Returns the credit line escaped for Leaflet, which inserts
    /// attributions as HTML.
    pub fn attribution_html(&self) -> String {
        let mut html = String::with_capacity(self.attribution.len());
        for character in self.attribution.chars() {
            match character {
                '&' => html.push_str("&amp;"),
                '<' => html.push_str("&lt;"),
                '>' => html.push_str("&gt;"),
                '"' => html.push_str("&quot;"),
                '\'' => html.push_str("&#39;"),
                other => html.push(other),
            }
        }
        html
    }
}

/// Returns the address of a nearby search from `point` (WGS-84) in the map
/// view. `filters` is the query string of the other search parameters
/// (radius, age, dates and so on), already encoded, or empty.
pub fn search_from_point_href(filters: &str, point: GeoPoint) -> String {
    let separator = if filters.is_empty() { "" } else { "&" };
    format!(
        "/search?{filters}{separator}lat={:.6}&lon={:.6}&start=map&view=map",
        point.latitude, point.longitude
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiles(crs: TileCrs) -> MapSettings {
        MapSettings {
            tiles: Some(TileSource {
                url: "https://tiles.example.cn/{z}/{x}/{y}.png".to_owned(),
                labels_url: None,
                subdomains: "abc".to_owned(),
                attribution: "Example".to_owned(),
                crs,
            }),
            max_zoom: DEFAULT_MAX_ZOOM,
        }
    }

    #[test]
    fn display_system_follows_the_tiles() {
        let cases = [
            (MapSettings::default(), Crs::Wgs84, "no tiles"),
            (
                tiles(TileCrs::Wgs84),
                Crs::Wgs84,
                "OpenStreetMap or Tianditu",
            ),
            (tiles(TileCrs::Gcj02), Crs::Gcj02, "AMap or Tencent"),
        ];
        for (settings, expected, case) in cases {
            assert_eq!(settings.display_crs(), expected, "{case}");
        }
    }

    #[test]
    fn wgs84_tiles_draw_stored_points_unchanged() {
        let settings = tiles(TileCrs::Wgs84);

        assert_eq!(settings.to_display(NANJING_CENTRE), NANJING_CENTRE);
        assert_eq!(settings.from_display(NANJING_CENTRE), NANJING_CENTRE);
        assert_eq!(
            MapSettings::default().to_display(NANJING_CENTRE),
            NANJING_CENTRE
        );
    }

    #[test]
    fn gcj02_tiles_shift_markers_and_picked_points() {
        let settings = tiles(TileCrs::Gcj02);

        let drawn = settings.to_display(NANJING_CENTRE);
        let picked = settings.from_display(drawn);

        let shift = NANJING_CENTRE.distance_m(drawn);
        assert!((450.0..650.0).contains(&shift), "shifted by {shift} m");
        let error = NANJING_CENTRE.distance_m(picked);
        assert!(error < 1.0, "picked point is {error} m off");
    }

    #[test]
    fn tile_systems_parse_without_bd09() {
        let cases = [
            ("wgs84", Some(TileCrs::Wgs84)),
            ("WGS-84", Some(TileCrs::Wgs84)),
            ("cgcs2000", Some(TileCrs::Wgs84)),
            ("GCJ-02", Some(TileCrs::Gcj02)),
            ("bd09", None),
            ("epsg:3857", None),
        ];
        for (name, expected) in cases {
            assert_eq!(TileCrs::parse(name), expected, "{name}");
        }
    }

    #[test]
    fn attribution_is_escaped() {
        let mut settings = tiles(TileCrs::Wgs84);
        if let Some(tiles) = settings.tiles.as_mut() {
            tiles.attribution = r#"© A & B <script>"x"</script>"#.to_owned();
        }

        let html = settings.tiles.map(|tiles| tiles.attribution_html());

        assert_eq!(
            html.as_deref(),
            Some("© A &amp; B &lt;script&gt;&quot;x&quot;&lt;/script&gt;")
        );
    }

    #[test]
    fn search_link_keeps_filters_and_marks_the_map() {
        let point = GeoPoint {
            latitude: 32.06681234,
            longitude: 118.7756,
        };

        assert_eq!(
            search_from_point_href("radius=5000&age=20", point),
            "/search?radius=5000&age=20&lat=32.066812&lon=118.775600&start=map&view=map"
        );
        assert_eq!(
            search_from_point_href("", point),
            "/search?lat=32.066812&lon=118.775600&start=map&view=map"
        );
    }
}
