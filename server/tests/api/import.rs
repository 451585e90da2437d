//! Importing the real Nanjing reference data and malformed files.

use std::path::PathBuf;

use app::domain::import::{self, PlaceImportOptions};
use app::entity::{district, place, street};
use app::geo::{Crs, GeoPoint};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

/// The Nanjing reference data, read in place and never copied into the
/// repository: `NINGYU_NANJING_DATA`, else the `shared` folder beside the
/// checkout. `None` when neither exists.
pub(crate) fn nanjing_data() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("NINGYU_NANJING_DATA") {
        return Some(PathBuf::from(dir));
    }
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/nanjing");
    beside.is_dir().then_some(beside)
}

pub(crate) fn open(dir: &std::path::Path, name: &str) -> std::fs::File {
    let path = dir.join(name);
    std::fs::File::open(&path)
        .unwrap_or_else(|error| panic!("cannot open {}: {error}", path.display()))
}

/// Three places in the city's file format, written for these tests.
const SMALL_PLACES: &str = "\
category,name,address,district,lng_gcj02,lat_gcj02,amap_type
kindergarten,测试幼儿园甲,测试路1号,鼓楼区,118.7700,32.0660,科教文化服务;学校;幼儿园
kindergarten,测试幼儿园乙,测试路2号,玄武区,118.7970,32.0490,科教文化服务;学校;幼儿园
community_health_centre,测试社区卫生服务中心,测试路3号,秦淮区,118.7930,32.0260,医疗保健服务;综合医院;社区卫生服务中心
";

fn gcj02(source: &str, dry_run: bool) -> PlaceImportOptions {
    PlaceImportOptions {
        crs: Crs::Gcj02,
        source: source.to_owned(),
        dry_run,
    }
}

async fn nanjing_files_import_with_expected_counts(backend: Backend) {
    let Some(dir) = nanjing_data() else {
        // NOTE: the city's files live outside the repository. Without them
        // only this test is skipped, and .ci/test prints a warning.
        eprintln!("SKIPPED: the Nanjing data folder is missing; set NINGYU_NANJING_DATA");
        return;
    };
    let app = TestApp::spawn(backend).await;
    let now = chrono::Utc::now();

    let (districts, streets) = import::import_regions_csv(
        &app.db,
        open(&dir, "districts.csv"),
        open(&dir, "streets.csv"),
        Crs::Gcj02,
        false,
        now,
    )
    .await
    .expect("regions import");
    let places = import::import_places_csv(
        &app.db,
        open(&dir, "places-amap2018-gcj02.csv"),
        &gcj02("amap2018", false),
        now,
    )
    .await
    .expect("places import");

    // The demo data already contains the four districts of its places.
    assert_eq!(districts.inserted, 7, "districts: {districts:?}");
    assert_eq!(districts.updated, 4, "districts: {districts:?}");
    assert!(districts.rejected.is_empty(), "{:?}", districts.rejected);
    assert_eq!(streets.inserted, 101, "streets: {:?}", streets.rejected);
    assert_eq!(places.inserted, 1355, "places: {:?}", places.rejected);
    assert!(places.rejected.is_empty(), "{:?}", places.rejected);
    assert_eq!(
        places.warnings.len(),
        1,
        "the row with 南京市 as district: {:?}",
        places.warnings
    );
    assert!(places.warnings[0].reason.contains("南京市"));

    assert_eq!(
        district::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        11
    );
    assert_eq!(
        street::Entity::find().count(&app.db).await.expect("count"),
        101
    );
    let imported = place::Entity::find()
        .filter(place::Column::IsDemo.eq(false))
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(imported, 1355);
    let disclosed = place::Entity::find()
        .filter(place::Column::IsDemo.eq(false))
        .filter(
            place::Column::PublicBenefit
                .is_not_null()
                .or(place::Column::Registered.is_not_null())
                .or(place::Column::StarRating.is_not_null()),
        )
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(
        disclosed, 0,
        "the city's file says nothing of 普惠, 备案 or 星级"
    );
}
on_both_backends!(nanjing_files_import_with_expected_counts);

