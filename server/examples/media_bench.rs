//! Lesson files under load, for `.ci/bench-media`: the upload, the first
//! play on a server that has no copy of the file yet, and plays from the
//! copy with several viewers at once.
//!
//! It signs a city administrator in directly in the database, and creates
//! and publishes a course through the first server's REST API. It uploads
//! FILES generated files of SIZE_MB each to the first server. It requests
//! the first 64 KiB of each from the second server, which shares only the
//! database, before and after that server has copied them. Then it sends
//! CONNECTIONS concurrent 1 MiB range requests to the first server for
//! SECONDS. It prints Markdown table rows.
//!
//! ```text
//! cargo run --release --example media_bench -- --db URL --first URL --second URL
//!     [--files 3] [--size-mb 100] [--connections 8] [--seconds 10]
//! ```

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::expect_used,
    clippy::panic,
    reason = "a command-line tool that reports on the terminal and stops at the first problem"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::domain::accounts::{self, PortalIdentity};
use app::domain::sessions;
use app::model::Role;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use serde_json::{Value, json};

/// Time the second server gets to copy the files before the requests that
/// should read its copies. A copy of 100 MiB took under 2 s in our runs.
const COPY_WAIT: Duration = Duration::from_secs(10);

struct Options {
    db: String,
    first: String,
    second: String,
    files: usize,
    size_mb: usize,
    connections: usize,
    seconds: u64,
}

