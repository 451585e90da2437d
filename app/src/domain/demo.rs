//! The demo dataset: a few made-up community rooms and providers in Nanjing
//! with sessions over the coming week, every row flagged `is_demo` and every
//! name marked 【演示】 so that no one mistakes them for real places.

use chrono::{DateTime, Days, NaiveTime, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::entity::{care_session, place};
use crate::error::AppError;
use crate::model::{PlaceKind, SessionKind};
use crate::time::{SHANGHAI, local_date};

struct DemoPlace {
    kind: PlaceKind,
    name: &'static str,
    address: &'static str,
    district: &'static str,
    /// WGS-84 latitude and longitude, picked by hand near real streets.
    point: (f64, f64),
    phone: &'static str,
}

const PLACES: [DemoPlace; 4] = [
    DemoPlace {
        kind: PlaceKind::CommunityRoom,
        name: "【演示】湖南路街道社区亲子室",
        address: "鼓楼区湖南路（演示地址）",
        district: "鼓楼区",
        point: (32.0668, 118.7756),
        phone: "025-00000001",
    },
    DemoPlace {
        kind: PlaceKind::CommunityRoom,
        name: "【演示】南湖街道社区亲子室",
        address: "建邺区南湖路（演示地址）",
        district: "建邺区",
        point: (32.0198, 118.7523),
        phone: "025-00000002",
    },
    DemoPlace {
        kind: PlaceKind::ChildcareProvider,
        name: "【演示】玄武区普惠托育中心",
        address: "玄武区珠江路（演示地址）",
        district: "玄武区",
        point: (32.0497, 118.7924),
        phone: "025-00000003",
    },
    DemoPlace {
        kind: PlaceKind::HealthCentre,
        name: "【演示】秦淮区社区卫生服务中心",
        address: "秦淮区中华路（演示地址）",
        district: "秦淮区",
        point: (32.0236, 118.7829),
        phone: "025-00000004",
    },
];

/// Administrative code of 鼓楼区, where the first demo room is; the stand-in
/// portal's demo district administrator administers it.
pub const DEMO_DISTRICT_CODE: &str = "320106";

/// The districts of the demo places, by administrative code, so that
/// administrators can edit demo places before any region file is imported.
/// They carry no population figure; importing the districts file adds it.
const DEMO_DISTRICTS: [(&str, &str); 4] = [
    ("320102", "玄武区"),
    ("320104", "秦淮区"),
    ("320105", "建邺区"),
    ("320106", "鼓楼区"),
];

/// Returns the id of the first demo community room, if the demo data is in.
pub async fn first_demo_room(db: &impl sea_orm::ConnectionTrait) -> Result<Option<i64>, AppError> {
    use sea_orm::QueryOrder;

    Ok(place::Entity::find()
        .filter(place::Column::IsDemo.eq(true))
        .filter(place::Column::Kind.eq(PlaceKind::CommunityRoom.as_str()))
        .order_by_asc(place::Column::Id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .map(|room| room.id))
}

/// Inserts the demo dataset unless it is already there. Returns whether it
/// inserted anything. Sessions start from `now`'s date in Nanjing.
pub async fn seed_demo_data(
    db: &sea_orm::DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let existing = place::Entity::find()
        .filter(place::Column::IsDemo.eq(true))
        .count(db)
        .await
        .map_err(AppError::from_db)?;
    if existing > 0 {
        return Ok(false);
    }

    let (txn, _turn) = crate::db::begin_write(db)
        .await
        .map_err(AppError::from_db)?;
    for (code, name) in DEMO_DISTRICTS {
        crate::entity::district::Entity::insert(crate::entity::district::ActiveModel {
            code: Set(code.to_owned()),
            name: Set(name.to_owned()),
            population_10k: Set(None),
            birth_rate_permille: Set(None),
            latitude: Set(None),
            longitude: Set(None),
            updated_at: Set(now),
        })
        .on_conflict_do_nothing_on([crate::entity::district::Column::Code])
        .exec(&txn)
        .await
        .map_err(AppError::from_db)?;
    }
    for (index, demo) in PLACES.iter().enumerate() {
        let inserted = place::ActiveModel {
            kind: Set(demo.kind.as_str().to_owned()),
            name: Set(demo.name.to_owned()),
            address: Set(demo.address.to_owned()),
            district: Set(Some(demo.district.to_owned())),
            street: Set(None),
            latitude: Set(demo.point.0),
            longitude: Set(demo.point.1),
            source_crs: Set("wgs84".to_owned()),
            source_latitude: Set(demo.point.0),
            source_longitude: Set(demo.point.1),
            phone: Set(Some(demo.phone.to_owned())),
            is_demo: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..demo_details(demo.kind)
        }
        .insert(&txn)
        .await
        .map_err(AppError::from_db)?;

        if demo.kind == PlaceKind::HealthCentre {
            continue;
        }
        for day in 0..7u64 {
            for session in demo_sessions(inserted.id, index, day, now) {
                session.insert(&txn).await.map_err(AppError::from_db)?;
            }
        }
    }
    txn.commit().await.map_err(AppError::from_db)?;
    Ok(true)
}

/// Returns what a demo place of `kind` discloses. The disclosures name a
/// made-up source, so no one mistakes them for a real decision.
fn demo_details(kind: PlaceKind) -> place::ActiveModel {
    let decided = chrono::NaiveDate::from_ymd_opt(2026, 11, 1);
    let source = || Set(Some("【演示】虚构的区卫健委公示".to_owned()));
    match kind {
        PlaceKind::CommunityRoom => place::ActiveModel {
            min_age_months: Set(Some(6)),
            max_age_months: Set(Some(36)),
            offers_hourly_care: Set(true),
            offers_parent_child_activity: Set(true),
            fee_kind: Set(Some("per_hour".to_owned())),
            fee_fen: Set(Some(1500)),
            opening_hours: Set(Some("周一至周六 9:00—17:00".to_owned())),
            contact: Set(Some("社区服务窗口（演示）".to_owned())),
            public_benefit: Set(Some(true)),
            public_benefit_source: source(),
            public_benefit_date: Set(decided),
            ..Default::default()
        },
        PlaceKind::ChildcareProvider => place::ActiveModel {
            min_age_months: Set(Some(12)),
            max_age_months: Set(Some(36)),
            offers_hourly_care: Set(true),
            offers_full_day: Set(true),
            fee_kind: Set(Some("per_month".to_owned())),
            fee_fen: Set(Some(250_000)),
            opening_hours: Set(Some("周一至周五 7:30—18:00".to_owned())),
            public_benefit: Set(Some(true)),
            public_benefit_source: source(),
            public_benefit_date: Set(decided),
            registered: Set(Some(true)),
            registration_source: source(),
            registration_date: Set(decided),
            star_rating: Set(Some(4)),
            star_rating_source: source(),
            star_rating_date: Set(decided),
            ..Default::default()
        },
        _ => place::ActiveModel {
            opening_hours: Set(Some("周一至周五 8:00—17:00".to_owned())),
            fee_kind: Set(Some("free".to_owned())),
            ..Default::default()
        },
    }
}

/// Builds the sessions of one demo place on the `day`-th day from today.
fn demo_sessions(
    place_id: i64,
    place_index: usize,
    day: u64,
    now: DateTime<Utc>,
) -> Vec<care_session::ActiveModel> {
    let Some(date) = local_date(now).checked_add_days(Days::new(day)) else {
        return Vec::new();
    };
    let at = |hour: u32, minute: u32| -> Option<DateTime<Utc>> {
        let time = NaiveTime::from_hms_opt(hour, minute, 0)?;
        SHANGHAI
            .from_local_datetime(&date.and_time(time))
            .single()
            .map(|local| local.with_timezone(&Utc))
    };
    // Vary how full the sessions are so the demo shows free, nearly full
    // and full sessions.
    let booked_pattern = [0, 2, 5, 6, 1, 3, 6];
    let booked = booked_pattern[(day as usize + place_index) % booked_pattern.len()];

    // One session per place, a week ahead, opens tomorrow at 20:00 in fair-release mode,
    // so the demo shows both ways of handing out places.
    let fair_release = day == 6;
    let opens = local_date(now)
        .succ_opt()
        .and_then(|tomorrow| tomorrow.and_hms_opt(20, 0, 0))
        .and_then(|local| SHANGHAI.from_local_datetime(&local).single())
        .map(|local| local.with_timezone(&Utc));

    let mut sessions = Vec::new();
    let slots = [
        (
            SessionKind::HourlyCare,
            "计时制托育（上午）",
            (9, 0),
            (11, 0),
            6,
            booked,
            12,
            36,
            1500,
        ),
        (
            SessionKind::ParentChildActivity,
            "亲子绘本阅读",
            (15, 30),
            (16, 30),
            10,
            booked.min(10),
            6,
            36,
            0,
        ),
    ];
    for (kind, title, start, end, capacity, booked, min_age, max_age, price) in slots {
        let (Some(starts_at), Some(ends_at)) = (at(start.0, start.1), at(end.0, end.1)) else {
            continue;
        };
        let fair = fair_release && kind == SessionKind::ParentChildActivity;
        sessions.push(care_session::ActiveModel {
            // Free cancellation until two hours before the start.
            cancel_until: Set(Some(starts_at - chrono::Duration::hours(2))),
            guardian_attends: Set(kind == SessionKind::ParentChildActivity),
            release_mode: Set(if fair { "fair_release" } else { "first_come" }.to_owned()),
            booking_opens_at: Set(if fair { opens } else { None }),
            // NOTE: demo sessions start partly taken, as if booked by
            // phone; those places have no booking rows behind them.
            booked: Set(if fair { 0 } else { booked }),
            place_id: Set(place_id),
            kind: Set(kind.as_str().to_owned()),
            title: Set(format!("【演示】{title}")),
            starts_at: Set(starts_at),
            ends_at: Set(ends_at),
            capacity: Set(capacity),
            min_age_months: Set(min_age),
            max_age_months: Set(max_age),
            price_fen: Set(price),
            is_demo: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
    }
    sessions
}
