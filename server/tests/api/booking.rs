//! Booking against a real database: the last-place race, the waitlist's
//! timeline, Nanjing time, idempotent retries, the fair-release draw and
//! random interleavings of every operation.

use std::sync::Arc;

use app::domain::accounts::{self, PortalIdentity};
use app::domain::booking::{self, BookRequest, BookingRules};
use app::domain::family::{self, ChildInput};
use app::entity::{care_session, place};
use app::error::{AppError, Refusal};
use app::model::{BookOutcome, BookingStatus, CancelKind, WaitlistStatus};
use chrono::{DateTime, Duration, SubsecRound, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set, Statement};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

/// A family: the guardian's account and one child.
#[derive(Debug, Clone, Copy)]
struct Family {
    guardian: i64,
    child: i64,
}

async fn family_with_child(db: &DatabaseConnection, n: usize, birth: &str) -> Family {
    let guardian = accounts::sign_in(
        db,
        &PortalIdentity {
            subject: format!("family-{n}"),
            display_name: format!("家长{n}"),
            mobile: Some(format!("1990000{n:04}")),
            real_name_verified: true,
        },
        Utc::now(),
    )
    .await
    .expect("account is created");
    let child = family::add_child(
        db,
        guardian,
        &ChildInput {
            display_name: format!("孩子{n}"),
            birth_date: birth.into(),
            care_notes: None,
        },
        true,
        Utc::now(),
    )
    .await
    .expect("child is added");
    Family {
        guardian,
        child: child.id,
    }
}

async fn families(db: &DatabaseConnection, count: usize, from: usize) -> Vec<Family> {
    let mut all = Vec::with_capacity(count);
    for n in from..from + count {
        all.push(family_with_child(db, n, "2025-01-15").await);
    }
    all
}

/// The parts of a session a test chooses.
#[derive(Debug, Clone, Copy)]
struct SessionSpec {
    starts_at: DateTime<Utc>,
    hours: i64,
    capacity: i32,
    closes_at: Option<DateTime<Utc>>,
    cancel_until: Option<DateTime<Utc>>,
    opens_at: Option<DateTime<Utc>>,
    fair_release: bool,
}

impl SessionSpec {
    fn new(starts_at: DateTime<Utc>, capacity: i32) -> Self {
        Self {
            starts_at,
            hours: 2,
            capacity,
            closes_at: None,
            cancel_until: None,
            opens_at: None,
            fair_release: false,
        }
    }
}

