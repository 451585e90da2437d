//! Types that travel between server and browser, and out through the REST API.
//!
//! They are views, kept apart from the database rows in `entity`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Kind of place that offers care or activities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum PlaceKind {
    /// 社区亲子室: free parent-child activities and low-fee hourly care.
    CommunityRoom,
    /// 托育机构: an institution offering childcare places.
    ChildcareProvider,
    /// 托班: a kindergarten class for 2–3-year-olds.
    ToddlerClass,
    /// 单位托育: childcare run by an employer for its staff.
    EmployerChildcare,
    /// 社区卫生服务中心: gives parenting guidance.
    HealthCentre,
}

impl PlaceKind {
    pub const ALL: [Self; 5] = [
        Self::CommunityRoom,
        Self::ChildcareProvider,
        Self::ToddlerClass,
        Self::EmployerChildcare,
        Self::HealthCentre,
    ];

    /// Returns the name stored in the database and used in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CommunityRoom => "community_room",
            Self::ChildcareProvider => "childcare_provider",
            Self::ToddlerClass => "toddler_class",
            Self::EmployerChildcare => "employer_childcare",
            Self::HealthCentre => "health_centre",
        }
    }

    /// Parses the stored name; the inverse of [`PlaceKind::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }
}

/// Kind of session that a place runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum SessionKind {
    /// 计时制托育: care booked by the hour.
    HourlyCare,
    /// 亲子活动: a session a parent attends with the child.
    ParentChildActivity,
    /// 家长课堂: a class for parents.
    Class,
}

impl SessionKind {
    pub const ALL: [Self; 3] = [Self::HourlyCare, Self::ParentChildActivity, Self::Class];

    /// Returns the name stored in the database and used in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HourlyCare => "hourly_care",
            Self::ParentChildActivity => "parent_child_activity",
            Self::Class => "class",
        }
    }

    /// Parses the stored name; the inverse of [`SessionKind::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }
}

/// A place as shown in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PlaceSummary {
    pub id: i64,
    pub kind: PlaceKind,
    pub name: String,
    pub address: String,
    /// District name, for example 鼓楼区; absent when the source gave none.
    pub district: Option<String>,
    /// WGS-84 latitude in degrees.
    pub latitude: f64,
    /// WGS-84 longitude in degrees.
    pub longitude: f64,
    /// Whether this place belongs to the demo dataset.
    pub is_demo: bool,
}

/// A place with what it discloses and its upcoming sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PlaceDetail {
    #[serde(flatten)]
    pub place: PlaceSummary,
    pub phone: Option<String>,
    #[serde(flatten)]
    pub details: PlaceDetails,
    pub sessions: Vec<SessionSummary>,
}

/// A service that families search for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Service {
    /// 计时制托育: care booked by the hour.
    HourlyCare,
    /// 亲子活动: sessions a parent attends with the child.
    ParentChildActivity,
    /// 托班: a kindergarten class for 2–3-year-olds.
    ToddlerClass,
    /// 全日托: a full-day childcare place.
    FullDay,
}

impl Service {
    pub const ALL: [Self; 4] = [
        Self::HourlyCare,
        Self::ParentChildActivity,
        Self::ToddlerClass,
        Self::FullDay,
    ];

    /// Returns the name used in URLs and the REST API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HourlyCare => "hourly_care",
            Self::ParentChildActivity => "parent_child_activity",
            Self::ToddlerClass => "toddler_class",
            Self::FullDay => "full_day",
        }
    }

    /// Parses a name; the inverse of [`Service::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|service| service.as_str() == value)
    }

    /// Returns the kind of bookable session that delivers this service.
    /// Toddler classes and full-day places are enrolments, not sessions.
    pub fn session_kind(self) -> Option<SessionKind> {
        match self {
            Self::HourlyCare => Some(SessionKind::HourlyCare),
            Self::ParentChildActivity => Some(SessionKind::ParentChildActivity),
            Self::ToddlerClass | Self::FullDay => None,
        }
    }
}

