//! Points on the map and the coordinate reference systems they come in.
//!
//! Ningyu stores WGS-84. Chinese map providers publish GCJ-02 (AMap,
//! Tencent) or BD-09 (Baidu), which are WGS-84 shifted by an obfuscation
//! function by several hundred metres in Nanjing. The forward functions
//! below are the widely published approximations of those shifts; the
//! inverse of GCJ-02 is computed by fixed-point iteration, so a round trip
//! returns within centimetres instead of the metres of the usual one-step
//! inverse.

use serde::{Deserialize, Serialize};

/// A coordinate reference system that imported points may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Crs {
    /// WGS-84, as GPS and OpenStreetMap use; CGCS2000 (Tianditu) is the
    /// same to within centimetres.
    Wgs84,
    /// GCJ-02, the system AMap and Tencent Maps use in mainland China.
    Gcj02,
    /// BD-09, Baidu Maps' system, a further shift of GCJ-02.
    Bd09,
}

impl Crs {
    /// Returns the name stored in the database and accepted on import.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wgs84 => "wgs84",
            Self::Gcj02 => "gcj02",
            Self::Bd09 => "bd09",
        }
    }

    /// Parses a name, ignoring case and the dash in `WGS-84` or `GCJ-02`.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().replace('-', "").as_str() {
            "wgs84" | "cgcs2000" => Some(Self::Wgs84),
            "gcj02" => Some(Self::Gcj02),
            "bd09" => Some(Self::Bd09),
            _ => None,
        }
    }
}

/// A latitude and longitude in degrees, both finite and in range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
}

/// Why a pair of numbers is not a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GeoPointError {
    #[error("latitude must be a number from -90 to 90")]
    Latitude,
    #[error("longitude must be a number from -180 to 180")]
    Longitude,
}

impl GeoPoint {
    /// Checks that both values are finite and within range.
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, GeoPointError> {
        if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
            return Err(GeoPointError::Latitude);
        }
        if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
            return Err(GeoPointError::Longitude);
        }
        Ok(Self {
            latitude,
            longitude,
        })
    }

    /// Returns the great-circle distance to `other` in metres (haversine on
    /// a sphere of the mean Earth radius; within 0.5% of the ellipsoid).
    pub fn distance_m(self, other: Self) -> f64 {
        const EARTH_RADIUS_M: f64 = 6_371_008.8;

        let (lat1, lat2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let d_lat = lat2 - lat1;
        let d_lng = (other.longitude - self.longitude).to_radians();
        let h = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lng / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
    }

    /// Converts this point from `crs` to WGS-84.
    pub fn to_wgs84(self, crs: Crs) -> Self {
        match crs {
            Crs::Wgs84 => self,
            Crs::Gcj02 => gcj02_to_wgs84(self),
            Crs::Bd09 => gcj02_to_wgs84(bd09_to_gcj02(self)),
        }
    }

    /// Converts this WGS-84 point to `crs`.
    pub fn from_wgs84(self, crs: Crs) -> Self {
        match crs {
            Crs::Wgs84 => self,
            Crs::Gcj02 => wgs84_to_gcj02(self),
            Crs::Bd09 => gcj02_to_bd09(wgs84_to_gcj02(self)),
        }
    }
}

/// Semi-major axis of the Krasovsky 1940 ellipsoid, which GCJ-02 uses.
const KRASOVSKY_A: f64 = 6_378_245.0;
/// First eccentricity squared of the Krasovsky 1940 ellipsoid.
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;

/// Returns whether GCJ-02 leaves the point unshifted: the shift applies only
/// inside a rectangle around China.
fn outside_china(point: GeoPoint) -> bool {
    !(72.004..=137.8347).contains(&point.longitude) || !(0.8293..=55.8271).contains(&point.latitude)
}

fn shift_latitude(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;

    let mut shift = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    shift += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    shift += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    shift += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    shift
}

fn shift_longitude(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;

    let mut shift = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    shift += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    shift += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    shift += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    shift
}

fn wgs84_to_gcj02(point: GeoPoint) -> GeoPoint {
    use std::f64::consts::PI;

    if outside_china(point) {
        return point;
    }
    let x = point.longitude - 105.0;
    let y = point.latitude - 35.0;
    let rad_lat = point.latitude.to_radians();
    let sin_lat = rad_lat.sin();
    let magic = 1.0 - KRASOVSKY_EE * sin_lat * sin_lat;
    let sqrt_magic = magic.sqrt();
    let d_lat = shift_latitude(x, y) * 180.0
        / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let d_lng = shift_longitude(x, y) * 180.0 / (KRASOVSKY_A / sqrt_magic * rad_lat.cos() * PI);
    GeoPoint {
        latitude: point.latitude + d_lat,
        longitude: point.longitude + d_lng,
    }
}

