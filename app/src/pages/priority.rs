use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin::{CreatePriorityGroup, GrantPriority, priority_groups};
use crate::components::{ActionError, ErrorNotice, use_form_draft};
use crate::i18n::{Locale, t, t_string, use_i18n};

/// Renders the priority groups page for city administrators: the groups
/// with their member counts, a form to define a group and a form to put a
/// child in one. Each group links to its members page
/// (`PriorityMembersPage`), where children are listed and taken out.
#[component]
pub fn PriorityGroupsPage() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreatePriorityGroup>::new();
    let grant = ServerAction::<GrantPriority>::new();
    let groups = Resource::new(
        move || (create.version().get(), grant.version().get()),
        |_| priority_groups(),
    );
    // What a plain form post typed before the server rejected it.
    let grant_draft = use_form_draft::<GrantPriority>();
    let create_draft = use_form_draft::<CreatePriorityGroup>();
    view! {
        <Title text=t_string!(i18n, priority_title).to_string() />
        <h1>{t!(i18n, priority_title)}</h1>
        <p>{t!(i18n, priority_intro)}</p>
        <Suspense>
            {move || Suspend::new(async move {
                let draft = grant_draft.await;
                match groups.await {
                    Ok(groups) => {
                        let options = groups.clone();
                        let chosen_group = draft.as_ref().map(|draft| draft.group_id);
                        let (mobile, child_name) = draft
                            .map(|draft| (draft.guardian_mobile, draft.child_name))
                            .unwrap_or_default();
                        view! {
                            <ul class="place-list">
                                {groups
                                    .into_iter()
                                    .map(|group| {
                                        let name = match i18n.get_locale() {
                                            Locale::en => group.name.en.clone(),
                                            Locale::zh_CN => group.name.zh.clone(),
                                        };
                                        let line = t_string!(i18n, priority_group_line, rank = group.rank, members = group.members).to_string();
                                        let href = format!("/admin/priority-groups/{}", group.id);
                                        view! {
                                            <li class="place">
                                                <strong><a href=href>{name}</a></strong> " · " {line}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                            <h2>{t!(i18n, priority_grant_heading)}</h2>
                            <ActionError action=grant />
                            <ActionForm action=grant attr:class="stacked-form">
                                <label for="grant-group">{t!(i18n, priority_group)}</label>
                                <select id="grant-group" name="group_id">
                                    {options
                                        .into_iter()
                                        .map(|group| view! {
                                            <option value=group.id selected=chosen_group == Some(group.id)>{group.name.zh}</option>
                                        })
                                        .collect_view()}
                                </select>
                                <label for="grant-mobile">{t!(i18n, priority_guardian_mobile)}</label>
                                <input id="grant-mobile" name="guardian_mobile" type="tel" required maxlength="20" value=mobile />
                                <label for="grant-child">{t!(i18n, priority_child_name)}</label>
                                <input id="grant-child" name="child_name" required maxlength="40" value=child_name />
                                <button type="submit" class="button primary">{t!(i18n, priority_grant_submit)}</button>
                            </ActionForm>
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
        <h2>{t!(i18n, priority_create_heading)}</h2>
        <ActionError action=create />
        <Suspense>
            {move || Suspend::new(async move {
                let draft = create_draft.await.unwrap_or_else(|| CreatePriorityGroup {
                    code: String::new(),
                    name_zh: String::new(),
                    name_en: String::new(),
                    rank: "1".to_owned(),
                });
                view! {
                    <ActionForm action=create attr:class="stacked-form">
                        <label for="group-code">{t!(i18n, priority_code)}</label>
                        <input id="group-code" name="code" required maxlength="32" pattern="[a-z0-9_]+" value=draft.code />
                        <label for="group-name-zh">{t!(i18n, priority_name_zh)}</label>
                        <input id="group-name-zh" name="name_zh" required maxlength="50" value=draft.name_zh />
                        <label for="group-name-en">{t!(i18n, priority_name_en)}</label>
                        <input id="group-name-en" name="name_en" required maxlength="80" value=draft.name_en />
                        <label for="group-rank">{t!(i18n, priority_rank)}</label>
                        <input id="group-rank" name="rank" required inputmode="numeric" value=draft.rank />
                        <button type="submit" class="button primary">{t!(i18n, priority_create_submit)}</button>
                    </ActionForm>
                }
            })}
        </Suspense>
    }
}
