//! Importing places (CSV or GeoJSON), districts and streets (CSV).
//!
//! Every row is checked on its own: a bad row is reported with its line
//! number and reason, and the import goes on. Points are converted from the
//! declared reference system to WGS-84, and the source point and system are
//! kept beside them. Re-importing a file updates the rows it created, keyed
//! by source, category, name and source point. A dry run does all the work
//! in a transaction and rolls it back, so its counts are exact.
//!
//! A places file may carry the public-benefit (普惠), registration (备案) and
//! star rating (星级) decisions in optional columns, each with its date. A
//! row that leaves them empty sets nothing, so re-importing a file never
//! clears a decision that an administrator recorded.

use std::io::Read;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};
use serde::Serialize;

use crate::entity::{district, import_run, place, street};
use crate::error::AppError;
use crate::geo::{Crs, GeoPoint};
use crate::model::PlaceKind;

/// Longest place name accepted, in characters.
const MAX_NAME_CHARS: usize = 200;
/// Longest address accepted, in characters.
const MAX_ADDRESS_CHARS: usize = 500;

/// What an import did, or in a dry run would do.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub inserted: u64,
    pub updated: u64,
    pub rejected: Vec<RowProblem>,
    /// Rows imported with a field dropped, for example an unknown district.
    pub warnings: Vec<RowProblem>,
    pub dry_run: bool,
}

/// A problem with one row; `line` counts the header as line 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowProblem {
    pub line: u64,
    pub reason: String,
}

/// How to read a places file.
#[derive(Debug, Clone)]
pub struct PlaceImportOptions {
    /// Reference system of the file's coordinates.
    pub crs: Crs,
    /// Short name of the data source, part of each row's import key.
    pub source: String,
    pub dry_run: bool,
}

/// Maps a source category to a place kind. Accepts Ningyu's own kind names
/// and the categories of the Nanjing points-of-interest export.
// NOTE: the export's categories are approximate: not every kindergarten runs
// a toddler class, and not every community service centre has a
// parent-child room. Administrators correct kinds after import.
fn kind_from_category(category: &str) -> Option<PlaceKind> {
    PlaceKind::parse(category).or(match category {
        "kindergarten" => Some(PlaceKind::ToddlerClass),
        "early_childhood_centre" => Some(PlaceKind::ChildcareProvider),
        "community_service_centre" => Some(PlaceKind::CommunityRoom),
        "community_health_centre" | "maternal_child_health" => Some(PlaceKind::HealthCentre),
        _ => None,
    })
}

/// Column positions of a places file, found by header name.
struct PlaceColumns {
    category: usize,
    name: usize,
    address: Option<usize>,
    district: Option<usize>,
    phone: Option<usize>,
    longitude: usize,
    latitude: usize,
    public_benefit: DisclosureColumns,
    registered: DisclosureColumns,
    star_rating: DisclosureColumns,
}

/// Column positions of one optional disclosure: `<name>`, `<name>_date`
/// and `<name>_source`.
struct DisclosureColumns {
    value: Option<usize>,
    date: Option<usize>,
    source: Option<usize>,
}

impl DisclosureColumns {
    fn find(headers: &csv::StringRecord, name: &str) -> Self {
        let position = |wanted: &str| headers.iter().position(|header| header.trim() == wanted);
        Self {
            value: position(name),
            date: position(&format!("{name}_date")),
            source: position(&format!("{name}_source")),
        }
    }
}

/// A disclosed decision read from a row, with its date and source.
#[derive(Debug, Clone, PartialEq)]
struct RowDisclosure<T> {
    value: T,
    date: NaiveDate,
    source: String,
}

/// Maximum length of a disclosure source in characters, as the column allows.
const MAX_SOURCE_CHARS: usize = 200;