/// Fee that a place discloses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Fee {
    Free,
    /// A fee per hour, in fen (1/100 yuan).
    PerHour {
        fen: u32,
    },
    /// A fee per month, in fen (1/100 yuan).
    PerMonth {
        fen: u32,
    },
}

/// A decision disclosed with its source and the date it was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Disclosure<T> {
    pub value: T,
    /// Source of the decision, for example a district health commission's notice.
    pub source: String,
    pub date: NaiveDate,
}

/// Facts a place discloses besides its name and address. Every field is
/// absent until an administrator or a source records it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PlaceDetails {
    /// Youngest age taken, in whole months.
    pub min_age_months: Option<u32>,
    /// Oldest age taken, in whole months.
    pub max_age_months: Option<u32>,
    pub services: Vec<Service>,
    pub fee: Option<Fee>,
    /// Opening hours as the place words them, for example 周一至周五 8:30—17:00.
    pub opening_hours: Option<String>,
    /// Contact person or channel, besides the phone number.
    pub contact: Option<String>,
    /// Public-benefit (普惠) status: true when the place is public-benefit.
    pub public_benefit: Option<Disclosure<bool>>,
    /// Registration (备案) status: true when registered.
    pub registration: Option<Disclosure<bool>>,
    /// Star rating (星级) from 1 to 5.
    pub star_rating: Option<Disclosure<u8>>,
    /// Street (街道) or town name, for example 湖南路街道.
    #[serde(default)]
    pub street: Option<String>,
    /// Childcare places (托位) offered.
    #[serde(default)]
    pub childcare_places: Option<u32>,
}

/// A place as an administrator creates or replaces it. Every field is
/// written; an absent optional field clears what was stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PlaceInput {
    pub kind: PlaceKind,
    /// 1 to 200 characters.
    pub name: String,
    /// 1 to 500 characters.
    pub address: String,
    /// District name, for example 鼓楼区; one of the imported districts.
    pub district: String,
    /// Street or town name in that district.
    #[serde(default)]
    pub street: Option<String>,
    /// Latitude in `crs`.
    pub latitude: f64,
    /// Longitude in `crs`.
    pub longitude: f64,
    /// Reference system of the point.
    pub crs: crate::geo::Crs,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub contact: Option<String>,
    #[serde(default)]
    pub opening_hours: Option<String>,
    #[serde(default)]
    pub min_age_months: Option<u32>,
    #[serde(default)]
    pub max_age_months: Option<u32>,
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default)]
    pub fee: Option<Fee>,
    /// Childcare places (托位), at most 5000.
    #[serde(default)]
    pub childcare_places: Option<u32>,
    #[serde(default)]
    pub public_benefit: Option<Disclosure<bool>>,
    #[serde(default)]
    pub registration: Option<Disclosure<bool>>,
    /// 1 to 5 stars.
    #[serde(default)]
    pub star_rating: Option<Disclosure<u8>>,
}

/// A problem with one row of an uploaded file; line 1 is the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportProblem {
    pub line: u64,
    pub reason: String,
}

/// An uploaded places file and what its import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportRunView {
    pub id: i64,
    pub file_name: String,
    pub format: String,
    pub crs: String,
    pub source: String,
    pub dry_run: bool,
    pub inserted: u64,
    pub updated: u64,
    pub rejected: Vec<ImportProblem>,
    pub warnings: Vec<ImportProblem>,
    pub created_at: DateTime<Utc>,
}

/// The city's target: more than 4.5 childcare places per 1,000 residents.
pub const PLACES_PER_1000_TARGET: f64 = 4.5;

/// Coverage of childcare in the districts and streets an administrator
/// administers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CoverageReport {
    pub districts: Vec<DistrictCoverage>,
    pub streets: Vec<StreetCoverage>,
    /// Public-benefit places in these districts with no street recorded;
    /// they count for their district but for no street.
    pub public_benefit_without_street: u32,
    /// Families reached by the parent classes, for the whole city.
    pub guidance: GuidanceReach,
}