async fn a_place(db: &DatabaseConnection) -> i64 {
    let now = Utc::now();
    place::ActiveModel {
        kind: Set("community_room".into()),
        name: Set("测试亲子室".into()),
        address: Set("南京市测试路1号".into()),
        latitude: Set(32.05),
        longitude: Set(118.78),
        source_crs: Set("wgs84".into()),
        source_latitude: Set(32.05),
        source_longitude: Set(118.78),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("place is inserted")
    .id
}

async fn a_session(db: &DatabaseConnection, place_id: i64, spec: SessionSpec) -> i64 {
    let now = Utc::now();
    care_session::ActiveModel {
        place_id: Set(place_id),
        kind: Set("hourly_care".into()),
        title: Set("测试场次".into()),
        starts_at: Set(spec.starts_at),
        ends_at: Set(spec.starts_at + Duration::hours(spec.hours)),
        capacity: Set(spec.capacity),
        booked: Set(0),
        min_age_months: Set(6),
        max_age_months: Set(36),
        price_fen: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        booking_opens_at: Set(spec.opens_at),
        booking_closes_at: Set(spec.closes_at),
        cancel_until: Set(spec.cancel_until),
        release_mode: Set(if spec.fair_release {
            "fair_release".into()
        } else {
            "first_come".into()
        }),
        release_window_minutes: Set(10),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("session is inserted")
    .id
}

fn request(session_id: i64, child: i64, join_waitlist: bool) -> BookRequest {
    BookRequest {
        session_id,
        child_ids: vec![child],
        join_waitlist,
        idempotency_key: None,
    }
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query runs")
        .expect("one row");
    row.try_get::<i64>("", "n").expect("a number")
}

/// Returns a session's taken places (the counter), confirmed bookings and
/// open offers.
async fn counts(db: &DatabaseConnection, session_id: i64) -> (i64, i64, i64) {
    let taken = scalar(
        db,
        &format!("SELECT CAST(booked AS BIGINT) AS n FROM care_session WHERE id = {session_id}"),
    )
    .await;
    let confirmed = scalar(
        db,
        &format!(
            "SELECT COUNT(*) AS n FROM booking WHERE session_id = {session_id} AND status = 'confirmed'"
        ),
    )
    .await;
    let offered = scalar(
        db,
        &format!(
            "SELECT COUNT(*) AS n FROM waitlist_entry WHERE session_id = {session_id} AND status = 'offered'"
        ),
    )
    .await;
    (taken, confirmed, offered)
}

/// Checks the invariant behind every count: taken places equal confirmed
/// bookings plus open offers, and never exceed capacity.
async fn assert_counts(db: &DatabaseConnection, session_id: i64) -> (i64, i64, i64) {
    let (taken, confirmed, offered) = counts(db, session_id).await;
    let capacity = scalar(
        db,
        &format!("SELECT CAST(capacity AS BIGINT) AS n FROM care_session WHERE id = {session_id}"),
    )
    .await;
    assert_eq!(taken, confirmed + offered, "taken = confirmed + offered");
    assert!(
        taken <= capacity,
        "taken {taken} within capacity {capacity}"
    );
    (taken, confirmed, offered)
}

async fn last_place_race(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = app.db.clone();
    let rules = Arc::new(BookingRules::default());
    let place_id = a_place(&db).await;
    let session = a_session(
        &db,
        place_id,
        SessionSpec::new(Utc::now() + Duration::days(5), 20),
    )
    .await;
    // 19 places go first, one by one.
    let early = families(&db, 19, 0).await;
    let mut first_booking = 0;
    for family in &early {
        let outcome = booking::book(
            &db,
            &rules,
            family.guardian,
            &request(session, family.child, false),
            Utc::now(),
        )
        .await
        .expect("an early booking succeeds");
        let BookOutcome::Booked { bookings } = outcome else {
            panic!("expected a booking, got {outcome:?}");
        };
        if first_booking == 0 {
            first_booking = bookings[0].id;
        }
    }

    // 20 families race for the last place while the first family cancels
    // twice at once.
    let racers = families(&db, 20, 100).await;
    let mut tasks = Vec::new();
    for family in racers {
        let (db, rules) = (db.clone(), rules.clone());
        tasks.push(tokio::spawn(async move {
            booking::book(
                &db,
                &rules,
                family.guardian,
                &request(session, family.child, true),
                Utc::now(),
            )
            .await
        }));
    }
    let mut cancels = Vec::new();
    for _ in 0..2 {
        let (db, rules, guardian) = (db.clone(), rules.clone(), early[0].guardian);
        cancels.push(tokio::spawn(async move {
            booking::cancel(&db, &rules, guardian, first_booking, Utc::now()).await
        }));
    }
    let (mut booked, mut waitlisted) = (0, 0);
    for task in tasks {
        match task.await.expect("task finishes") {
            Ok(BookOutcome::Booked { .. }) => booked += 1,
            Ok(BookOutcome::Waitlisted { .. }) => waitlisted += 1,
            other => panic!("unexpected answer in the race: {other:?}"),
        }
    }
    for cancel in cancels {
        let view = cancel
            .await
            .expect("task finishes")
            .expect("cancelling succeeds, also the second time");
        assert_eq!(view.status, BookingStatus::Cancelled);
    }
    assert_eq!(booked + waitlisted, 20);
    // The race took one or two places: the last one, and the one released
    // by the cancel if it came before the race ended.
    assert!((1..=2).contains(&booked), "booked {booked}");

    let (taken, confirmed, offered) = assert_counts(&db, session).await;
    assert_eq!(taken, 20, "every place is taken or offered");
    assert_eq!(confirmed + offered, 20);
    // Released once: one cancelled booking, at most one offer from it.
    assert_eq!(
        scalar(
            &db,
            &format!("SELECT COUNT(*) AS n FROM booking WHERE session_id = {session} AND status = 'cancelled'")
        )
        .await,
        1
    );
    assert_eq!(
        offered + i64::from(booked) - 1,
        1,
        "the freed place went to one family"
    );
}
on_both_backends!(last_place_race);

async fn waitlist_timeline(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let rules = BookingRules::default();
    // PostgreSQL keeps microseconds.
    let now = Utc::now().trunc_subsecs(6);
    let place_id = a_place(db).await;
    let starts = now + Duration::days(5);
    let session = a_session(db, place_id, SessionSpec::new(starts, 1)).await;
    let other = a_session(db, place_id, SessionSpec::new(starts, 5)).await;
    let people = families(db, 4, 200).await;
    let (a, b, c, d) = (people[0], people[1], people[2], people[3]);

    let BookOutcome::Booked { bookings } = booking::book(
        db,
        &rules,
        a.guardian,
        &request(session, a.child, false),
        now,
    )
    .await
    .expect("A books") else {
        panic!("A should have the place");
    };
    assert!(matches!(
        booking::book(
            db,
            &rules,
            b.guardian,
            &request(session, b.child, false),
            now
        )
        .await,
        Err(AppError::Full)
    ));
    for (family, position) in [(b, 1), (c, 2), (d, 3)] {
        let outcome = booking::book(
            db,
            &rules,
            family.guardian,
            &request(session, family.child, true),
            now,
        )
        .await
        .expect("joins the waitlist");
        let BookOutcome::Waitlisted { entries } = outcome else {
            panic!("expected the waitlist, got {outcome:?}");
        };
        assert_eq!(entries[0].position, Some(position));
    }
    // B's child is booked elsewhere at the same time: B can no longer take
    // the place and is skipped when it frees up.
    booking::book(db, &rules, b.guardian, &request(other, b.child, false), now)
        .await
        .expect("B books the other session");

    booking::cancel(db, &rules, a.guardian, bookings[0].id, now)
        .await
        .expect("A cancels");
    let b_view = booking::my_bookings(db, b.guardian, now)
        .await
        .expect("B's view");
    assert!(
        b_view.waitlist.is_empty(),
        "B was skipped: {:?}",
        b_view.waitlist
    );
    let c_view = booking::my_bookings(db, c.guardian, now)
        .await
        .expect("C's view");
    let offer = &c_view.waitlist[0];
    assert_eq!(offer.status, WaitlistStatus::Offered);
    let deadline = offer.offer_expires_at.expect("the offer has a deadline");
    // Five days ahead, an offer holds for 12 hours.
    assert_eq!(deadline, now + Duration::hours(12));
    assert_counts(db, session).await;

    // Nothing expires early; at the deadline C's offer passes to D.
    assert_eq!(
        booking::expire_offers(db, &rules, deadline - Duration::seconds(1))
            .await
            .expect("expiry runs"),
        0
    );
    assert_eq!(
        booking::expire_offers(db, &rules, deadline)
            .await
            .expect("expiry runs"),
        1
    );
    let late_accept = booking::accept_offer(db, &rules, c.guardian, offer.id, deadline).await;
    assert!(
        matches!(
            late_accept,
            Err(AppError::Refused {
                reason: Refusal::OfferGone
            })
        ),
        "{late_accept:?}"
    );
    let d_view = booking::my_bookings(db, d.guardian, deadline)
        .await
        .expect("D's view");
    assert_eq!(d_view.waitlist[0].status, WaitlistStatus::Offered);
    let accepted = booking::accept_offer(db, &rules, d.guardian, d_view.waitlist[0].id, deadline)
        .await
        .expect("D accepts");
    assert_eq!(accepted.status, BookingStatus::Confirmed);
    assert!(accepted.check_in_code.is_some());
    let (taken, confirmed, offered) = assert_counts(db, session).await;
    assert_eq!((taken, confirmed, offered), (1, 1, 0));

    // C's inbox has the expired offer, and D's the booking.
    let c_kinds = inbox_kinds(db, c.guardian).await;
    assert_eq!(c_kinds, vec!["offer_received", "offer_expired"]);
    let d_kinds = inbox_kinds(db, d.guardian).await;
    assert_eq!(d_kinds, vec!["offer_received", "booked"]);
}
on_both_backends!(waitlist_timeline);

async fn inbox_kinds(db: &DatabaseConnection, account: i64) -> Vec<String> {
    use app::entity::notification;
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};

    notification::Entity::find()
        .filter(notification::Column::AccountId.eq(account))
        .order_by_asc(notification::Column::Id)
        .all(db)
        .await
        .expect("inbox loads")
        .into_iter()
        .map(|row| row.kind)
        .collect()
}

async fn no_offer_after_the_cut_off(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let rules = BookingRules::default();
    let now = Utc::now();
    let place_id = a_place(db).await;
    let starts = now + Duration::hours(5);
    let mut spec = SessionSpec::new(starts, 1);
    spec.closes_at = Some(now + Duration::hours(1));
    let session = a_session(db, place_id, spec).await;
    let people = families(db, 2, 300).await;
    let BookOutcome::Booked { bookings } = booking::book(
        db,
        &rules,
        people[0].guardian,
        &request(session, people[0].child, false),
        now,
    )
    .await
    .expect("books") else {
        panic!("expected a booking");
    };
    booking::book(
        db,
        &rules,
        people[1].guardian,
        &request(session, people[1].child, true),
        now,
    )
    .await
    .expect("joins the waitlist");

    // After the cut-off: no booking, and a freed place is not offered.
    let after = now + Duration::hours(2);
    let refused = booking::book(
        db,
        &rules,
        people[1].guardian,
        &request(session, people[1].child, true),
        after,
    )
    .await;
    assert!(
        matches!(
            refused,
            Err(AppError::Refused {
                reason: Refusal::Closed
            })
        ),
        "{refused:?}"
    );
    booking::cancel(db, &rules, people[0].guardian, bookings[0].id, after)
        .await
        .expect("cancels");
    let (taken, _, offered) = assert_counts(db, session).await;
    assert_eq!((taken, offered), (0, 0));
    let waiting = booking::my_bookings(db, people[1].guardian, after)
        .await
        .expect("view");
    assert_eq!(waiting.waitlist[0].status, WaitlistStatus::Waiting);
}
on_both_backends!(no_offer_after_the_cut_off);

async fn nanjing_time_rules(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let rules = BookingRules::default();
    let place_id = a_place(db).await;
    // 23:00 to 01:00 in Nanjing, days ahead: 15:00Z to 17:00Z.
    let starts = Utc
        .with_ymd_and_hms(2027, 3, 14, 15, 0, 0)
        .single()
        .expect("valid instant");
    let mut spec = SessionSpec::new(starts, 5);
    spec.cancel_until = Some(starts - Duration::hours(2));
    let session = a_session(db, place_id, spec).await;
    let detail = booking::session_detail(db, session).await.expect("detail");
    assert_eq!(
        detail.session.ends_at - detail.session.starts_at,
        Duration::hours(2)
    );

    // 00:30 to 01:30 on 15 March in Nanjing, which is still 14 March in UTC.
    let after_midnight = a_session(
        db,
        place_id,
        SessionSpec::new(starts + Duration::minutes(90), 5),
    )
    .await;

    // Ages count on the session's date in Nanjing. A child born on
    // 15 September is 5 months old at 23:00 on 14 March, and 6 months old
    // (the minimum) at 00:30 on 15 March, though it is still the 14th in UTC.
    let six = family_with_child(db, 400, "2026-09-14").await;
    let turning = family_with_child(db, 401, "2026-09-15").await;
    let now = starts - Duration::days(3);
    let too_young = booking::book(
        db,
        &rules,
        turning.guardian,
        &request(session, turning.child, false),
        now,
    )
    .await;
    assert!(
        matches!(
            too_young,
            Err(AppError::Refused {
                reason: Refusal::AgeOutOfRange
            })
        ),
        "{too_young:?}"
    );
    booking::book(
        db,
        &rules,
        turning.guardian,
        &request(after_midnight, turning.child, false),
        now,
    )
    .await
    .expect("six months old on 15 March in Nanjing");
    booking::book(
        db,
        &rules,
        six.guardian,
        &request(session, six.child, false),
        now,
    )
    .await
    .expect("six months old on 14 March");

    // The cancellation cut-off is 21:00 Nanjing time: before it the
    // cancellation is in time, at it the cancellation is late.
    let mine = booking::my_bookings(db, six.guardian, now)
        .await
        .expect("view");
    let cut_off = starts - Duration::hours(2);
    assert!(!mine.upcoming[0].cancel_is_late);
    let late = booking::cancel(db, &rules, six.guardian, mine.upcoming[0].id, cut_off)
        .await
        .expect("cancels late");
    assert_eq!(late.cancel_kind, Some(CancelKind::Late));

    // The 23:00 to 01:00 session overlaps the one from 00:30.
    booking::book(
        db,
        &rules,
        six.guardian,
        &request(session, six.child, false),
        now,
    )
    .await
    .expect("books again after cancelling");
    let overlap = booking::book(
        db,
        &rules,
        six.guardian,
        &request(after_midnight, six.child, false),
        now,
    )
    .await;
    assert!(
        matches!(
            overlap,
            Err(AppError::Refused {
                reason: Refusal::Overlap
            })
        ),
        "{overlap:?}"
    );
}
on_both_backends!(nanjing_time_rules);

async fn weekly_limit_and_idempotency(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let rules = BookingRules {
        weekly_limit: 2,
        ..BookingRules::default()
    };
    let place_id = a_place(db).await;
    // Monday 2027-03-08 to Sunday 2027-03-14 in Nanjing, at 10:00 local.
    let monday = Utc
        .with_ymd_and_hms(2027, 3, 8, 2, 0, 0)
        .single()
        .expect("valid instant");
    let mut sessions = Vec::new();
    for day in [0, 2, 6, 7] {
        sessions.push(
            a_session(
                db,
                place_id,
                SessionSpec::new(monday + Duration::days(day), 5),
            )
            .await,
        );
    }
    let family = family_with_child(db, 500, "2025-06-01").await;
    let now = monday - Duration::days(2);
    let keyed = BookRequest {
        idempotency_key: Some("retry-1".into()),
        ..request(sessions[0], family.child, false)
    };
    let first = booking::book(db, &rules, family.guardian, &keyed, now)
        .await
        .expect("books");
    let again = booking::book(db, &rules, family.guardian, &keyed, now)
        .await
        .expect("the retry gets the same answer");
    assert_eq!(first, again);
    assert_counts(db, sessions[0]).await;
    assert_eq!(
        scalar(db, "SELECT COUNT(*) AS n FROM booking").await,
        1,
        "the retry booked nothing"
    );

    booking::book(
        db,
        &rules,
        family.guardian,
        &request(sessions[1], family.child, false),
        now,
    )
    .await
    .expect("second booking this week");
    let third = booking::book(
        db,
        &rules,
        family.guardian,
        &request(sessions[2], family.child, false),
        now,
    )
    .await;
    assert!(
        matches!(
            third,
            Err(AppError::Refused {
                reason: Refusal::WeeklyLimit
            })
        ),
        "{third:?}"
    );
    booking::book(
        db,
        &rules,
        family.guardian,
        &request(sessions[3], family.child, false),
        now,
    )
    .await
    .expect("next Monday is a new week");
}
on_both_backends!(weekly_limit_and_idempotency);

async fn carers_book_and_withdrawal_frees_places(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let rules = BookingRules::default();
    let now = Utc::now();
    let place_id = a_place(db).await;
    let session = a_session(db, place_id, SessionSpec::new(now + Duration::days(2), 1)).await;
    let parent = family_with_child(db, 600, "2025-02-01").await;
    let waiting = family_with_child(db, 601, "2025-02-01").await;
    let stranger = family_with_child(db, 602, "2025-02-01").await;
    let invitation = family::create_invitation(db, parent.guardian, &[parent.child], now)
        .await
        .expect("invitation");
    let grandparent = accounts::sign_in(
        db,
        &PortalIdentity {
            subject: "grandparent-600".into(),
            display_name: "李建国".into(),
            mobile: None,
            real_name_verified: true,
        },
        now,
    )
    .await
    .expect("account");
    family::accept_invitation(db, grandparent, &invitation.code, now)
        .await
        .expect("accepts");

    let refused = booking::book(
        db,
        &rules,
        stranger.guardian,
        &request(session, parent.child, false),
        now,
    )
    .await;
    assert!(matches!(refused, Err(AppError::NotFound)), "{refused:?}");
    let BookOutcome::Booked { bookings } = booking::book(
        db,
        &rules,
        grandparent,
        &request(session, parent.child, false),
        now,
    )
    .await
    .expect("the carer books") else {
        panic!("expected a booking");
    };
    assert_eq!(
        scalar(
            db,
            &format!(
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'booking.create' \
                 AND actor_account_id = {grandparent} AND on_behalf_of_account_id = {}",
                parent.guardian
            )
        )
        .await,
        1
    );
    // Both the guardian and the carer see the booking.
    for account in [parent.guardian, grandparent] {
        let mine = booking::my_bookings(db, account, now).await.expect("view");
        assert_eq!(mine.upcoming[0].id, bookings[0].id);
    }
    let mine = booking::my_bookings(db, stranger.guardian, now)
        .await
        .expect("view");
    assert!(mine.upcoming.is_empty());

    booking::book(
        db,
        &rules,
        waiting.guardian,
        &request(session, waiting.child, true),
        now,
    )
    .await
    .expect("joins the waitlist");
    family::withdraw_consent(db, &rules, parent.guardian, parent.child, now)
        .await
        .expect("withdraws consent");
    let offered = booking::my_bookings(db, waiting.guardian, now)
        .await
        .expect("view");
    assert_eq!(offered.waitlist[0].status, WaitlistStatus::Offered);
    assert_counts(db, session).await;
}
on_both_backends!(carers_book_and_withdrawal_frees_places);

async fn fair_release_draw(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let rules = BookingRules::default();
    let place_id = a_place(db).await;
    let opens = Utc::now() + Duration::hours(1);
    let mut spec = SessionSpec::new(opens + Duration::days(3), 2);
    spec.opens_at = Some(opens);
    spec.fair_release = true;
    let session = a_session(db, place_id, spec).await;
    let people = families(db, 5, 700).await;

    let early = booking::book(
        db,
        &rules,
        people[0].guardian,
        &request(session, people[0].child, false),
        opens - Duration::minutes(1),
    )
    .await;
    assert!(
        matches!(
            early,
            Err(AppError::Refused {
                reason: Refusal::NotOpenYet
            })
        ),
        "{early:?}"
    );
    for (minute, family) in people.iter().enumerate() {
        let at = opens + Duration::minutes(i64::try_from(minute).unwrap_or(0));
        let outcome = booking::book(
            db,
            &rules,
            family.guardian,
            &request(session, family.child, false),
            at,
        )
        .await
        .expect("enters the draw");
        assert!(matches!(outcome, BookOutcome::InDraw { .. }), "{outcome:?}");
    }
    assert_eq!(
        assert_counts(db, session).await.0,
        0,
        "nothing is given before the draw"
    );

    let closed = opens + Duration::minutes(10);
    assert_eq!(
        booking::run_due_draws(db, &rules, closed - Duration::seconds(1))
            .await
            .expect("runs"),
        0
    );
    assert_eq!(
        booking::run_due_draws(db, &rules, closed)
            .await
            .expect("runs"),
        1
    );
    assert_eq!(
        booking::run_due_draws(db, &rules, closed)
            .await
            .expect("runs"),
        0
    );
    let (taken, confirmed, _) = assert_counts(db, session).await;
    assert_eq!((taken, confirmed), (2, 2));

    // Anyone can recompute the order from the published seed.
    let record = booking::draw_record(db, session).await.expect("record");
    let entries: Vec<(i64, i32)> = record
        .entries
        .iter()
        .map(|entry| (entry.entry_id, entry.priority))
        .collect();
    let order: Vec<i64> = record.entries.iter().map(|entry| entry.entry_id).collect();
    assert_eq!(booking::draw_order(record.seed, &entries), order);
    assert_eq!(order.len(), 5);

    // The two drawn first have places; the third is first on the waitlist.
    let mut winners = 0;
    for family in &people {
        let mine = booking::my_bookings(db, family.guardian, closed)
            .await
            .expect("view");
        if !mine.upcoming.is_empty() {
            winners += 1;
        } else if mine.waitlist[0].id == order[2] {
            assert_eq!(mine.waitlist[0].position, Some(1));
        }
    }
    assert_eq!(winners, 2);
}
on_both_backends!(fair_release_draw);

async fn draw_serves_priority_groups_first(backend: Backend) {
    use app::domain::priority;
    use app::model::{NewPriorityGroup, PriorityGrant, Role, Viewer};
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};

    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let rules = BookingRules::default();
    let admin = Viewer {
        account_id: 0,
        display_name: "市管理员".into(),
        roles: vec![Role::CityAdmin],
    };
    let group = |code: &str, rank: u32| NewPriorityGroup {
        code: code.into(),
        name_zh: format!("{code}组"),
        name_en: code.into(),
        rank,
    };
    let special = priority::create_group(db, &admin, &group("special_needs", 1), Utc::now())
        .await
        .expect("group");
    let left_behind = priority::create_group(db, &admin, &group("left_behind", 2), Utc::now())
        .await
        .expect("group");

    let place_id = a_place(db).await;
    let opens = Utc::now() + Duration::hours(1);
    let mut spec = SessionSpec::new(opens + Duration::days(3), 3);
    spec.opens_at = Some(opens);
    spec.fair_release = true;
    let by_priority = a_session(db, place_id, spec).await;
    let plain = a_session(db, place_id, spec).await;
    care_session::Entity::update_many()
        .col_expr(care_session::Column::DrawByPriority, Expr::value(true))
        .filter(care_session::Column::Id.eq(by_priority))
        .exec(db)
        .await
        .expect("session set to draw by priority");

    // Eight families; the last two are in the rank-2 group and the
    // fourth in the rank-1 group. Full-width digits are accepted.
    let people = families(db, 8, 900).await;
    for (n, group_id) in [
        (907, left_behind.id),
        (906, left_behind.id),
        (903, special.id),
    ] {
        let full_width: String = format!("1990000{n:04}")
            .chars()
            .map(|digit| char::from_u32(u32::from(digit) - 0x30 + 0xFF10).unwrap_or(digit))
            .collect();
        priority::grant(
            db,
            &admin,
            group_id,
            &PriorityGrant {
                guardian_mobile: full_width,
                child_name: format!("孩子{n}"),
            },
            Utc::now(),
        )
        .await
        .expect("child put in the group");
    }
    for session in [by_priority, plain] {
        for family in &people {
            let outcome = booking::book(
                db,
                &rules,
                family.guardian,
                &request(session, family.child, false),
                opens + Duration::minutes(1),
            )
            .await
            .expect("enters the draw");
            assert!(matches!(outcome, BookOutcome::InDraw { .. }), "{outcome:?}");
        }
    }
    let closed = opens + Duration::minutes(10);
    assert_eq!(
        booking::run_due_draws(db, &rules, closed)
            .await
            .expect("runs"),
        2
    );

    let record = booking::draw_record(db, by_priority).await.expect("record");
    let ranks: Vec<i32> = record.entries.iter().map(|entry| entry.priority).collect();
    assert_eq!(ranks, vec![1, 2, 2, 0, 0, 0, 0, 0], "groups first, by rank");
    let entries: Vec<(i64, i32)> = record
        .entries
        .iter()
        .map(|entry| (entry.entry_id, entry.priority))
        .collect();
    let order: Vec<i64> = record.entries.iter().map(|entry| entry.entry_id).collect();
    assert_eq!(
        booking::draw_order(record.seed, &entries),
        order,
        "recomputable"
    );

    let winners: Vec<i64> = {
        let mut winners = Vec::new();
        for family in &people {
            let mine = booking::my_bookings(db, family.guardian, closed)
                .await
                .expect("view");
            if mine
                .upcoming
                .iter()
                .any(|booking| booking.session_id == by_priority)
            {
                winners.push(family.child);
            }
        }
        winners
    };
    let grouped = [people[3].child, people[6].child, people[7].child];
    assert_eq!(winners.len(), 3);
    assert!(
        winners.iter().all(|child| grouped.contains(child)),
        "the three places go to the group members"
    );

    let plain_record = booking::draw_record(db, plain).await.expect("record");
    assert!(
        plain_record.entries.iter().all(|entry| entry.priority == 0),
        "a session without priority draws everyone alike"
    );
}
on_both_backends!(draw_serves_priority_groups_first);

