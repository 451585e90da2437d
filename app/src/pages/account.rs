use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{UpdateMobile, contact_mobile, current_viewer};
use crate::components::{ActionError, ErrorNotice, use_form_draft};
use crate::i18n::{t, t_string, use_i18n};
use crate::model::{Role, Viewer};

/// Renders the signed-in person's page: name, roles and signing out.
#[component]
pub fn AccountPage() -> impl IntoView {
    let i18n = use_i18n();
    let viewer = Resource::new(|| (), |()| current_viewer());
    // After a rejected plain post, the number as typed. The draft is read
    // once, so it is read here, not in a component that may render again.
    let mobile_draft = use_form_draft::<UpdateMobile>();

    view! {
        <Title text=t_string!(i18n, account_title).to_string() />
        <h1>{t!(i18n, account_title)}</h1>
        <Suspense>
            {move || Suspend::new(async move {
                let mobile_draft = mobile_draft.await;
                match viewer.await {
                    Ok(Some(viewer)) => view! { <AccountDetails viewer mobile_draft /> }.into_any(),
                    Ok(None) => view! {
                        <p>{t!(i18n, account_signed_out)}</p>
                        <p>
                            <a class="button primary" href="/auth/login?return_to=/account" rel="external">
                                {t!(i18n, sign_in_button)}
                            </a>
                        </p>
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AccountDetails(viewer: Viewer, mobile_draft: Option<UpdateMobile>) -> impl IntoView {
    let i18n = use_i18n();
    let roles = viewer
        .roles
        .iter()
        .map(|role| {
            let text = match role {
                Role::RoomStaff { place_id } => {
                    t_string!(i18n, role_room_staff, id = *place_id).to_string()
                }
                Role::DistrictAdmin { district_code } => {
                    t_string!(i18n, role_district_admin, code = district_code.clone()).to_string()
                }
                Role::CityAdmin => t_string!(i18n, role_city_admin).to_string(),
            };
            view! { <li>{text}</li> }
        })
        .collect_view();
    view! {
        <p class="account-name">{viewer.display_name.clone()}</p>
        <h2>{t!(i18n, account_roles)}</h2>
        <ul class="role-list">
            <li>{t!(i18n, role_guardian)}</li>
            {roles}
        </ul>
        <Show when={
            let runs_rooms = !viewer.roles.is_empty();
            move || runs_rooms
        }>
            <p><a class="button primary" href="/staff">{t!(i18n, staff_title)}</a></p>
        </Show>
        <Show when={
            let admin = viewer.is_admin();
            move || admin
        }>
            <p><a href="/admin/audit">{t!(i18n, audit_title)}</a></p>
            <p><a href="/admin/coverage">{t!(i18n, coverage_title)}</a></p>
            <p><a href="/admin/places/new">{t!(i18n, place_new)}</a></p>
            <p><a href="/admin/places/import">{t!(i18n, import_title)}</a></p>
            <p><a href="/admin/priority-groups">{t!(i18n, priority_title)}</a></p>
            <p><a href="/admin/courses">{t!(i18n, course_admin_title)}</a></p>
        </Show>
        <MobileForm draft=mobile_draft />
        <p><a href="/family">{t!(i18n, family_title)}</a></p>
        <form method="post" action="/auth/logout">
            <button type="submit">{t!(i18n, sign_out)}</button>
        </form>
    }
}

/// Renders the form for the contact mobile number, which rooms use to
/// reach the family, with the number from `draft` after a rejected post.
#[component]
fn MobileForm(draft: Option<UpdateMobile>) -> impl IntoView {
    let i18n = use_i18n();
    let update = ServerAction::<UpdateMobile>::new();
    let mobile = Resource::new(move || update.version().get(), |_| contact_mobile());
    view! {
        <h2>{t!(i18n, field_mobile)}</h2>
        <ActionError action=update />
        <Suspense>
            {move || {
                let draft = draft.clone();
                Suspend::new(async move {
                let current = match draft {
                    Some(draft) => draft.mobile,
                    None => mobile.await.ok().flatten().unwrap_or_default(),
                };
                view! {
                    <ActionForm action=update attr:class="stacked-form">
                        <label for="mobile">{t!(i18n, field_mobile)}</label>
                        <input id="mobile" name="mobile" type="tel" inputmode="tel" autocomplete="tel" required value=current />
                        <p class="hint">{t!(i18n, account_mobile_hint)}</p>
                        <button type="submit">{t!(i18n, family_save)}</button>
                    </ActionForm>
                }
            })
            }}
        </Suspense>
    }
}