/// The city's target for families of children under three who receive
/// parenting guidance (家庭科学育儿指导覆盖率), in percent, from Nanjing's
/// childcare plan for 2021–2025.
pub const GUIDANCE_TARGET_PERCENT: f64 = 98.0;

/// How many families of children under three the parent classes reached.
/// Families record no district, so the figure is the city's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GuidanceReach {
    /// Families with a child under 36 months today.
    pub families: u64,
    /// Those whose guardian or a carer has played a lesson.
    pub reached: u64,
    /// `reached` in percent of `families`; absent without families.
    pub percent: Option<f64>,
}

/// Childcare places in one district against its population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DistrictCoverage {
    pub code: String,
    pub name: String,
    /// Residents, from the statistics bureau; absent when not imported.
    pub population: Option<u32>,
    /// Childcare places (托位) recorded for the district's places.
    pub childcare_places: u32,
    /// Places in the district without a childcare places figure.
    pub places_without_figure: u32,
    /// Childcare places per 1,000 residents.
    pub per_1000: Option<f64>,
    /// Whether `per_1000` is above [`PLACES_PER_1000_TARGET`].
    pub meets_target: Option<bool>,
    pub streets: u32,
    /// Streets without a public-benefit provider.
    pub streets_without_public_benefit: u32,
}

/// Public-benefit provision in one street.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StreetCoverage {
    pub code: String,
    pub name: String,
    pub district: String,
    /// Places disclosed as public-benefit (普惠).
    pub public_benefit_providers: u32,
    /// Their childcare places (托位).
    pub public_benefit_places: u32,
}

/// A session as shown on a place page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionSummary {
    pub id: i64,
    pub kind: SessionKind,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: u32,
    pub places_left: u32,
    pub min_age_months: u32,
    pub max_age_months: u32,
    /// Price in fen (1/100 yuan); 0 means free.
    pub price_fen: u32,
}

/// Search radius of a nearby search when the caller names none, in metres.
pub const DEFAULT_SEARCH_RADIUS_M: u32 = 3_000;

/// The raw parameters of a nearby search, as a form or query string sends
/// them. The server checks and parses them; see `domain::nearby`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearbyParams {
    /// WGS-84 latitude of the start point, in degrees.
    pub lat: Option<String>,
    /// WGS-84 longitude of the start point, in degrees.
    pub lon: Option<String>,
    /// A street, community or place name to start from.
    pub q: Option<String>,
    /// Search radius in metres.
    pub radius: Option<String>,
    /// The child's age in whole months.
    pub age: Option<String>,
    /// One of the signed-in family's children, by id.
    pub child: Option<String>,
    /// First date, `YYYY-MM-DD` in Nanjing.
    pub from: Option<String>,
    /// Last date, `YYYY-MM-DD` in Nanjing.
    pub to: Option<String>,
    /// A [`Service`] name.
    pub service: Option<String>,
    pub public_benefit: Option<String>,
    pub free: Option<String>,
    pub places_left: Option<String>,
    /// Maximum number of results.
    pub limit: Option<String>,
}

/// Kind of start point of a nearby search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum OriginKind {
    /// Coordinates given by the caller, usually the browser's location.
    Coordinates,
    /// The seat of a street (街道) or town (镇) whose name matched.
    Street,
    /// A place whose name matched, for example a community room.
    Place,
}

/// The start point of a nearby search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Origin {
    pub kind: OriginKind,
    /// The matched street or place name; absent for coordinates.
    pub label: Option<String>,
    /// WGS-84 latitude in degrees.
    pub latitude: f64,
    /// WGS-84 longitude in degrees.
    pub longitude: f64,
}

/// A session with its places left and when that figure last changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NextSession {
    #[serde(flatten)]
    pub session: SessionSummary,
    /// When the session, and so its places left, was last updated.
    pub updated_at: DateTime<Utc>,
}

