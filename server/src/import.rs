//! `ningyu import …`: runs an import and prints its report as JSON.

use std::fs::File;
use std::path::Path;

use anyhow::Context;
use app::domain::import::{self, ImportReport, PlaceImportOptions};
use app::geo::Crs;
use serde::Serialize;

use crate::cli::ImportCommand;
use crate::config::Config;

/// Reports of one command, printed as one JSON object.
#[derive(Debug, Serialize)]
struct Reports {
    #[serde(skip_serializing_if = "Option::is_none")]
    districts: Option<ImportReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    streets: Option<ImportReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    places: Option<ImportReport>,
}

/// Runs `command` against the configured database, migrating it first.
pub async fn run(config: &Config, command: ImportCommand) -> anyhow::Result<()> {
    let mut no_demo = config.clone();
    no_demo.demo_data = false;
    let state = crate::startup::prepare_database(&no_demo).await?;
    let now = chrono::Utc::now();

    let reports = match command {
        ImportCommand::Places {
            file,
            crs,
            source,
            dry_run,
        } => {
            let crs = Crs::parse(&crs)
                .with_context(|| format!("invalid --crs {crs:?}: expected wgs84, gcj02 or bd09"))?;
            let options = PlaceImportOptions {
                crs,
                source,
                dry_run,
            };
            let is_geojson = file
                .extension()
                .and_then(|extension| extension.to_str())
                .is_some_and(|extension| {
                    extension.eq_ignore_ascii_case("geojson")
                        || extension.eq_ignore_ascii_case("json")
                });
            let report = if is_geojson {
                import::import_places_geojson(&state.db, open(&file)?, &options, now).await
            } else {
                import::import_places_csv(&state.db, open(&file)?, &options, now).await
            }
            .map_err(|error| anyhow::anyhow!("import of {} failed: {error}", file.display()))?;
            Reports {
                districts: None,
                streets: None,
                places: Some(report),
            }
        }
        ImportCommand::Nanjing { folder, dry_run } => {
            let (districts, streets) = import::import_regions_csv(
                &state.db,
                open(&folder.join("districts.csv"))?,
                open(&folder.join("streets.csv"))?,
                Crs::Gcj02,
                dry_run,
                now,
            )
            .await
            .map_err(|error| anyhow::anyhow!("import of districts and streets failed: {error}"))?;
            let options = PlaceImportOptions {
                crs: Crs::Gcj02,
                source: "amap2018".to_owned(),
                dry_run,
            };
            let places_file = folder.join("places-amap2018-gcj02.csv");
            let places = import::import_places_csv(&state.db, open(&places_file)?, &options, now)
                .await
                .map_err(|error| {
                    anyhow::anyhow!("import of {} failed: {error}", places_file.display())
                })?;
            Reports {
                districts: Some(districts),
                streets: Some(streets),
                places: Some(places),
            }
        }
    };

    let json = serde_json::to_string_pretty(&reports)?;
    #[expect(clippy::print_stdout, reason = "the report is the command's output")]
    {
        println!("{json}");
    }
    Ok(())
}

fn open(path: &Path) -> anyhow::Result<File> {
    File::open(path).with_context(|| format!("cannot open {}", path.display()))
}
