use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::family::{
    AcceptInvitation, AddChild, CreateInvitation, DeleteAccount, RevokeCarer, RevokeInvitation,
    WithdrawChildConsent, load_family,
};
use crate::components::{ActionError, ErrorNotice, use_form_draft};
use crate::error::AppError;
use crate::i18n::{Locale, t, t_string, use_i18n};
use crate::model::{CHILD_NOTICE_VERSION, CarerView, ChildRelation, ChildView, FamilyOverview};

/// Renders the family page: children, carers and the family's data. Every
/// form is a plain HTML form that also works without JavaScript.
#[component]
pub fn FamilyPage() -> impl IntoView {
    let i18n = use_i18n();
    let add_child = ServerAction::<AddChild>::new();
    let withdraw = ServerAction::<WithdrawChildConsent>::new();
    let invite = ServerAction::<CreateInvitation>::new();
    let revoke_invitation = ServerAction::<RevokeInvitation>::new();
    let revoke_carer = ServerAction::<RevokeCarer>::new();
    let delete = ServerAction::<DeleteAccount>::new();
    let overview = Resource::new(
        move || {
            (
                add_child.version().get(),
                withdraw.version().get(),
                invite.version().get(),
                revoke_invitation.version().get(),
                revoke_carer.version().get(),
            )
        },
        |_| load_family(),
    );
    // What a plain form post typed before the server rejected it.
    let child_draft = use_form_draft::<AddChild>();
    let invite_draft = use_form_draft::<CreateInvitation>();

    view! {
        <Title text=t_string!(i18n, family_title).to_string() />
        <h1>{t!(i18n, family_title)}</h1>
        <Suspense>
            {move || Suspend::new(async move {
                let child_draft = child_draft.await;
                let invite_draft = invite_draft.await;
                match overview.await {
                    Ok(overview) => view! {
                        <FamilyContent
                            overview
                            child_draft
                            invite_draft
                            add_child
                            withdraw
                            invite
                            revoke_invitation
                            revoke_carer
                            delete
                        />
                    }
                    .into_any(),
                    Err(AppError::Unauthenticated) => view! { <SignInFirst /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SignInFirst() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p>{t!(i18n, family_sign_in_needed)}</p>
        <p>
            <a class="button primary" href="/auth/login?return_to=/family" rel="external">
                {t!(i18n, sign_in_button)}
            </a>
        </p>
    }
}

#[component]
fn FamilyContent(
    overview: FamilyOverview,
    child_draft: Option<AddChild>,
    invite_draft: Option<CreateInvitation>,
    add_child: ServerAction<AddChild>,
    withdraw: ServerAction<WithdrawChildConsent>,
    invite: ServerAction<CreateInvitation>,
    revoke_invitation: ServerAction<RevokeInvitation>,
    revoke_carer: ServerAction<RevokeCarer>,
    delete: ServerAction<DeleteAccount>,
) -> impl IntoView {
    let i18n = use_i18n();
    let children = overview.children.clone();
    let has_children = !children.is_empty();
    // A grandparent who only helps with another family's children gets
    // those first, and the form for a child of their own is folded away.
    let helper_only = !has_children && !overview.cared_for.is_empty();
    let draft_open = child_draft.is_some();
    let add_form = view! { <AddChildForm action=add_child draft=child_draft /> };
    let add_form = if helper_only {
        view! {
            <details class="add-own-child" open=draft_open>
                <summary>{t!(i18n, family_add_own_child)}</summary>
                {add_form}
            </details>
        }
        .into_any()
    } else {
        add_form.into_any()
    };
    let own = view! {
        <section aria-labelledby="children-heading">
            <h2 id="children-heading">{t!(i18n, family_children)}</h2>
            <ActionError action=withdraw />
            {if children.is_empty() {
                view! { <p>{t!(i18n, family_no_children)}</p> }.into_any()
            } else {
                view! {
                    <ul class="child-list">
                        {children
                            .into_iter()
                            .map(|child| view! { <ChildItem child withdraw /> })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
            {add_form}
        </section>
    };
    let cared_for = (!overview.cared_for.is_empty()).then(|| {
        view! {
            <section aria-labelledby="cared-heading">
                <h2 id="cared-heading">{t!(i18n, family_cared_for)}</h2>
                <ul class="child-list">
                    {overview
                        .cared_for
                        .clone()
                        .into_iter()
                        .map(|child| view! { <ChildItem child withdraw /> })
                        .collect_view()}
                </ul>
            </section>
        }
    });
    let first_sections = if helper_only {
        view! { {cared_for} {own} }.into_any()
    } else {
        view! { {own} {cared_for} }.into_any()
    };
    view! {
        {first_sections}

        <section aria-labelledby="carers-heading">
            <h2 id="carers-heading">{t!(i18n, family_carers)}</h2>
            <p>{t!(i18n, family_carers_intro)}</p>
            <ActionError action=revoke_carer />
            {if overview.carers.is_empty() {
                view! { <p>{t!(i18n, family_no_carers)}</p> }.into_any()
            } else {
                view! {
                    <ul class="carer-list">
                        {overview
                            .carers
                            .clone()
                            .into_iter()
                            .map(|carer| view! { <CarerItem carer revoke_carer /> })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
            <Show when=move || has_children>
                <InviteForm action=invite children=overview.children.clone() draft=invite_draft.clone() />
            </Show>
            <ActionError action=revoke_invitation />
            <Show when={
                let open = overview.invitations.clone();
                move || !open.is_empty()
            }>
                <h3>{t!(i18n, family_open_invitations)}</h3>
                <ul class="invitation-list">
                    {overview
                        .invitations
                        .clone()
                        .into_iter()
                        .map(|invitation| {
                            let expires = crate::time::to_local(invitation.expires_at)
                                .format("%Y-%m-%d %H:%M")
                                .to_string();
                            let names = invitation.children.join("、");
                            view! {
                                <li>
                                    <span>{names}</span>
                                    " "
                                    <span class="muted">
                                        {t_string!(i18n, family_invitation_expires, date = expires.clone()).to_string()}
                                    </span>
                                    <ActionForm action=revoke_invitation attr:class="inline-form">
                                        <input type="hidden" name="invitation_id" value=invitation.id />
                                        <button type="submit">{t!(i18n, family_cancel)}</button>
                                    </ActionForm>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </Show>
        </section>

        <section aria-labelledby="data-heading">
            <h2 id="data-heading">{t!(i18n, family_privacy)}</h2>
            <p>
                <a href="/family/export.json" rel="external" download="ningyu-export.json">
                    {t!(i18n, family_export)}
                </a>
            </p>
            <ActionError action=delete />
            <ActionForm action=delete attr:class="danger-form">
                <label class="check">
                    <input type="checkbox" name="confirm" value="on" />
                    <span>{t!(i18n, family_delete_confirm)}</span>
                </label>
                <button type="submit" class="danger">{t!(i18n, family_delete)}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn ChildItem(child: ChildView, withdraw: ServerAction<WithdrawChildConsent>) -> impl IntoView {
    let i18n = use_i18n();
    let is_guardian = child.relation == ChildRelation::Guardian;
    let guardian_line = match &child.relation {
        ChildRelation::Carer { guardian_name } => {
            Some(t_string!(i18n, family_guardian, name = guardian_name.clone()).to_string())
        }
        ChildRelation::Guardian => None,
    };
    let age = t_string!(i18n, family_age_months, months = child.age_months).to_string();
    let born = t_string!(i18n, family_born, date = child.birth_date.to_string()).to_string();
    let groups = child
        .priority_groups
        .iter()
        .map(|name| match i18n.get_locale() {
            Locale::en => name.en.clone(),
            Locale::zh_CN => name.zh.clone(),
        })
        .collect::<Vec<_>>()
        .join(if i18n.get_locale() == Locale::en {
            ", "
        } else {
            "、"
        });
    view! {
        <li class="child">
            <p class="child-name">{child.display_name.clone()}</p>
            <p class="muted">{age} " · " {born}</p>
            {guardian_line.map(|line| view! { <p class="muted">{line}</p> })}
            {child.care_notes.clone().map(|notes| view! {
                <p><strong>{t!(i18n, family_care_notes)} "："</strong>{notes}</p>
            })}
            {(!groups.is_empty()).then(|| view! {
                <p><strong>{t!(i18n, family_priority_groups)} "："</strong>{groups.clone()}</p>
            })}
            <Show when=move || is_guardian>
                <ActionForm action=withdraw attr:class="inline-form">
                    <input type="hidden" name="child_id" value=child.id />
                    <button type="submit" class="danger">{t!(i18n, family_withdraw)}</button>
                </ActionForm>
            </Show>
        </li>
    }
}

#[component]
fn CarerItem(carer: CarerView, revoke_carer: ServerAction<RevokeCarer>) -> impl IntoView {
    let i18n = use_i18n();
    let names = carer
        .children
        .iter()
        .map(|(_, name)| name.as_str())
        .collect::<Vec<_>>()
        .join("、");
    view! {
        <li>
            <p class="carer-name">{carer.display_name.clone()}</p>
            <p class="muted">{t_string!(i18n, family_carer_children, names = names.clone()).to_string()}</p>
            <ActionForm action=revoke_carer attr:class="inline-form">
                <input type="hidden" name="carer_id" value=carer.account_id />
                <button type="submit">{t!(i18n, family_revoke)}</button>
            </ActionForm>
        </li>
    }
}

/// Renders the form that adds a child, filled from `draft` after a
/// rejected plain post.
#[component]
fn AddChildForm(action: ServerAction<AddChild>, draft: Option<AddChild>) -> impl IntoView {
    let i18n = use_i18n();
    let draft = draft.unwrap_or_else(|| AddChild {
        display_name: String::new(),
        birth_date: String::new(),
        care_notes: None,
        consent: None,
    });
    let consented = draft.consent.is_some();
    view! {
        <h3>{t!(i18n, family_add_child)}</h3>
        <ActionError action />
        <ActionForm action attr:class="stacked-form">
            <label for="child-name">{t!(i18n, field_display_name)}</label>
            <input id="child-name" name="display_name" required maxlength="40" autocomplete="off"
                value=draft.display_name />
            <p class="hint">{t!(i18n, family_child_name_hint)}</p>

            <label for="child-birth">{t!(i18n, field_birth_date)}</label>
            <input id="child-birth" name="birth_date" type="date" required value=draft.birth_date />

            <label for="child-notes">{t!(i18n, field_care_notes)}</label>
            <textarea id="child-notes" name="care_notes" maxlength="500" rows="3">{draft.care_notes.unwrap_or_default()}</textarea>
            <p class="hint">{t!(i18n, family_care_notes_hint)}</p>

            <fieldset class="consent">
                <legend>{t!(i18n, family_consent_heading)}</legend>
                <p>{t_string!(i18n, family_consent_text, version = CHILD_NOTICE_VERSION).to_string()}</p>
                <label class="check">
                    <input type="checkbox" name="consent" value="on" checked=consented />
                    <span>{t!(i18n, family_consent_label)}</span>
                </label>
            </fieldset>
            <button type="submit" class="primary">{t!(i18n, family_save)}</button>
        </ActionForm>
    }
}

/// Renders the form that invites a carer, with the children chosen in
/// `draft` ticked again after a rejected plain post.
#[component]
fn InviteForm(
    action: ServerAction<CreateInvitation>,
    children: Vec<ChildView>,
    draft: Option<CreateInvitation>,
) -> impl IntoView {
    let i18n = use_i18n();
    let chosen = draft.map(|draft| draft.child_ids).unwrap_or_default();
    view! {
        <h3>{t!(i18n, family_invite)}</h3>
        <ActionError action />
        <ActionForm action attr:class="stacked-form">
            <fieldset>
                <legend>{t!(i18n, family_invite_children)}</legend>
                {children
                    .into_iter()
                    .enumerate()
                    .map(|(index, child)| {
                        let name = format!("child_ids[{index}]");
                        let checked = chosen.contains(&child.id);
                        view! {
                            <label class="check">
                                <input type="checkbox" name=name value=child.id checked=checked />
                                <span>{child.display_name}</span>
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <button type="submit" class="primary">{t!(i18n, family_invite)}</button>
        </ActionForm>
    }
}

/// Shows a new invitation's code once, with the link to send.
#[component]
pub fn InvitationCreatedPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let code = move || query.with(|query| query.get("code")).unwrap_or_default();
    let link = move || format!("/invite/{}", code());
    view! {
        <Title text=t_string!(i18n, invitation_title).to_string() />
        <h1>{t!(i18n, invitation_title)}</h1>
        <p class="invitation-code" aria-live="polite">{code}</p>
        <p>{t!(i18n, invitation_intro)}</p>
        <p>
            {t!(i18n, invitation_link)} "："
            <a href=link>{link}</a>
        </p>
        <p><a href="/family">{t!(i18n, family_title)}</a></p>
    }
}

/// Accepting an invitation: the code comes from the link or is typed in.
#[component]
pub fn AcceptInvitationPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let code = move || params.with(|params| params.get("code")).unwrap_or_default();
    let accept = ServerAction::<AcceptInvitation>::new();
    let viewer = Resource::new(|| (), |()| crate::api::current_viewer());
    // A rejected code comes back as the form's draft, not in the address.
    let draft = use_form_draft::<AcceptInvitation>();
    view! {
        <Title text=t_string!(i18n, invite_title).to_string() />
        <h1>{t!(i18n, invite_title)}</h1>
        <Suspense>
            {move || Suspend::new(async move {
                let signed_in = matches!(viewer.await, Ok(Some(_)));
                let code = draft.await.map_or_else(code, |draft| draft.code);
                if signed_in {
                    view! {
                        <p>{t!(i18n, invite_intro)}</p>
                        <ActionError action=accept />
                        <ActionForm action=accept attr:class="stacked-form">
                            <label for="invite-code">{t!(i18n, invite_code)}</label>
                            <input id="invite-code" name="code" required value=code autocomplete="off" autocapitalize="characters" />
                            <button type="submit" class="primary">{t!(i18n, invite_accept)}</button>
                        </ActionForm>
                    }
                    .into_any()
                } else {
                    let return_to = serde_urlencoded::to_string([("return_to", format!("/invite/{code}"))])
                        .unwrap_or_default();
                    view! {
                        <p>{t!(i18n, invite_sign_in_first)}</p>
                        <p>
                            <a class="button primary" href=format!("/auth/login?{return_to}") rel="external">
                                {t!(i18n, sign_in_button)}
                            </a>
                        </p>
                    }
                    .into_any()
                }
            })}
        </Suspense>
    }
}