/// One result of a nearby search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NearbyPlace {
    #[serde(flatten)]
    pub place: PlaceSummary,
    /// Straight-line distance from the origin, in metres.
    pub distance_m: u32,
    /// Estimated walking time in minutes; see `domain::nearby::walking_minutes`.
    pub walking_minutes: u32,
    /// Whether the walk takes at most 15 minutes: inside the
    /// 15-minute childcare service circle (15分钟托育服务圈).
    pub within_service_circle: bool,
    /// Whether the place is disclosed as public-benefit (普惠).
    pub public_benefit: bool,
    pub services: Vec<Service>,
    pub fee: Option<Fee>,
    /// The earliest upcoming session that matches the filters and has
    /// places left.
    pub next_session: Option<NextSession>,
}

/// Result of a nearby search, nearest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NearbyResults {
    /// The start point; absent when the typed name matched nothing.
    pub origin: Option<Origin>,
    /// The radius searched, in metres.
    pub radius_m: u32,
    pub items: Vec<NearbyPlace>,
}

/// A child the signed-in person may search for, as the search form lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchChild {
    pub id: i64,
    pub display_name: String,
    pub age_months: u32,
}

/// One page of a list, with the total count for paging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
}

/// The rule by which a session hands out its places when booking opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ReleaseMode {
    /// 先到先得: first come, first served.
    FirstCome,
    /// 公平分配: requests in the first minutes after opening enter a draw;
    /// first come, first served after that.
    FairRelease,
}

impl ReleaseMode {
    /// Returns the name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstCome => "first_come",
            Self::FairRelease => "fair_release",
        }
    }

    /// Parses the stored name; the inverse of [`ReleaseMode::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        [Self::FirstCome, Self::FairRelease]
            .into_iter()
            .find(|mode| mode.as_str() == value)
    }
}

/// A session with its booking rules, as its own page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionDetail {
    #[serde(flatten)]
    pub session: SessionSummary,
    pub place_id: i64,
    pub place_name: String,
    /// When booking opens; absent when it is open already.
    pub booking_opens_at: Option<DateTime<Utc>>,
    /// The booking cut-off: no booking and no waitlist offer after it.
    pub booking_closes_at: DateTime<Utc>,
    /// Cancellations after this instant are recorded as late.
    pub cancel_until: DateTime<Utc>,
    /// Whether a parent or carer must stay during the session.
    pub guardian_attends: bool,
    pub release_mode: ReleaseMode,
    /// Length of the fair-release draw window after opening, in minutes.
    pub release_window_minutes: u32,
    /// Whether the draw serves children in priority groups first.
    pub draw_by_priority: bool,
    /// Children waiting for a place.
    pub waiting: u32,
    /// When the places-left figure last changed.
    pub updated_at: DateTime<Utc>,
}

/// The state of a booking: confirmed or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum BookingStatus {
    Confirmed,
    Cancelled,
}

/// The party that cancelled a booking, and whether it was in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum CancelKind {
    /// The family, before the cancellation cut-off.
    Family,
    /// The family, after the cancellation cut-off.
    Late,
    /// The room's staff, with a reason.
    Staff,
    /// The child's record was deleted.
    Withdrawn,
}

impl CancelKind {
    /// Returns the name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Family => "family",
            Self::Late => "late",
            Self::Staff => "staff",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// Parses the stored name; the inverse of [`CancelKind::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Family, Self::Late, Self::Staff, Self::Withdrawn]
            .into_iter()
            .find(|kind| kind.as_str() == value)
    }
}

/// One child's booking, as shown to the family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BookingView {
    pub id: i64,
    pub session_id: i64,
    pub session_title: String,
    pub place_id: i64,
    pub place_name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub child_id: i64,
    pub child_name: String,
    pub status: BookingStatus,
    /// The code to show at the door; only while confirmed.
    pub check_in_code: Option<String>,
    pub cancel_kind: Option<CancelKind>,
    pub cancel_reason: Option<String>,
    /// Whether a cancellation now would be late.
    pub cancel_is_late: bool,
    pub created_at: DateTime<Utc>,
}