/// Reads one disclosure of a row. An empty value means the row discloses
/// nothing. A value needs a `YYYY-MM-DD` date, and the source defaults to
/// the import's `--source` name.
fn parse_disclosure<T>(
    field: impl Fn(usize) -> String,
    columns: &DisclosureColumns,
    name: &str,
    default_source: &str,
    parse_value: impl Fn(&str) -> Option<T>,
) -> Result<Option<RowDisclosure<T>>, String> {
    let Some(text) = columns.value.map(&field).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    let value = parse_value(&text).ok_or_else(|| format!("{name} {text:?} is not valid"))?;
    let date_text = columns.date.map(&field).unwrap_or_default();
    let date = NaiveDate::parse_from_str(&date_text, "%Y-%m-%d")
        .map_err(|_| format!("{name}_date {date_text:?} must be a date written YYYY-MM-DD"))?;
    let source = columns
        .source
        .map(&field)
        .filter(|source| !source.is_empty())
        .unwrap_or_else(|| default_source.to_owned());
    if source.chars().count() > MAX_SOURCE_CHARS {
        return Err(format!(
            "{name}_source is longer than {MAX_SOURCE_CHARS} characters"
        ));
    }
    Ok(Some(RowDisclosure {
        value,
        date,
        source,
    }))
}

/// Parses a yes-or-no disclosure: true, false, 1, 0, 是 or 否.
fn parse_yes_no(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "是" => Some(true),
        "false" | "0" | "否" => Some(false),
        _ => None,
    }
}

/// Parses a star rating from 1 to 5.
fn parse_stars(text: &str) -> Option<i32> {
    text.parse::<i32>()
        .ok()
        .filter(|stars| (1..=5).contains(stars))
}

impl PlaceColumns {
    fn find(headers: &csv::StringRecord) -> Result<Self, AppError> {
        let position = |names: &[&str]| {
            headers
                .iter()
                .position(|header| names.contains(&header.trim()))
        };
        let required = |names: &[&str], field: &str| {
            position(names).ok_or_else(|| {
                AppError::invalid(field, format!("missing column, expected one of {names:?}"))
            })
        };
        Ok(Self {
            category: required(&["kind", "category"], "kind")?,
            name: required(&["name"], "name")?,
            address: position(&["address"]),
            district: position(&["district"]),
            phone: position(&["phone", "tel"]),
            longitude: required(
                &[
                    "longitude",
                    "lng",
                    "lon",
                    "lng_gcj02",
                    "lng_wgs84",
                    "lng_bd09",
                ],
                "longitude",
            )?,
            latitude: required(
                &["latitude", "lat", "lat_gcj02", "lat_wgs84", "lat_bd09"],
                "latitude",
            )?,
            public_benefit: DisclosureColumns::find(headers, "public_benefit"),
            registered: DisclosureColumns::find(headers, "registered"),
            star_rating: DisclosureColumns::find(headers, "star_rating"),
        })
    }
}

/// A places row that passed every check.
struct PlaceRow {
    line: u64,
    kind: PlaceKind,
    name: String,
    address: String,
    district: Option<String>,
    phone: Option<String>,
    source_point: GeoPoint,
    point: GeoPoint,
    key: String,
    public_benefit: Option<RowDisclosure<bool>>,
    registered: Option<RowDisclosure<bool>>,
    star_rating: Option<RowDisclosure<i32>>,
}

/// Imports places from a CSV file with a header row.
pub async fn import_places_csv(
    db: &DatabaseConnection,
    input: impl Read,
    options: &PlaceImportOptions,
    now: DateTime<Utc>,
) -> Result<ImportReport, AppError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader
        .headers()
        .map_err(|error| AppError::BadRequest {
            detail: format!("cannot read the header row: {error}"),
        })?
        .clone();
    // Line 1 is the header; a record's line counts from 2.
    let records = reader
        .records()
        .enumerate()
        .map(|(index, record)| {
            let line = index as u64 + 2;
            (
                line,
                record.map_err(|error| format!("unreadable row: {error}")),
            )
        })
        .collect();
    import_place_records(db, &headers, records, options, now).await
}

/// The properties a GeoJSON place feature may carry, in the order of the
/// columns they become.
const GEOJSON_PROPERTIES: [&str; 14] = [
    "kind",
    "name",
    "address",
    "district",
    "phone",
    "public_benefit",
    "public_benefit_date",
    "public_benefit_source",
    "registered",
    "registered_date",
    "registered_source",
    "star_rating",
    "star_rating_date",
    "star_rating_source",
];

