//! Data and queries for the nearby-search benchmark (`.ci/bench-search`).
//!
//! `generate` runs the migrations on an empty database, imports Nanjing's
//! real districts and streets, and writes synthetic places clustered around
//! the street and district seats, with sessions over the next four weeks.
//! `queries` prints a fixed mix of search query strings, one a line, for
//! the load generator. `time` loads a search snapshot and runs each of
//! those queries directly on it and on the database (`search_nearby`), and
//! prints the latency percentiles, which leave out HTTP and the load
//! generator, and the snapshot's size.
//!
//! Every random choice comes from a seeded generator, so the same seed and
//! Cargo.lock give the same data and queries.
//!
//! ```text
//! cargo run --release --example search_bench -- generate --db URL --regions DIR
//!     [--places 10000] [--sessions 100000] [--seed 1]
//! cargo run --release --example search_bench -- queries --db URL [--count 400] [--seed 2]
//! cargo run --release --example search_bench -- time --db URL --queries FILE [--rounds 10]
//! ```

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::expect_used,
    clippy::panic,
    reason = "a command-line tool that reports on the terminal and stops at the first problem"
)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use app::domain::{import, nearby};
use app::entity::{care_session, district, place, street};
use app::geo::{Crs, GeoPoint};
use app::model::{NearbyParams, PlaceKind, Service};
use app::time::{SHANGHAI, local_date};
use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ActiveValue::NotSet, DatabaseConnection, EntityTrait, PaginatorTrait, QueryOrder, Set,
    TransactionTrait,
};

/// Rows per INSERT statement. The widest row (a place) has 38 columns, so a
/// statement stays below SQLite's 32,766 bound parameters.
const PLACES_PER_INSERT: usize = 400;
const SESSIONS_PER_INSERT: usize = 1_000;
/// Days ahead over which sessions start.
const SESSION_DAYS: u64 = 28;
/// Spread of places around a seat: the standard deviation of the distance
/// in each direction, in metres.
const SPREAD_M: f64 = 1_500.0;
/// Metres per degree of latitude on the sphere that `GeoPoint::distance_m` uses.
const METRES_PER_DEGREE: f64 = 111_195.0;

struct Options {
    command: String,
    db: String,
    regions: Option<PathBuf>,
    places: usize,
    sessions: usize,
    seed: u64,
    count: usize,
    queries: Option<PathBuf>,
    rounds: usize,
}

fn options() -> Options {
    let mut args = std::env::args().skip(1);
    let command = args.next().expect("a command: generate, queries or time");
    let mut options = Options {
        command,
        db: String::new(),
        regions: None,
        places: 10_000,
        sessions: 100_000,
        seed: 1,
        count: 400,
        queries: None,
        rounds: 10,
    };
    while let Some(flag) = args.next() {
        let value = args.next().expect("every flag takes a value");
        match flag.as_str() {
            "--db" => options.db = value,
            "--regions" => options.regions = Some(PathBuf::from(value)),
            "--places" => options.places = value.parse().expect("a number of places"),
            "--sessions" => options.sessions = value.parse().expect("a number of sessions"),
            "--seed" => options.seed = value.parse().expect("a whole number"),
            "--count" => options.count = value.parse().expect("a number of queries"),
            "--queries" => options.queries = Some(PathBuf::from(value)),
            "--rounds" => options.rounds = value.parse().expect("a number of rounds"),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(!options.db.is_empty(), "--db is required");
    options
}

#[tokio::main]
async fn main() {
    let options = options();
    let settings = app::db::PoolSettings {
        max_connections: 2,
        acquire_timeout: Duration::from_secs(30),
    };
    let db = app::db::connect(&options.db, &settings)
        .await
        .expect("database");
    match options.command.as_str() {
        "generate" => generate(&db, &options).await,
        "queries" => {
            for query in queries(&db, &options).await {
                println!("{query}");
            }
        }
        "time" => time(&db, &options).await,
        other => panic!("unknown command {other}: use generate, queries or time"),
    }
}

/// A point around which places cluster, with its share of the places.
struct Seat {
    street: Option<String>,
    district: String,
    point: GeoPoint,
    weight: f64,
}

/// Reads the street seats and district centroids from the database. Each
/// district's resident population is shared evenly among its seats, so the
/// populous central districts get more places per seat.
async fn seats(db: &DatabaseConnection) -> Vec<Seat> {
    let districts = district::Entity::find().all(db).await.expect("districts");
    let streets = street::Entity::find().all(db).await.expect("streets");
    let mut seats = Vec::new();
    for district in &districts {
        let mut points: Vec<(Option<String>, GeoPoint)> = streets
            .iter()
            .filter(|street| street.district_code == district.code)
            .filter_map(|street| {
                let point = GeoPoint::new(street.latitude?, street.longitude?).ok()?;
                Some((Some(street.name.clone()), point))
            })
            .collect();
        if let (Some(latitude), Some(longitude)) = (district.latitude, district.longitude) {
            let point = GeoPoint::new(latitude, longitude).expect("district centroid");
            points.push((None, point));
        }
        let population = district.population_10k.unwrap_or(50.0);
        let weight = population / points.len().max(1) as f64;
        seats.extend(points.into_iter().map(|(street, point)| Seat {
            street,
            district: district.name.clone(),
            point,
            weight,
        }));
    }
    assert!(!seats.is_empty(), "no district or street has a seat point");
    seats
}

fn pick_seat<'a>(seats: &'a [Seat], rng: &mut StdRng) -> &'a Seat {
    seats
        .choose_weighted(rng, |seat| seat.weight)
        .expect("seats with positive weights")
}

