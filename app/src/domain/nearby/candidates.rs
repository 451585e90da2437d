//! The places around a start point that pass the place-level filters,
//! read from the database nearest first, a ring at a time.
//!
//! Each query reads the places whose planar distance from the start point
//! lies in a ring: beyond what earlier queries read, and up to twice as far.
//! The planar distance takes the latitude and the longitude difference
//! scaled by the cosine of the start point's latitude, which needs only
//! arithmetic that SQLite and PostgreSQL both have. Within the largest
//! search radius it is within [`PLANAR_MARGIN`] of the haversine distance,
//! so a place read so far comes before every unread one once its haversine
//! distance is below the ring's outer edge less that margin. The results
//! are therefore in exact haversine order, as if every place in the radius
//! had been read and sorted, while a search that finds enough places nearby
//! reads only those.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
};

use super::{ChildAge, METRES_PER_DEGREE, NearbySearch, PlaceFacts, place_needs_session};
use crate::domain::places::fee_from_columns;
use crate::entity::place;
use crate::error::AppError;
use crate::geo::GeoPoint;
use crate::model::Service;
use chrono::NaiveDate;

/// Largest relative difference between the planar and the haversine
/// distance that the search allows for. Within 20.6 km of a start point at
/// most [`MAX_PLANAR_LATITUDE`] from the equator the difference stays below
/// 0.5 % (the `planar_distance_stays_within_margin` test checks a grid of
/// points), so 2 % leaves room.
const PLANAR_MARGIN: f64 = 0.02;
/// Beyond this latitude, in degrees, the search reads every place in the
/// bounding box at once and sorts them itself, as it does where the box
/// crosses the antimeridian.
const MAX_PLANAR_LATITUDE: f64 = 70.0;
/// Outer edge of the first ring, in metres. In central Nanjing a circle of
/// 1 km contains a few dozen places (an estimate), and each later ring
/// reaches twice as far.
pub(super) const FIRST_REACH_M: f64 = 1_000.0;

/// The columns of a place that the filters read. Loading these alone for
/// every place in the bounding box is several times cheaper than whole rows.
#[derive(Debug, FromQueryResult)]
struct CandidateRow {
    id: i64,
    latitude: f64,
    longitude: f64,
    min_age_months: Option<i32>,
    max_age_months: Option<i32>,
    offers_hourly_care: bool,
    offers_parent_child_activity: bool,
    offers_toddler_class: bool,
    offers_full_day: bool,
    fee_kind: Option<String>,
    fee_fen: Option<i32>,
}

impl CandidateRow {
    fn facts(&self) -> PlaceFacts {
        PlaceFacts {
            min_age_months: self.min_age_months,
            max_age_months: self.max_age_months,
            offers_hourly_care: self.offers_hourly_care,
            offers_parent_child_activity: self.offers_parent_child_activity,
            offers_toddler_class: self.offers_toddler_class,
            offers_full_day: self.offers_full_day,
            fee: fee_from_columns(self.fee_kind.as_deref(), self.fee_fen),
        }
    }
}

/// A place inside the radius that passed the place-level filters.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Candidate {
    pub(super) id: i64,
    pub(super) distance_m: f64,
    /// Whether only a matching next session can qualify the place.
    pub(super) needs_session: bool,
}

/// Returns the latitude and longitude ranges of a box that contains the
/// circle of `radius_m` around `centre`. The longitude range is `None`
/// where the box would cross a pole or the antimeridian.
pub(super) fn bounding_box(centre: GeoPoint, radius_m: f64) -> ((f64, f64), Option<(f64, f64)>) {
    // One percent of margin keeps rounding from dropping a place on the edge.
    let d_lat = radius_m * 1.01 / METRES_PER_DEGREE;
    let latitudes = (centre.latitude - d_lat, centre.latitude + d_lat);
    let cos_lat = centre.latitude.to_radians().cos();
    if latitudes.0 <= -90.0 || latitudes.1 >= 90.0 || cos_lat < 0.01 {
        return (latitudes, None);
    }
    let d_lon = d_lat / cos_lat;
    let longitudes = (centre.longitude - d_lon, centre.longitude + d_lon);
    if longitudes.0 < -180.0 || longitudes.1 > 180.0 {
        return (latitudes, None);
    }
    (latitudes, Some(longitudes))
}