/// Imports places from a GeoJSON FeatureCollection of Point features. The
/// properties are the CSV columns' names (`kind` or `category`, `name`,
/// `address`, `district`, `phone` and the disclosures). A problem's `line`
/// is the feature's position in the collection, counting from 1.
pub async fn import_places_geojson(
    db: &DatabaseConnection,
    mut input: impl Read,
    options: &PlaceImportOptions,
    now: DateTime<Utc>,
) -> Result<ImportReport, AppError> {
    let mut text = String::new();
    input
        .read_to_string(&mut text)
        .map_err(|error| AppError::BadRequest {
            detail: format!("cannot read the file as UTF-8 text: {error}"),
        })?;
    let document: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| AppError::BadRequest {
            detail: format!("not JSON: {error}"),
        })?;
    if document.get("type").and_then(serde_json::Value::as_str) != Some("FeatureCollection") {
        return Err(AppError::BadRequest {
            detail: "expected a GeoJSON FeatureCollection".to_owned(),
        });
    }
    let features = document
        .get("features")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| AppError::BadRequest {
            detail: "the FeatureCollection has no features array".to_owned(),
        })?;
    let mut header_names: Vec<&str> = GEOJSON_PROPERTIES.to_vec();
    header_names.extend(["longitude", "latitude"]);
    let headers = csv::StringRecord::from(header_names);
    let records = features
        .iter()
        .enumerate()
        .map(|(index, feature)| (index as u64 + 1, feature_record(feature)))
        .collect();
    import_place_records(db, &headers, records, options, now).await
}

/// Turns one GeoJSON feature into a record in the order of
/// [`GEOJSON_PROPERTIES`], then longitude and latitude.
fn feature_record(feature: &serde_json::Value) -> Result<csv::StringRecord, String> {
    use serde_json::Value;

    let geometry = feature
        .get("geometry")
        .filter(|geometry| !geometry.is_null())
        .ok_or("the feature has no geometry")?;
    if geometry.get("type").and_then(Value::as_str) != Some("Point") {
        return Err("the geometry is not a Point".to_owned());
    }
    let coordinates = geometry
        .get("coordinates")
        .and_then(Value::as_array)
        .filter(|pair| pair.len() >= 2)
        .ok_or("the Point has no [longitude, latitude] pair")?;
    let number = |value: &Value| value.as_f64().ok_or("a coordinate is not a number");
    let (longitude, latitude) = (number(&coordinates[0])?, number(&coordinates[1])?);
    let empty = serde_json::Map::new();
    let properties = feature
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let text = |name: &str| match properties.get(name) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        Some(Value::Bool(flag)) => flag.to_string(),
        _ => String::new(),
    };
    let mut fields: Vec<String> = GEOJSON_PROPERTIES
        .iter()
        .map(|name| match *name {
            "kind" if properties.get("kind").is_none() => text("category"),
            name => text(name),
        })
        .collect();
    fields.push(longitude.to_string());
    fields.push(latitude.to_string());
    Ok(csv::StringRecord::from(fields))
}