/// Returns a standard normal sample (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.r#gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Returns a point scattered around `centre` with [`SPREAD_M`] in each direction.
fn scatter(centre: GeoPoint, rng: &mut StdRng) -> GeoPoint {
    let north = normal(rng) * SPREAD_M;
    let east = normal(rng) * SPREAD_M;
    GeoPoint {
        latitude: centre.latitude + north / METRES_PER_DEGREE,
        longitude: centre.longitude
            + east / (METRES_PER_DEGREE * centre.latitude.to_radians().cos()),
    }
}

/// Returns the street name without its 街道 or 镇 suffix, as people often type it.
fn short_name(street: &str) -> &str {
    street
        .strip_suffix("街道")
        .or_else(|| street.strip_suffix('镇'))
        .unwrap_or(street)
}

const COMMUNITIES: [&str; 12] = [
    "东苑", "西苑", "南苑", "北苑", "新村", "花园", "家园", "佳园", "雅居", "山庄", "翠苑", "景园",
];

async fn generate(db: &DatabaseConnection, options: &Options) {
    let started = Instant::now();
    app::db::migrate(db).await.expect("migrations");
    let existing = place::Entity::find().count(db).await.expect("count places");
    assert!(
        existing == 0,
        "the database already has {existing} places; give an empty one"
    );

    let regions = options
        .regions
        .as_ref()
        .expect("--regions: the folder with districts.csv and streets.csv");
    let open = |name: &str| {
        std::fs::File::open(regions.join(name))
            .unwrap_or_else(|error| panic!("cannot open {name} in {}: {error}", regions.display()))
    };
    let now = Utc::now();
    let (districts, streets) = import::import_regions_csv(
        db,
        open("districts.csv"),
        open("streets.csv"),
        Crs::Gcj02,
        false,
        now,
    )
    .await
    .expect("districts and streets import");
    eprintln!(
        "imported {} districts and {} streets",
        districts.inserted + districts.updated,
        streets.inserted + streets.updated
    );

    let seats = seats(db).await;
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut places = Vec::with_capacity(options.places);
    for n in 0..options.places {
        let seat = pick_seat(&seats, &mut rng);
        places.push(new_place(n, seat, now, &mut rng));
    }
    let txn = db.begin().await.expect("transaction");
    let written = places.len();
    while !places.is_empty() {
        let batch: Vec<place::ActiveModel> = places
            .drain(..PLACES_PER_INSERT.min(places.len()))
            .collect();
        place::Entity::insert_many(batch)
            .exec_without_returning(&txn)
            .await
            .expect("places insert");
    }
    txn.commit().await.expect("commit places");
    eprintln!(
        "wrote {written} places in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Sessions go to the kinds of place that run them: community rooms
    // most, then childcare providers and health centres.
    let hosts: Vec<(i64, PlaceKind, f64)> = place::Entity::find()
        .order_by_asc(place::Column::Id)
        .all(db)
        .await
        .expect("places")
        .into_iter()
        .filter_map(|row| {
            let kind = PlaceKind::parse(&row.kind)?;
            let weight = match kind {
                PlaceKind::CommunityRoom => 3.0,
                PlaceKind::ChildcareProvider => 2.0,
                PlaceKind::HealthCentre => 1.0,
                PlaceKind::ToddlerClass | PlaceKind::EmployerChildcare => return None,
            };
            Some((row.id, kind, weight))
        })
        .collect();
    let sessions_started = Instant::now();
    let today = local_date(now);
    let host_index =
        WeightedIndex::new(hosts.iter().map(|host| host.2)).expect("places that run sessions");
    let txn = db.begin().await.expect("transaction");
    let mut written = 0;
    while written < options.sessions {
        let count = SESSIONS_PER_INSERT.min(options.sessions - written);
        let batch: Vec<care_session::ActiveModel> = (0..count)
            .map(|_| {
                let (place_id, kind, _) = hosts[host_index.sample(&mut rng)];
                new_session(place_id, kind, today, now, &mut rng)
            })
            .collect();
        care_session::Entity::insert_many(batch)
            .exec_without_returning(&txn)
            .await
            .expect("sessions insert");
        written += count;
    }
    txn.commit().await.expect("commit sessions");
    eprintln!(
        "wrote {written} sessions in {:.1} s",
        sessions_started.elapsed().as_secs_f64()
    );

    // PostgreSQL's autovacuum would vacuum and analyze the new rows within
    // a minute or so, which gives the planner statistics and lets it scan
    // indexes without visiting the table; doing it now lets the benchmark
    // start at once. SQLite is left as a server leaves it, without ANALYZE.
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        use sea_orm::ConnectionTrait;
        db.execute_unprepared("VACUUM ANALYZE")
            .await
            .expect("vacuum analyze");
    }
    eprintln!("generated in {:.1} s", started.elapsed().as_secs_f64());
}