/// Returns the SQL for the squared planar distance of a place from `centre`
/// in square degrees: `cos_lat` scales longitude differences to degrees of
/// latitude.
fn planar_key_expr(centre: GeoPoint, cos_lat: f64) -> Expr {
    let north = || Expr::col(place::Column::Latitude).sub(centre.latitude);
    let east = || {
        Expr::col(place::Column::Longitude)
            .sub(centre.longitude)
            .mul(cos_lat)
    };
    north().mul(north()).add(east().mul(east()))
}

/// The places around a start point, handed out nearest first.
pub(super) struct Candidates<'a> {
    search: &'a NearbySearch,
    age: Option<ChildAge>,
    today: NaiveDate,
    centre: GeoPoint,
    /// The cosine of the centre's latitude, where the search reads rings;
    /// `None` where it reads the whole box at once.
    cos_lat: Option<f64>,
    /// Places read and kept but not handed out, nearest first.
    pending: Vec<Candidate>,
    /// Planar distance in metres up to which every place has been read.
    reach_m: f64,
    /// Planar distance in metres beyond which no place is inside the radius.
    farthest_m: f64,
    exhausted: bool,
}

impl<'a> Candidates<'a> {
    pub(super) fn new(
        search: &'a NearbySearch,
        age: Option<ChildAge>,
        centre: GeoPoint,
        today: NaiveDate,
    ) -> Self {
        let farthest_m = f64::from(search.radius_m) / (1.0 - PLANAR_MARGIN);
        let planar = centre.latitude.abs() <= MAX_PLANAR_LATITUDE
            && bounding_box(centre, farthest_m).1.is_some();
        Self {
            search,
            age,
            today,
            centre,
            cos_lat: planar.then(|| centre.latitude.to_radians().cos()),
            pending: Vec::new(),
            reach_m: 0.0,
            farthest_m,
            exhausted: false,
        }
    }

    /// Returns up to `count` of the next places, nearest first; fewer only
    /// when no place is left.
    pub(super) async fn next(
        &mut self,
        db: &impl ConnectionTrait,
        count: usize,
    ) -> Result<Vec<Candidate>, AppError> {
        loop {
            let settled = if self.exhausted {
                self.pending.len()
            } else {
                let settled_below_m = self.reach_m * (1.0 - PLANAR_MARGIN);
                self.pending
                    .iter()
                    .take_while(|candidate| candidate.distance_m < settled_below_m)
                    .count()
            };
            if settled >= count || self.exhausted {
                return Ok(self.pending.drain(..settled.min(count)).collect());
            }
            self.read_ring(db).await?;
        }
    }