mod interleavings {
    //! Random sequences of book, cancel, join, accept, decline and expire
    //! on one small session, checked after every step.

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Step {
        Book(usize),
        Join(usize),
        Cancel(usize),
        Accept(usize),
        Decline(usize),
        Expire(i64),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0..6usize).prop_map(Step::Book),
            (0..6usize).prop_map(Step::Join),
            (0..6usize).prop_map(Step::Cancel),
            (0..6usize).prop_map(Step::Accept),
            (0..6usize).prop_map(Step::Decline),
            (0..30i64).prop_map(Step::Expire),
        ]
    }

    async fn run(backend: Backend, cases: u32) {
        let app = TestApp::spawn(backend).await;
        let db = app.db.clone();
        let rules = BookingRules::default();
        let place_id = a_place(&db).await;
        let people = families(&db, 6, 800).await;
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        let strategy = proptest::collection::vec(step(), 1..25);
        let handle = tokio::runtime::Handle::current();
        let result = runner.run(&strategy, |steps| {
            let outcome = tokio::task::block_in_place(|| {
                handle.block_on(check(&db, &rules, place_id, &people, steps))
            });
            prop_assert!(outcome.is_ok(), "{}", outcome.err().unwrap_or_default());
            Ok(())
        });
        if let Err(error) = result {
            panic!("{error}");
        }
    }

    /// Runs the steps on a fresh session and checks the invariants after
    /// each one; returns a description of the first violation.
    async fn check(
        db: &DatabaseConnection,
        rules: &BookingRules,
        place_id: i64,
        people: &[Family],
        steps: Vec<Step>,
    ) -> Result<(), String> {
        let start = Utc::now();
        let session = a_session(db, place_id, SessionSpec::new(start + Duration::days(4), 2)).await;
        let mut now = start;
        let mut confirmed_before: Vec<i64> = Vec::new();
        for step in steps {
            let who = |index: usize| people[index];
            let mut cancelled = None;
            match step {
                Step::Book(i) | Step::Join(i) => {
                    let join = matches!(step, Step::Join(_));
                    let _ = booking::book(
                        db,
                        rules,
                        who(i).guardian,
                        &request(session, who(i).child, join),
                        now,
                    )
                    .await;
                }
                Step::Cancel(i) => {
                    let mine = booking::my_bookings(db, who(i).guardian, now)
                        .await
                        .map_err(|e| e.to_string())?;
                    if let Some(view) = mine.upcoming.iter().find(|b| b.session_id == session) {
                        booking::cancel(db, rules, who(i).guardian, view.id, now)
                            .await
                            .map_err(|e| format!("cancel failed: {e}"))?;
                        cancelled = Some(view.id);
                    }
                }
                Step::Accept(i) | Step::Decline(i) => {
                    let mine = booking::my_bookings(db, who(i).guardian, now)
                        .await
                        .map_err(|e| e.to_string())?;
                    if let Some(entry) = mine.waitlist.iter().find(|e| e.session_id == session) {
                        if matches!(step, Step::Accept(_)) {
                            let _ =
                                booking::accept_offer(db, rules, who(i).guardian, entry.id, now)
                                    .await;
                        } else {
                            booking::leave_waitlist(db, rules, who(i).guardian, entry.id, now)
                                .await
                                .map_err(|e| format!("leave failed: {e}"))?;
                        }
                    }
                }
                Step::Expire(hours) => {
                    now += Duration::hours(hours);
                    booking::expire_offers(db, rules, now)
                        .await
                        .map_err(|e| format!("expiry failed: {e}"))?;
                }
            }
            let (taken, confirmed, offered) = counts(db, session).await;
            if taken != confirmed + offered || taken > 2 {
                return Err(format!(
                    "after {step:?}: taken {taken}, confirmed {confirmed}, offered {offered}"
                ));
            }
            // No confirmed booking disappears, except the one cancelled.
            let now_confirmed = confirmed_ids(db, session).await;
            for id in &confirmed_before {
                if Some(*id) != cancelled && !now_confirmed.contains(id) {
                    return Err(format!("after {step:?}: booking {id} disappeared"));
                }
            }
            confirmed_before = now_confirmed;
            // A free place with someone eligible waiting is a lost place,
            // unless the cut-off is too near for an offer.
            let waiting = waiting_count(db, session).await;
            if taken < 2 && waiting > 0 && now < start + Duration::days(4) - Duration::minutes(5) {
                return Err(format!(
                    "after {step:?}: {} free places while {waiting} wait",
                    2 - taken
                ));
            }
        }
        Ok(())
    }

    async fn waiting_count(db: &DatabaseConnection, session: i64) -> i64 {
        scalar(
            db,
            &format!("SELECT COUNT(*) AS n FROM waitlist_entry WHERE session_id = {session} AND status = 'waiting'"),
        )
        .await
    }

    async fn confirmed_ids(db: &DatabaseConnection, session: i64) -> Vec<i64> {
        use app::entity::booking as row;
        use sea_orm::{ColumnTrait, QueryFilter};

        row::Entity::find()
            .filter(row::Column::SessionId.eq(session))
            .filter(row::Column::Status.eq("confirmed"))
            .all(db)
            .await
            .expect("bookings load")
            .into_iter()
            .map(|booking| booking.id)
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(Backend::Sqlite, 40).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run(Backend::Postgres, 15).await;
    }
}

