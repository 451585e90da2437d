use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::coverage_report;
use crate::components::ErrorNotice;
use crate::i18n::{t, t_string, use_i18n};
use crate::model::{
    DistrictCoverage, GUIDANCE_TARGET_PERCENT, GuidanceReach, PLACES_PER_1000_TARGET,
    StreetCoverage,
};

/// Renders the coverage view for administrators: childcare places per
/// 1,000 residents in each district against the city's target, and the
/// public-benefit providers of each street, streets without one first.
#[component]
pub fn CoveragePage() -> impl IntoView {
    let i18n = use_i18n();
    let report = Resource::new(|| (), |()| coverage_report());
    view! {
        <Title text=t_string!(i18n, coverage_title).to_string() />
        <h1>{t!(i18n, coverage_title)}</h1>
        <p>{t_string!(i18n, coverage_intro, target = PLACES_PER_1000_TARGET.to_string()).to_string()}</p>
        <Suspense>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(report) => {
                        let unassigned = report.public_benefit_without_street;
                        let mut streets = report.streets;
                        streets.sort_by_key(|street| (street.public_benefit_providers > 0, street.code.clone()));
                        view! {
                            <h2>{t!(i18n, coverage_districts)}</h2>
                            <div class="table-scroll">
                                <table class="coverage-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">{t!(i18n, coverage_district)}</th>
                                            <th scope="col">{t!(i18n, coverage_population)}</th>
                                            <th scope="col">{t!(i18n, coverage_places)}</th>
                                            <th scope="col">{t!(i18n, coverage_per_1000)}</th>
                                            <th scope="col">{t!(i18n, coverage_streets_without)}</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {report.districts.into_iter().map(|row| view! { <DistrictRow row /> }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <Show when=move || { unassigned > 0 }>
                                <p class="notice">
                                    {t_string!(i18n, coverage_unassigned, count = unassigned).to_string()}
                                </p>
                            </Show>
                            <Guidance reach=report.guidance />
                            <h2>{t!(i18n, coverage_streets)}</h2>
                            <div class="table-scroll">
                                <table class="coverage-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">{t!(i18n, coverage_street)}</th>
                                            <th scope="col">{t!(i18n, coverage_district)}</th>
                                            <th scope="col">{t!(i18n, coverage_providers)}</th>
                                            <th scope="col">{t!(i18n, coverage_public_places)}</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {streets.into_iter().map(|row| view! { <StreetRow row /> }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DistrictRow(row: DistrictCoverage) -> impl IntoView {
    let i18n = use_i18n();
    let per_1000 = row
        .per_1000
        .map_or_else(|| "—".to_owned(), |value| format!("{value:.2}"));
    let verdict = match row.meets_target {
        Some(true) => t_string!(i18n, coverage_met).to_string(),
        Some(false) => t_string!(i18n, coverage_not_met).to_string(),
        None => t_string!(i18n, coverage_no_population).to_string(),
    };
    let class = if row.meets_target == Some(true) {
        "badge badge-ok"
    } else {
        "badge badge-warn"
    };
    let missing = (row.places_without_figure > 0).then(|| {
        t_string!(
            i18n,
            coverage_without_figure,
            count = row.places_without_figure
        )
        .to_string()
    });
    view! {
        <tr>
            <th scope="row">{row.name}</th>
            <td>{row.population.map_or_else(|| "—".to_owned(), |people| people.to_string())}</td>
            <td>{row.childcare_places}{missing.map(|text| view! { <br /><span class="muted">{text}</span> })}</td>
            <td>{per_1000} " " <span class=class>{verdict}</span></td>
            <td>{row.streets_without_public_benefit} " / " {row.streets}</td>
        </tr>
    }
}

/// Renders the share of families of children under three that watched a
/// parent class, against the city's target.
#[component]
fn Guidance(reach: GuidanceReach) -> impl IntoView {
    let i18n = use_i18n();
    let line = match reach.percent {
        Some(percent) => t_string!(
            i18n,
            coverage_guidance_line,
            families = reach.families,
            reached = reach.reached,
            percent = format!("{percent:.1}"),
            target = GUIDANCE_TARGET_PERCENT.to_string()
        )
        .to_string(),
        None => t_string!(i18n, coverage_guidance_none).to_string(),
    };
    view! {
        <h2>{t!(i18n, coverage_guidance_heading)}</h2>
        <p class="coverage-guidance">{line}</p>
        <p class="hint">{t!(i18n, coverage_guidance_note)}</p>
    }
}

#[component]
fn StreetRow(row: StreetCoverage) -> impl IntoView {
    let none = row.public_benefit_providers == 0;
    view! {
        <tr class:coverage-gap=none>
            <th scope="row">{row.name}</th>
            <td>{row.district}</td>
            <td>{row.public_benefit_providers}</td>
            <td>{row.public_benefit_places}</td>
        </tr>
    }
}
