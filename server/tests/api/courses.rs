//! Parenting courses over HTTP. Administrators write, upload and publish
//! within their scope. Families see only published courses, the ones that
//! suit their children, and a message when one is published. Lesson files
//! stream with range requests from any server. Where a viewer stopped is
//! theirs, exported and deleted with the account.

use app::domain::accounts::{self, PortalIdentity};
use app::domain::courses;
use app::domain::family::{self, ChildInput};
use app::domain::sessions;
use app::model::Role;
use chrono::{Duration, Months, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::browser::{Browser, location};
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use crate::priority::audit_count;

struct Person {
    account: i64,
    cookie: String,
}

/// Signs a person in; with `child_age_months`, they are the guardian of a
/// child of that age today.
async fn person(app: &TestApp, subject: &str, child_age_months: Option<u32>) -> Person {
    let account = accounts::sign_in(
        &app.db,
        &PortalIdentity {
            subject: subject.into(),
            display_name: format!("用户{subject}"),
            mobile: None,
            real_name_verified: true,
        },
        Utc::now(),
    )
    .await
    .expect("account");
    if let Some(months) = child_age_months {
        let today = app::time::local_date(Utc::now());
        let birth = today
            .checked_sub_months(Months::new(months))
            .expect("birth date");
        family::add_child(
            &app.db,
            account,
            &ChildInput {
                display_name: format!("宝宝{subject}"),
                birth_date: birth.format("%Y-%m-%d").to_string(),
                care_notes: None,
            },
            true,
            Utc::now(),
        )
        .await
        .expect("child");
    }
    let token = sessions::create_session(&app.db, account, Duration::hours(2), Utc::now())
        .await
        .expect("web session");
    Person {
        account,
        cookie: format!("ningyu_session={token}"),
    }
}

async fn admin(app: &TestApp, subject: &str, role: Role) -> Person {
    let admin = person(app, subject, None).await;
    accounts::grant_role(&app.db, subject, &role, None, Utc::now())
        .await
        .expect("role");
    admin
}

fn district(code: &str) -> Role {
    Role::DistrictAdmin {
        district_code: code.into(),
    }
}

async fn send(
    app: &TestApp,
    who: Option<&Person>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("origin", app.url(""));
    if let Some(who) = who {
        request = request.header("cookie", &who.cookie);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request is sent")
}

/// Sends a lesson upload as a browser's multipart form would.
async fn upload(
    app: &TestApp,
    who: &Person,
    path: &str,
    title: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    upload_with_captions(app, who, path, title, bytes, None).await
}

/// Sends a lesson upload with a captions file, as the form does when one is
/// chosen.
async fn upload_with_captions(
    app: &TestApp,
    who: &Person,
    path: &str,
    title: &str,
    bytes: Vec<u8>,
    captions: Option<&str>,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new().text("title", title.to_owned());
    if let Some(captions) = captions {
        form = form.part(
            "captions",
            reqwest::multipart::Part::bytes(captions.as_bytes().to_vec())
                .file_name("lesson.vtt")
                .mime_str("text/vtt")
                .expect("media type"),
        );
    }
    let form = form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name("lesson.mp4")
            .mime_str("video/mp4")
            .expect("media type"),
    );
    app.client
        .post(app.url(path))
        .header("cookie", &who.cookie)
        .header("origin", app.url(""))
        .multipart(form)
        .send()
        .await
        .expect("upload is sent")
}

/// Starts an upload that declares `length` bytes and sends none of them,
/// as a browser does before it streams a file, and returns the status.
async fn declared_too_large(app: &TestApp, who: &Person, path: &str, length: u64) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut stream = tokio::net::TcpStream::connect(app.address)
        .await
        .expect("connects");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nCookie: {}\r\n\
         Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {length}\r\n\r\n",
        app.address,
        app.url(""),
        who.cookie
    );
    stream.write_all(head.as_bytes()).await.expect("sends");
    let mut answer = vec![0_u8; 64];
    let read = stream.read(&mut answer).await.expect("reads");
    let line = String::from_utf8_lossy(&answer[..read]).into_owned();
    line.split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {line}"))
}