/// A delivery channel that counts what it is given.
#[derive(Default)]
struct CountingChannel {
    sent: std::sync::Mutex<Vec<(i64, String)>>,
}

impl app::domain::inbox::Channel for CountingChannel {
    async fn send(&self, message: &app::domain::inbox::Outgoing) -> Result<(), String> {
        self.sent
            .lock()
            .map_err(|_| "poisoned".to_owned())?
            .push((message.account_id, message.kind.as_str().to_owned()));
        Ok(())
    }
}

async fn reminders_and_delivery_happen_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let rules = BookingRules::default();
    let now = Utc::now();
    let place_id = a_place(db).await;
    let tomorrow = a_session(db, place_id, SessionSpec::new(now + Duration::hours(20), 5)).await;
    let later = a_session(db, place_id, SessionSpec::new(now + Duration::days(3), 5)).await;
    let family = family_with_child(db, 900, "2025-01-01").await;
    for session in [tomorrow, later] {
        booking::book(
            db,
            &rules,
            family.guardian,
            &request(session, family.child, false),
            now,
        )
        .await
        .expect("books");
    }

    // Only the session within a day gets a reminder, and only once, even
    // when two servers run the job.
    let (first, second) = tokio::join!(
        booking::send_reminders(db, now),
        booking::send_reminders(db, now)
    );
    assert_eq!(first.expect("runs") + second.expect("runs"), 1);
    assert_eq!(booking::send_reminders(db, now).await.expect("runs"), 0);
    assert_eq!(
        inbox_kinds(db, family.guardian).await,
        vec!["booked", "booked", "reminder"]
    );

    // Each message reaches the channel once.
    let channel = CountingChannel::default();
    let delivered = app::domain::inbox::deliver_pending(db, &channel, now)
        .await
        .expect("delivers");
    assert_eq!(delivered, 3);
    assert_eq!(
        app::domain::inbox::deliver_pending(db, &channel, now)
            .await
            .expect("delivers"),
        0
    );
    let sent = channel
        .sent
        .lock()
        .map(|sent| sent.clone())
        .unwrap_or_default();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|(account, _)| *account == family.guardian));
}
on_both_backends!(reminders_and_delivery_happen_once);