/// The state of a waitlist entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum WaitlistStatus {
    /// In the queue.
    Waiting,
    /// A place is held for the child until `offer_expires_at`.
    Offered,
    /// The offer was accepted or the draw gave a place.
    Booked,
    Declined,
    Expired,
    /// Passed over because the child could no longer take the place.
    Skipped,
    /// The family left the waitlist.
    Left,
}

impl WaitlistStatus {
    /// Returns the name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Offered => "offered",
            Self::Booked => "booked",
            Self::Declined => "declined",
            Self::Expired => "expired",
            Self::Skipped => "skipped",
            Self::Left => "left",
        }
    }

    /// Parses the stored name; the inverse of [`WaitlistStatus::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Waiting,
            Self::Offered,
            Self::Booked,
            Self::Declined,
            Self::Expired,
            Self::Skipped,
            Self::Left,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
    }
}

/// One child's waitlist entry, as shown to the family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WaitlistView {
    pub id: i64,
    pub session_id: i64,
    pub session_title: String,
    pub place_name: String,
    pub starts_at: DateTime<Utc>,
    pub child_id: i64,
    pub child_name: String,
    pub status: WaitlistStatus,
    /// Place in the queue, from 1, while waiting.
    pub position: Option<u32>,
    /// Whether the entry waits for the fair-release draw.
    pub in_draw: bool,
    pub offer_expires_at: Option<DateTime<Utc>>,
}

/// The outcome of a booking request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum BookOutcome {
    /// Every child has a place.
    Booked { bookings: Vec<BookingView> },
    /// The session was full; every child joined its waitlist.
    Waitlisted { entries: Vec<WaitlistView> },
    /// The session is in its fair-release window; the request joined the draw.
    InDraw { entries: Vec<WaitlistView> },
}

/// A family's bookings and waitlist entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MyBookings {
    /// Bookings of sessions that have not ended, soonest first.
    pub upcoming: Vec<BookingView>,
    /// Open waitlist entries: waiting or offered.
    pub waitlist: Vec<WaitlistView>,
    /// Ended or cancelled bookings, newest first, at most 20.
    pub past: Vec<BookingView>,
}

/// The kind of event a notification reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum NotificationKind {
    Booked,
    OfferReceived,
    OfferExpired,
    CancelledByStaff,
    Reminder,
    DrawLost,
    /// A course was published that suits a child of the family.
    NewCourse,
}

impl NotificationKind {
    /// Returns the name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::OfferReceived => "offer_received",
            Self::OfferExpired => "offer_expired",
            Self::CancelledByStaff => "cancelled_by_staff",
            Self::Reminder => "reminder",
            Self::DrawLost => "draw_lost",
            Self::NewCourse => "new_course",
        }
    }

    /// Parses the stored name; the inverse of [`NotificationKind::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Booked,
            Self::OfferReceived,
            Self::OfferExpired,
            Self::CancelledByStaff,
            Self::Reminder,
            Self::DrawLost,
            Self::NewCourse,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == value)
    }
}

/// One message in the inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationView {
    pub id: i64,
    pub kind: NotificationKind,
    pub session_id: Option<i64>,
    pub session_title: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub child_name: Option<String>,
    /// The offer's deadline, for `offer_received`.
    pub deadline: Option<DateTime<Utc>>,
    /// The staff's reason, for `cancelled_by_staff`.
    pub reason: Option<String>,
    /// The course, for `new_course`.
    pub course_id: Option<i64>,
    pub course_title: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

