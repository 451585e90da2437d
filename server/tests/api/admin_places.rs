//! Administrators over HTTP: creating and editing places with their
//! disclosures inside their scope, the coverage report, and uploading a
//! places file with a row-by-row report.

use app::domain::accounts;
use app::domain::import;
use app::geo::Crs;
use app::model::Role;
use chrono::Utc;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use crate::priority::{Person, audit_count, person, send};

pub(crate) const DISTRICTS: &str = "\
code,name,seat_lng_gcj02,seat_lat_gcj02,centroid_lng_gcj02,centroid_lat_gcj02,population_2019_10k,birth_rate_2019_permille
320102,玄武区,118.792199,32.050678,118.84273,32.065149,57.52,6.79
320106,鼓楼区,118.769739,32.066966,118.747,32.07,94.0,6.5
";

pub(crate) const STREETS: &str = "\
mca_code,stats2023_code,name,district_code,district_name,seat_lng_gcj02,seat_lat_gcj02,seat_source
320102002,320102002,梅园新村街道,320102,玄武区,118.821363,32.044924,test
320102003,320102003,新街口街道,320102,玄武区,118.789104,32.053648,test
320106001,320106001,湖南路街道,320106,鼓楼区,,,test
";

async fn admins(app: &TestApp) -> (Person, Person, Person) {
    import::import_regions_csv(
        &app.db,
        DISTRICTS.as_bytes(),
        STREETS.as_bytes(),
        Crs::Gcj02,
        false,
        Utc::now(),
    )
    .await
    .expect("regions import");

    let city = person(app, "place-city-admin", None).await;
    accounts::grant_role(
        &app.db,
        "place-city-admin",
        &Role::CityAdmin,
        None,
        Utc::now(),
    )
    .await
    .expect("role");
    let district = person(app, "place-district-admin", None).await;
    accounts::grant_role(
        &app.db,
        "place-district-admin",
        &Role::DistrictAdmin {
            district_code: "320102".into(),
        },
        None,
        Utc::now(),
    )
    .await
    .expect("role");
    let family = person(app, "place-family", None).await;
    (city, district, family)
}

pub(crate) fn provider(
    name: &str,
    district: &str,
    street: &str,
    seats: u32,
    public_benefit: bool,
) -> Value {
    json!({
        "kind": "childcare_provider",
        "name": name,
        "address": "南京市测试路8号",
        "district": district,
        "street": street,
        "latitude": 32.0536,
        "longitude": 118.7891,
        "crs": "gcj02",
        "services": ["full_day", "hourly_care"],
        "fee": { "kind": "per_month", "fen": 180000 },
        "min_age_months": 6,
        "max_age_months": 36,
        "childcare_places": seats,
        "public_benefit": public_benefit.then(|| json!({
            "value": true,
            "source": "玄武区卫健委普惠托育机构名单",
            "date": "2026-10-01",
        })),
        "registration": { "value": true, "source": "玄武区卫健委备案公示", "date": "2026-09-15" },
        "star_rating": { "value": 4, "source": "玄武区托育机构星级评定", "date": "2026-11-20" },
    })
}