    /// Reads the places of the next ring, or of the whole bounding box
    /// where the search does not use rings, and merges those that pass the
    /// filters into `pending`.
    async fn read_ring(&mut self, db: &impl ConnectionTrait) -> Result<(), AppError> {
        use place::Column;

        let search = self.search;
        let outer_m = match self.cos_lat {
            Some(_) if self.reach_m == 0.0 => FIRST_REACH_M.min(self.farthest_m),
            Some(_) => (self.reach_m * 2.0).min(self.farthest_m),
            None => f64::from(search.radius_m),
        };
        let (latitudes, longitudes) = bounding_box(self.centre, outer_m);
        let mut query = place::Entity::find()
            .select_only()
            .columns([
                Column::Id,
                Column::Latitude,
                Column::Longitude,
                Column::MinAgeMonths,
                Column::MaxAgeMonths,
                Column::OffersHourlyCare,
                Column::OffersParentChildActivity,
                Column::OffersToddlerClass,
                Column::OffersFullDay,
                Column::FeeKind,
                Column::FeeFen,
            ])
            .filter(Column::Latitude.between(latitudes.0, latitudes.1));
        if let Some((west, east)) = longitudes {
            query = query.filter(Column::Longitude.between(west, east));
        }
        if search.public_benefit_only {
            query = query.filter(Column::PublicBenefit.eq(true));
        }
        // Toddler classes and full-day places are never sessions, so only
        // the place's own declaration can meet those two filters.
        match search.service {
            Some(Service::ToddlerClass) => {
                query = query.filter(Column::OffersToddlerClass.eq(true))
            }
            Some(Service::FullDay) => query = query.filter(Column::OffersFullDay.eq(true)),
            _ => {}
        }
        if let Some(cos_lat) = self.cos_lat {
            let key = planar_key_expr(self.centre, cos_lat);
            let degrees = |metres: f64| metres / METRES_PER_DEGREE;
            query = query.filter(key.clone().lte(degrees(outer_m).powi(2)));
            if self.reach_m > 0.0 {
                query = query.filter(key.gt(degrees(self.reach_m).powi(2)));
            }
        }
        let rows = query
            .into_model::<CandidateRow>()
            .all(db)
            .await
            .map_err(AppError::from_db)?;
        self.reach_m = outer_m;
        self.exhausted = self.cos_lat.is_none() || outer_m >= self.farthest_m;

        let radius = f64::from(search.radius_m);
        for row in rows {
            let point = GeoPoint {
                latitude: row.latitude,
                longitude: row.longitude,
            };
            let distance_m = self.centre.distance_m(point);
            if distance_m > radius {
                continue;
            }
            let Some(needs_session) =
                place_needs_session(&row.facts(), search, self.age, self.today)
            else {
                continue;
            };
            self.pending.push(Candidate {
                id: row.id,
                distance_m,
                needs_session,
            });
        }
        self.pending
            .sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m).then(a.id.cmp(&b.id)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computes the same key as [`planar_key_expr`], in Rust.
    fn planar_key(centre: GeoPoint, cos_lat: f64, point: GeoPoint) -> f64 {
        let north = point.latitude - centre.latitude;
        let east = (point.longitude - centre.longitude) * cos_lat;
        north * north + east * east
    }

    #[test]
    fn bounding_box_contains_the_circle() {
        let centre = GeoPoint {
            latitude: 32.06,
            longitude: 118.78,
        };
        let ((south, north), longitudes) = bounding_box(centre, 1_000.0);
        let Some((west, east)) = longitudes else {
            panic!("Nanjing needs no wrap-around");
        };
        let edges = [
            GeoPoint {
                latitude: north,
                longitude: 118.78,
            },
            GeoPoint {
                latitude: south,
                longitude: 118.78,
            },
            GeoPoint {
                latitude: 32.06,
                longitude: east,
            },
            GeoPoint {
                latitude: 32.06,
                longitude: west,
            },
        ];
        for edge in edges {
            let distance = centre.distance_m(edge);
            assert!(
                (1_000.0..1_020.0).contains(&distance),
                "{edge:?} is {distance} m away"
            );
        }
    }

    #[test]
    fn bounding_box_near_the_pole_drops_longitude() {
        let centre = GeoPoint {
            latitude: 89.99,
            longitude: 0.0,
        };
        assert!(bounding_box(centre, 20_000.0).1.is_none());
    }

    #[test]
    fn planar_distance_stays_within_margin() {
        let radius_m = f64::from(super::super::MAX_RADIUS_M) / (1.0 - PLANAR_MARGIN);
        let mut worst: f64 = 0.0;
        let mut latitude = -MAX_PLANAR_LATITUDE;
        while latitude <= MAX_PLANAR_LATITUDE {
            let centre = GeoPoint {
                latitude,
                longitude: 118.78,
            };
            let cos_lat = latitude.to_radians().cos();
            let ((south, north), longitudes) = bounding_box(centre, radius_m);
            let Some((west, east)) = longitudes else {
                panic!("a box at {latitude}° needs no wrap-around");
            };
            // A 21 × 21 grid over the whole box, corners included.
            for i in 0..=20 {
                for j in 0..=20 {
                    let point = GeoPoint {
                        latitude: south + (north - south) * f64::from(i) / 20.0,
                        longitude: west + (east - west) * f64::from(j) / 20.0,
                    };
                    let haversine = centre.distance_m(point);
                    let planar = planar_key(centre, cos_lat, point).sqrt() * METRES_PER_DEGREE;
                    if haversine > 1.0 {
                        worst = worst.max((planar - haversine).abs() / haversine);
                    }
                }
            }
            latitude += 2.5;
        }
        assert!(worst < 0.005, "planar distance is off by up to {worst}");
        assert!(worst < PLANAR_MARGIN);
    }
}
