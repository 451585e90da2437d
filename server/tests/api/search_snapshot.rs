//! The nearby search snapshot: writes show after a refresh, and on
//! generated data it returns what the database search returns.

use std::cell::Cell;

use app::domain::booking::{self, BookRequest, BookingRules};
use app::domain::import::{self, PlaceImportOptions};
use app::domain::{nearby, place_admin};
use app::entity::{care_session, district, place, street};
use app::geo::Crs;
use app::model::{
    BookOutcome, Disclosure, NearbyParams, PlaceInput, PlaceKind, Role, Service, Viewer,
};
use chrono::{Days, Duration, NaiveDate, Utc};
use proptest::prelude::*;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use crate::helpers::{Backend, TestApp};
use crate::nearby::{ORIGIN, place_north, session, signed_in_child};
use crate::on_both_backends;

const DISTRICTS: &str = "\
code,name,seat_lng_gcj02,seat_lat_gcj02,centroid_lng_gcj02,centroid_lat_gcj02,population_2019_10k,birth_rate_2019_permille
320113,栖霞区,118.909,32.163,118.88,32.15,98.8,6.1
";

const STREETS: &str = "\
mca_code,stats2023_code,name,district_code,district_name,seat_lng_gcj02,seat_lat_gcj02,seat_source
320113001,320113001,尧化街道,320113,栖霞区,118.87,32.13,test
";

/// Searches the running server around [`ORIGIN`] and returns the names found.
async fn names_near(app: &TestApp, filters: &str) -> Vec<String> {
    let path = format!(
        "/api/v1/places/nearby?lat={}&lon={}&radius=3000{filters}",
        ORIGIN.0, ORIGIN.1
    );
    let response = app.get(&path).await;
    assert_eq!(response.status(), 200, "{path}");
    let body: serde_json::Value = response.json().await.expect("json");
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["name"].as_str().expect("name").to_owned())
        .collect()
}

async fn refresh(app: &TestApp) {
    app.search.refresh(&app.db).await.expect("refresh");
}

async fn writes_show_after_a_refresh(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let now = Utc::now();

    // A new import.
    let csv = format!(
        "kind,name,lng,lat\ncommunity_room,新导入亲子室,{},{}\n",
        ORIGIN.1,
        ORIGIN.0 + 0.002
    );
    let options = PlaceImportOptions {
        crs: Crs::Wgs84,
        source: "snapshot-test".to_owned(),
        dry_run: false,
    };
    import::import_places_csv(db, csv.as_bytes(), &options, now)
        .await
        .expect("import");
    assert!(
        !names_near(&app, "")
            .await
            .contains(&"新导入亲子室".to_owned()),
        "the server searches its snapshot, which predates the import"
    );
    refresh(&app).await;
    assert!(
        names_near(&app, "")
            .await
            .contains(&"新导入亲子室".to_owned()),
        "an imported place shows after a refresh"
    );

    // A booking that takes the last place.
    let room = place_north(db, "最后一个名额", 500.0, |_| {}).await;
    let last = session(db, room, Utc::now() + Duration::hours(3), |model| {
        model.capacity = Set(2);
        model.booked = Set(1);
    })
    .await;
    refresh(&app).await;
    assert!(
        names_near(&app, "&places_left=true")
            .await
            .contains(&"最后一个名额".to_owned()),
        "one place left"
    );
    let (guardian, child) = signed_in_child(db, "snapshot-guardian", "2025-05-20").await;
    let outcome = booking::book(
        db,
        &BookingRules::default(),
        guardian,
        &BookRequest {
            session_id: last,
            child_ids: vec![child],
            join_waitlist: false,
            idempotency_key: None,
        },
        Utc::now(),
    )
    .await
    .expect("booking");
    assert!(matches!(outcome, BookOutcome::Booked { .. }), "{outcome:?}");
    refresh(&app).await;
    assert!(
        !names_near(&app, "&places_left=true")
            .await
            .contains(&"最后一个名额".to_owned()),
        "a full session no longer qualifies the place"
    );

    // An administrator's edit.
    import::import_regions_csv(
        db,
        DISTRICTS.as_bytes(),
        STREETS.as_bytes(),
        Crs::Gcj02,
        false,
        Utc::now(),
    )
    .await
    .expect("regions");
    let admin = Viewer {
        account_id: guardian,
        display_name: "测试管理员".to_owned(),
        roles: vec![Role::CityAdmin],
    };
    let input = PlaceInput {
        kind: PlaceKind::CommunityRoom,
        name: "改名后的亲子室".to_owned(),
        address: "测试地址".to_owned(),
        district: "栖霞区".to_owned(),
        street: None,
        latitude: ORIGIN.0 + 0.002,
        longitude: ORIGIN.1,
        crs: Crs::Wgs84,
        phone: None,
        contact: None,
        opening_hours: None,
        min_age_months: None,
        max_age_months: None,
        services: vec![Service::HourlyCare],
        fee: None,
        childcare_places: None,
        public_benefit: Some(Disclosure {
            value: true,
            source: "测试公示".to_owned(),
            date: NaiveDate::from_ymd_opt(2026, 11, 1).expect("date"),
        }),
        registration: None,
        star_rating: None,
    };
    let imported = place::Entity::find()
        .all(db)
        .await
        .expect("places")
        .into_iter()
        .find(|row| row.name == "新导入亲子室")
        .expect("imported place")
        .id;
    place_admin::update_place(db, &admin, imported, &input, Utc::now())
        .await
        .expect("edit");
    assert!(
        names_near(&app, "&public_benefit=true").await.is_empty(),
        "before the refresh"
    );
    refresh(&app).await;
    assert_eq!(
        names_near(&app, "&public_benefit=true").await,
        ["改名后的亲子室"],
        "the edited name and disclosure show after a refresh"
    );
}
on_both_backends!(writes_show_after_a_refresh);