async fn admins_maintain_places_in_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (city, district, family) = admins(&app).await;

    let body = provider("新街口普惠托育园", "玄武区", "新街口街道", 120, true);
    let refused = send(
        &app,
        &family,
        Method::POST,
        "/api/v1/admin/places",
        Some(body.clone()),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "a family");
    let elsewhere = provider("湖南路托育园", "鼓楼区", "湖南路街道", 80, false);
    let refused = send(
        &app,
        &district,
        Method::POST,
        "/api/v1/admin/places",
        Some(elsewhere.clone()),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "another district");

    let created = send(
        &app,
        &district,
        Method::POST,
        "/api/v1/admin/places",
        Some(body.clone()),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let place: Value = created.json().await.expect("JSON");
    let id = place["id"].as_i64().expect("place id");
    assert_eq!(
        place["public_benefit"]["source"],
        "玄武区卫健委普惠托育机构名单"
    );
    assert_eq!(place["star_rating"]["value"], 4);
    assert_eq!(place["childcare_places"], 120);
    assert_eq!(place["street"], "新街口街道");
    // Stored in WGS-84, a few hundred metres from the GCJ-02 input.
    let latitude = place["latitude"].as_f64().expect("latitude");
    let shift = (latitude - 32.0536).abs();
    assert!(shift > 0.0005, "converted from GCJ-02: {shift}");
    assert!(shift < 0.01, "still near the input: {shift}");

    let other = send(
        &app,
        &city,
        Method::POST,
        "/api/v1/admin/places",
        Some(elsewhere),
    )
    .await;
    assert_eq!(
        other.status(),
        StatusCode::CREATED,
        "the city administrator"
    );
    let other_id = other.json::<Value>().await.expect("JSON")["id"]
        .as_i64()
        .expect("place id");
    let hidden = send(
        &app,
        &district,
        Method::PUT,
        &format!("/api/v1/admin/places/{other_id}"),
        Some(provider("改名", "鼓楼区", "湖南路街道", 1, false)),
    )
    .await;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND, "outside the scope");

    let invalid_cases = [
        ("street", json!("湖南路街道")),
        ("district", json!("江北新区")),
        ("childcare_places", json!(50_000)),
        ("max_age_months", json!(3)),
        (
            "star_rating",
            json!({ "value": 6, "source": "x", "date": "2026-11-20" }),
        ),
        (
            "public_benefit",
            json!({ "value": true, "source": "x", "date": "2099-01-01" }),
        ),
        ("latitude", json!(123.0)),
    ];
    for (field, value) in invalid_cases {
        let mut bad = body.clone();
        bad[field] = value;
        let response = send(
            &app,
            &district,
            Method::PUT,
            &format!("/api/v1/admin/places/{id}"),
            Some(bad),
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}"
        );
        let error: Value = response.json().await.expect("JSON");
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{field}: {error}"
        );
    }

    let mut lost = body;
    lost["public_benefit"] = Value::Null;
    lost["childcare_places"] = json!(90);
    let updated = send(
        &app,
        &district,
        Method::PUT,
        &format!("/api/v1/admin/places/{id}"),
        Some(lost),
    )
    .await;
    assert_eq!(updated.status(), StatusCode::OK);
    let updated: Value = updated.json().await.expect("JSON");
    assert!(
        updated["public_benefit"].is_null(),
        "the status was withdrawn"
    );
    assert_eq!(updated["childcare_places"], 90);
    assert_eq!(audit_count(&app, "place.create").await, 2);
    assert_eq!(audit_count(&app, "place.update").await, 1);

    // The place page shows the disclosures with their sources.
    let page = app
        .get(&format!("/places/{id}"))
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("玄武区卫健委备案公示"), "registration source");
    assert!(
        page.contains("玄武区托育机构星级评定"),
        "star rating source"
    );
}
on_both_backends!(admins_maintain_places_in_scope);

