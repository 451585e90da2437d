//! The release rush: many families request one small session at once.
//!
//! Prepares the families and the session in the database, then sends one
//! booking request per family to the given servers, all on loopback. It can
//! kill one server with SIGKILL partway through; that server's unanswered
//! requests then go to another server with the same idempotency key. At the
//! end it checks the database and prints the figures as Markdown.
//!
//! `cargo run --release --example rush -- --db URL --target URL [--target URL]
//!  [--families 5000] [--capacity 20] [--over-ms 4000] [--kill-pid PID --kill-after 1000]
//!  [--offer-check on --job-interval-secs 1]`

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::expect_used,
    clippy::panic,
    reason = "a command-line tool that reports on the terminal and stops at the first problem"
)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use app::domain::accounts::{self, PortalIdentity};
use app::domain::family::{self, ChildInput};
use app::domain::sessions;
use app::entity::{care_session, place};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, Set, Statement};

struct Options {
    db: String,
    targets: Vec<String>,
    families: usize,
    capacity: i32,
    kill_pid: Option<u32>,
    kill_after: usize,
    /// Requests arrive evenly over this many milliseconds.
    over_ms: u64,
    /// After the rush, free places and check that their offers expire.
    offer_check: bool,
    /// The servers' NINGYU_JOB_INTERVAL_SECS.
    job_interval_secs: u64,
}

