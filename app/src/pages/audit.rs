use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::audit_log;
use crate::components::ErrorNotice;
use crate::i18n::{t, t_string, use_i18n};

/// Renders the audit log for administrators: each action, its actor, the
/// account acted for and the district it concerns. District
/// administrators get their districts' entries only.
#[component]
pub fn AuditPage() -> impl IntoView {
    let i18n = use_i18n();
    let entries = Resource::new(|| (), |()| audit_log());
    let viewer = Resource::new(|| (), |()| crate::api::current_viewer());
    view! {
        <Title text=t_string!(i18n, audit_title).to_string() />
        <h1>{t!(i18n, audit_title)}</h1>
        <p>{t!(i18n, audit_intro)}</p>
        <Suspense>
            {move || Suspend::new(async move {
                let district_only = viewer
                    .await
                    .ok()
                    .flatten()
                    .is_some_and(|viewer| !viewer.is_city_admin());
                district_only.then(|| view! { <p class="muted">{t!(i18n, audit_district_scope)}</p> })
            })}
        </Suspense>
        <Suspense>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(entries) => view! {
                        <div class="table-scroll">
                            <table class="audit-table">
                                <thead>
                                    <tr>
                                        <th scope="col">{t!(i18n, audit_time)}</th>
                                        <th scope="col">{t!(i18n, audit_actor)}</th>
                                        <th scope="col">{t!(i18n, audit_on_behalf_of)}</th>
                                        <th scope="col">{t!(i18n, audit_action)}</th>
                                        <th scope="col">{t!(i18n, audit_target)}</th>
                                        <th scope="col">{t!(i18n, audit_district)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {entries
                                        .into_iter()
                                        .map(|entry| {
                                            let at = crate::time::to_local(entry.at)
                                                .format("%Y-%m-%d %H:%M:%S")
                                                .to_string();
                                            let id = |id: Option<i64>| id.map_or_else(|| "—".to_owned(), |id| id.to_string());
                                            view! {
                                                <tr>
                                                    <td>{at}</td>
                                                    <td>{id(entry.actor_account_id)}</td>
                                                    <td>{id(entry.on_behalf_of_account_id)}</td>
                                                    <td><code>{entry.action}</code></td>
                                                    <td>{entry.target}</td>
                                                    <td>{entry.district_code.unwrap_or_else(|| "—".to_owned())}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