/// A session that staff or an administrator publishes at a place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewSession {
    pub kind: SessionKind,
    /// 1 to 100 characters.
    pub title: String,
    pub starts_at: DateTime<Utc>,
    /// After `starts_at`, at most 24 hours later.
    pub ends_at: DateTime<Utc>,
    /// 1 to 500 places.
    pub capacity: u32,
    pub min_age_months: u32,
    /// At most 72.
    pub max_age_months: u32,
    /// Price in fen; 0 means free.
    #[serde(default)]
    pub price_fen: u32,
    /// Absent: booking opens at once.
    #[serde(default)]
    pub booking_opens_at: Option<DateTime<Utc>>,
    /// Absent: the session's start.
    #[serde(default)]
    pub booking_closes_at: Option<DateTime<Utc>>,
    /// Absent: the session's start.
    #[serde(default)]
    pub cancel_until: Option<DateTime<Utc>>,
    #[serde(default)]
    pub guardian_attends: bool,
    /// `fair_release` needs `booking_opens_at`.
    #[serde(default = "first_come")]
    pub release_mode: ReleaseMode,
    /// Minutes of the fair-release window, 1 to 120; 10 when absent.
    #[serde(default)]
    pub release_window_minutes: Option<u32>,
    /// Draw children in priority groups first; needs `fair_release`.
    #[serde(default)]
    pub draw_by_priority: bool,
}

fn first_come() -> ReleaseMode {
    ReleaseMode::FirstCome
}

/// One booked child on a session's roster, as the room's staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RosterEntry {
    pub booking_id: i64,
    pub child_name: String,
    /// Age in months on the session date.
    pub age_months: Option<u32>,
    /// Allergies and needs the family wrote down; sensitive.
    pub care_notes: Option<String>,
    pub guardian_name: String,
    pub checked_in_at: Option<DateTime<Utc>>,
}

/// Maximum length of a staff cancellation reason, in characters.
pub const MAX_REASON_CHARS: usize = 200;

/// The result of checking a child in at the door.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckInOutcome {
    pub entry: RosterEntry,
    /// False when the child was already checked in; `entry` then carries
    /// the first time.
    pub first: bool,
}

/// The staff console's start page: the rooms the viewer runs, each with
/// its upcoming sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffOverview {
    pub rooms: Vec<StaffRoom>,
    /// Whether the viewer is a district or city administrator; their list
    /// holds only the places in their scope that have upcoming sessions.
    pub administrator: bool,
}

/// One room in the staff console with its upcoming sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffRoom {
    pub place_id: i64,
    pub place_name: String,
    /// Sessions from the start of today in Nanjing, earliest first.
    pub sessions: Vec<StaffSession>,
}

/// A session as the staff console lists it, with its counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffSession {
    pub id: i64,
    pub kind: SessionKind,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: u32,
    /// Confirmed bookings.
    pub booked: u32,
    /// Children on the waitlist, including those holding an offer.
    pub waiting: u32,
    pub checked_in: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn place_kind_names_round_trip() {
        for kind in PlaceKind::ALL {
            assert_eq!(PlaceKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(PlaceKind::parse("unknown"), None);
    }

    #[test]
    fn session_kind_names_round_trip() {
        for kind in SessionKind::ALL {
            assert_eq!(SessionKind::parse(kind.as_str()), Some(kind));
        }
    }
}

/// A role granted to an account. Every account is also a guardian of its
/// own family, which needs no grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Role {
    /// Staff of one community room or provider.
    RoomStaff { place_id: i64 },
    /// Administrator of one district, by its six-digit code.
    DistrictAdmin { district_code: String },
    /// Administrator of the whole city.
    CityAdmin,
}

/// The signed-in person, as pages and API handlers see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Viewer {
    pub account_id: i64,
    pub display_name: String,
    pub roles: Vec<Role>,
}

impl Viewer {
    /// Returns whether the viewer may manage the room `place_id`.
    pub fn is_staff_of(&self, place_id: i64) -> bool {
        self.roles.iter().any(|role| match role {
            Role::RoomStaff { place_id: id } => *id == place_id,
            Role::CityAdmin => true,
            Role::DistrictAdmin { .. } => false,
        })
    }

    /// Returns whether the viewer administers the whole city.
    pub fn is_city_admin(&self) -> bool {
        self.roles.contains(&Role::CityAdmin)
    }

    /// Returns whether the viewer administers a district or the city.
    pub fn is_admin(&self) -> bool {
        self.roles
            .iter()
            .any(|role| matches!(role, Role::CityAdmin | Role::DistrictAdmin { .. }))
    }