/// Returns an MP4-looking file of `len` bytes: a `ftyp` box, then varied
/// bytes so that every chunk differs.
fn mp4_bytes(len: usize) -> Vec<u8> {
    let mut bytes = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
    let mut state: u32 = 0x9E37_79B9;
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        bytes.push((state & 0xFF) as u8);
    }
    bytes.truncate(len);
    bytes
}

fn course_body(title: &str, min: u32, max: u32, district_code: Option<&str>) -> Value {
    json!({
        "title": title,
        "summary": "辅食添加的时间、顺序和分量。\n常见过敏的识别。",
        "topic": "feeding",
        "min_age_months": min,
        "max_age_months": max,
        "district_code": district_code,
    })
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("query")
        .expect("row");
    row.try_get("", "n").expect("count")
}

async fn courses_from_draft_to_families(backend: Backend) {
    // Lesson files up to 3 MiB; ordinary bodies up to 64 KiB (the harness).
    let app = TestApp::spawn_with(backend, &[("NINGYU_MEDIA_MAX_BYTES", "3145728")]).await;
    let city = admin(&app, "course-city", Role::CityAdmin).await;
    let xuanwu = admin(&app, "course-xuanwu", district("320102")).await;
    let gulou = admin(&app, "course-gulou", district("320106")).await;
    let young = person(&app, "course-family-14", Some(14)).await;
    let older = person(&app, "course-family-30", Some(30)).await;

    // Scope: families may not write, districts write only their own.
    let body = course_body("辅食添加从第一口开始", 6, 18, None);
    let refused = send(
        &app,
        Some(&young),
        Method::POST,
        "/api/v1/admin/courses",
        Some(body.clone()),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "a family");
    let refused = send(
        &app,
        Some(&xuanwu),
        Method::POST,
        "/api/v1/admin/courses",
        Some(course_body("别区课程", 6, 18, Some("320106"))),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "another district");
    let invalid = send(
        &app,
        Some(&xuanwu),
        Method::POST,
        "/api/v1/admin/courses",
        Some(course_body("月龄颠倒", 20, 10, None)),
    )
    .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let created = send(
        &app,
        Some(&xuanwu),
        Method::POST,
        "/api/v1/admin/courses",
        Some(body),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.expect("JSON");
    let id = created["course"]["id"].as_i64().expect("course id");
    assert_eq!(created["course"]["status"], "draft");
    assert_eq!(
        created["course"]["district_code"], "320102",
        "the district's by default"
    );
    assert_eq!(created["course"]["district_name"], "玄武区");

    // A draft is hidden from families and other districts alike.
    let path = format!("/api/v1/courses/{id}");
    assert_eq!(
        send(&app, Some(&young), Method::GET, &path, None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&app, None, Method::GET, &format!("/courses/{id}"), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let status = format!("/api/v1/admin/courses/{id}/status");
    let other = send(
        &app,
        Some(&gulou),
        Method::POST,
        &status,
        Some(json!({ "status": "published" })),
    )
    .await;
    assert_eq!(
        other.status(),
        StatusCode::NOT_FOUND,
        "another district's course"
    );
    let empty = send(
        &app,
        Some(&xuanwu),
        Method::POST,
        &status,
        Some(json!({ "status": "published" })),
    )
    .await;
    assert_eq!(empty.status(), StatusCode::CONFLICT, "no lessons yet");

    // Uploads: scope first, then the file's kind and size.
    let lessons = format!("/api/v1/admin/courses/{id}/lessons");
    let file = mp4_bytes(2 * 1024 * 1024 + 4321);
    // The whole rejected file is read, so the browser gets the response.
    let refused = upload(&app, &gulou, &lessons, "第一节", file.clone()).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let html = upload(
        &app,
        &xuanwu,
        &lessons,
        "网页",
        b"<html><body>not a video</body></html>".to_vec(),
    )
    .await;
    assert_eq!(html.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = html.json().await.expect("JSON");
    assert_eq!(error["field"], "file", "{error}");
    assert_eq!(
        declared_too_large(&app, &xuanwu, &lessons, 3 * 1024 * 1024 + 10).await,
        413,
        "answered from the declared length, before any of the body"
    );
    // Other requests keep the ordinary limit of 64 KiB, which the 2 MiB
    // upload below passes.
    assert_eq!(
        declared_too_large(&app, &xuanwu, "/api/v1/admin/courses", 70_000).await,
        413
    );

    // Captions that are not WebVTT are rejected before the file is stored.
    let bad_captions = upload_with_captions(
        &app,
        &xuanwu,
        &lessons,
        "第一节",
        file.clone(),
        Some("1\n00:00:00,000 --> 00:00:02,000\nSRT, not WebVTT\n"),
    )
    .await;
    assert_eq!(bad_captions.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = bad_captions.json().await.expect("JSON");
    assert_eq!(error["field"], "captions", "{error}");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM media_blob").await, 0);

    let captions =
        "\u{feff}WEBVTT\r\n\r\n00:00.000 --> 00:02.000\r\n宝宝六个月左右开始添加辅食。\r\n";
    let added = upload_with_captions(
        &app,
        &xuanwu,
        &lessons,
        "第一节：什么时候开始",
        file.clone(),
        Some(captions),
    )
    .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let detail: Value = added.json().await.expect("JSON");
    let lesson = &detail["lessons"][0];
    // The uploading server keeps the received file as its copy, and no
    // temporary file is left behind.
    let cache = app.data_dir().join("media-cache");
    let copies: Vec<u64> = std::fs::read_dir(&cache)
        .expect("cache folder")
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "mp4"))
        .map(|entry| entry.metadata().expect("metadata").len())
        .collect();
    assert_eq!(copies, vec![file.len() as u64]);
    let leftovers = std::fs::read_dir(cache.join("uploads"))
        .expect("upload folder")
        .count();
    assert_eq!(leftovers, 0, "temporary upload files are removed");
    let captions_url = lesson["captions_url"]
        .as_str()
        .expect("captions URL")
        .to_owned();
    assert_eq!(lesson["bytes"], file.len() as u64);
    assert_eq!(lesson["content_type"], "video/mp4");
    let media_url = lesson["media_url"].as_str().expect("media URL").to_owned();
    let lesson_id = lesson["id"].as_i64().expect("lesson id");
    // The same file again is stored once.
    let again = upload(&app, &xuanwu, &lessons, "第一节（重复）", file.clone()).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM media_blob").await, 1);
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM media_chunk").await,
        3
    );
    let second: Value = again.json().await.expect("JSON");
    let duplicate = second["lessons"][1]["id"].as_i64().expect("lesson id");
    let removed = send(
        &app,
        Some(&xuanwu),
        Method::DELETE,
        &format!("/api/v1/admin/courses/lessons/{duplicate}"),
        None,
    )
    .await;
    assert_eq!(removed.status(), StatusCode::OK);

    // Drafts' files: only the course's administrators, never cached.
    let hidden = send(&app, Some(&young), Method::GET, &media_url, None).await;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let preview = send(&app, Some(&xuanwu), Method::GET, &media_url, None).await;
    assert_eq!(preview.status(), StatusCode::OK);
    assert_eq!(preview.headers()["cache-control"], "private, no-store");

    let published = send(
        &app,
        Some(&xuanwu),
        Method::POST,
        &status,
        Some(json!({ "status": "published" })),
    )
    .await;
    assert_eq!(published.status(), StatusCode::OK);

    // Families get one message, even with two servers' jobs running at once.
    let now = Utc::now();
    let (first, second) = tokio::join!(
        courses::announce_published(&app.db, now),
        courses::announce_published(&app.db, now),
    );
    assert_eq!(
        first.expect("announce") + second.expect("announce"),
        1,
        "only the 14-month-old's guardian"
    );
    let inbox: Value = send(
        &app,
        Some(&young),
        Method::GET,
        "/api/v1/notifications",
        None,
    )
    .await
    .json()
    .await
    .expect("JSON");
    let message = inbox
        .as_array()
        .expect("messages")
        .iter()
        .find(|message| message["kind"] == "new_course")
        .unwrap_or_else(|| panic!("a new course message: {inbox}"));
    assert_eq!(message["course_id"], id);
    assert_eq!(message["course_title"], "辅食添加从第一口开始");
    assert_eq!(count(&app, &format!("SELECT COUNT(*) AS n FROM notification WHERE account_id = {} AND kind = 'new_course'", older.account)).await, 0);

    // The list narrows by age and topic; each child gets what suits it.
    let listed: Value = send(
        &app,
        None,
        Method::GET,
        "/api/v1/courses?age_months=14&topic=feeding",
        None,
    )
    .await
    .json()
    .await
    .expect("JSON");
    assert_eq!(listed["total"], 1, "{listed}");
    let listed: Value = send(
        &app,
        None,
        Method::GET,
        "/api/v1/courses?age_months=30",
        None,
    )
    .await
    .json()
    .await
    .expect("JSON");
    assert_eq!(listed["total"], 0, "{listed}");
    let listed: Value = send(&app, None, Method::GET, "/api/v1/courses?topic=sleep", None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(listed["total"], 0, "{listed}");
    let bad = send(
        &app,
        None,
        Method::GET,
        "/api/v1/courses?age_months=37",
        None,
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let bad = send(
        &app,
        None,
        Method::GET,
        "/api/v1/courses?offset=9223372036854775808",
        None,
    )
    .await;
    assert_eq!(
        bad.status(),
        StatusCode::BAD_REQUEST,
        "beyond the database's integers"
    );
    let mine: Value = send(
        &app,
        Some(&young),
        Method::GET,
        "/api/v1/courses/for-children",
        None,
    )
    .await
    .json()
    .await
    .expect("JSON");
    assert_eq!(mine[0]["age_months"], 14);
    assert_eq!(mine[0]["courses"][0]["id"], id);
    let theirs: Value = send(
        &app,
        Some(&older),
        Method::GET,
        "/api/v1/courses/for-children",
        None,
    )
    .await
    .json()
    .await
    .expect("JSON");
    assert_eq!(theirs[0]["courses"], json!([]));

    // The file: whole, and a range across a chunk boundary, uncompressed
    // and cached for good. A second server serves it from the database.
    let whole = app
        .client
        .get(app.url(&media_url))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .expect("media");
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["content-type"], "video/mp4");
    assert_eq!(
        whole.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(whole.headers().get("content-encoding").is_none());
    assert_eq!(whole.headers()["x-content-type-options"], "nosniff");
    assert_eq!(whole.bytes().await.expect("body").as_ref(), file.as_slice());
    let beside = app.spawn_beside().await;
    let (start, end) = (1024 * 1024 - 10, 1024 * 1024 + 20);
    let range = beside
        .client
        .get(beside.url(&media_url))
        .header("range", format!("bytes={start}-{end}"))
        .send()
        .await
        .expect("range");
    assert_eq!(range.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        range.headers()["content-range"],
        format!("bytes {start}-{end}/{}", file.len()).as_str()
    );
    assert_eq!(
        range.bytes().await.expect("body").as_ref(),
        &file[start..=end]
    );
    // A third server without a copy responds from the database at once to
    // suffix ranges, ranges beyond the end and the whole file. It makes its
    // copy meanwhile.
    let third = app.spawn_beside().await;
    let get_range = |range: Option<String>| {
        let mut request = third.client.get(third.url(&media_url));
        if let Some(range) = range {
            request = request.header("range", range);
        }
        async move { request.send().await.expect("media") }
    };
    let tail = get_range(Some("bytes=-100".to_owned())).await;
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        tail.headers()["content-range"],
        format!(
            "bytes {}-{}/{}",
            file.len() - 100,
            file.len() - 1,
            file.len()
        )
        .as_str()
    );
    assert_eq!(
        tail.bytes().await.expect("body").as_ref(),
        &file[file.len() - 100..]
    );
    let beyond = get_range(Some(format!("bytes={}-", file.len()))).await;
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        beyond.headers()["content-range"],
        format!("bytes */{}", file.len()).as_str()
    );
    let whole = get_range(None).await;
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.bytes().await.expect("body").as_ref(), file.as_slice());
    let copied = third.media_cache_dir();
    let mut waited = 0;
    while !std::fs::read_dir(&copied).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|entry| entry.path().extension().is_some_and(|ext| ext == "mp4"))
    }) {
        assert!(waited < 100, "the third server made its copy");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        waited += 1;
    }

    let stale = media_url.replace(&media_url[media_url.len() - 8..media_url.len() - 4], "0000");
    assert_eq!(
        send(&app, None, Method::GET, &stale, None).await.status(),
        StatusCode::NOT_FOUND
    );

    let served = send(&app, None, Method::GET, &captions_url, None).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "text/vtt; charset=utf-8");
    assert_eq!(
        served.text().await.expect("captions"),
        "WEBVTT\n\n00:00.000 --> 00:02.000\n宝宝六个月左右开始添加辅食。\n",
        "without the byte order mark, with plain line ends"
    );

    // Pages: the list, and the course with a player that loads nothing
    // before play is pressed.
    let page = send(&app, None, Method::GET, "/courses", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert!(
        page.text()
            .await
            .expect("html")
            .contains("辅食添加从第一口开始")
    );
    let page = send(
        &app,
        Some(&young),
        Method::GET,
        &format!("/courses/{id}"),
        None,
    )
    .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains(&media_url), "{html}");
    assert!(html.contains("preload=\"none\""), "{html}");
    assert!(
        html.contains(&format!("<track kind=\"captions\" src=\"{captions_url}\"")),
        "{html}"
    );
    assert!(html.contains("常见过敏的识别"), "{html}");
    let page = send(&app, Some(&young), Method::GET, "/courses", None).await;
    assert!(
        page.text()
            .await
            .expect("html")
            .contains("适合您孩子的课程")
    );

    // Progress: saved, resumed, and finished stays finished. Each family
    // whose guardian or carer plays a lesson counts as reached.
    let today = app::time::local_date(Utc::now());
    let before = courses::guidance_reach(&app.db, today)
        .await
        .expect("reach");
    assert!(before.families >= 2, "{before:?}");
    let progress = format!("/api/v1/courses/lessons/{lesson_id}/progress");
    let saved = send(
        &app,
        Some(&young),
        Method::PUT,
        &progress,
        Some(json!({ "position_seconds": 125 })),
    )
    .await;
    assert_eq!(saved.status(), StatusCode::NO_CONTENT);
    let after = courses::guidance_reach(&app.db, today)
        .await
        .expect("reach");
    assert_eq!(after.families, before.families);
    assert_eq!(after.reached, before.reached + 1, "the guardian played it");
    let grandmother = person(&app, "course-grandmother", None).await;
    let older_child = family::overview(&app.db, older.account, Utc::now())
        .await
        .expect("overview")
        .children[0]
        .id;
    let invitation = family::create_invitation(&app.db, older.account, &[older_child], Utc::now())
        .await
        .expect("invitation");
    family::accept_invitation(&app.db, grandmother.account, &invitation.code, Utc::now())
        .await
        .expect("accepted");
    let saved = send(
        &app,
        Some(&grandmother),
        Method::PUT,
        &progress,
        Some(json!({ "position_seconds": 30 })),
    )
    .await;
    assert_eq!(saved.status(), StatusCode::NO_CONTENT);
    let report: Value = send(
        &app,
        Some(&city),
        Method::GET,
        "/api/v1/admin/coverage",
        None,
    )
    .await
    .json()
    .await
    .expect("JSON");
    assert_eq!(
        report["guidance"]["reached"],
        before.reached + 2,
        "the carer's family too: {report}"
    );
    assert_eq!(report["guidance"]["families"], before.families);
    let anonymous = send(
        &app,
        None,
        Method::PUT,
        &progress,
        Some(json!({ "position_seconds": 5 })),
    )
    .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let course: Value = send(&app, Some(&young), Method::GET, &path, None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(course["lessons"][0]["resume_seconds"], 125);
    assert_eq!(course["lessons"][0]["finished"], false);
    send(
        &app,
        Some(&young),
        Method::PUT,
        &progress,
        Some(json!({ "position_seconds": 600, "finished": true })),
    )
    .await;
    send(
        &app,
        Some(&young),
        Method::PUT,
        &progress,
        Some(json!({ "position_seconds": 12 })),
    )
    .await;
    let course: Value = send(&app, Some(&young), Method::GET, &path, None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(course["lessons"][0]["resume_seconds"], 12);
    assert_eq!(course["lessons"][0]["finished"], true);
    assert_eq!(course["course"]["finished"], 1);
    let theirs: Value = send(&app, Some(&older), Method::GET, &path, None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        theirs["lessons"][0]["resume_seconds"],
        Value::Null,
        "progress is per account"
    );

    // Withdrawn: gone for families, file included.
    let withdrawn = send(
        &app,
        Some(&city),
        Method::POST,
        &status,
        Some(json!({ "status": "withdrawn" })),
    )
    .await;
    assert_eq!(
        withdrawn.status(),
        StatusCode::OK,
        "the city writes every district's courses"
    );
    assert_eq!(
        send(&app, Some(&young), Method::GET, &path, None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&app, None, Method::GET, &media_url, None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let refused = send(
        &app,
        Some(&young),
        Method::PUT,
        &progress,
        Some(json!({ "position_seconds": 30 })),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);

    for action in [
        "course.create",
        "course.lesson_add",
        "course.lesson_remove",
        "course.publish",
        "course.withdraw",
    ] {
        assert!(audit_count(&app, action).await >= 1, "{action} is audited");
    }

    // The record of watching is the family's: exported, then deleted.
    let export: Value = send(
        &app,
        Some(&young),
        Method::GET,
        "/api/v1/family/export",
        None,
    )
    .await
    .json()
    .await
    .expect("JSON");
    assert_eq!(
        export["course_progress"][0]["lesson_id"], lesson_id,
        "{export}"
    );
    assert_eq!(export["course_progress"][0]["course_id"], id);
    family::delete_account(&app.db, &Default::default(), young.account, Utc::now())
        .await
        .expect("deleted");
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) AS n FROM course_progress WHERE account_id = {}",
                young.account
            )
        )
        .await,
        0
    );
}
on_both_backends!(courses_from_draft_to_families);