async fn reimport_updates_instead_of_duplicating(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = chrono::Utc::now();
    let options = gcj02("amap2018", false);
    let first = import::import_places_csv(&app.db, SMALL_PLACES.as_bytes(), &options, now)
        .await
        .expect("first import");
    assert_eq!(first.inserted, 3);

    let again = import::import_places_csv(&app.db, SMALL_PLACES.as_bytes(), &options, now)
        .await
        .expect("second import");

    assert_eq!(again.inserted, 0);
    assert_eq!(again.updated, 3);
    let imported = place::Entity::find()
        .filter(place::Column::IsDemo.eq(false))
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(imported, 3);
}
on_both_backends!(reimport_updates_instead_of_duplicating);

async fn dry_run_counts_but_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let report = import::import_places_csv(
        &app.db,
        SMALL_PLACES.as_bytes(),
        &gcj02("amap2018", true),
        chrono::Utc::now(),
    )
    .await
    .expect("dry run");

    assert!(report.dry_run);
    assert_eq!(report.inserted, 3);
    let imported = place::Entity::find()
        .filter(place::Column::IsDemo.eq(false))
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(imported, 0, "a dry run leaves the database unchanged");
}
on_both_backends!(dry_run_counts_but_writes_nothing);

#[tokio::test]
async fn bad_rows_are_reported_by_line() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let csv = "\
category,name,address,district,lng_gcj02,lat_gcj02
kindergarten,好孩子幼儿园,中山路1号,鼓楼区,118.7836,32.0395
kindergarten,,无名路,鼓楼区,118.78,32.04
swimming_pool,游泳馆,某路,鼓楼区,118.78,32.04
kindergarten,坐标错误幼儿园,某路,鼓楼区,abc,32.04
kindergarten,越界幼儿园,某路,鼓楼区,118.78,95
kindergarten,\"带,逗号的\"幼儿园,\"汉中路1号,2楼\",鼓楼区,118.78,32.04
";

    let report = import::import_places_csv(
        &app.db,
        csv.as_bytes(),
        &gcj02("test", false),
        chrono::Utc::now(),
    )
    .await
    .expect("import runs");

    let lines: Vec<(u64, &str)> = report
        .rejected
        .iter()
        .map(|row| (row.line, row.reason.as_str()))
        .collect();
    assert_eq!(report.inserted, 2, "first and last rows: {lines:?}");
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0].0, 3);
    assert!(lines[0].1.contains("name is empty"));
    assert_eq!(lines[1].0, 4);
    assert!(lines[1].1.contains("unknown kind"));
    assert_eq!(lines[2].0, 5);
    assert!(lines[2].1.contains("longitude"));
    assert_eq!(lines[3].0, 6);
    assert!(lines[3].1.contains("latitude"));
}

#[tokio::test]
async fn imported_points_are_stored_in_wgs84() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let csv = "kind,name,lng,lat\ncommunity_room,测试亲子室,118.7836,32.0395\n";

    import::import_places_csv(
        &app.db,
        csv.as_bytes(),
        &gcj02("test", false),
        chrono::Utc::now(),
    )
    .await
    .expect("import runs");

    let row = place::Entity::find()
        .filter(place::Column::Name.eq("测试亲子室"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("imported row");
    assert_eq!(row.source_crs, "gcj02");
    assert_eq!(
        (row.source_latitude, row.source_longitude),
        (32.0395, 118.7836)
    );
    let stored = GeoPoint::new(row.latitude, row.longitude).expect("valid point");
    let expected_wgs84 = GeoPoint::new(32.0415, 118.7784).expect("valid point");
    assert!(stored.distance_m(expected_wgs84) < 60.0, "{stored:?}");
}

#[tokio::test]
async fn missing_column_fails_the_whole_import() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let csv = "kind,name,lat\ncommunity_room,缺经度,32.0\n";

    let error = import::import_places_csv(
        &app.db,
        csv.as_bytes(),
        &gcj02("test", false),
        chrono::Utc::now(),
    )
    .await
    .expect_err("no longitude column");

    assert_eq!(error.code(), "invalid");
}