    /// Returns the codes of the districts the viewer administers one by one;
    /// a city administrator's role adds none.
    pub fn district_codes(&self) -> Vec<&str> {
        self.roles
            .iter()
            .filter_map(|role| match role {
                Role::DistrictAdmin { district_code } => Some(district_code.as_str()),
                Role::CityAdmin | Role::RoomStaff { .. } => None,
            })
            .collect()
    }

    /// Returns whether the viewer administers `district_code` or the city.
    pub fn administers_district(&self, district_code: &str) -> bool {
        self.roles.iter().any(|role| match role {
            Role::DistrictAdmin {
                district_code: code,
            } => code == district_code,
            Role::CityAdmin => true,
            Role::RoomStaff { .. } => false,
        })
    }
}

/// Version of the notice on processing children's information that a
/// guardian accepts when adding a child. Change it with the notice text.
pub const CHILD_NOTICE_VERSION: &str = "2026-12-04";

/// The viewer's relation to a child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "relation", rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ChildRelation {
    /// The viewer is the child's guardian.
    Guardian,
    /// The viewer is a carer invited by the guardian named here.
    Carer { guardian_name: String },
}

/// A child as shown to the family or to an invited carer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChildView {
    pub id: i64,
    pub display_name: String,
    pub birth_date: chrono::NaiveDate,
    /// Whole months of age today in Nanjing.
    pub age_months: u32,
    /// Allergies and needs; sensitive.
    pub care_notes: Option<String>,
    /// Priority groups the child is in; shown to the guardian only.
    #[serde(default)]
    pub priority_groups: Vec<PriorityGroupName>,
    #[serde(flatten)]
    pub relation: ChildRelation,
}

/// The name of a priority group in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PriorityGroupName {
    pub zh: String,
    pub en: String,
}

/// A priority group as administrators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PriorityGroupView {
    pub id: i64,
    pub code: String,
    pub name: PriorityGroupName,
    /// 1 is drawn first.
    pub rank: u32,
    /// Children in the group.
    pub members: u32,
}

/// A new priority group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewPriorityGroup {
    /// 1 to 32 lowercase letters, digits or underscores, for example `left_behind`.
    pub code: String,
    /// 1 to 50 characters.
    pub name_zh: String,
    /// 1 to 80 characters.
    pub name_en: String,
    /// 1 to 9; 1 is drawn first.
    pub rank: u32,
}

/// The child to put in a group, as its family's papers name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PriorityGrant {
    /// The guardian's mobile number as registered with the city portal.
    pub guardian_mobile: String,
    /// The child's name as the family entered it.
    pub child_name: String,
}

/// A child in a priority group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PriorityMember {
    pub child_id: i64,
    pub child_name: String,
    /// Whole months of age on today's date in Nanjing; absent for a birth
    /// date after today.
    pub age_months: Option<u32>,
    pub granted_at: DateTime<Utc>,
}

/// A carer who may act for some of the family's children.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CarerView {
    pub account_id: i64,
    pub display_name: String,
    /// Ids and names of the children the carer may act for.
    pub children: Vec<(i64, String)>,
    pub since: DateTime<Utc>,
}

/// An invitation that has not been accepted, revoked or expired yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvitationView {
    pub id: i64,
    pub children: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

/// Everything the family page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FamilyOverview {
    /// The viewer's own children.
    pub children: Vec<ChildView>,
    /// Children of other families the viewer cares for.
    pub cared_for: Vec<ChildView>,
    pub carers: Vec<CarerView>,
    pub invitations: Vec<InvitationView>,
}

/// A new invitation; the code is shown once and stored only as a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewInvitation {
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// One audit log entry as administrators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntryView {
    pub at: DateTime<Utc>,
    pub actor_account_id: Option<i64>,
    pub on_behalf_of_account_id: Option<i64>,
    pub action: String,
    pub target: String,
    /// Code of the district the entry concerns; `None` for city-wide entries.
    pub district_code: Option<String>,
}