/// A generated session, relative to the instant the case runs.
#[derive(Debug, Clone)]
struct SessionSpec {
    starts_in_minutes: i64,
    minutes: i64,
    kind: usize,
    capacity: i32,
    booked: i32,
    min_age_months: i32,
    age_span_months: i32,
    price_fen: i32,
    updated_minutes_ago: i64,
}

#[derive(Debug, Clone)]
struct PlaceSpec {
    /// Offsets from the case's origin in steps of 300 m; `None` repeats the
    /// previous place's point.
    offset: Option<(i32, i32)>,
    name: String,
    kind: usize,
    ages: Option<(i32, i32)>,
    offers: [bool; 4],
    fee: usize,
    public_benefit: Option<bool>,
    sessions: Vec<SessionSpec>,
}

#[derive(Debug, Clone)]
enum StartSpec {
    Point(i32, i32),
    Name(String),
}

#[derive(Debug, Clone)]
struct QuerySpec {
    start: StartSpec,
    radius: u32,
    /// 0: none, 1: typed months, 2: the family child.
    age: (usize, u32),
    dates: Option<(i64, u64)>,
    service: Option<usize>,
    public_benefit: bool,
    free: bool,
    places_left: bool,
    limit: u32,
}

#[derive(Debug, Clone)]
struct CaseSpec {
    places: Vec<PlaceSpec>,
    streets: Vec<(String, (i32, i32))>,
    child_age_days: u64,
    queries: Vec<QuerySpec>,
}

/// Characters of generated names, so that typed parts match several.
fn name() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec!['湖', '南', '路', '亲', '子', '室', '园', '1']),
        1..6,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn session_spec() -> impl Strategy<Value = SessionSpec> {
    (
        (-600i64..50_000, 30i64..240, 0usize..4, 0i32..6, 0i32..6),
        (
            0i32..40,
            0i32..40,
            prop_oneof![Just(0), 1i32..5_000],
            0i64..600,
        ),
    )
        .prop_map(
            |(
                (starts_in_minutes, minutes, kind, capacity, booked),
                (min_age_months, age_span_months, price_fen, updated_minutes_ago),
            )| SessionSpec {
                starts_in_minutes,
                minutes,
                kind,
                capacity,
                booked: booked.min(capacity),
                min_age_months,
                age_span_months,
                price_fen,
                updated_minutes_ago,
            },
        )
}

fn place_spec() -> impl Strategy<Value = PlaceSpec> {
    (
        prop_oneof![
            1 => Just(None),
            6 => (-70i32..70, -70i32..70).prop_map(Some),
        ],
        name(),
        0usize..6,
        prop::option::of((0i32..40, 0i32..40)),
        prop::array::uniform4(any::<bool>()),
        0usize..4,
        prop::option::of(any::<bool>()),
        proptest::collection::vec(session_spec(), 0..8),
    )
        .prop_map(
            |(offset, name, kind, ages, offers, fee, public_benefit, sessions)| PlaceSpec {
                offset,
                name,
                kind,
                ages: ages.map(|(min, span)| (min, min + span)),
                offers,
                fee,
                public_benefit,
                sessions,
            },
        )
}