/// Checks and writes place records, each with the line or feature number
/// its problems are reported under.
async fn import_place_records(
    db: &DatabaseConnection,
    headers: &csv::StringRecord,
    records: Vec<(u64, Result<csv::StringRecord, String>)>,
    options: &PlaceImportOptions,
    now: DateTime<Utc>,
) -> Result<ImportReport, AppError> {
    let columns = PlaceColumns::find(headers)?;

    let known_districts: Vec<String> = district::Entity::find()
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|row| row.name)
        .collect();

    let mut report = ImportReport {
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    let mut rows = Vec::new();
    for (line, record) in records {
        let record = match record {
            Ok(record) => record,
            Err(reason) => {
                report.rejected.push(RowProblem { line, reason });
                continue;
            }
        };
        match parse_place_row(
            &record,
            &columns,
            options,
            line,
            &known_districts,
            &mut report.warnings,
        ) {
            Ok(row) => rows.push(row),
            Err(reason) => report.rejected.push(RowProblem { line, reason }),
        }
    }

    let (txn, _turn) = crate::db::begin_write(db)
        .await
        .map_err(AppError::from_db)?;
    for row in rows {
        let existing = place::Entity::find()
            .filter(place::Column::SourceKey.eq(row.key.as_str()))
            .one(&txn)
            .await
            .map_err(AppError::from_db)?;
        let mut model = match &existing {
            Some(found) => place::ActiveModel::from(found.clone()),
            None => place::ActiveModel {
                source_key: Set(Some(row.key.clone())),
                is_demo: Set(false),
                street: Set(None),
                created_at: Set(now),
                ..Default::default()
            },
        };
        model.kind = Set(row.kind.as_str().to_owned());
        model.name = Set(row.name);
        model.address = Set(row.address);
        model.district = Set(row.district);
        model.phone = Set(row.phone);
        model.latitude = Set(row.point.latitude);
        model.longitude = Set(row.point.longitude);
        model.source_crs = Set(options.crs.as_str().to_owned());
        model.source_latitude = Set(row.source_point.latitude);
        model.source_longitude = Set(row.source_point.longitude);
        model.updated_at = Set(now);
        // Only a row that discloses a decision sets it; an empty one keeps
        // what is stored.
        if let Some(disclosure) = row.public_benefit {
            model.public_benefit = Set(Some(disclosure.value));
            model.public_benefit_date = Set(Some(disclosure.date));
            model.public_benefit_source = Set(Some(disclosure.source));
        }
        if let Some(disclosure) = row.registered {
            model.registered = Set(Some(disclosure.value));
            model.registration_date = Set(Some(disclosure.date));
            model.registration_source = Set(Some(disclosure.source));
        }
        if let Some(disclosure) = row.star_rating {
            model.star_rating = Set(Some(disclosure.value));
            model.star_rating_date = Set(Some(disclosure.date));
            model.star_rating_source = Set(Some(disclosure.source));
        }
        let saved = if existing.is_some() {
            model.update(&txn).await
        } else {
            model.insert(&txn).await
        };
        if let Err(error) = saved {
            tracing::warn!(line = row.line, error = %error, "import row rejected by the database");
            report.rejected.push(RowProblem {
                line: row.line,
                reason: "rejected by the database".to_owned(),
            });
            continue;
        }
        if existing.is_some() {
            report.updated += 1;
        } else {
            report.inserted += 1;
        }
    }
    finish(txn, options.dry_run).await?;
    Ok(report)
}

fn parse_place_row(
    record: &csv::StringRecord,
    columns: &PlaceColumns,
    options: &PlaceImportOptions,
    line: u64,
    known_districts: &[String],
    warnings: &mut Vec<RowProblem>,
) -> Result<PlaceRow, String> {
    let field = |index: usize| record.get(index).map(str::trim).unwrap_or("");
    let optional = |index: Option<usize>| {
        index
            .map(field)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };

    let category = field(columns.category);
    let kind = kind_from_category(category).ok_or_else(|| format!("unknown kind {category:?}"))?;
    let name = field(columns.name);
    if name.is_empty() {
        return Err("name is empty".to_owned());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("name is longer than {MAX_NAME_CHARS} characters"));
    }
    let address = optional(columns.address).unwrap_or_default();
    if address.chars().count() > MAX_ADDRESS_CHARS {
        return Err(format!(
            "address is longer than {MAX_ADDRESS_CHARS} characters"
        ));
    }
    let longitude: f64 = field(columns.longitude)
        .parse()
        .map_err(|_| format!("longitude {:?} is not a number", field(columns.longitude)))?;
    let latitude: f64 = field(columns.latitude)
        .parse()
        .map_err(|_| format!("latitude {:?} is not a number", field(columns.latitude)))?;
    let source_point = GeoPoint::new(latitude, longitude).map_err(|error| error.to_string())?;

    let district = match optional(columns.district) {
        Some(name) if known_districts.is_empty() || known_districts.contains(&name) => Some(name),
        Some(name) => {
            warnings.push(RowProblem {
                line,
                reason: format!("district {name:?} is not a known district; left empty"),
            });
            None
        }
        None => None,
    };
    let key = format!(
        "{}:{}:{}:{:.6},{:.6}",
        options.source, category, name, source_point.longitude, source_point.latitude
    );
    let owned = |index: usize| field(index).to_owned();
    let public_benefit = parse_disclosure(
        owned,
        &columns.public_benefit,
        "public_benefit",
        &options.source,
        parse_yes_no,
    )?;
    let registered = parse_disclosure(
        owned,
        &columns.registered,
        "registered",
        &options.source,
        parse_yes_no,
    )?;
    let star_rating = parse_disclosure(
        owned,
        &columns.star_rating,
        "star_rating",
        &options.source,
        parse_stars,
    )?;
    Ok(PlaceRow {
        line,
        kind,
        name: name.to_owned(),
        address,
        district,
        phone: optional(columns.phone),
        source_point,
        point: source_point.to_wgs84(options.crs),
        key,
        public_benefit,
        registered,
        star_rating,
    })
}