/// Returns a disclosure's date and source, as a district office would give them.
fn disclosed(rng: &mut StdRng, source: &str) -> (NaiveDate, String) {
    let date = NaiveDate::from_ymd_opt(2025, 1, 1).expect("a date")
        + chrono::Duration::days(rng.gen_range(0..600));
    (date, source.to_owned())
}

fn new_place(n: usize, seat: &Seat, now: DateTime<Utc>, rng: &mut StdRng) -> place::ActiveModel {
    let kind = *[
        (PlaceKind::CommunityRoom, 30),
        (PlaceKind::ChildcareProvider, 30),
        (PlaceKind::ToddlerClass, 20),
        (PlaceKind::EmployerChildcare, 5),
        (PlaceKind::HealthCentre, 15),
    ]
    .choose_weighted(rng, |choice| choice.1)
    .map(|choice| &choice.0)
    .expect("kinds");
    let point = scatter(seat.point, rng);
    let source = point.from_wgs84(Crs::Gcj02);

    let area = seat
        .street
        .as_deref()
        .map_or_else(|| seat.district.trim_end_matches('区'), short_name);
    let community = COMMUNITIES.choose(rng).expect("communities");
    let suffix = match kind {
        PlaceKind::CommunityRoom => "社区亲子室",
        PlaceKind::ChildcareProvider => "托育中心",
        PlaceKind::ToddlerClass => "幼儿园托班",
        PlaceKind::EmployerChildcare => "职工托育点",
        PlaceKind::HealthCentre => "社区卫生服务中心",
    };
    // The number keeps names apart, as branch names do.
    let name = format!("{area}{community}{suffix}{}", n % 97 + 1);
    let address = format!("{area}路{}号", rng.gen_range(1..400));

    let ages = match kind {
        PlaceKind::CommunityRoom | PlaceKind::HealthCentre => (0, 36),
        PlaceKind::ChildcareProvider => *[(6, 36), (12, 36), (18, 36)].choose(rng).expect("ages"),
        PlaceKind::ToddlerClass => (24, 36),
        PlaceKind::EmployerChildcare => (6, 36),
    };
    let ages = rng.gen_bool(0.7).then_some(ages);

    let mut services = [false; 4];
    match kind {
        PlaceKind::CommunityRoom => {
            services[1] = true;
            services[0] = rng.gen_bool(0.5);
        }
        PlaceKind::ChildcareProvider => {
            services[3] = true;
            services[0] = rng.gen_bool(0.6);
        }
        PlaceKind::ToddlerClass => services[2] = true,
        PlaceKind::EmployerChildcare => services[3] = true,
        PlaceKind::HealthCentre => services[1] = rng.gen_bool(0.3),
    }

    let fee: Option<(&str, Option<i32>)> = if rng.gen_bool(0.15) {
        None
    } else {
        match kind {
            PlaceKind::CommunityRoom | PlaceKind::HealthCentre => {
                if rng.gen_bool(0.85) {
                    Some(("free", None))
                } else {
                    Some(("per_hour", Some(rng.gen_range(10..40) * 100)))
                }
            }
            PlaceKind::ChildcareProvider => {
                if rng.gen_bool(0.3) {
                    Some(("per_hour", Some(rng.gen_range(30..90) * 100)))
                } else {
                    Some(("per_month", Some(rng.gen_range(15..50) * 10_000)))
                }
            }
            PlaceKind::ToddlerClass | PlaceKind::EmployerChildcare => {
                Some(("per_month", Some(rng.gen_range(8..30) * 10_000)))
            }
        }
    };

    let public_benefit = match kind {
        PlaceKind::ChildcareProvider | PlaceKind::ToddlerClass => {
            if rng.gen_bool(0.45) {
                Some(rng.gen_bool(0.75))
            } else {
                None
            }
        }
        PlaceKind::CommunityRoom => rng.gen_bool(0.5).then_some(true),
        PlaceKind::EmployerChildcare | PlaceKind::HealthCentre => None,
    };
    let public_benefit_disclosure =
        public_benefit.map(|_| disclosed(rng, "区卫健委普惠托育机构名单"));
    let registered = matches!(
        kind,
        PlaceKind::ChildcareProvider | PlaceKind::EmployerChildcare
    ) && rng.gen_bool(0.6);
    let registration = registered.then(|| disclosed(rng, "区卫健委托育机构备案信息"));
    let star = (kind == PlaceKind::ChildcareProvider && rng.gen_bool(0.3)).then(|| {
        (
            rng.gen_range(1..=5),
            disclosed(rng, "市托育机构星级评定结果"),
        )
    });

    place::ActiveModel {
        id: NotSet,
        kind: Set(kind.as_str().to_owned()),
        name: Set(name),
        address: Set(address),
        district: Set(Some(seat.district.clone())),
        street: Set(seat.street.clone()),
        latitude: Set(point.latitude),
        longitude: Set(point.longitude),
        source_crs: Set(Crs::Gcj02.as_str().to_owned()),
        source_latitude: Set(source.latitude),
        source_longitude: Set(source.longitude),
        phone: Set(Some(format!(
            "025-{}",
            rng.gen_range(50_000_000..90_000_000)
        ))),
        is_demo: Set(false),
        source_key: Set(Some(format!("bench:{n}"))),
        min_age_months: Set(ages.map(|ages| ages.0)),
        max_age_months: Set(ages.map(|ages| ages.1)),
        offers_hourly_care: Set(services[0]),
        offers_parent_child_activity: Set(services[1]),
        offers_toddler_class: Set(services[2]),
        offers_full_day: Set(services[3]),
        fee_kind: Set(fee.map(|fee| fee.0.to_owned())),
        fee_fen: Set(fee.and_then(|fee| fee.1)),
        opening_hours: Set(Some("周一至周五 8:30—17:00".to_owned())),
        contact: Set(None),
        public_benefit: Set(public_benefit),
        public_benefit_date: Set(public_benefit_disclosure.as_ref().map(|d| d.0)),
        public_benefit_source: Set(public_benefit_disclosure.map(|d| d.1)),
        registered: Set(registered.then_some(true)),
        registration_date: Set(registration.as_ref().map(|d| d.0)),
        registration_source: Set(registration.map(|d| d.1)),
        star_rating: Set(star.as_ref().map(|star| star.0)),
        star_rating_date: Set(star.as_ref().map(|star| star.1.0)),
        star_rating_source: Set(star.map(|star| star.1.1)),
        childcare_places: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Returns a session that starts on one of the next [`SESSION_DAYS`] days
/// between 8:30 and 16:30 in Nanjing. About one in five is full and the
/// rest are partly booked. `booked` is set directly: the benchmark writes
/// no booking rows behind it.
fn new_session(
    place_id: i64,
    kind: PlaceKind,
    today: NaiveDate,
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> care_session::ActiveModel {
    let (session_kind, title, price_fen) = match kind {
        PlaceKind::CommunityRoom => {
            if rng.gen_bool(0.6) {
                ("parent_child_activity", "亲子游戏", 0)
            } else {
                ("hourly_care", "计时托育", rng.gen_range(0..3) * 1_000)
            }
        }
        PlaceKind::ChildcareProvider => ("hourly_care", "临时托", rng.gen_range(3..9) * 1_000),
        _ => {
            if rng.gen_bool(0.5) {
                ("class", "家长课堂", 0)
            } else {
                ("parent_child_activity", "早期发展指导", 0)
            }
        }
    };
    let day = today + Days::new(rng.gen_range(0..SESSION_DAYS));
    let minutes = 8 * 60 + 30 + 30 * rng.gen_range(0..17);
    let time = NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).expect("a time of day");
    let starts_at = SHANGHAI
        .from_local_datetime(&day.and_time(time))
        .single()
        .expect("Nanjing has no clock changes")
        .with_timezone(&Utc);
    let hours = rng.gen_range(1..=2);
    let capacity = rng.gen_range(4..=30);
    let booked = if rng.gen_bool(0.2) {
        capacity
    } else {
        rng.gen_range(0..capacity)
    };
    let (min_age, max_age) = *[(0, 12), (12, 24), (24, 36), (0, 36), (6, 18), (18, 36)]
        .choose(rng)
        .expect("age bands");
    care_session::ActiveModel {
        id: NotSet,
        place_id: Set(place_id),
        kind: Set(session_kind.to_owned()),
        title: Set(title.to_owned()),
        starts_at: Set(starts_at),
        ends_at: Set(starts_at + chrono::Duration::hours(hours)),
        capacity: Set(capacity),
        booked: Set(booked),
        min_age_months: Set(min_age),
        max_age_months: Set(max_age),
        price_fen: Set(price_fen),
        is_demo: Set(false),
        created_at: Set(now),
        updated_at: Set(now - chrono::Duration::minutes(rng.gen_range(0..600))),
        booking_opens_at: Set(None),
        booking_closes_at: Set(None),
        cancel_until: Set(None),
        guardian_attends: Set(session_kind == "parent_child_activity"),
        release_mode: Set("first_come".to_owned()),
        release_window_minutes: Set(10),
        drawn_at: Set(None),
        draw_seed: Set(None),
        draw_by_priority: Set(false),
    }
}

/// Builds `count` query strings: six in ten from a point near a seat, three
/// from a typed street name and one from a typed place name, each with a
/// random mix of the filters.
async fn queries(db: &DatabaseConnection, options: &Options) -> Vec<String> {
    let seats = seats(db).await;
    let streets: Vec<String> = seats
        .iter()
        .filter_map(|seat| seat.street.clone())
        .collect();
    let mut rng = StdRng::seed_from_u64(options.seed);
    let today = local_date(Utc::now());
    let mut queries = Vec::with_capacity(options.count);
    for _ in 0..options.count {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        let roll: f64 = rng.r#gen();
        if roll < 0.6 {
            let point = scatter(pick_seat(&seats, &mut rng).point, &mut rng);
            pairs.push(("lat", format!("{:.5}", point.latitude)));
            pairs.push(("lon", format!("{:.5}", point.longitude)));
        } else if roll < 0.9 {
            let street = streets.choose(&mut rng).expect("streets with seats");
            let typed = if rng.gen_bool(0.5) {
                short_name(street)
            } else {
                street
            };
            pairs.push(("q", typed.to_owned()));
        } else {
            // A community and kind that exist somewhere, as a parent who
            // remembers part of a name would type it.
            let area = short_name(streets.choose(&mut rng).expect("streets"));
            let community = COMMUNITIES.choose(&mut rng).expect("communities");
            pairs.push(("q", format!("{area}{community}")));
        }
        let radius = *[1_000, 3_000, 3_000, 3_000, 5_000, 10_000]
            .choose(&mut rng)
            .expect("radii");
        if radius != 3_000 {
            pairs.push(("radius", radius.to_string()));
        }
        if rng.gen_bool(0.3) {
            pairs.push(("age", rng.gen_range(0..=36).to_string()));
        }
        if rng.gen_bool(0.25) {
            let service = Service::ALL.choose(&mut rng).expect("services");
            pairs.push(("service", service.as_str().to_owned()));
        }
        if rng.gen_bool(0.15) {
            pairs.push(("free", "true".to_owned()));
        }
        if rng.gen_bool(0.15) {
            pairs.push(("public_benefit", "true".to_owned()));
        }
        if rng.gen_bool(0.3) {
            pairs.push(("places_left", "true".to_owned()));
        }
        if rng.gen_bool(0.2) {
            let from = today + Days::new(rng.gen_range(0..14));
            let to = from + Days::new(rng.gen_range(0..7));
            pairs.push(("from", from.format("%Y-%m-%d").to_string()));
            pairs.push(("to", to.format("%Y-%m-%d").to_string()));
        }
        queries.push(serde_urlencoded::to_string(&pairs).expect("a query string"));
    }
    queries
}

/// Returns the value at percentile `p` (0 to 100) of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1_000.0)
}

/// Loads a search snapshot, then runs every query `rounds` times, one after
/// another, on the snapshot and on the database, and prints Markdown table
/// rows: latency percentiles, how many places the searches found, and the
/// snapshot's size.
async fn time(db: &DatabaseConnection, options: &Options) {
    let file = options.queries.as_ref().expect("--queries FILE");
    let text = std::fs::read_to_string(file).expect("the queries file");
    let params: Vec<NearbyParams> = text
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| serde_urlencoded::from_str(line).expect("a query string"))
        .collect();
    assert!(!params.is_empty(), "the queries file is empty");

    let resident_before = resident_bytes();
    let index = nearby::SearchIndex::default();
    let loading = Instant::now();
    index.reload(db).await.expect("the snapshot loads");
    let load_time = loading.elapsed();
    let resident_after = resident_bytes();
    let (places, sessions) = index.counts().expect("a loaded snapshot");
    let estimate = index.estimated_bytes().expect("a loaded snapshot");

    report(
        "snapshot search (`SearchIndex::search_snapshot`)",
        &params,
        options.rounds,
        async |query| {
            index
                .search_snapshot(db, query, None, Utc::now())
                .await
                .expect("search")
        },
    )
    .await;
    report(
        "database search (`search_nearby`)",
        &params,
        options.rounds,
        async |query| {
            nearby::search_nearby(db, query, None, Utc::now())
                .await
                .expect("search")
        },
    )
    .await;
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    println!(
        "| snapshot of {places} places and {sessions} sessions: size counted from its contents; growth of the resident set while loading; full load time | {:.1} MiB; {:.1} MiB; {} | |",
        mib(estimate as u64),
        mib(resident_after.saturating_sub(resident_before)),
        millis(load_time),
    );
}