/// The subject of a parenting course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum CourseTopic {
    /// 营养喂养
    Feeding,
    /// 睡眠
    Sleep,
    /// 早期发展: movement, language, play and learning.
    Development,
    /// 疾病预防与保健
    Health,
    /// 安全防护
    Safety,
    /// 亲子互动 and family care.
    Parenting,
}

impl CourseTopic {
    pub const ALL: [Self; 6] = [
        Self::Feeding,
        Self::Sleep,
        Self::Development,
        Self::Health,
        Self::Safety,
        Self::Parenting,
    ];

    /// Returns the name stored in the database and used in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Feeding => "feeding",
            Self::Sleep => "sleep",
            Self::Development => "development",
            Self::Health => "health",
            Self::Safety => "safety",
            Self::Parenting => "parenting",
        }
    }

    /// Parses the stored name; the inverse of [`CourseTopic::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|topic| topic.as_str() == value)
    }
}

/// Whether families can see a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum CourseStatus {
    /// Being prepared; only administrators see it.
    Draft,
    Published,
    /// Taken down; only administrators see it.
    Withdrawn,
}

impl CourseStatus {
    /// Returns the name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// Parses the stored name; the inverse of [`CourseStatus::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Draft, Self::Published, Self::Withdrawn]
            .into_iter()
            .find(|status| status.as_str() == value)
    }
}

/// Oldest age in months a course may be for: children under three.
pub const MAX_COURSE_AGE_MONTHS: u32 = 36;

/// A course as an administrator writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CourseInput {
    /// Chinese title, at most 60 characters.
    pub title: String,
    pub title_en: Option<String>,
    /// Chinese description, at most 2,000 characters; line breaks kept.
    pub summary: String,
    pub summary_en: Option<String>,
    pub topic: CourseTopic,
    /// The youngest age the course is for, in months (0–36).
    pub min_age_months: u32,
    /// The oldest age the course is for, in months (0–36).
    pub max_age_months: u32,
    /// The publishing district's code; absent for a course of the city.
    /// District administrators may only give their own.
    pub district_code: Option<String>,
}

/// A course in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CourseSummary {
    pub id: i64,
    pub title: String,
    pub title_en: Option<String>,
    pub topic: CourseTopic,
    pub min_age_months: u32,
    pub max_age_months: u32,
    pub district_code: Option<String>,
    /// The publishing district's name, when a district published it.
    pub district_name: Option<String>,
    pub status: CourseStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub lessons: u32,
    /// Size of all lesson files together, so families on mobile data know
    /// what watching costs.
    pub total_bytes: u64,
    /// Lessons the signed-in viewer has finished.
    pub finished: u32,
}

/// One lesson of a course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LessonView {
    pub id: i64,
    pub position: u32,
    pub title: String,
    pub title_en: Option<String>,
    /// Address of the file, served with HTTP range requests. The address
    /// changes when the file does, so it may be cached for good.
    pub media_url: String,
    pub content_type: String,
    pub bytes: u64,
    /// Address of the lesson's WebVTT captions, when it has them.
    pub captions_url: Option<String>,
    /// Position where the signed-in viewer stopped, in seconds.
    pub resume_seconds: Option<u32>,
    pub finished: bool,
}

/// A course with its description and lessons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CourseDetail {
    pub course: CourseSummary,
    pub summary: String,
    pub summary_en: Option<String>,
    pub lessons: Vec<LessonView>,
    /// Whether the viewer may edit it.
    pub editable: bool,
}

/// Courses that suit one child of the signed-in family today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CoursesForChild {
    pub child_id: i64,
    pub child_name: String,
    pub age_months: u32,
    pub courses: Vec<CourseSummary>,
}

/// How far the viewer has watched a lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LessonProgress {
    /// Seconds from the start where playing stopped.
    pub position_seconds: u32,
    /// The lesson was watched to its end. Once true it stays true.
    #[serde(default)]
    pub finished: bool,
}
