//! `/admin/priority-groups/:id`: the children in one priority group, with
//! a form to take each one out. City administrators only; anyone else gets
//! the page of a missing address.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::NotFoundPage;
use crate::api::admin::{PriorityGroupMembers, RevokePriority, load_priority_members};
use crate::components::{ActionError, ErrorNotice};
use crate::error::AppError;
use crate::i18n::{Locale, t, t_string, use_i18n};
use crate::model::PriorityMember;
use crate::time::to_local;

/// Renders a priority group's members page. Each load is a members read,
/// which the domain records in the audit log.
#[component]
pub fn PriorityMembersPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    };
    let data = Resource::new(id, |id| async move {
        match id {
            Some(id) => load_priority_members(id).await,
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let return_to = id()
                    .map(|id| format!("/admin/priority-groups/{id}"))
                    .unwrap_or_default();
                match data.await {
                    Ok(data) => view! { <MembersView data /> }.into_any(),
                    Err(error) => view! { <MembersError error return_to /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Shows the page's error: the page of a missing address for `NotFound`,
/// which is also what anyone but a city administrator gets, and a sign-in
/// link for a signed-out visitor.
#[component]
fn MembersError(error: AppError, return_to: String) -> impl IntoView {
    let i18n = use_i18n();
    match error {
        AppError::NotFound => view! { <NotFoundPage /> }.into_any(),
        AppError::Unauthenticated => {
            let href = format!("/auth/login?return_to={return_to}");
            view! {
                <Title text=t_string!(i18n, priority_title).to_string() />
                <h1>{t!(i18n, priority_title)}</h1>
                <p>{t!(i18n, account_signed_out)}</p>
                <p><a class="button primary" href=href rel="external">{t!(i18n, sign_in_button)}</a></p>
            }
            .into_any()
        }
        error => view! { <ErrorNotice error /> }.into_any(),
    }
}

#[component]
fn MembersView(data: PriorityGroupMembers) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let revoke = ServerAction::<RevokePriority>::new();
    let PriorityGroupMembers { group, members } = data;
    let name = match i18n.get_locale() {
        Locale::en => group.name.en.clone(),
        Locale::zh_CN => group.name.zh.clone(),
    };
    let line = t_string!(
        i18n,
        priority_group_line,
        rank = group.rank,
        members = members.len()
    )
    .to_string();
    let revoked = query.with_untracked(|query| query.get("revoked").is_some());
    let empty = members.is_empty();
    let group_id = group.id;
    view! {
        <Title text=name.clone() />
        <p><a href="/admin/priority-groups">{t!(i18n, priority_members_back)}</a></p>
        <h1>{name}</h1>
        <p>{line}</p>
        <p class="hint">{t!(i18n, priority_members_audited)}</p>
        <section aria-labelledby="members-heading">
            <h2 id="members-heading">{t!(i18n, priority_members_heading)}</h2>
            {revoked.then(|| view! {
                <p class="notice notice-ok" role="status">{t!(i18n, priority_revoked_notice)}</p>
            })}
            <ActionError action=revoke />
            {empty.then(|| view! { <p>{t!(i18n, priority_members_empty)}</p> })}
            <ul class="roster">
                {members
                    .into_iter()
                    .map(|member| view! { <MemberItem member group_id revoke /> })
                    .collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn MemberItem(
    member: PriorityMember,
    group_id: i64,
    revoke: ServerAction<RevokePriority>,
) -> impl IntoView {
    let i18n = use_i18n();
    let age = member
        .age_months
        .map(|months| t_string!(i18n, family_age_months, months).to_string())
        .unwrap_or_default();
    let date = to_local(member.granted_at).format("%Y-%m-%d").to_string();
    let granted = t_string!(i18n, priority_members_granted, date).to_string();
    let confirm = t_string!(
        i18n,
        priority_revoke_confirm,
        name = member.child_name.clone()
    )
    .to_string();
    view! {
        <li class="roster-entry" id=format!("child-{}", member.child_id)>
            <p class="roster-name">
                <strong>{member.child_name.clone()}</strong> " " <span class="muted">{age}</span>
            </p>
            <p class="muted">{granted}</p>
            <details class="cancel-details">
                <summary>{t!(i18n, priority_revoke_summary)}</summary>
                <ActionForm action=revoke attr:class="stacked-form">
                    <input type="hidden" name="group_id" value=group_id />
                    <input type="hidden" name="child_id" value=member.child_id />
                    <label class="check">
                        <input type="checkbox" name="confirm" value="on" required />
                        <span>{confirm}</span>
                    </label>
                    <button type="submit" class="danger">{t!(i18n, priority_revoke_submit)}</button>
                </ActionForm>
            </details>
        </li>
    }
}