fn options() -> Options {
    let mut options = Options {
        db: String::new(),
        targets: Vec::new(),
        families: 5000,
        capacity: 20,
        kill_pid: None,
        kill_after: 1000,
        over_ms: 4000,
        offer_check: false,
        job_interval_secs: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().expect("every flag takes a value");
        match flag.as_str() {
            "--db" => options.db = value,
            "--target" => options.targets.push(value),
            "--families" => options.families = value.parse().expect("a number"),
            "--capacity" => options.capacity = value.parse().expect("a number"),
            "--kill-pid" => options.kill_pid = Some(value.parse().expect("a process id")),
            "--kill-after" => options.kill_after = value.parse().expect("a number"),
            "--over-ms" => options.over_ms = value.parse().expect("milliseconds"),
            "--offer-check" => options.offer_check = value == "on",
            "--job-interval-secs" => {
                options.job_interval_secs = value.parse().expect("seconds");
            }
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(!options.db.is_empty(), "--db is required");
    assert!(
        !options.targets.is_empty(),
        "at least one --target is required"
    );
    for target in &options.targets {
        assert!(
            target.starts_with("http://127.0.0.1:"),
            "targets must be on loopback: {target}"
        );
    }
    options
}

/// One family ready to book: its session cookie and child.
struct Family {
    cookie: String,
    child: i64,
}

async fn prepare(db: &DatabaseConnection, options: &Options) -> (i64, Vec<Family>) {
    let now = Utc::now();
    let place = place::ActiveModel {
        kind: Set("community_room".into()),
        name: Set("压力测试亲子室".into()),
        address: Set(String::new()),
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
    .expect("place");
    let starts = now + chrono::Duration::days(3);
    let session = care_session::ActiveModel {
        place_id: Set(place.id),
        kind: Set("parent_child_activity".into()),
        title: Set("开放日抢约".into()),
        starts_at: Set(starts),
        ends_at: Set(starts + chrono::Duration::hours(1)),
        capacity: Set(options.capacity),
        booked: Set(0),
        min_age_months: Set(0),
        max_age_months: Set(36),
        price_fen: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        release_mode: Set("first_come".into()),
        release_window_minutes: Set(10),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("session");
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut families = Vec::with_capacity(options.families);
    for n in 0..options.families {
        let subject = format!("rush-{run}-{n}");
        let account = accounts::sign_in(
            db,
            &PortalIdentity {
                subject,
                display_name: format!("家长{n}"),
                mobile: None,
                real_name_verified: true,
            },
            now,
        )
        .await
        .expect("account");
        let child = family::add_child(
            db,
            account,
            &ChildInput {
                display_name: format!("孩子{n}"),
                birth_date: "2025-03-01".into(),
                care_notes: None,
            },
            true,
            now,
        )
        .await
        .expect("child");
        let token = sessions::create_session(db, account, chrono::Duration::hours(2), now)
            .await
            .expect("web session");
        families.push(Family {
            cookie: format!("ningyu_session={token}"),
            child: child.id,
        });
    }
    (session.id, families)
}

/// The result of one family's request.
struct Answer {
    latency: Duration,
    status: u16,
    result: String,
    retried: bool,
    busy_retries: u32,
}

async fn request(
    client: &reqwest::Client,
    target: &str,
    session: i64,
    family: &Family,
    key: &str,
) -> Result<(u16, String), reqwest::Error> {
    let response = client
        .post(format!("{target}/api/v1/sessions/{session}/bookings"))
        .header("cookie", &family.cookie)
        .header("origin", target)
        .header("idempotency-key", key)
        .json(&serde_json::json!({ "child_ids": [family.child], "join_waitlist": true }))
        .send()
        .await?;
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let result = body["result"]
        .as_str()
        .or_else(|| body["code"].as_str())
        .unwrap_or("?")
        .to_owned();
    Ok((status, result))
}

async fn scalar(db: &DatabaseConnection, sql: String) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("row")
        .try_get::<i64>("", "n")
        .expect("number")
}

#[tokio::main]
async fn main() {
    let options = options();
    let settings = app::db::PoolSettings {
        max_connections: 5,
        acquire_timeout: Duration::from_secs(10),
    };
    let db = app::db::connect(&options.db, &settings)
        .await
        .expect("database");
    let prepared = Instant::now();
    let (session, families) = prepare(&db, &options).await;
    eprintln!(
        "prepared {} families in {:.1} s",
        families.len(),
        prepared.elapsed().as_secs_f64()
    );

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let answered = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(tokio::sync::OnceCell::new());
    let targets = Arc::new(options.targets.clone());
    let started = Instant::now();
    let cookies: HashMap<i64, String> = families
        .iter()
        .map(|family| (family.child, family.cookie.clone()))
        .collect();
    let mut tasks = Vec::with_capacity(families.len());
    for (n, family) in families.into_iter().enumerate() {
        let (client, targets, answered, killed) = (
            client.clone(),
            targets.clone(),
            answered.clone(),
            killed.clone(),
        );
        let kill = options.kill_pid.map(|pid| (pid, options.kill_after));
        let start_at = started
            + Duration::from_micros(options.over_ms * 1000 * n as u64 / options.families as u64);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(start_at.into()).await;
            let key = format!("rush-{n}");
            let sent = Instant::now();
            let mut target = n % targets.len();
            let mut retried = false;
            let mut busy_retries = 0;
            let outcome = loop {
                match request(&client, &targets[target], session, &family, &key).await {
                    // After a 503 the app retries with the same key, as the
                    // mobile apps do: after a second, at most twice.
                    Ok((503, _)) if busy_retries < 2 => {
                        busy_retries += 1;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    Ok(outcome) => break Some(outcome),
                    // The server died: like a load balancer, send the same
                    // request with the same key to another server.
                    Err(_) if !retried && targets.len() > 1 => {
                        retried = true;
                        target = (target + 1) % targets.len();
                    }
                    Err(_) => break None,
                }
            };
            let done = answered.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some((pid, after)) = kill
                && done == after
            {
                killed
                    .get_or_init(|| async move {
                        let _ = std::process::Command::new("kill")
                            .args(["-KILL", &pid.to_string()])
                            .status();
                        done
                    })
                    .await;
            }
            let (status, result) = outcome.unwrap_or((0, "no answer".into()));
            Answer {
                latency: sent.elapsed(),
                status,
                result,
                retried,
                busy_retries,
            }
        }));
    }
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("task"));
    }
    let elapsed = started.elapsed();

    let mut results: HashMap<String, usize> = HashMap::new();
    let mut server_errors = 0;
    for answer in &answers {
        *results.entry(answer.result.clone()).or_default() += 1;
        if answer.status >= 500 || answer.status == 0 {
            server_errors += 1;
        }
    }
    let mut latencies: Vec<Duration> = answers.iter().map(|a| a.latency).collect();
    latencies.sort();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1000.0
    };
    let retried = answers.iter().filter(|a| a.retried).count();
    let busy = answers.iter().filter(|a| a.busy_retries > 0).count();

    let confirmed = scalar(
        &db,
        format!("SELECT COUNT(*) AS n FROM booking WHERE session_id = {session} AND status = 'confirmed'"),
    )
    .await;
    let taken = scalar(
        &db,
        format!("SELECT CAST(booked AS BIGINT) AS n FROM care_session WHERE id = {session}"),
    )
    .await;
    let waiting = scalar(
        &db,
        format!("SELECT COUNT(*) AS n FROM waitlist_entry WHERE session_id = {session} AND status = 'waiting'"),
    )
    .await;
    let doubled = scalar(
        &db,
        format!(
            "SELECT COUNT(*) AS n FROM (SELECT child_id FROM booking WHERE session_id = {session} \
             AND status = 'confirmed' GROUP BY child_id HAVING COUNT(*) > 1) AS twice"
        ),
    )
    .await;
    let queued_twice = scalar(
        &db,
        format!(
            "SELECT COUNT(*) AS n FROM (SELECT child_id FROM waitlist_entry WHERE session_id = {session} \
             GROUP BY child_id HAVING COUNT(*) > 1) AS twice"
        ),
    )
    .await;
    let booked_answers = results.get("booked").copied().unwrap_or(0) as i64;

    println!("| figure | value |");
    println!("|---|---|");
    println!("| requests | {} |", answers.len());
    println!("| servers | {} |", options.targets.len());
    println!("| wall time | {:.2} s |", elapsed.as_secs_f64());
    println!(
        "| answers | {} |",
        results
            .iter()
            .map(|(result, count)| format!("{result} {count}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("| 5xx or no answer, after retries | {server_errors} |");
    println!("| requests retried after a 503 (same key, 1 s later) | {busy} |");
    println!(
        "| latency p50 / p90 / p99 / max | {:.0} / {:.0} / {:.0} / {:.0} ms |",
        percentile(0.50),
        percentile(0.90),
        percentile(0.99),
        percentile(1.0)
    );
    if let Some(after) = killed.get() {
        println!(
            "| killed a server (SIGKILL) after | {after} answers; {retried} requests resent |"
        );
    }
    println!(
        "| confirmed bookings / capacity | {confirmed} / {} |",
        options.capacity
    );
    println!("| places taken (counter) | {taken} |");
    println!("| waiting | {waiting} |");
    println!("| children booked twice / queued twice | {doubled} / {queued_twice} |");

    let consistent = confirmed == i64::from(options.capacity)
        && taken == confirmed
        && booked_answers == confirmed
        && doubled == 0
        && queued_twice == 0
        && waiting + confirmed == answers.len() as i64
        && server_errors == 0;
    if !consistent {
        eprintln!("INCONSISTENT: see the figures above");
        std::process::exit(1);
    }
    if options.offer_check {
        check_offers(&db, &client, &options, session, &cookies).await;
    }
}

/// Cancels three bookings, moves their offers' deadlines two seconds
/// ahead, and checks that the jobs expire them on time and pass the
/// places on in waitlist order.
async fn check_offers(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    options: &Options,
    session: i64,
    cookies: &HashMap<i64, String>,
) {
    use app::entity::{booking, waitlist_entry};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

    let waiting_before: Vec<i64> = waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::SessionId.eq(session))
        .filter(waitlist_entry::Column::Status.eq("waiting"))
        .order_by_asc(waitlist_entry::Column::Id)
        .limit(6)
        .all(db)
        .await
        .expect("queue")
        .into_iter()
        .map(|entry| entry.id)
        .collect();
    let to_cancel = booking::Entity::find()
        .filter(booking::Column::SessionId.eq(session))
        .filter(booking::Column::Status.eq("confirmed"))
        .limit(3)
        .all(db)
        .await
        .expect("bookings");
    let target = options.targets.last().expect("a target");
    // A server killed during the rush may still be starting again.
    for _ in 0..300 {
        let ready = client.get(format!("{target}/readyz")).send().await;
        if ready.is_ok_and(|response| response.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for row in &to_cancel {
        let response = client
            .post(format!("{target}/api/v1/bookings/{}/cancel", row.id))
            .header("cookie", &cookies[&row.child_id])
            .header("origin", target)
            .send()
            .await
            .expect("cancel");
        assert_eq!(response.status().as_u16(), 200, "cancel answered 200");
    }
    let offered: Vec<i64> = waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::SessionId.eq(session))
        .filter(waitlist_entry::Column::Status.eq("offered"))
        .order_by_asc(waitlist_entry::Column::Id)
        .all(db)
        .await
        .expect("offers")
        .into_iter()
        .map(|entry| entry.id)
        .collect();
    let in_order = offered == waiting_before[..3];
    let deadline = Utc::now() + chrono::Duration::seconds(2);
    waitlist_entry::Entity::update_many()
        .col_expr(
            waitlist_entry::Column::OfferExpiresAt,
            sea_orm::sea_query::Expr::value(deadline),
        )
        .filter(waitlist_entry::Column::Id.is_in(offered.clone()))
        .exec(db)
        .await
        .expect("deadlines moved");
    let limit = Instant::now() + Duration::from_secs(2 + 3 * options.job_interval_secs);
    let mut expired_after = None;
    let waited = Instant::now();
    while Instant::now() < limit {
        let expired = waitlist_entry::Entity::find()
            .filter(waitlist_entry::Column::Id.is_in(offered.clone()))
            .filter(waitlist_entry::Column::Status.eq("expired"))
            .all(db)
            .await
            .expect("entries")
            .len();
        if expired == offered.len() {
            expired_after = Some(waited.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let next_offers: Vec<i64> = waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::SessionId.eq(session))
        .filter(waitlist_entry::Column::Status.eq("offered"))
        .order_by_asc(waitlist_entry::Column::Id)
        .all(db)
        .await
        .expect("offers")
        .into_iter()
        .map(|entry| entry.id)
        .collect();
    let passed_on = next_offers == waiting_before[3..6];
    println!(
        "| offers after 3 cancellations go to the head of the queue | {} |",
        if in_order { "yes" } else { "NO" }
    );
    match expired_after {
        Some(after) => println!(
            "| offers with a 2 s deadline expired after | {:.1} s (job interval {} s); passed on in order: {} |",
            after.as_secs_f64(),
            options.job_interval_secs,
            if passed_on { "yes" } else { "NO" }
        ),
        None => println!("| offers with a 2 s deadline expired | NO |"),
    }
    if !in_order || expired_after.is_none() || !passed_on {
        std::process::exit(1);
    }
}