async fn course_forms_work_without_javascript(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let xuanwu = admin(&app, "form-xuanwu", district("320102")).await;
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let request = app
            .client
            .post(app.url(&path))
            .header("cookie", &xuanwu.cookie)
            .header("origin", app.url(""))
            .header("accept", "text/html")
            .header("referer", app.url("/admin/courses/new"))
            .form(&form);
        async move { request.send().await.expect("form is posted") }
    };
    let form = |title: &str, min: &str| {
        vec![
            ("form[title]", title.to_owned()),
            ("form[title_en]", String::new()),
            ("form[summary]", "每天的睡眠需要多少？".to_owned()),
            ("form[summary_en]", String::new()),
            ("form[topic]", "sleep".to_owned()),
            ("form[min_age_months]", min.to_owned()),
            ("form[max_age_months]", "12".to_owned()),
            ("form[district_code]", "320102".to_owned()),
        ]
    };

    // Refused: back to the form with the error and what was typed.
    let refused = post("/sfn/save_course".into(), form("宝宝睡眠", "十三")).await;
    assert!(refused.status().is_redirection(), "{}", refused.status());
    let back = location(&refused);
    assert!(back.starts_with("/admin/courses/new?"), "{back}");
    let page = send(&app, Some(&xuanwu), Method::GET, &back, None).await;
    let html = page.text().await.expect("html");
    assert!(html.contains("宝宝睡眠"), "the title is kept");
    assert!(html.contains("十三"), "the typed age is kept");
    assert!(html.contains("role=\"alert\""), "the error is shown");
    assert!(
        html.contains("月龄请填整数，最小月龄不能大于最大月龄。"),
        "the rule of the field is explained"
    );

    // Signed out, the page offers the sign-in that comes back to it.
    let page = send(&app, None, Method::GET, "/admin/courses", None).await;
    let html = page.text().await.expect("html");
    assert!(
        html.contains("/auth/login?return_to=%2Fadmin%2Fcourses"),
        "{html}"
    );

    let saved = post("/sfn/save_course".into(), form("宝宝睡眠", "0")).await;
    let target = location(&saved);
    assert!(target.starts_with("/admin/courses/"), "{target}");
    let id: i64 = target
        .trim_start_matches("/admin/courses/")
        .split('?')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("course id in the redirect");

    // The upload form: a wrong file comes back as a translated error.
    let wrong = upload(
        &app,
        &xuanwu,
        &format!("/admin/courses/{id}/lessons"),
        "第一节",
        b"plain text, not a film".to_vec(),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::SEE_OTHER);
    let back = location(&wrong);
    let page = send(&app, Some(&xuanwu), Method::GET, &back, None).await;
    let html = page.text().await.expect("html");
    assert!(html.contains("role=\"alert\""), "{html}");
    let added = upload(
        &app,
        &xuanwu,
        &format!("/admin/courses/{id}/lessons"),
        "第一节",
        mp4_bytes(5000),
    )
    .await;
    let lesson = count(
        &app,
        &format!("SELECT MAX(id) AS n FROM course_lesson WHERE course_id = {id}"),
    )
    .await;
    assert_eq!(
        location(&added),
        format!("/admin/courses/{id}?added={lesson}")
    );

    let published = post(
        "/sfn/set_course_status".into(),
        vec![
            ("course_id", id.to_string()),
            ("status", "published".to_owned()),
        ],
    )
    .await;
    assert_eq!(location(&published), format!("/admin/courses/{id}"));
    let page = send(&app, None, Method::GET, &format!("/courses/{id}"), None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.expect("html").contains("<video"));
    let list = send(&app, Some(&xuanwu), Method::GET, "/admin/courses", None).await;
    assert!(list.text().await.expect("html").contains("宝宝睡眠"));
}
on_both_backends!(course_forms_work_without_javascript);