async fn disclosure_columns_need_a_date(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let csv = "\
kind,name,lng,lat,public_benefit,public_benefit_date,public_benefit_source,registered,registered_date,star_rating,star_rating_date
childcare_provider,普惠机构,118.78,32.04,是,2026-10-08,鼓楼区卫健委公示,true,2026-03-02,4,2026-09-01
childcare_provider,无公示机构,118.79,32.04,,,,,,,
childcare_provider,缺日期机构,118.80,32.04,是,,,,,,
childcare_provider,六星机构,118.81,32.04,,,,,,6,2026-09-01
childcare_provider,看不懂机构,118.82,32.04,也许,2026-10-08,,,,,
";
    let now = chrono::Utc::now();

    let report =
        import::import_places_csv(&app.db, csv.as_bytes(), &gcj02("district-2026", false), now)
            .await
            .expect("import runs");

    let lines: Vec<(u64, &str)> = report
        .rejected
        .iter()
        .map(|row| (row.line, row.reason.as_str()))
        .collect();
    assert_eq!(report.inserted, 2, "{lines:?}");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0].0, 4);
    assert!(lines[0].1.contains("public_benefit_date"), "{}", lines[0].1);
    assert_eq!(lines[1].0, 5);
    assert!(lines[1].1.contains("star_rating"), "{}", lines[1].1);
    assert_eq!(lines[2].0, 6);
    assert!(lines[2].1.contains("public_benefit"), "{}", lines[2].1);

    let find = |name: &'static str| {
        let db = app.db.clone();
        async move {
            place::Entity::find()
                .filter(place::Column::Name.eq(name))
                .one(&db)
                .await
                .expect("query")
                .expect("imported row")
        }
    };
    let disclosed = find("普惠机构").await;
    assert_eq!(disclosed.public_benefit, Some(true));
    assert_eq!(
        disclosed.public_benefit_source.as_deref(),
        Some("鼓楼区卫健委公示")
    );
    assert_eq!(
        disclosed.public_benefit_date,
        chrono::NaiveDate::from_ymd_opt(2026, 10, 8)
    );
    assert_eq!(disclosed.registered, Some(true));
    assert_eq!(
        disclosed.registration_source.as_deref(),
        Some("district-2026"),
        "the import's source when the row names none"
    );
    assert_eq!(disclosed.star_rating, Some(4));
    let silent = find("无公示机构").await;
    assert_eq!(silent.public_benefit, None);
    assert_eq!(silent.registered, None);
    assert_eq!(silent.star_rating, None);
}
on_both_backends!(disclosure_columns_need_a_date);

