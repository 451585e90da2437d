//! The browser entry point: hydrates the server-rendered page.

// Leptos views are deeply nested types; hydrating the place page needs a
// deeper query limit than the default 128.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);

    // End-to-end tests wait for this mark before they rely on hydration.
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