/// Imports districts (`code,name,…,centroid_lng_…,centroid_lat_…,population_…,birth_rate_…`)
/// and streets (`mca_code,stats2023_code,name,district_code,…,seat_lng_…,seat_lat_…`),
/// both with coordinates in `crs`. Existing rows with the same code are updated.
pub async fn import_regions_csv(
    db: &DatabaseConnection,
    districts: impl Read,
    streets: impl Read,
    crs: Crs,
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<(ImportReport, ImportReport), AppError> {
    let (txn, _turn) = crate::db::begin_write(db)
        .await
        .map_err(AppError::from_db)?;
    let district_report = import_districts(&txn, districts, crs, dry_run, now).await?;
    let street_report = import_streets(&txn, streets, crs, dry_run, now).await?;
    finish(txn, dry_run).await?;
    Ok((district_report, street_report))
}

async fn import_districts(
    txn: &impl ConnectionTrait,
    input: impl Read,
    crs: Crs,
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<ImportReport, AppError> {
    let mut rows = CsvRows::open(input, &["code", "name"])?;
    let mut report = ImportReport {
        dry_run,
        ..ImportReport::default()
    };
    while let Some((line, row)) = rows.next(&mut report) {
        let code = row.text("code");
        let name = row.text("name");
        if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) || name.is_empty() {
            report.rejected.push(RowProblem {
                line,
                reason: format!("invalid district code {code:?} or empty name"),
            });
            continue;
        }
        let point = row.point_with_prefix("centroid", crs);
        let model = district::ActiveModel {
            code: Set(code.to_owned()),
            name: Set(name.to_owned()),
            population_10k: Set(row.number_with_prefix("population")),
            birth_rate_permille: Set(row.number_with_prefix("birth_rate")),
            latitude: Set(point.map(|p| p.latitude)),
            longitude: Set(point.map(|p| p.longitude)),
            updated_at: Set(now),
        };
        upsert(
            txn,
            district::Entity::find_by_id(code.to_owned()),
            model,
            &mut report,
        )
        .await?;
    }
    Ok(report)
}

async fn import_streets(
    txn: &impl ConnectionTrait,
    input: impl Read,
    crs: Crs,
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<ImportReport, AppError> {
    let mut rows = CsvRows::open(input, &["mca_code", "name", "district_code"])?;
    let mut report = ImportReport {
        dry_run,
        ..ImportReport::default()
    };
    while let Some((line, row)) = rows.next(&mut report) {
        let code = row.text("mca_code");
        let district_code = row.text("district_code");
        let name = row.text("name");
        if code.is_empty() || name.is_empty() {
            report.rejected.push(RowProblem {
                line,
                reason: "empty street code or name".to_owned(),
            });
            continue;
        }
        let district_exists = district::Entity::find_by_id(district_code.to_owned())
            .one(txn)
            .await
            .map_err(AppError::from_db)?
            .is_some();
        if !district_exists {
            report.rejected.push(RowProblem {
                line,
                reason: format!("unknown district code {district_code:?}"),
            });
            continue;
        }
        // Not every street has a known seat; those rows keep no point.
        let point = row.point_with_prefix("seat", crs);
        let stats_code = Some(row.text("stats2023_code"))
            .filter(|value| !value.is_empty())
            .map(str::to_owned);
        let model = street::ActiveModel {
            mca_code: Set(code.to_owned()),
            stats_code: Set(stats_code),
            name: Set(name.to_owned()),
            district_code: Set(district_code.to_owned()),
            latitude: Set(point.map(|p| p.latitude)),
            longitude: Set(point.map(|p| p.longitude)),
            updated_at: Set(now),
        };
        upsert(
            txn,
            street::Entity::find_by_id(code.to_owned()),
            model,
            &mut report,
        )
        .await?;
    }
    Ok(report)
}

/// Inserts `model`, or updates the row that `existing` finds.
async fn upsert<E, A>(
    txn: &impl ConnectionTrait,
    existing: sea_orm::Select<E>,
    model: A,
    report: &mut ImportReport,
) -> Result<(), AppError>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E> + sea_orm::ActiveModelBehavior + Send,
    E::Model: sea_orm::IntoActiveModel<A>,
{
    if existing
        .one(txn)
        .await
        .map_err(AppError::from_db)?
        .is_some()
    {
        model.update(txn).await.map_err(AppError::from_db)?;
        report.updated += 1;
    } else {
        model.insert(txn).await.map_err(AppError::from_db)?;
        report.inserted += 1;
    }
    Ok(())
}

/// Commits, or rolls back a dry run.
async fn finish(txn: sea_orm::DatabaseTransaction, dry_run: bool) -> Result<(), AppError> {
    if dry_run {
        txn.rollback().await.map_err(AppError::from_db)
    } else {
        txn.commit().await.map_err(AppError::from_db)
    }
}

/// CSV rows read by header name.
struct CsvRows<R> {
    reader: csv::Reader<R>,
    headers: csv::StringRecord,
    index: u64,
}

struct CsvRow<'a> {
    headers: &'a csv::StringRecord,
    record: csv::StringRecord,
}

impl<R: Read> CsvRows<R> {
    fn open(input: R, required: &[&str]) -> Result<Self, AppError> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let headers = reader
            .headers()
            .map_err(|error| AppError::BadRequest {
                detail: format!("cannot read the header row: {error}"),
            })?
            .clone();
        for name in required {
            if !headers.iter().any(|header| header.trim() == *name) {
                return Err(AppError::invalid(name, "missing column"));
            }
        }
        Ok(Self {
            reader,
            headers,
            index: 0,
        })
    }

    /// Returns the next readable row and its line number; unreadable rows
    /// are reported and skipped.
    fn next(&mut self, report: &mut ImportReport) -> Option<(u64, CsvRow<'_>)> {
        loop {
            let mut record = csv::StringRecord::new();
            self.index += 1;
            let line = self.index + 1;
            match self.reader.read_record(&mut record) {
                Ok(false) => return None,
                Ok(true) => {
                    return Some((
                        line,
                        CsvRow {
                            headers: &self.headers,
                            record,
                        },
                    ));
                }
                Err(error) => report.rejected.push(RowProblem {
                    line,
                    reason: format!("unreadable row: {error}"),
                }),
            }
        }
    }
}

