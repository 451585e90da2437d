//! The places-left figure of a session page, kept current while the page
//! is open.

use leptos::prelude::*;

/// Shows `text` (the figure as the server rendered it) and, once the WASM
/// runs, replaces it with each figure that `/sessions/{id}/live` streams.
/// `left` is the translated "places left" text with `{left}` and
/// `{capacity}` in place of the numbers; `full` is the text for none.
/// Without JavaScript, or without EventSource, the rendered figure stays.
#[island]
pub fn LivePlaces(session_id: i64, text: String, left: String, full: String) -> impl IntoView {
    let (shown, set_shown) = signal(text);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        browser::listen(session_id, left.clone(), full.clone(), set_shown);
        #[cfg(not(feature = "hydrate"))]
        let _ = (session_id, &left, &full, set_shown);
    });
    view! { <strong class="session-left" aria-live="polite">{move || shown.get()}</strong> }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use leptos::wasm_bindgen::JsCast;
    use leptos::wasm_bindgen::closure::Closure;
    use leptos::web_sys::js_sys::{JSON, Reflect};
    use web_sys::{EventSource, MessageEvent};

    /// Opens the stream and updates the figure on each `places` event. The
    /// browser reconnects by itself when the server ends a stream.
    pub fn listen(session_id: i64, left: String, full: String, set_shown: WriteSignal<String>) {
        let Ok(source) = EventSource::new(&format!("/sessions/{session_id}/live")) else {
            return;
        };
        let on_places = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(data) = event.data().as_string() else {
                return;
            };
            let Ok(figures) = JSON::parse(&data) else {
                return;
            };
            let number = |name: &str| {
                Reflect::get(&figures, &name.into())
                    .ok()
                    .and_then(|value| value.as_f64())
            };
            let (Some(places_left), Some(capacity)) = (number("places_left"), number("capacity"))
            else {
                return;
            };
            let text = if places_left < 1.0 {
                full.clone()
            } else {
                left.replace("{left}", &format!("{places_left}"))
                    .replace("{capacity}", &format!("{capacity}"))
            };
            set_shown.set(text);
        });
        let listened =
            source.add_event_listener_with_callback("places", on_places.as_ref().unchecked_ref());
        if listened.is_ok() {
            // The page keeps listening for as long as it is open.
            on_places.forget();
        }
    }
}
