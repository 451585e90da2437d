//! Nearby search through `/api/v1/places/nearby`, the domain function and
//! the server-rendered `/search` page, on places written for each test.
//!
//! The test places sit around a point about 15 km north-east of the demo
//! places, so the demo data never falls inside a test's radius.

use app::domain::accounts::{self, PortalIdentity};
use app::domain::family::{self, ChildInput};
use app::domain::nearby;
use app::entity::{care_session, district, place, street};
use app::error::AppError;
use app::model::NearbyParams;
use app::time::{SHANGHAI, local_date};
use chrono::{DateTime, Days, Duration, NaiveTime, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};

use crate::browser::{Browser, location};
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

/// The origin of every test search, in WGS-84.
pub(crate) const ORIGIN: (f64, f64) = (32.15, 118.90);
/// Metres per degree of latitude, as the haversine sphere has it.
const METRES_PER_DEGREE: f64 = 111_195.0;

/// Inserts a place `north_m` metres north of [`ORIGIN`] and returns its id.
pub(crate) async fn place_north(
    db: &DatabaseConnection,
    name: &str,
    north_m: f64,
    edit: impl FnOnce(&mut place::ActiveModel),
) -> i64 {
    let now = Utc::now();
    let latitude = ORIGIN.0 + north_m / METRES_PER_DEGREE;
    let mut model = place::ActiveModel {
        kind: Set("community_room".to_owned()),
        name: Set(name.to_owned()),
        address: Set("测试地址".to_owned()),
        latitude: Set(latitude),
        longitude: Set(ORIGIN.1),
        source_crs: Set("wgs84".to_owned()),
        source_latitude: Set(latitude),
        source_longitude: Set(ORIGIN.1),
        is_demo: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    edit(&mut model);
    model.insert(db).await.expect("place is inserted").id
}

/// Inserts an hourly-care session for 0 to 36 months, free, with six
/// places and none booked, unless `edit` changes it.
pub(crate) async fn session(
    db: &DatabaseConnection,
    place_id: i64,
    starts_at: DateTime<Utc>,
    edit: impl FnOnce(&mut care_session::ActiveModel),
) -> i64 {
    let now = Utc::now();
    let mut model = care_session::ActiveModel {
        place_id: Set(place_id),
        kind: Set("hourly_care".to_owned()),
        title: Set("测试时段".to_owned()),
        starts_at: Set(starts_at),
        ends_at: Set(starts_at + Duration::hours(1)),
        capacity: Set(6),
        booked: Set(0),
        min_age_months: Set(0),
        max_age_months: Set(36),
        price_fen: Set(0),
        is_demo: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    edit(&mut model);
    model.insert(db).await.expect("session is inserted").id
}

/// Returns 10:00 in Nanjing, `days` days from today.
fn local_ten_am(days: u64) -> DateTime<Utc> {
    let date = local_date(Utc::now())
        .checked_add_days(Days::new(days))
        .expect("date in range");
    let time = NaiveTime::from_hms_opt(10, 0, 0).expect("valid time");
    SHANGHAI
        .from_local_datetime(&date.and_time(time))
        .single()
        .expect("unambiguous")
        .with_timezone(&Utc)
}

fn local_date_string(days: u64) -> String {
    local_date(Utc::now())
        .checked_add_days(Days::new(days))
        .expect("date in range")
        .format("%Y-%m-%d")
        .to_string()
}

/// Searches around [`ORIGIN`] with the extra query `filters` and returns
/// the JSON body, failing on any status but 200.
async fn search(app: &TestApp, filters: &str) -> serde_json::Value {
    let path = format!(
        "/api/v1/places/nearby?lat={}&lon={}&radius=3000{filters}",
        ORIGIN.0, ORIGIN.1
    );
    app.reload_search().await;
    let response = app.get(&path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.expect("json")
}

fn names(results: &serde_json::Value) -> Vec<String> {
    results["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["name"].as_str().expect("name").to_owned())
        .collect()
}

fn item<'a>(results: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    results["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|item| item["name"] == name)
        .unwrap_or_else(|| panic!("{name} is in the results"))
}

async fn results_are_nearest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    place_north(db, "远处", 1_500.0, |_| {}).await;
    place_north(db, "最近", 200.0, |_| {}).await;
    place_north(db, "超出范围", 5_000.0, |_| {}).await;
    place_north(db, "较近", 700.0, |_| {}).await;
    place_north(db, "南边", -900.0, |_| {}).await;

    let results = search(&app, "").await;

    assert_eq!(names(&results), ["最近", "较近", "南边", "远处"]);
    assert_eq!(results["origin"]["kind"], "coordinates");
    assert_eq!(results["radius_m"], 3000);
    let nearest = item(&results, "最近");
    let distance = nearest["distance_m"].as_u64().expect("distance");
    assert!((199..=201).contains(&distance), "{distance} m");
    assert_eq!(nearest["walking_minutes"], 4, "200 m × 1.3 at 75 m/min");
    assert_eq!(nearest["within_service_circle"], true);
    assert_eq!(item(&results, "较近")["within_service_circle"], true);
    assert_eq!(item(&results, "南边")["within_service_circle"], false);
    assert_eq!(item(&results, "远处")["walking_minutes"], 26, "1500 m");
}
on_both_backends!(results_are_nearest_first);

async fn limit_keeps_the_nearest(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for index in 0..70 {
        let north = 2_000.0 - f64::from(index) * 25.0;
        place_north(&app.db, &format!("场所{index:02}"), north, |_| {}).await;
    }

    let beyond = place_north(&app.db, "唯一有场次", 2_500.0, |_| {}).await;
    session(&app.db, beyond, Utc::now() + Duration::hours(1), |_| {}).await;

    let results = search(&app, "&limit=3").await;
    let with_sessions = search(&app, "&places_left=true").await;

    assert_eq!(names(&results), ["场所69", "场所68", "场所67"]);
    assert_eq!(
        names(&with_sessions),
        ["唯一有场次"],
        "found past the 70 nearer places without sessions"
    );
}
on_both_backends!(limit_keeps_the_nearest);

async fn order_is_exact_in_every_direction(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let origin = app::geo::GeoPoint {
        latitude: ORIGIN.0,
        longitude: ORIGIN.1,
    };
    // Places on all bearings from 150 m to about 2.8 km, so that the search
    // reads them over several rings and must merge east-west and
    // north-south distances in exact order.
    let mut expected = Vec::new();
    for index in 0..48 {
        let bearing = f64::from(index * 37 % 360).to_radians();
        let distance = 150.0 + f64::from(index) * 57.0;
        let latitude = ORIGIN.0 + distance * bearing.cos() / METRES_PER_DEGREE;
        let longitude =
            ORIGIN.1 + distance * bearing.sin() / (METRES_PER_DEGREE * ORIGIN.0.to_radians().cos());
        let name = format!("方向{index:02}");
        place_north(&app.db, &name, 0.0, |model| {
            model.latitude = Set(latitude);
            model.longitude = Set(longitude);
            model.source_latitude = Set(latitude);
            model.source_longitude = Set(longitude);
        })
        .await;
        let point = app::geo::GeoPoint {
            latitude,
            longitude,
        };
        expected.push((origin.distance_m(point), name));
    }
    expected.sort_by(|a, b| a.0.total_cmp(&b.0));
    let expected: Vec<String> = expected.into_iter().map(|(_, name)| name).collect();

    let results = search(&app, "&limit=50").await;

    assert_eq!(names(&results), expected);
}
on_both_backends!(order_is_exact_in_every_direction);

async fn next_session_has_places_left(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let room = place_north(db, "亲子室", 300.0, |_| {}).await;
    session(db, room, Utc::now() - Duration::hours(2), |_| {}).await;
    session(db, room, Utc::now() + Duration::hours(1), |model| {
        model.booked = Set(6);
    })
    .await;
    let updated = Utc::now() - Duration::minutes(3);
    let open = session(db, room, Utc::now() + Duration::hours(3), |model| {
        model.booked = Set(4);
        model.updated_at = Set(updated);
    })
    .await;
    session(db, room, Utc::now() + Duration::hours(5), |_| {}).await;

    let results = search(&app, "").await;

    let next = &item(&results, "亲子室")["next_session"];
    assert_eq!(
        next["id"], open,
        "the started and the full session are skipped"
    );
    assert_eq!(next["places_left"], 2);
    let shown: DateTime<Utc> = next["updated_at"]
        .as_str()
        .expect("updated_at")
        .parse()
        .expect("instant");
    assert!(
        (shown - updated).num_seconds().abs() < 1,
        "{shown} vs {updated}"
    );
}
on_both_backends!(next_session_has_places_left);

async fn places_left_filter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let full = place_north(db, "已满", 100.0, |_| {}).await;
    session(db, full, Utc::now() + Duration::hours(2), |model| {
        model.booked = Set(6);
    })
    .await;
    let open = place_north(db, "有余位", 400.0, |_| {}).await;
    session(db, open, Utc::now() + Duration::hours(2), |model| {
        model.booked = Set(5);
    })
    .await;

    let unfiltered = search(&app, "").await;
    let filtered = search(&app, "&places_left=true").await;

    assert_eq!(names(&unfiltered), ["已满", "有余位"]);
    assert!(item(&unfiltered, "已满")["next_session"].is_null());
    assert_eq!(names(&filtered), ["有余位"]);
}
on_both_backends!(places_left_filter);

async fn public_benefit_filter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    place_north(db, "普惠机构", 500.0, |model| {
        model.public_benefit = Set(Some(true));
        model.public_benefit_source = Set(Some("测试公示".to_owned()));
        model.public_benefit_date = Set(chrono::NaiveDate::from_ymd_opt(2026, 11, 1));
    })
    .await;
    place_north(db, "非普惠机构", 300.0, |model| {
        model.public_benefit = Set(Some(false));
        model.public_benefit_source = Set(Some("测试公示".to_owned()));
        model.public_benefit_date = Set(chrono::NaiveDate::from_ymd_opt(2026, 11, 1));
    })
    .await;
    place_north(db, "未公示机构", 100.0, |_| {}).await;

    let results = search(&app, "&public_benefit=true").await;

    assert_eq!(names(&results), ["普惠机构"]);
    assert_eq!(item(&results, "普惠机构")["public_benefit"], true);
}
on_both_backends!(public_benefit_filter);

