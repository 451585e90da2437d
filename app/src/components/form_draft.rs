use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Returns the arguments of the rejected plain post to server function
/// `S` when the page was reached through that rejection (its `__path`
/// names `S`), so that the form can show what was typed. Returns `None`
/// otherwise.
///
/// The server keeps them beside the web session
/// (`api::form_redirect::reject`) and hands them out once, so a reload
/// shows the error with an empty form. For the same reason, call this in
/// the page's own component and await it in the page's `Suspend`: a
/// resource made in a nested component that renders again would find the
/// draft gone.
pub fn use_form_draft<S>() -> Resource<Option<S>>
where
    S: ServerFn + Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    let query = use_query_map();
    Resource::new(
        move || query.with(|query| query.get("__path").as_deref() == Some(S::PATH)),
        |rejected| async move {
            if !rejected {
                return None;
            }
            let fields = crate::api::take_form_draft(S::PATH.to_owned())
                .await
                .ok()
                .flatten()?;
            serde_json::from_value(fields).ok()
        },
    )
}