async fn reimport_keeps_recorded_disclosures(backend: Backend) {
    use sea_orm::{ActiveModelTrait, Set};

    let app = TestApp::spawn(backend).await;
    let options = gcj02("district-2026", false);
    let csv = "kind,name,lng,lat\nchildcare_provider,已有公示机构,118.78,32.04\n";
    import::import_places_csv(&app.db, csv.as_bytes(), &options, chrono::Utc::now())
        .await
        .expect("first import");
    let row = place::Entity::find()
        .filter(place::Column::Name.eq("已有公示机构"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("imported row");
    let mut recorded: place::ActiveModel = row.into();
    recorded.star_rating = Set(Some(3));
    recorded.star_rating_date = Set(chrono::NaiveDate::from_ymd_opt(2026, 9, 1));
    recorded.star_rating_source = Set(Some("管理员录入".to_owned()));
    recorded
        .update(&app.db)
        .await
        .expect("administrator's decision");

    let again = import::import_places_csv(&app.db, csv.as_bytes(), &options, chrono::Utc::now())
        .await
        .expect("second import");

    assert_eq!(again.updated, 1);
    let row = place::Entity::find()
        .filter(place::Column::Name.eq("已有公示机构"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("imported row");
    assert_eq!(
        row.star_rating,
        Some(3),
        "a file without the column keeps it"
    );
    assert_eq!(row.star_rating_source.as_deref(), Some("管理员录入"));
}
on_both_backends!(reimport_keeps_recorded_disclosures);

/// Two good places, one line, one point without coordinates and one
/// feature without a name, as GeoJSON in GCJ-02.
const SMALL_GEOJSON: &str = r#"{
  "type": "FeatureCollection",
  "features": [
    { "type": "Feature",
      "geometry": { "type": "Point", "coordinates": [118.7700, 32.0660] },
      "properties": { "category": "kindergarten", "name": "地理幼儿园甲", "district": "鼓楼区" } },
    { "type": "Feature",
      "geometry": { "type": "Point", "coordinates": [118.7970, 32.0490] },
      "properties": { "kind": "community_room", "name": "地理亲子室",
                      "public_benefit": "true", "public_benefit_date": "2026-09-01" } },
    { "type": "Feature",
      "geometry": { "type": "LineString", "coordinates": [[118.1, 32.1], [118.2, 32.2]] },
      "properties": { "kind": "community_room", "name": "一条线" } },
    { "type": "Feature",
      "geometry": { "type": "Point", "coordinates": ["东经", 32.0] },
      "properties": { "kind": "community_room", "name": "坏坐标" } },
    { "type": "Feature",
      "geometry": { "type": "Point", "coordinates": [118.79, 32.04] },
      "properties": { "kind": "community_room" } }
  ]
}"#;

async fn geojson_places_import_row_by_row(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = chrono::Utc::now();
    let before = place::Entity::find().count(&app.db).await.expect("count");

    let dry = import::import_places_geojson(
        &app.db,
        SMALL_GEOJSON.as_bytes(),
        &gcj02("geo-test", true),
        now,
    )
    .await
    .expect("dry run");
    assert_eq!(dry.inserted, 2);
    assert_eq!(
        place::Entity::find().count(&app.db).await.expect("count"),
        before,
        "a dry run writes nothing"
    );

    let report = import::import_places_geojson(
        &app.db,
        SMALL_GEOJSON.as_bytes(),
        &gcj02("geo-test", false),
        now,
    )
    .await
    .expect("import");
    assert_eq!(report.inserted, 2);
    let rejected: Vec<u64> = report.rejected.iter().map(|problem| problem.line).collect();
    assert_eq!(rejected, vec![3, 4, 5], "{:?}", report.rejected);
    assert!(report.rejected[0].reason.contains("not a Point"));

    // The point is stored in WGS-84, the source point in GCJ-02.
    let stored = place::Entity::find()
        .filter(place::Column::Name.eq("地理幼儿园甲"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("imported");
    assert_eq!(stored.source_crs, "gcj02");
    assert!((stored.source_longitude - 118.77).abs() < 1e-9);
    let back = GeoPoint::new(stored.latitude, stored.longitude)
        .expect("valid point")
        .from_wgs84(Crs::Gcj02);
    assert!(back.distance_m(GeoPoint::new(32.066, 118.77).expect("point")) < 1.0);
    let room = place::Entity::find()
        .filter(place::Column::Name.eq("地理亲子室"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("imported");
    assert_eq!(room.public_benefit, Some(true));

    // Importing the same source again updates instead of duplicating.
    let again = import::import_places_geojson(
        &app.db,
        SMALL_GEOJSON.as_bytes(),
        &gcj02("geo-test", false),
        now,
    )
    .await
    .expect("re-import");
    assert_eq!((again.inserted, again.updated), (0, 2));

    let not_geojson = import::import_places_geojson(
        &app.db,
        r#"{"type": "Feature"}"#.as_bytes(),
        &gcj02("geo-test", false),
        now,
    )
    .await;
    assert!(matches!(
        not_geojson,
        Err(app::error::AppError::BadRequest { .. })
    ));
}
on_both_backends!(geojson_places_import_row_by_row);