fn query_spec() -> impl Strategy<Value = QuerySpec> {
    (
        prop_oneof![
            (-70i32..70, -70i32..70).prop_map(|(north, east)| StartSpec::Point(north, east)),
            name().prop_map(StartSpec::Name),
        ],
        prop_oneof![
            Just(100u32),
            Just(1_000),
            Just(3_000),
            Just(10_000),
            Just(20_000),
            100u32..20_000
        ],
        (0usize..3, 0u32..60),
        prop::option::of((-3i64..40, 0u64..12)),
        prop::option::of(0usize..4),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        1u32..=50,
    )
        .prop_map(
            |(start, radius, age, dates, service, (public_benefit, free, places_left), limit)| {
                QuerySpec {
                    start,
                    radius,
                    age,
                    dates,
                    service,
                    public_benefit,
                    free,
                    places_left,
                    limit,
                }
            },
        )
}

fn case_spec() -> impl Strategy<Value = CaseSpec> {
    (
        proptest::collection::vec(place_spec(), 1..60),
        proptest::collection::vec((name(), (-70i32..70, -70i32..70)), 0..3),
        0u64..1_500,
        proptest::collection::vec(query_spec(), 30),
    )
        .prop_map(|(places, streets, child_age_days, queries)| CaseSpec {
            places,
            streets,
            child_age_days,
            queries,
        })
}

/// Returns the point `steps` of 300 m north and east of `origin`.
fn offset_point(origin: (f64, f64), (north, east): (i32, i32)) -> (f64, f64) {
    let metres = 300.0 / 111_195.0;
    let latitude = origin.0 + f64::from(north) * metres;
    let longitude = origin.1 + f64::from(east) * metres / origin.0.to_radians().cos();
    (latitude, longitude)
}

const PLACE_KINDS: [&str; 6] = [
    "community_room",
    "childcare_provider",
    "toddler_class",
    "employer_childcare",
    "health_centre",
    "community_room",
];
const SESSION_KINDS: [&str; 4] = [
    "hourly_care",
    "parent_child_activity",
    "class",
    "hourly_care",
];
const SERVICES: [&str; 4] = [
    "hourly_care",
    "parent_child_activity",
    "toddler_class",
    "full_day",
];