/// Returns this process's resident set size in bytes, from /proc (Linux).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// Times `search` over every query `rounds` times after one uncounted
/// round, and prints its rows.
async fn report(
    label: &str,
    params: &[NearbyParams],
    rounds: usize,
    search: impl AsyncFn(&NearbyParams) -> app::model::NearbyResults,
) {
    // One round to warm the caches, not counted.
    for query in params {
        search(query).await;
    }

    let mut samples = Vec::with_capacity(params.len() * rounds);
    let mut found = 0;
    let mut empty = 0;
    let mut by_kind: HashMap<&str, Vec<Duration>> = HashMap::new();
    let started = Instant::now();
    for _ in 0..rounds {
        for query in params {
            let call = Instant::now();
            let results = search(query).await;
            let elapsed = call.elapsed();
            samples.push(elapsed);
            let kind = if query.q.is_some() {
                "typed name"
            } else {
                "point"
            };
            by_kind.entry(kind).or_default().push(elapsed);
            found += results.items.len();
            if results.items.is_empty() {
                empty += 1;
            }
        }
    }
    let wall = started.elapsed();
    samples.sort();
    let searches = samples.len();
    println!(
        "| {label} called directly, {searches} searches one at a time, p50 / p90 / p99 / max | {} / {} / {} / {} | p99 ≤ 10 ms |",
        millis(percentile(&samples, 50.0)),
        millis(percentile(&samples, 90.0)),
        millis(percentile(&samples, 99.0)),
        millis(samples[searches - 1]),
    );
    let mut kinds: Vec<_> = by_kind.into_iter().collect();
    kinds.sort_by_key(|(kind, _)| *kind);
    for (kind, mut samples) in kinds {
        samples.sort();
        println!(
            "| the same, searches from a {kind} ({} of them), p50 / p99 | {} / {} | |",
            samples.len(),
            millis(percentile(&samples, 50.0)),
            millis(percentile(&samples, 99.0)),
        );
    }
    println!(
        "| the same, searches per second on one thread | {:.0} | |",
        searches as f64 / wall.as_secs_f64()
    );
    println!(
        "| places per search (mean); searches with none | {:.1}; {:.1} % | |",
        found as f64 / searches as f64,
        100.0 * f64::from(empty) / searches as f64
    );
}