async fn free_filter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    place_north(db, "免费场所", 100.0, |model| {
        model.fee_kind = Set(Some("free".to_owned()));
    })
    .await;
    let mixed = place_north(db, "有免费活动", 200.0, |model| {
        model.fee_kind = Set(Some("per_hour".to_owned()));
        model.fee_fen = Set(Some(1500));
    })
    .await;
    session(db, mixed, Utc::now() + Duration::hours(1), |model| {
        model.price_fen = Set(1500);
    })
    .await;
    let free_session = session(db, mixed, Utc::now() + Duration::hours(3), |model| {
        model.kind = Set("parent_child_activity".to_owned());
    })
    .await;
    let paid = place_north(db, "只收费", 300.0, |_| {}).await;
    session(db, paid, Utc::now() + Duration::hours(1), |model| {
        model.price_fen = Set(2000);
    })
    .await;

    let results = search(&app, "&free=true").await;

    assert_eq!(names(&results), ["免费场所", "有免费活动"]);
    assert_eq!(
        item(&results, "有免费活动")["next_session"]["id"],
        free_session,
        "the paid session is skipped"
    );
}
on_both_backends!(free_filter);

async fn service_filter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    place_north(db, "托班", 100.0, |model| {
        model.kind = Set("toddler_class".to_owned());
        model.offers_toddler_class = Set(true);
    })
    .await;
    let hourly = place_north(db, "有计时托", 200.0, |_| {}).await;
    session(db, hourly, Utc::now() + Duration::hours(1), |_| {}).await;
    let activity = place_north(db, "只有亲子活动", 300.0, |_| {}).await;
    session(db, activity, Utc::now() + Duration::hours(1), |model| {
        model.kind = Set("parent_child_activity".to_owned());
    })
    .await;
    place_north(db, "声明计时托", 400.0, |model| {
        model.offers_hourly_care = Set(true);
    })
    .await;

    let toddler = search(&app, "&service=toddler_class").await;
    let hourly_care = search(&app, "&service=hourly_care").await;
    let full_day = search(&app, "&service=full_day").await;

    assert_eq!(names(&toddler), ["托班"]);
    assert_eq!(item(&toddler, "托班")["services"][0], "toddler_class");
    assert_eq!(
        names(&hourly_care),
        ["有计时托", "声明计时托"],
        "by a session, or by declaring the service"
    );
    assert!(names(&full_day).is_empty());
}
on_both_backends!(service_filter);