async fn coverage_counts_places_per_district_and_street(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (city, district, family) = admins(&app).await;
    // 2,600 places for 575,200 residents: 4.52 per 1,000, above 4.5.
    for (name, seats, public_benefit) in [("甲", 2_000, true), ("乙", 600, false)] {
        let body = provider(
            &format!("新街口托育{name}"),
            "玄武区",
            "新街口街道",
            seats,
            public_benefit,
        );
        let created = send(
            &app,
            &city,
            Method::POST,
            "/api/v1/admin/places",
            Some(body),
        )
        .await;
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    let gulou = provider("湖南路托育园", "鼓楼区", "湖南路街道", 100, true);
    assert_eq!(
        send(
            &app,
            &city,
            Method::POST,
            "/api/v1/admin/places",
            Some(gulou)
        )
        .await
        .status(),
        StatusCode::CREATED
    );

    assert_eq!(
        send(&app, &family, Method::GET, "/api/v1/admin/coverage", None)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let report: Value = send(&app, &city, Method::GET, "/api/v1/admin/coverage", None)
        .await
        .json()
        .await
        .expect("JSON");
    let xuanwu = report["districts"]
        .as_array()
        .expect("districts")
        .iter()
        .find(|row| row["name"] == "玄武区")
        .expect("玄武区");
    assert_eq!(xuanwu["population"], 575_200);
    assert_eq!(xuanwu["childcare_places"], 2_600);
    assert_eq!(xuanwu["per_1000"], 4.52);
    assert_eq!(xuanwu["meets_target"], true);
    assert_eq!(xuanwu["streets"], 2);
    assert_eq!(xuanwu["streets_without_public_benefit"], 1);
    let gulou = report["districts"]
        .as_array()
        .expect("districts")
        .iter()
        .find(|row| row["name"] == "鼓楼区")
        .expect("鼓楼区");
    assert_eq!(gulou["meets_target"], false);
    let xinjiekou = report["streets"]
        .as_array()
        .expect("streets")
        .iter()
        .find(|row| row["name"] == "新街口街道")
        .expect("新街口街道");
    assert_eq!(xinjiekou["public_benefit_providers"], 1);
    assert_eq!(xinjiekou["public_benefit_places"], 2_000);

    // A district administrator gets only their district.
    let own: Value = send(&app, &district, Method::GET, "/api/v1/admin/coverage", None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(own["districts"].as_array().map(Vec::len), Some(1));
    assert!(
        own["streets"]
            .as_array()
            .expect("streets")
            .iter()
            .all(|row| row["district"] == "玄武区")
    );

    // The page shows the same figures.
    let page = app
        .client
        .get(app.url("/admin/coverage"))
        .header("cookie", &city.cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(page.contains("4.52"), "per 1,000 residents on the page");
    assert!(
        page.contains("梅园新村街道"),
        "the street without a provider is listed"
    );
}
on_both_backends!(coverage_counts_places_per_district_and_street);

async fn upload_reports_bad_rows_and_dry_run_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (city, district, _) = admins(&app).await;
    let file = "\
category,name,address,district,lng_gcj02,lat_gcj02
kindergarten,上传测试幼儿园,上传路1号,玄武区,118.7970,32.0490
kindergarten,坐标错误的幼儿园,上传路2号,玄武区,abc,32.0490
community_health_centre,上传测试卫生服务中心,上传路3号,鼓楼区,118.7700,32.0660
";
    let upload = |who: &Person, query: &str| {
        app.client
            .post(app.url(&format!("/api/v1/admin/imports/places?{query}")))
            .header("cookie", &who.cookie)
            .header("origin", app.url(""))
            .header("content-type", "text/csv")
            .body(file)
            .send()
    };
    let refused = upload(&district, "format=csv&crs=gcj02&source=upload")
        .await
        .expect("sent");
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "city administrators only"
    );
    let bad_crs = upload(&city, "format=csv&crs=utm&source=upload")
        .await
        .expect("sent");
    assert_eq!(bad_crs.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let before = app
        .get("/api/v1/places?limit=1")
        .await
        .json::<Value>()
        .await
        .expect("JSON")["total"]
        .as_i64()
        .expect("total");
    let dry: Value = upload(&city, "format=csv&crs=gcj02&source=upload&dry_run=true")
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["inserted"], 2);
    assert_eq!(dry["rejected"][0]["line"], 3, "the bad row's line");
    let total = |value: Value| value["total"].as_i64().expect("total");
    assert_eq!(
        total(
            app.get("/api/v1/places?limit=1")
                .await
                .json()
                .await
                .expect("JSON")
        ),
        before,
        "a dry run writes nothing"
    );

    let done: Value = upload(&city, "format=csv&crs=gcj02&source=upload")
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    assert_eq!(done["inserted"], 2);
    let again: Value = upload(&city, "format=csv&crs=gcj02&source=upload")
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        (again["inserted"].as_i64(), again["updated"].as_i64()),
        (Some(0), Some(2)),
        "idempotent"
    );
    assert_eq!(
        total(
            app.get("/api/v1/places?limit=1")
                .await
                .json()
                .await
                .expect("JSON")
        ),
        before + 2
    );
}
on_both_backends!(upload_reports_bad_rows_and_dry_run_writes_nothing);

async fn place_form_works_without_javascript(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, district, _) = admins(&app).await;
    let post = |fields: Vec<(&'static str, &'static str)>| {
        app.client
            .post(app.url("/sfn/save_place"))
            .header("cookie", &district.cookie)
            .header("origin", app.url(""))
            .header("referer", app.url("/admin/places/new"))
            .header("accept", "text/html")
            .form(&fields)
            .send()
    };
    let mut fields = vec![
        ("form[kind]", "community_room"),
        ("form[name]", "梅园新村社区亲子室"),
        ("form[address]", "长江路1号"),
        ("form[district]", "玄武区"),
        ("form[street]", "梅园新村街道"),
        ("form[latitude]", "32.0449"),
        ("form[longitude]", "118.8213"),
        ("form[crs]", "gcj02"),
        ("form[services][1]", "parent_child_activity"),
        ("form[fee_kind]", "free"),
        ("form[childcare_places]", "20"),
        ("form[public_benefit]", "yes"),
        ("form[public_benefit_source]", "玄武区卫健委公示"),
        ("form[public_benefit_date]", "2026-11-01"),
    ];

    // A disclosure without its date returns to the form with the error.
    fields.push(("form[star_rating]", "3"));
    let missing_date = post(fields.clone()).await.expect("posted");
    assert_eq!(missing_date.status(), StatusCode::FOUND);
    let target = missing_date.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(target.contains("__err="), "{target}");

    fields.pop();
    let saved = post(fields).await.expect("posted");
    assert_eq!(saved.status(), StatusCode::FOUND);
    let target = saved.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(target.starts_with("/places/"), "{target}");
    let page = app.get(&target).await.text().await.expect("page");
    assert!(page.contains("梅园新村社区亲子室"));
    assert!(
        page.contains("玄武区卫健委公示"),
        "the disclosure source is shown"
    );

    // The form for that place is filled in.
    let id = target.trim_start_matches("/places/");
    let form = app
        .client
        .get(app.url(&format!("/admin/places/{id}/edit")))
        .header("cookie", &district.cookie)
        .send()
        .await
        .expect("form")
        .text()
        .await
        .expect("body");
    assert!(
        form.contains(r#"value="玄武区卫健委公示""#),
        "source prefilled"
    );
    assert!(form.contains(r#"value="20""#), "childcare places prefilled");
}
on_both_backends!(place_form_works_without_javascript);

/// Builds a `multipart/form-data` body as a browser sends the upload form.
fn multipart(fields: &[(&str, &str)], file: &str) -> (String, String) {
    let boundary = "ningyu-test-boundary";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"places.csv\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
    ));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload_page_shows_the_report(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (city, district, _) = admins(&app).await;
    let file = "\
category,name,address,district,lng_gcj02,lat_gcj02
kindergarten,页面上传幼儿园,上传路1号,玄武区,118.7970,32.0490
kindergarten,缺坐标的幼儿园,上传路2号,玄武区,,
";
    let (content_type, body) = multipart(
        &[("format", "csv"), ("crs", "gcj02"), ("source", "page")],
        file,
    );
    let post = |who: &Person| {
        app.client
            .post(app.url("/admin/places/import"))
            .header("cookie", &who.cookie)
            .header("origin", app.url(""))
            .header("content-type", &content_type)
            .body(body.clone())
            .send()
    };
    let refused = post(&district).await.expect("sent");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused.text().await.expect("body").contains("权限"),
        "translated"
    );

    let done = post(&city).await.expect("sent");
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let target = done.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(target.starts_with("/admin/imports/"), "{target}");
    let page = app
        .client
        .get(app.url(&target))
        .header("cookie", &city.cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(page.contains("新增 1 个"), "counts on the page");
    assert!(page.contains("places.csv"), "the file name");
    assert!(page.contains("被拒绝的行"), "the rejected rows are listed");
    assert!(page.contains("<td>3<"), "with the line number");
    assert_eq!(audit_count(&app, "places.import").await, 1);

    let other = app
        .client
        .get(app.url(&target))
        .header("cookie", &district.cookie)
        .send()
        .await
        .expect("page");
    assert_eq!(
        other.status(),
        StatusCode::FORBIDDEN,
        "city administrators only"
    );
}
on_both_backends!(upload_page_shows_the_report);