/// A link from inside the portal's app to a course or a session opens it
/// after a silent sign-in, as one to a place does (see `auth.rs`).
#[tokio::test]
async fn portal_deep_links_open_courses_and_sessions() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    let city = admin(&app, "deep-link-city", Role::CityAdmin).await;
    let created = send(
        &app,
        Some(&city),
        Method::POST,
        "/api/v1/admin/courses",
        Some(course_body("家庭安全小课堂", 0, 36, None)),
    )
    .await;
    let created: Value = created.json().await.expect("JSON");
    let id = created["course"]["id"].as_i64().expect("course id");
    upload(
        &app,
        &city,
        &format!("/api/v1/admin/courses/{id}/lessons"),
        "第一节",
        mp4_bytes(2000),
    )
    .await;
    send(
        &app,
        Some(&city),
        Method::POST,
        &format!("/api/v1/admin/courses/{id}/status"),
        Some(json!({ "status": "published" })),
    )
    .await;

    let browser = Browser::new();
    let target = format!("/courses/{id}");
    let entry = browser
        .get(&app.url(&format!("/auth/portal?to={target}")))
        .await;
    let silent = location(&entry);
    assert!(silent.contains("prompt=none"), "{silent}");
    let login_required = browser.get(&silent).await;
    let fallback = browser.get(&location(&login_required)).await;
    let callback = browser
        .choose_citizen(&location(&fallback), "demo-parent")
        .await;
    let signed_in = browser.get(&callback).await;
    assert_eq!(location(&signed_in), target);
    let page = browser.get(&app.url(&target)).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.expect("html").contains("家庭安全小课堂"));

    let session_id = count(&app, "SELECT MIN(id) AS n FROM care_session").await;
    let session = format!("/sessions/{session_id}");
    let direct = browser
        .get(&app.url(&format!("/auth/portal?to={session}")))
        .await;
    assert_eq!(location(&direct), session);
    let page = browser.get(&app.url(&session)).await;
    assert_eq!(page.status(), StatusCode::OK);
}