async fn date_filter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let soon = place_north(db, "后天有", 100.0, |_| {}).await;
    session(db, soon, local_ten_am(2), |_| {}).await;
    let later = place_north(db, "十天后有", 200.0, |_| {}).await;
    session(db, later, local_ten_am(10), |_| {}).await;
    place_north(db, "没有安排", 300.0, |_| {}).await;

    let day_after_tomorrow = local_date_string(2);
    let one_day = search(
        &app,
        &format!("&from={day_after_tomorrow}&to={day_after_tomorrow}"),
    )
    .await;
    let tenth = local_date_string(10);
    let until_tenth = search(&app, &format!("&to={tenth}")).await;

    assert_eq!(names(&one_day), ["后天有"]);
    assert_eq!(names(&until_tenth), ["后天有", "十天后有"]);
}
on_both_backends!(date_filter);

async fn age_filter_at_range_edges(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    place_north(db, "12到36个月", 100.0, |model| {
        model.min_age_months = Set(Some(12));
        model.max_age_months = Set(Some(36));
    })
    .await;
    place_north(db, "0到11个月", 200.0, |model| {
        model.min_age_months = Set(Some(0));
        model.max_age_months = Set(Some(11));
    })
    .await;
    let open = place_north(db, "未公示月龄", 300.0, |_| {}).await;
    session(db, open, Utc::now() + Duration::hours(1), |model| {
        model.min_age_months = Set(24);
        model.max_age_months = Set(36);
    })
    .await;

    let eleven = search(&app, "&age=11").await;
    let twelve = search(&app, "&age=12").await;
    let twenty_four = search(&app, "&age=24").await;

    assert_eq!(names(&eleven), ["0到11个月", "未公示月龄"]);
    assert_eq!(names(&twelve), ["12到36个月", "未公示月龄"]);
    assert!(
        item(&twelve, "未公示月龄")["next_session"].is_null(),
        "a session for 24 to 36 months does not fit 12"
    );
    assert!(item(&twenty_four, "未公示月龄")["next_session"].is_object());
}
on_both_backends!(age_filter_at_range_edges);