/// Writes a case's places, sessions and streets around `origin`, with a
/// family child, and returns the child's guardian and id.
async fn write_case(app: &TestApp, number: u32, origin: (f64, f64), case: &CaseSpec) -> (i64, i64) {
    let db = &app.db;
    let now = Utc::now();
    let mut point = origin;
    for spec in &case.places {
        if let Some(offset) = spec.offset {
            point = offset_point(origin, offset);
        }
        let (fee_kind, fee_fen) = match spec.fee {
            0 => (None, None),
            1 => (Some("free"), None),
            2 => (Some("per_hour"), Some(2_000)),
            _ => (Some("per_month"), Some(150_000)),
        };
        let row = place::ActiveModel {
            kind: Set(PLACE_KINDS[spec.kind].to_owned()),
            name: Set(spec.name.clone()),
            address: Set("测试地址".to_owned()),
            latitude: Set(point.0),
            longitude: Set(point.1),
            source_crs: Set("wgs84".to_owned()),
            source_latitude: Set(point.0),
            source_longitude: Set(point.1),
            is_demo: Set(false),
            min_age_months: Set(spec.ages.map(|ages| ages.0)),
            max_age_months: Set(spec.ages.map(|ages| ages.1)),
            offers_hourly_care: Set(spec.offers[0]),
            offers_parent_child_activity: Set(spec.offers[1]),
            offers_toddler_class: Set(spec.offers[2]),
            offers_full_day: Set(spec.offers[3]),
            fee_kind: Set(fee_kind.map(str::to_owned)),
            fee_fen: Set(fee_fen),
            public_benefit: Set(spec.public_benefit),
            public_benefit_date: Set(spec
                .public_benefit
                .and(NaiveDate::from_ymd_opt(2026, 11, 1))),
            public_benefit_source: Set(spec.public_benefit.map(|_| "测试公示".to_owned())),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("place");
        let sessions: Vec<care_session::ActiveModel> = spec
            .sessions
            .iter()
            .map(|session| {
                let starts_at = now + Duration::minutes(session.starts_in_minutes);
                care_session::ActiveModel {
                    place_id: Set(row.id),
                    kind: Set(SESSION_KINDS[session.kind].to_owned()),
                    title: Set(format!("时段{}", session.kind)),
                    starts_at: Set(starts_at),
                    ends_at: Set(starts_at + Duration::minutes(session.minutes)),
                    capacity: Set(session.capacity),
                    booked: Set(session.booked),
                    min_age_months: Set(session.min_age_months),
                    max_age_months: Set(session.min_age_months + session.age_span_months),
                    price_fen: Set(session.price_fen),
                    is_demo: Set(false),
                    created_at: Set(now),
                    updated_at: Set(now - Duration::minutes(session.updated_minutes_ago)),
                    ..Default::default()
                }
            })
            .collect();
        if !sessions.is_empty() {
            care_session::Entity::insert_many(sessions)
                .exec(db)
                .await
                .expect("sessions");
        }
    }
    for (index, (name, offset)) in case.streets.iter().enumerate() {
        let seat = offset_point(origin, *offset);
        street::ActiveModel {
            mca_code: Set(format!("9{number:05}{index:03}")),
            stats_code: Set(None),
            name: Set(format!("{name}街道")),
            district_code: Set("990000".to_owned()),
            latitude: Set(Some(seat.0)),
            longitude: Set(Some(seat.1)),
            updated_at: Set(now),
        }
        .insert(db)
        .await
        .expect("street");
    }
    let birth = app::time::local_date(now)
        .checked_sub_days(Days::new(case.child_age_days))
        .expect("birth date");
    signed_in_child(
        db,
        &format!("snapshot-case-{number}"),
        &birth.format("%Y-%m-%d").to_string(),
    )
    .await
}

fn params(query: &QuerySpec, origin: (f64, f64), child: i64) -> NearbyParams {
    let today = app::time::local_date(Utc::now());
    let mut params = NearbyParams {
        radius: Some(query.radius.to_string()),
        limit: Some(query.limit.to_string()),
        ..NearbyParams::default()
    };
    match &query.start {
        StartSpec::Point(north, east) => {
            let point = offset_point(origin, (*north, *east));
            params.lat = Some(point.0.to_string());
            params.lon = Some(point.1.to_string());
        }
        StartSpec::Name(name) => params.q = Some(name.clone()),
    }
    match query.age {
        (1, months) => params.age = Some(months.to_string()),
        (2, _) => params.child = Some(child.to_string()),
        _ => {}
    }
    if let Some((from, span)) = query.dates {
        let from = if from < 0 {
            today.checked_sub_days(Days::new(from.unsigned_abs()))
        } else {
            today.checked_add_days(Days::new(from.unsigned_abs()))
        }
        .expect("date");
        let to = from.checked_add_days(Days::new(span)).expect("date");
        params.from = Some(from.format("%Y-%m-%d").to_string());
        params.to = Some(to.format("%Y-%m-%d").to_string());
    }
    params.service = query.service.map(|index| SERVICES[index].to_owned());
    let flag = |on: bool| on.then(|| "true".to_owned());
    params.public_benefit = flag(query.public_benefit);
    params.free = flag(query.free);
    params.places_left = flag(query.places_left);
    params
}

/// Writes a case, reloads the snapshot and compares every query's result.
async fn check_case(app: &TestApp, number: u32, case: &CaseSpec) -> Result<(), String> {
    // Cases lie 0.6° apart, beyond the largest radius, so each searches
    // its own places, except that a typed name matches in any case.
    let origin = (24.0 + f64::from(number % 40) * 0.6, 100.0);
    let (guardian, child) = write_case(app, number, origin, case).await;
    app.reload_search().await;
    for query in &case.queries {
        let params = params(query, origin, child);
        let now = Utc::now();
        let expected = nearby::search_nearby(&app.db, &params, Some(guardian), now).await;
        let found = app
            .search
            .search_snapshot(&app.db, &params, Some(guardian), now)
            .await;
        if format!("{expected:?}") != format!("{found:?}") {
            return Err(format!(
                "{params:?}\ndatabase: {expected:#?}\nsnapshot: {found:#?}"
            ));
        }
    }
    Ok(())
}

async fn snapshot_matches_database_search(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Streets need a district.
    district::ActiveModel {
        code: Set("990000".to_owned()),
        name: Set("测试区".to_owned()),
        population_10k: Set(None),
        birth_rate_permille: Set(None),
        latitude: Set(None),
        longitude: Set(None),
        updated_at: Set(Utc::now()),
    }
    .insert(&app.db)
    .await
    .expect("district");

    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 12,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let number = Cell::new(0u32);
    let handle = tokio::runtime::Handle::current();
    let result = runner.run(&case_spec(), |case| {
        number.set(number.get() + 1);
        let outcome =
            tokio::task::block_in_place(|| handle.block_on(check_case(&app, number.get(), &case)));
        prop_assert!(outcome.is_ok(), "{}", outcome.err().unwrap_or_default());
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}
on_both_backends!(snapshot_matches_database_search);
