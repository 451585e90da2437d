use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::admin::import_run;
use crate::components::ErrorNotice;
use crate::error::AppError;
use crate::i18n::{t, t_string, use_i18n};
use crate::model::{ImportProblem, ImportRunView};

/// Renders the upload form for a places file. It posts as multipart to
/// `/admin/places/import`, which imports the file and opens its record.
#[component]
pub fn ImportPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, import_title).to_string() />
        <h1>{t!(i18n, import_title)}</h1>
        <p>{t!(i18n, import_intro)}</p>
        <form class="stacked-form" method="post" action="/admin/places/import" enctype="multipart/form-data">
            <label for="import-file">{t!(i18n, import_file)}</label>
            <input id="import-file" name="file" type="file" required accept=".csv,.geojson,.json,text/csv,application/geo+json" />
            <label for="import-format">{t!(i18n, import_format)}</label>
            <select id="import-format" name="format">
                <option value="csv" selected>"CSV"</option>
                <option value="geojson">"GeoJSON"</option>
            </select>
            <label for="import-crs">{t!(i18n, place_edit_crs)}</label>
            <select id="import-crs" name="crs">
                <option value="gcj02" selected>{t!(i18n, place_edit_crs_gcj02)}</option>
                <option value="wgs84">{t!(i18n, place_edit_crs_wgs84)}</option>
                <option value="bd09">{t!(i18n, place_edit_crs_bd09)}</option>
            </select>
            <label for="import-source">{t!(i18n, import_source)}</label>
            <input id="import-source" name="source" required maxlength="40" pattern="[A-Za-z0-9_\\-]+" value="upload" />
            <p class="hint">{t!(i18n, import_source_hint)}</p>
            <label class="check" for="import-dry-run">
                <input id="import-dry-run" name="dry_run" type="checkbox" checked />
                {t!(i18n, import_dry_run)}
            </label>
            <button type="submit" class="button primary">{t!(i18n, import_submit)}</button>
        </form>
    }
}

/// Renders the record of one upload: counts, then each rejected row and
/// each warning with its line number.
#[component]
pub fn ImportRunPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    };
    let run = Resource::new(id, |id| async move {
        match id {
            Some(id) => import_run(id).await,
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <Title text=t_string!(i18n, import_report_title).to_string() />
        <h1>{t!(i18n, import_report_title)}</h1>
        <Suspense>
            {move || Suspend::new(async move {
                match run.await {
                    Ok(run) => view! { <RunView run /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RunView(run: ImportRunView) -> impl IntoView {
    let i18n = use_i18n();
    let summary = if run.dry_run {
        t_string!(
            i18n,
            import_summary_dry_run,
            inserted = run.inserted,
            updated = run.updated,
            rejected = run.rejected.len()
        )
        .to_string()
    } else {
        t_string!(
            i18n,
            import_summary,
            inserted = run.inserted,
            updated = run.updated,
            rejected = run.rejected.len()
        )
        .to_string()
    };
    let at = crate::time::to_local(run.created_at)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    view! {
        <p>{run.file_name} " · " {run.format} " · " {run.crs} " · " {at}</p>
        <p class="notice">{summary}</p>
        <ProblemTable heading=t_string!(i18n, import_rejected).to_string() problems=run.rejected />
        <ProblemTable heading=t_string!(i18n, import_warnings).to_string() problems=run.warnings />
        <p><a href="/admin/places/import">{t!(i18n, import_again)}</a></p>
    }
}

#[component]
fn ProblemTable(heading: String, problems: Vec<ImportProblem>) -> impl IntoView {
    let i18n = use_i18n();
    (!problems.is_empty()).then(|| {
        view! {
            <h2>{heading}</h2>
            <div class="table-scroll">
                <table class="audit-table">
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, import_line)}</th>
                            <th scope="col">{t!(i18n, import_reason)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {problems
                            .into_iter()
                            .map(|problem| view! {
                                <tr>
                                    <td>{problem.line}</td>
                                    <td>{problem.reason}</td>
                                </tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
    })
}