pub(crate) async fn signed_in_child(
    db: &DatabaseConnection,
    subject: &str,
    birth: &str,
) -> (i64, i64) {
    let guardian = accounts::sign_in(
        db,
        &PortalIdentity {
            subject: subject.into(),
            display_name: "测试家长".into(),
            mobile: Some("19900000011".into()),
            real_name_verified: true,
        },
        Utc::now(),
    )
    .await
    .expect("account");
    let child = family::add_child(
        db,
        guardian,
        &ChildInput {
            display_name: "王小明".into(),
            birth_date: birth.into(),
            care_notes: None,
        },
        true,
        Utc::now(),
    )
    .await
    .expect("child");
    (guardian, child.id)
}

async fn child_filter_uses_birth_date_per_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    // The child turns 12 months on the day of the second session.
    let birthday = local_date(Utc::now())
        .checked_add_days(Days::new(3))
        .and_then(|date| date.checked_sub_months(chrono::Months::new(12)))
        .expect("date in range");
    let (guardian, child) = signed_in_child(
        db,
        "nearby-guardian",
        &birthday.format("%Y-%m-%d").to_string(),
    )
    .await;
    let room = place_north(db, "一岁以上", 100.0, |_| {}).await;
    session(db, room, local_ten_am(2), |model| {
        model.min_age_months = Set(12);
    })
    .await;
    let on_birthday = session(db, room, local_ten_am(3), |model| {
        model.min_age_months = Set(12);
    })
    .await;
    let params = NearbyParams {
        lat: Some(ORIGIN.0.to_string()),
        lon: Some(ORIGIN.1.to_string()),
        child: Some(child.to_string()),
        ..NearbyParams::default()
    };

    let found = nearby::search_nearby(db, &params, Some(guardian), Utc::now())
        .await
        .expect("search");
    let stranger = accounts::sign_in(
        db,
        &PortalIdentity {
            subject: "nearby-stranger".into(),
            display_name: "陌生人".into(),
            mobile: None,
            real_name_verified: true,
        },
        Utc::now(),
    )
    .await
    .expect("account");
    let as_stranger = nearby::search_nearby(db, &params, Some(stranger), Utc::now()).await;
    let signed_out = nearby::search_nearby(db, &params, None, Utc::now()).await;

    let next = found.items[0].next_session.as_ref().expect("next session");
    assert_eq!(next.session.id, on_birthday, "11 months the day before");
    assert_eq!(as_stranger, Err(AppError::NotFound));
    assert_eq!(signed_out, Err(AppError::Unauthenticated));
}
on_both_backends!(child_filter_uses_birth_date_per_session);