fn options() -> Options {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        db: String::new(),
        first: String::new(),
        second: String::new(),
        files: 3,
        size_mb: 100,
        connections: 8,
        seconds: 10,
    };
    while let Some(flag) = args.next() {
        let value = args.next().expect("every flag takes a value");
        match flag.as_str() {
            "--db" => options.db = value,
            "--first" => options.first = value,
            "--second" => options.second = value,
            "--files" => options.files = value.parse().expect("a number of files"),
            "--size-mb" => options.size_mb = value.parse().expect("a size in MiB"),
            "--connections" => options.connections = value.parse().expect("a number"),
            "--seconds" => options.seconds = value.parse().expect("a number of seconds"),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(
        !options.db.is_empty() && !options.first.is_empty() && !options.second.is_empty(),
        "--db, --first and --second are required"
    );
    options
}

/// Returns an MP4-looking file: a `ftyp` box, then bytes from `seed`.
fn film(size: usize, seed: u64) -> Vec<u8> {
    let mut bytes = vec![0_u8; size];
    StdRng::seed_from_u64(seed).fill_bytes(&mut bytes);
    bytes[..24].copy_from_slice(b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2");
    bytes
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

async fn signed_in_cookie(db_url: &str) -> String {
    let settings = app::db::PoolSettings {
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
    };
    let db = app::db::connect(db_url, &settings).await.expect("database");
    let now = chrono::Utc::now();
    let subject = format!("media-bench-{}", now.timestamp_millis());
    let account = accounts::sign_in(
        &db,
        &PortalIdentity {
            subject: subject.clone(),
            display_name: "媒体测试".to_owned(),
            mobile: None,
            real_name_verified: true,
        },
        now,
    )
    .await
    .expect("account");
    accounts::grant_role(&db, &subject, &Role::CityAdmin, None, now)
        .await
        .expect("role");
    let token = sessions::create_session(&db, account, chrono::Duration::hours(2), now)
        .await
        .expect("session");
    format!("ningyu_session={token}")
}

#[tokio::main]
async fn main() {
    let options = options();
    let cookie = signed_in_cookie(&options.db).await;
    let client = reqwest::Client::new();
    let post = |url: String| {
        client
            .post(url)
            .header("cookie", &cookie)
            .header("origin", &options.first)
    };

    let course: Value = post(format!("{}/api/v1/admin/courses", options.first))
        .json(&json!({
            "title": "媒体测试课程",
            "summary": "只用于测量。",
            "topic": "health",
            "min_age_months": 0,
            "max_age_months": 36,
        }))
        .send()
        .await
        .expect("course created")
        .json()
        .await
        .expect("JSON");
    let course_id = course["course"]["id"].as_i64().expect("course id");

    let size = options.size_mb * 1024 * 1024;
    let mut uploads = Vec::new();
    let mut urls = Vec::new();
    for index in 0..options.files {
        let bytes = film(size, index as u64 + 1);
        let form = reqwest::multipart::Form::new()
            .text("title", format!("第{}节", index + 1))
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name("lesson.mp4")
                    .mime_str("video/mp4")
                    .expect("media type"),
            );
        let started = Instant::now();
        let response = post(format!(
            "{}/api/v1/admin/courses/{course_id}/lessons",
            options.first
        ))
        .multipart(form)
        .send()
        .await
        .expect("upload");
        assert_eq!(response.status().as_u16(), 201, "upload accepted");
        uploads.push(started.elapsed());
        let detail: Value = response.json().await.expect("JSON");
        let url = detail["lessons"][index]["media_url"]
            .as_str()
            .expect("media URL")
            .to_owned();
        urls.push(url);
    }
    post(format!(
        "{}/api/v1/admin/courses/{course_id}/status",
        options.first
    ))
    .json(&json!({ "status": "published" }))
    .send()
    .await
    .expect("published");

    // The second server has no copy: it reads the first request from the
    // database and copies the file meanwhile. Later requests read the copy.
    let first_bytes = |url: String| {
        let client = client.clone();
        async move {
            let started = Instant::now();
            let response = client
                .get(url)
                .header("range", "bytes=0-65535")
                .send()
                .await
                .expect("range");
            assert_eq!(response.status().as_u16(), 206);
            response.bytes().await.expect("body");
            started.elapsed()
        }
    };
    let mut cold = Vec::new();
    for url in &urls {
        cold.push(first_bytes(format!("{}{url}", options.second)).await);
    }
    tokio::time::sleep(COPY_WAIT).await;
    let mut warm = Vec::new();
    for url in &urls {
        warm.push(first_bytes(format!("{}{url}", options.second)).await);
    }

    // Many viewers on the first server, each asking for 1 MiB at a time.
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let urls = Arc::new(urls);
    let mut tasks = Vec::new();
    for worker in 0..options.connections {
        let client = client.clone();
        let urls = Arc::clone(&urls);
        let base = options.first.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(worker as u64);
            let mut latencies = Vec::new();
            let mut bytes = 0_usize;
            while Instant::now() < deadline {
                let url = &urls[rng.gen_range(0..urls.len())];
                let start = rng.gen_range(0..size - 1024 * 1024);
                let started = Instant::now();
                let response = client
                    .get(format!("{base}{url}"))
                    .header(
                        "range",
                        format!("bytes={start}-{}", start + 1024 * 1024 - 1),
                    )
                    .send()
                    .await
                    .expect("range");
                assert_eq!(response.status().as_u16(), 206);
                bytes += response.bytes().await.expect("body").len();
                latencies.push(started.elapsed());
            }
            (latencies, bytes)
        }));
    }
    let mut latencies = Vec::new();
    let mut bytes = 0;
    for task in tasks {
        let (mut some, count) = task.await.expect("worker");
        latencies.append(&mut some);
        bytes += count;
    }
    latencies.sort();
    cold.sort();
    warm.sort();
    uploads.sort();

    let mib = options.size_mb;
    let rate = |time: &Duration| size as f64 / 1_048_576.0 / time.as_secs_f64();
    println!(
        "| upload of a {mib} MiB lesson, median of {} | {:.2} s ({:.0} MiB/s) |",
        uploads.len(),
        uploads[uploads.len() / 2].as_secs_f64(),
        rate(&uploads[uploads.len() / 2]),
    );
    println!(
        "| first 64 KiB from a server without a copy, median / worst | {:.0} ms / {:.0} ms |",
        percentile(&cold, 0.5),
        percentile(&cold, 1.0),
    );
    println!(
        "| first 64 KiB once that server has its copy ({} s later), median | {:.1} ms |",
        COPY_WAIT.as_secs(),
        percentile(&warm, 0.5),
    );
    println!(
        "| 1 MiB range requests, {} connections, p50 / p99 | {:.1} ms / {:.1} ms |",
        options.connections,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
    );
    println!(
        "| 1 MiB range requests, throughput | {:.0} requests/s, {:.0} MiB/s |",
        latencies.len() as f64 / options.seconds as f64,
        bytes as f64 / 1_048_576.0 / options.seconds as f64,
    );
}