/// Requests that arrive while a session's writer is held up wait and are
/// then written together, each still decided on its own: places in arrival
/// order, queue positions without gaps, a child booked elsewhere meanwhile
/// refused, and a request sent twice answered once.
async fn waiting_requests_are_written_together(backend: Backend) {
    use app::entity::{booking as booking_entity, child};
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, QueryFilter};

    let app = TestApp::spawn(backend).await;
    let db = app.db.clone();
    let rules = Arc::new(BookingRules::default());
    let place_id = a_place(&db).await;
    let starts = Utc::now() + Duration::days(5);
    let session = a_session(&db, place_id, SessionSpec::new(starts, 3)).await;
    let elsewhere = a_session(&db, place_id, SessionSpec::new(starts, 10)).await;
    let crowd = families(&db, 30, 500).await;
    let booked_meanwhile = crowd[7];

    // Another writer holds the session's row (and, on SQLite, the write
    // lock) while the requests arrive.
    let (holder, turn) = app::db::begin_write(&db).await.expect("a write begins");
    care_session::Entity::update_many()
        .col_expr(
            care_session::Column::Booked,
            Expr::col(care_session::Column::Booked),
        )
        .filter(care_session::Column::Id.eq(session))
        .exec(&holder)
        .await
        .expect("the session's row is locked");
    let before = booking::write_stats(&db);

    let mut tasks = Vec::new();
    let mut send = |n: usize, family: Family| {
        let (db, rules) = (db.clone(), rules.clone());
        let request = BookRequest {
            idempotency_key: Some(format!("together-{n}")),
            ..request(session, family.child, true)
        };
        tasks.push((
            n,
            tokio::spawn(async move {
                booking::book(&db, &rules, family.guardian, &request, Utc::now()).await
            }),
        ));
    };
    // The first request reaches the writer alone, which then waits for the
    // session's row; the others wait for the writer.
    send(0, crowd[0]);
    while booking::waiting_to_write(&db, session) < 1 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    for (n, family) in crowd.iter().enumerate().skip(1) {
        send(n, *family);
    }
    // The first family's request, sent again with the same key.
    send(0, crowd[0]);
    let sent = crowd.len() + 1;
    let mut waited = 0;
    while booking::waiting_to_write(&db, session) < sent {
        assert!(waited < 3000, "the requests reach the writer");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        waited += 1;
    }

    // Meanwhile the holder books one of the waiting children into a
    // session at the same time.
    let family_id = child::Entity::find_by_id(booked_meanwhile.child)
        .one(&holder)
        .await
        .expect("reads")
        .expect("the child exists")
        .family_id;
    booking_entity::ActiveModel {
        session_id: Set(elsewhere),
        child_id: Set(booked_meanwhile.child),
        family_id: Set(family_id),
        status: Set("confirmed".into()),
        active_child_id: Set(Some(booked_meanwhile.child)),
        check_in_code: Set("ZZZZZZ".into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&holder)
    .await
    .expect("the booking elsewhere is written");
    holder.commit().await.expect("commits");
    drop(turn);

    // In the order of `crowd`, then the repeated request.
    let mut answers = Vec::new();
    let mut repeat = None;
    tasks.sort_by_key(|(n, _)| *n);
    for (n, task) in tasks {
        let answer = task.await.expect("task finishes");
        if n == answers.len() {
            answers.push(answer);
        } else {
            repeat = Some(answer);
        }
    }
    answers.push(repeat.expect("the repeated request is answered"));
    let after = booking::write_stats(&db);
    assert_eq!(after.requests - before.requests, sent as u64);
    // The writer took the first request alone before the row was free,
    // then the rest in one batch; the repeated request is written alone.
    assert!(
        after.transactions - before.transactions <= 4,
        "{} transactions for {sent} requests",
        after.transactions - before.transactions
    );

    let overlap = &answers[7];
    assert!(
        matches!(
            overlap,
            Err(AppError::Refused {
                reason: Refusal::Overlap
            })
        ),
        "the child booked meanwhile is refused: {overlap:?}"
    );
    let (mut booked, mut positions) = (Vec::new(), Vec::new());
    for (n, answer) in answers[..crowd.len()].iter().enumerate() {
        match answer {
            Ok(BookOutcome::Booked { .. }) => booked.push(n),
            Ok(BookOutcome::Waitlisted { entries }) => {
                positions.push(entries[0].position.expect("a queue position"));
            }
            _ if n == 7 => {}
            other => panic!("request {n}: unexpected answer {other:?}"),
        }
    }
    assert_eq!(booked.len(), 3, "the three places go: {booked:?}");
    positions.sort_unstable();
    let expected: Vec<u32> = (1..=26).collect();
    assert_eq!(positions, expected, "queue positions without gaps");
    assert_eq!(
        answers[crowd.len()]
            .as_ref()
            .expect("the repeat is answered"),
        answers[0].as_ref().expect("the first is answered"),
        "the repeated request gets the first answer"
    );
    let (taken, confirmed, _) = assert_counts(&db, session).await;
    assert_eq!((taken, confirmed), (3, 3));
    assert_eq!(
        scalar(
            &db,
            &format!("SELECT COUNT(*) AS n FROM waitlist_entry WHERE session_id = {session}")
        )
        .await,
        26
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) AS n FROM booking_request WHERE idempotency_key LIKE 'together-%'"
        )
        .await,
        29,
        "every answered request's outcome is kept, the refused one's not"
    );
}
on_both_backends!(waiting_requests_are_written_together);