impl CsvRow<'_> {
    fn text(&self, column: &str) -> &str {
        self.headers
            .iter()
            .position(|header| header.trim() == column)
            .and_then(|index| self.record.get(index))
            .map_or("", str::trim)
    }

    /// Returns the first column whose name starts with `prefix`, as a number.
    fn number_with_prefix(&self, prefix: &str) -> Option<f64> {
        let index = self
            .headers
            .iter()
            .position(|header| header.starts_with(prefix))?;
        self.record.get(index)?.trim().parse().ok()
    }

    /// Returns the point in columns `<prefix>_lng_…` and `<prefix>_lat_…`,
    /// converted from `crs` to WGS-84; `None` when either is empty or invalid.
    fn point_with_prefix(&self, prefix: &str, crs: Crs) -> Option<GeoPoint> {
        let longitude = self.number_with_prefix(&format!("{prefix}_lng"))?;
        let latitude = self.number_with_prefix(&format!("{prefix}_lat"))?;
        GeoPoint::new(latitude, longitude)
            .ok()
            .map(|point| point.to_wgs84(crs))
    }
}

/// Reads an uploaded places file (`csv` or `geojson`), imports it, and
/// records the run with its report for the upload page and the audit trail.
/// City administrators only.
pub async fn upload_places(
    db: &DatabaseConnection,
    viewer: &crate::model::Viewer,
    upload: &PlaceUpload<'_>,
    now: DateTime<Utc>,
) -> Result<crate::model::ImportRunView, AppError> {
    use sea_orm::{ActiveModelTrait, Set};

    if !viewer.is_city_admin() {
        return Err(AppError::Forbidden);
    }
    let source = upload.source.trim();
    if source.is_empty()
        || source.chars().count() > 40
        || !source
            .chars()
            .all(|ch| ch.is_alphanumeric() || ch == '-' || ch == '_')
    {
        return Err(AppError::invalid(
            "source",
            "must be 1 to 40 letters, digits, dashes or underscores",
        ));
    }
    let crs = Crs::parse(upload.crs)
        .ok_or_else(|| AppError::invalid("crs", "must be wgs84, gcj02 or bd09"))?;
    let options = PlaceImportOptions {
        crs,
        source: source.to_owned(),
        dry_run: upload.dry_run,
    };
    let report = match upload.format {
        "csv" => import_places_csv(db, upload.body, &options, now).await?,
        "geojson" => import_places_geojson(db, upload.body, &options, now).await?,
        _ => return Err(AppError::invalid("format", "must be csv or geojson")),
    };
    let file_name: String = upload.file_name.trim().chars().take(200).collect();
    let row = import_run::ActiveModel {
        account_id: Set(Some(viewer.account_id)),
        file_name: Set(file_name),
        format: Set(upload.format.to_owned()),
        crs: Set(crs.as_str().to_owned()),
        source: Set(source.to_owned()),
        dry_run: Set(report.dry_run),
        inserted: Set(i64::try_from(report.inserted).unwrap_or(i64::MAX)),
        updated: Set(i64::try_from(report.updated).unwrap_or(i64::MAX)),
        report: Set(serde_json::json!({
            "rejected": report.rejected,
            "warnings": report.warnings,
        })),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(AppError::from_db)?;
    crate::domain::audit::record(
        db,
        crate::domain::audit::AuditEntry {
            actor: Some(viewer.account_id),
            on_behalf_of: None,
            district_code: None,
            action: "places.import",
            target_kind: "import_run",
            target_id: Some(row.id.to_string()),
            detail: Some(serde_json::json!({
                "inserted": report.inserted,
                "updated": report.updated,
                "rejected": report.rejected.len(),
                "dry_run": report.dry_run,
            })),
        },
        now,
    )
    .await?;
    Ok(run_view(row))
}

/// An uploaded places file with how to read it.
#[derive(Debug, Clone, Copy)]
pub struct PlaceUpload<'a> {
    pub file_name: &'a str,
    pub format: &'a str,
    pub crs: &'a str,
    pub source: &'a str,
    pub dry_run: bool,
    pub body: &'a [u8],
}

/// Returns an upload's record; city administrators only.
pub async fn import_run(
    db: &impl sea_orm::ConnectionTrait,
    viewer: &crate::model::Viewer,
    id: i64,
) -> Result<crate::model::ImportRunView, AppError> {
    if !viewer.is_city_admin() {
        return Err(AppError::Forbidden);
    }
    import_run::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .map(run_view)
        .ok_or(AppError::NotFound)
}

fn run_view(row: import_run::Model) -> crate::model::ImportRunView {
    let problems = |key: &str| -> Vec<crate::model::ImportProblem> {
        row.report
            .get(key)
            .cloned()
            .and_then(|value| serde_json::from_value(value).ok())
            .unwrap_or_default()
    };
    crate::model::ImportRunView {
        id: row.id,
        rejected: problems("rejected"),
        warnings: problems("warnings"),
        file_name: row.file_name,
        format: row.format,
        crs: row.crs,
        source: row.source,
        dry_run: row.dry_run,
        inserted: u64::try_from(row.inserted).unwrap_or(0),
        updated: u64::try_from(row.updated).unwrap_or(0),
        created_at: row.created_at,
    }
}