/// Inverts [`wgs84_to_gcj02`] by fixed-point iteration: the shift changes
/// slowly with position, so each step moves the guess by the remaining
/// error and converges to well under a millimetre within a few steps.
fn gcj02_to_wgs84(point: GeoPoint) -> GeoPoint {
    const MAX_STEPS: usize = 10;
    const TOLERANCE_DEG: f64 = 1e-9;

    if outside_china(point) {
        return point;
    }
    let mut guess = point;
    for _ in 0..MAX_STEPS {
        let shifted = wgs84_to_gcj02(guess);
        let error_lat = shifted.latitude - point.latitude;
        let error_lng = shifted.longitude - point.longitude;
        guess.latitude -= error_lat;
        guess.longitude -= error_lng;
        if error_lat.abs() < TOLERANCE_DEG && error_lng.abs() < TOLERANCE_DEG {
            break;
        }
    }
    guess
}

/// π × 3000 / 180, the constant of Baidu's BD-09 shift.
const BD09_X_PI: f64 = std::f64::consts::PI * 3000.0 / 180.0;

fn gcj02_to_bd09(point: GeoPoint) -> GeoPoint {
    let (x, y) = (point.longitude, point.latitude);
    let z = (x * x + y * y).sqrt() + 0.00002 * (y * BD09_X_PI).sin();
    let theta = y.atan2(x) + 0.000003 * (x * BD09_X_PI).cos();
    GeoPoint {
        latitude: z * theta.sin() + 0.006,
        longitude: z * theta.cos() + 0.0065,
    }
}

fn bd09_to_gcj02(point: GeoPoint) -> GeoPoint {
    let x = point.longitude - 0.0065;
    let y = point.latitude - 0.006;
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * BD09_X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * BD09_X_PI).cos();
    GeoPoint {
        latitude: z * theta.sin(),
        longitude: z * theta.cos(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn point(latitude: f64, longitude: f64) -> GeoPoint {
        GeoPoint {
            latitude,
            longitude,
        }
    }

    #[test]
    fn nanjing_reference_point_shifts_as_published() {
        // WGS-84 (32.0415 N, 118.7784 E) is about (32.0395 N, 118.7836 E) in
        // GCJ-02, about 540 m away.
        let wgs = point(32.0415, 118.7784);

        let gcj = wgs.from_wgs84(Crs::Gcj02);

        assert!(
            (gcj.latitude - 32.0395).abs() < 0.0005,
            "latitude {}",
            gcj.latitude
        );
        assert!(
            (gcj.longitude - 118.7836).abs() < 0.0005,
            "longitude {}",
            gcj.longitude
        );
        let shift = wgs.distance_m(gcj);
        assert!((450.0..650.0).contains(&shift), "shift {shift} m");
    }

    #[test]
    fn points_outside_china_are_unchanged() {
        let london = point(51.5074, -0.1278);
        assert_eq!(london.from_wgs84(Crs::Gcj02), london);
        assert_eq!(london.to_wgs84(Crs::Gcj02), london);
    }

    #[test]
    fn crs_names_parse_loosely() {
        let cases = [
            ("WGS-84", Some(Crs::Wgs84)),
            ("wgs84", Some(Crs::Wgs84)),
            ("CGCS2000", Some(Crs::Wgs84)),
            ("GCJ-02", Some(Crs::Gcj02)),
            ("bd09", Some(Crs::Bd09)),
            ("epsg:3857", None),
        ];
        for (name, expected) in cases {
            assert_eq!(Crs::parse(name), expected, "{name}");
        }
    }

    #[test]
    fn invalid_points_are_rejected() {
        let cases = [
            (f64::NAN, 118.0, Err(GeoPointError::Latitude)),
            (91.0, 118.0, Err(GeoPointError::Latitude)),
            (32.0, f64::INFINITY, Err(GeoPointError::Longitude)),
            (32.0, -180.5, Err(GeoPointError::Longitude)),
            (-90.0, 180.0, Ok(point(-90.0, 180.0))),
        ];
        for (latitude, longitude, expected) in cases {
            assert_eq!(
                GeoPoint::new(latitude, longitude),
                expected,
                "({latitude}, {longitude})"
            );
        }
    }

    #[test]
    fn distance_between_known_points() {
        // Xinjiekou to Nanjing South railway station: about 9.1 km.
        let xinjiekou = point(32.0415, 118.7784);
        let south_station = point(31.9680, 118.7975);
        let distance = xinjiekou.distance_m(south_station);
        assert!((8_000.0..9_500.0).contains(&distance), "{distance} m");
        assert_eq!(xinjiekou.distance_m(xinjiekou), 0.0);
    }

    proptest! {
        #[test]
        fn gcj02_round_trip_within_one_metre(latitude in 18.0f64..53.0, longitude in 74.0f64..134.0) {
            let gcj = point(latitude, longitude);
            let back = gcj.to_wgs84(Crs::Gcj02).from_wgs84(Crs::Gcj02);
            prop_assert!(gcj.distance_m(back) < 1.0, "{gcj:?} came back as {back:?}");
        }

        #[test]
        fn bd09_round_trip_within_one_metre(latitude in 18.0f64..53.0, longitude in 74.0f64..134.0) {
            let wgs = point(latitude, longitude);
            let back = wgs.from_wgs84(Crs::Bd09).to_wgs84(Crs::Bd09);
            prop_assert!(wgs.distance_m(back) < 1.0, "{wgs:?} came back as {back:?}");
        }
    }
}