async fn typed_names_resolve_to_streets_then_places(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let now = Utc::now();
    district::ActiveModel {
        code: Set("329901".to_owned()),
        name: Set("测试区".to_owned()),
        population_10k: Set(None),
        birth_rate_permille: Set(None),
        latitude: Set(None),
        longitude: Set(None),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .expect("district");
    for (code, name, point) in [
        ("329901001", "测试湖街道", Some(ORIGIN)),
        ("329901002", "测试湖东街道", Some((32.0, 118.7))),
        ("329901003", "测试无座街道", None),
    ] {
        street::ActiveModel {
            mca_code: Set(code.to_owned()),
            stats_code: Set(None),
            name: Set(name.to_owned()),
            district_code: Set("329901".to_owned()),
            latitude: Set(point.map(|p| p.0)),
            longitude: Set(point.map(|p| p.1)),
            updated_at: Set(now),
        }
        .insert(db)
        .await
        .expect("street");
    }
    place_north(db, "百分之百_亲子室", 400.0, |_| {}).await;
    app.reload_search().await;

    let by_street: serde_json::Value = app
        .get("/api/v1/places/nearby?q=%E6%B5%8B%E8%AF%95%E6%B9%96")
        .await
        .json()
        .await
        .expect("json");
    let by_place: serde_json::Value = app
        .get("/api/v1/places/nearby?q=%E7%99%BE%E5%88%86%E4%B9%8B%E7%99%BE_")
        .await
        .json()
        .await
        .expect("json");
    let wildcard = app.get("/api/v1/places/nearby?q=%25").await;
    let seatless = app
        .get("/api/v1/places/nearby?q=%E6%B5%8B%E8%AF%95%E6%97%A0%E5%BA%A7")
        .await;

    assert_eq!(by_street["origin"]["kind"], "street");
    assert_eq!(
        by_street["origin"]["label"], "测试湖街道",
        "shortest name wins"
    );
    assert_eq!(names(&by_street), ["百分之百_亲子室"]);
    assert_eq!(by_place["origin"]["kind"], "place");
    assert_eq!(by_place["origin"]["label"], "百分之百_亲子室");
    assert_eq!(wildcard.status(), 200);
    let wildcard: serde_json::Value = wildcard.json().await.expect("json");
    assert!(
        wildcard["origin"].is_null(),
        "% is a literal, not a wildcard"
    );
    assert_eq!(seatless.status(), 200);
    let seatless: serde_json::Value = seatless.json().await.expect("json");
    assert!(
        seatless["origin"].is_null(),
        "a street without a seat is no origin"
    );
    assert_eq!(seatless["items"], serde_json::json!([]));
}
on_both_backends!(typed_names_resolve_to_streets_then_places);

async fn bad_input_is_400_with_a_message(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let long = "街".repeat(51);
    let cases = [
        ("lat=NaN&lon=118.9", "invalid_query", "NaN"),
        ("lat=91&lon=118.9", "invalid_query", "latitude out of range"),
        (
            "lat=32.1&lon=181",
            "invalid_query",
            "longitude out of range",
        ),
        (
            "lat=abc&lon=118.9",
            "invalid_query",
            "latitude not a number",
        ),
        ("lat=32.1", "invalid_query", "longitude missing"),
        ("", "invalid_query", "no start"),
        ("q=", "invalid_query", "empty name"),
        ("q=%20%20", "invalid_query", "blank name"),
        (&format!("q={long}"), "invalid_query", "name too long"),
        ("q=%E4%B8", "invalid_query", "truncated UTF-8"),
        ("q=%FF%FE", "invalid_query", "invalid UTF-8"),
        (
            "lat=%ZZ&lon=118.9",
            "invalid_query",
            "bad percent escape in a number",
        ),
        ("q=a&radius=100000000", "invalid_query", "huge radius"),
        (
            "q=a&radius=99999999999999999999",
            "invalid_query",
            "radius beyond u32",
        ),
        ("q=a&age=-1", "invalid_query", "negative age"),
        ("q=a&from=2026-02-30", "invalid_query", "impossible date"),
        ("q=a&limit=51", "invalid_query", "limit too large"),
        ("q=a&service=spa", "invalid_query", "unknown service"),
        ("q=a&sort=name", "bad_request", "unknown parameter"),
        ("q=a&q=b", "bad_request", "repeated parameter"),
    ];
    for (query, code, case) in cases {
        let response = app
            .get_with(
                &format!("/api/v1/places/nearby?{query}"),
                ("accept-language", "zh-CN"),
            )
            .await;
        assert_eq!(response.status(), 400, "{case}: {query}");
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["code"], code, "{case}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|text| !text.is_empty()),
            "{case}: translated message"
        );
    }

    let english: serde_json::Value = app
        .get_with(
            "/api/v1/places/nearby?lat=NaN&lon=1",
            ("accept-language", "en"),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(english["field"], "lat");
    assert_eq!(
        english["message"],
        "The search is not valid. Correct it as shown and try again."
    );
}
on_both_backends!(bad_input_is_400_with_a_message);

async fn far_away_point_is_an_empty_result(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let results: serde_json::Value = app
        .get("/api/v1/places/nearby?lat=-89.9999&lon=179.9999&radius=20000")
        .await
        .json()
        .await
        .expect("json");

    assert_eq!(results["items"], serde_json::json!([]));
    assert_eq!(results["origin"]["kind"], "coordinates");
}
on_both_backends!(far_away_point_is_an_empty_result);

#[tokio::test]
async fn openapi_document_lists_nearby_search() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let doc: serde_json::Value = app
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json");

    let operation = &doc["paths"]["/api/v1/places/nearby"]["get"];
    assert!(operation.is_object());
    let parameters: Vec<&str> = operation["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|parameter| parameter["name"].as_str().expect("name"))
        .collect();
    for name in [
        "lat", "lon", "q", "radius", "age", "child", "from", "to", "service",
    ] {
        assert!(parameters.contains(&name), "{name} in {parameters:?}");
    }
}

async fn search_page_works_without_javascript(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let room = place_north(db, "无脚本亲子室", 300.0, |model| {
        model.public_benefit = Set(Some(true));
        model.public_benefit_source = Set(Some("测试公示".to_owned()));
        model.public_benefit_date = Set(chrono::NaiveDate::from_ymd_opt(2026, 11, 1));
    })
    .await;
    session(db, room, Utc::now() + Duration::hours(2), |model| {
        model.title = Set("绘本时间".to_owned());
        model.booked = Set(3);
        model.updated_at = Set(Utc::now() - Duration::minutes(3) - Duration::seconds(10));
    })
    .await;
    place_north(db, "远一些的场所", 1_200.0, |_| {}).await;
    app.reload_search().await;

    let empty = app.get("/search").await;
    let response = app
        .get(&format!(
            "/search?q=&lat={}&lon={}&radius=3000&service=&age=&from=&to=",
            ORIGIN.0, ORIGIN.1
        ))
        .await;

    assert_eq!(empty.status(), 200);
    let empty = empty.text().await.expect("body");
    assert!(empty.contains(r#"action="/search""#), "a plain GET form");
    assert!(!empty.contains("附近的场所"), "no results before a search");
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("body");
    let near = html.find("无脚本亲子室").expect("near place listed");
    let far = html.find("远一些的场所").expect("far place listed");
    assert!(near < far, "nearest first");
    assert!(html.contains("从您的位置出发"), "origin line");
    assert!(html.contains("300 米"), "distance");
    assert!(html.contains("步行约 6 分钟"), "walking time");
    assert!(html.contains("1.2 公里"), "distance in km");
    assert!(html.contains("15分钟托育服务圈内"), "circle badge");
    assert!(html.contains("绘本时间"), "next session");
    assert!(html.contains("剩余 3 个名额"), "places left");
    assert!(html.contains("3 分钟前更新"), "freshness of places left");
    assert!(
        html.contains(r#"<button type="button" hidden class="button">使用我的位置"#),
        "the location button stays hidden until its island runs"
    );
}
on_both_backends!(search_page_works_without_javascript);

async fn search_page_speaks_english(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    place_north(&app.db, "英文页面场所", 1_490.0, |_| {}).await;
    app.reload_search().await;
    let path = format!("/search?lat={}&lon={}", ORIGIN.0, ORIGIN.1);

    let html = app
        .get_with(&path, ("accept-language", "en"))
        .await
        .text()
        .await
        .expect("body");

    assert!(html.contains("From your location"), "origin line");
    assert!(html.contains("1.5 km"), "distance");
    assert!(html.contains("About 26 min on foot"), "walking time");
    assert!(
        html.contains("No session with places left soon"),
        "no session"
    );
}
on_both_backends!(search_page_speaks_english);

async fn search_page_explains_bad_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let nan = app.get("/search?lat=NaN&lon=118.9").await;
    let malformed = app.get("/search?q=%ZZ%E4%B8").await;
    let unknown = app
        .get("/search?q=%E4%B8%8D%E5%AD%98%E5%9C%A8%E7%9A%84%E5%9C%B0%E6%96%B9")
        .await;

    assert_eq!(nan.status(), 400);
    let nan = nan.text().await.expect("body");
    assert!(nan.contains("搜索条件有误"), "translated message");
    assert!(nan.contains("位置"), "names the field");
    assert_eq!(malformed.status(), 400);
    assert_eq!(unknown.status(), 200);
    let unknown = unknown.text().await.expect("body");
    assert!(unknown.contains("没有找到名为“不存在的地方”的街道、社区或场所"));
    let percent = app.get("/search?q=50%2525+a%2Bb").await;
    let percent = percent.text().await.expect("body");
    assert!(
        percent.contains("没有找到名为“50%25 a+b”"),
        "the query is decoded once"
    );
}
on_both_backends!(search_page_explains_bad_input);

async fn place_page_shows_disclosures_and_directions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = place_north(&app.db, "公示完整的机构", 0.0, |model| {
        model.kind = Set("childcare_provider".to_owned());
        model.min_age_months = Set(Some(12));
        model.max_age_months = Set(Some(36));
        model.offers_full_day = Set(true);
        model.offers_hourly_care = Set(true);
        model.fee_kind = Set(Some("per_month".to_owned()));
        model.fee_fen = Set(Some(250_050));
        model.opening_hours = Set(Some("周一至周五 7:30—18:00".to_owned()));
        model.contact = Set(Some("王老师".to_owned()));
        model.public_benefit = Set(Some(true));
        model.public_benefit_source = Set(Some("测试区卫健委公示".to_owned()));
        model.public_benefit_date = Set(chrono::NaiveDate::from_ymd_opt(2026, 10, 8));
        model.registered = Set(Some(true));
        model.registration_source = Set(Some("测试备案系统".to_owned()));
        model.registration_date = Set(chrono::NaiveDate::from_ymd_opt(2026, 3, 2));
        model.star_rating = Set(Some(4));
        model.star_rating_source = Set(Some("测试星级评估".to_owned()));
        model.star_rating_date = Set(chrono::NaiveDate::from_ymd_opt(2026, 9, 1));
    })
    .await;
    let bare = place_north(&app.db, "未公示的机构", 50.0, |_| {}).await;

    let html = app
        .get(&format!("/places/{id}"))
        .await
        .text()
        .await
        .expect("body");
    let bare_html = app
        .get(&format!("/places/{bare}"))
        .await
        .text()
        .await
        .expect("body");
    let api: serde_json::Value = app
        .get(&format!("/api/v1/places/{id}"))
        .await
        .json()
        .await
        .expect("json");

    for expected in [
        "12—36 个月",
        "计时制托育、全日托",
        "每月 2500.5 元",
        "周一至周五 7:30—18:00",
        "王老师",
        "普惠托育",
        "来源：测试区卫健委公示，2026年10月8日",
        "已备案",
        "来源：测试备案系统，2026年3月2日",
        "4 星",
        "来源：测试星级评估，2026年9月1日",
        "https://uri.amap.com/navigation?",
        "qqmap://map/routeplan?",
        "geo:",
    ] {
        assert!(html.contains(expected), "place page shows {expected}");
    }
    assert!(
        bare_html.matches("未公示").count() >= 8,
        "every missing fact says so"
    );
    assert_eq!(api["public_benefit"]["value"], true);
    assert_eq!(api["public_benefit"]["date"], "2026-10-08");
    assert_eq!(api["star_rating"]["value"], 4);
    assert_eq!(
        api["fee"],
        serde_json::json!({"kind": "per_month", "fen": 250_050})
    );
    assert_eq!(
        api["services"],
        serde_json::json!(["hourly_care", "full_day"])
    );
}
on_both_backends!(place_page_shows_disclosures_and_directions);

async fn disclosure_needs_source_and_date(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = Utc::now();
    let half = place::ActiveModel {
        kind: Set("community_room".to_owned()),
        name: Set("只有结论".to_owned()),
        latitude: Set(ORIGIN.0),
        longitude: Set(ORIGIN.1),
        source_crs: Set("wgs84".to_owned()),
        source_latitude: Set(ORIGIN.0),
        source_longitude: Set(ORIGIN.1),
        created_at: Set(now),
        updated_at: Set(now),
        public_benefit: Set(Some(true)),
        ..Default::default()
    };
    let stars = place::ActiveModel {
        star_rating: Set(Some(6)),
        star_rating_source: Set(Some("测试".to_owned())),
        star_rating_date: Set(chrono::NaiveDate::from_ymd_opt(2026, 1, 1)),
        public_benefit: Set(None),
        name: Set("六星".to_owned()),
        ..half.clone()
    };
    let fee = place::ActiveModel {
        fee_kind: Set(Some("per_hour".to_owned())),
        fee_fen: Set(None),
        public_benefit: Set(None),
        name: Set("没有金额".to_owned()),
        ..half.clone()
    };
    let ages = place::ActiveModel {
        min_age_months: Set(Some(12)),
        max_age_months: Set(None),
        public_benefit: Set(None),
        name: Set("只有下限".to_owned()),
        ..half.clone()
    };

    assert!(
        half.insert(&app.db).await.is_err(),
        "普惠 without source and date"
    );
    assert!(stars.insert(&app.db).await.is_err(), "six stars");
    assert!(
        fee.insert(&app.db).await.is_err(),
        "a per-hour fee without an amount"
    );
    assert!(
        ages.insert(&app.db).await.is_err(),
        "a minimum age without a maximum"
    );
}
on_both_backends!(disclosure_needs_source_and_date);

async fn search_page_offers_the_familys_children(backend: Backend) {
    let app = TestApp::spawn_with_portal(backend).await;
    let parent = Browser::new();
    let signed_in = parent.sign_in(&app, "demo-parent", "/search").await;
    assert_eq!(location(&signed_in), "/search");
    let added = parent
        .call(
            &app,
            "add_child",
            &[
                ("display_name", "王小明"),
                ("birth_date", "2025-05-20"),
                ("consent", "on"),
            ],
        )
        .await;
    assert_eq!(added.status(), 200, "child is added");
    let overview: serde_json::Value = parent
        .call(&app, "load_family", &[])
        .await
        .json()
        .await
        .expect("json");
    let child = overview["children"][0]["id"].as_i64().expect("child id");
    place_north(&app.db, "家附近", 200.0, |_| {}).await;
    app.reload_search().await;
    let path = format!("/search?lat={}&lon={}&child={child}", ORIGIN.0, ORIGIN.1);

    let own = parent.get(&app.url(&path)).await;
    let stranger = Browser::new();
    stranger.sign_in(&app, "demo-parent-aygul", "/search").await;
    let other = stranger.get(&app.url(&path)).await;
    let signed_out = app.get(&path).await;

    assert_eq!(own.status(), 200);
    let html = own.text().await.expect("body");
    assert!(html.contains("王小明"), "the child is offered");
    assert!(
        html.contains(&format!(r#"<option value="{child}" selected"#)),
        "the chosen child stays selected"
    );
    assert!(html.contains("家附近"), "results for the child");
    assert_eq!(other.status(), 404, "someone else's child is not found");
    let other = other.text().await.expect("body");
    assert!(!other.contains("王小明"), "nothing of the child leaks");
    assert_eq!(signed_out.status(), 401);
}
on_both_backends!(search_page_offers_the_familys_children);

async fn real_nanjing_streets_start_a_search(backend: Backend) {
    use app::domain::import::{self, PlaceImportOptions};
    use app::geo::Crs;

    let Some(dir) = crate::import::nanjing_data() else {
        // NOTE: the city's files live outside the repository. Without them
        // this test is skipped, and .ci/test prints a warning.
        eprintln!("SKIPPED: the Nanjing data folder is missing; set NINGYU_NANJING_DATA");
        return;
    };
    let app = TestApp::spawn(backend).await;
    let now = Utc::now();
    import::import_regions_csv(
        &app.db,
        crate::import::open(&dir, "districts.csv"),
        crate::import::open(&dir, "streets.csv"),
        Crs::Gcj02,
        false,
        now,
    )
    .await
    .expect("regions import");
    let options = PlaceImportOptions {
        crs: Crs::Gcj02,
        source: "amap2018".to_owned(),
        dry_run: false,
    };
    import::import_places_csv(
        &app.db,
        crate::import::open(&dir, "places-amap2018-gcj02.csv"),
        &options,
        now,
    )
    .await
    .expect("places import");
    app.reload_search().await;

    // 新街口 is 新街口街道; %E6%96%B0%E8%A1%97%E5%8F%A3 is 新街口.
    let results: serde_json::Value = app
        .get("/api/v1/places/nearby?q=%E6%96%B0%E8%A1%97%E5%8F%A3&radius=2000&limit=50")
        .await
        .json()
        .await
        .expect("json");

    assert_eq!(results["origin"]["kind"], "street");
    assert_eq!(results["origin"]["label"], "新街口街道");
    let items = results["items"].as_array().expect("items");
    assert!(
        items.len() >= 10,
        "central Nanjing has places: {}",
        items.len()
    );
    let distances: Vec<u64> = items
        .iter()
        .map(|item| item["distance_m"].as_u64().expect("distance"))
        .collect();
    assert!(
        distances.windows(2).all(|pair| pair[0] <= pair[1]),
        "nearest first: {distances:?}"
    );
    assert!(distances.iter().all(|distance| *distance <= 2_000));
    for item in items {
        let minutes = item["walking_minutes"].as_u64().expect("minutes");
        assert_eq!(item["within_service_circle"], minutes <= 15, "{item}");
        if item["is_demo"] == false {
            assert_eq!(
                item["public_benefit"], false,
                "imported places disclose nothing"
            );
        }
    }
}
on_both_backends!(real_nanjing_streets_start_a_search);
