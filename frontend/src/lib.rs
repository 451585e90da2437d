//! The browser entry point. Pages are server-rendered in islands mode:
//! only components marked `#[island]` in the `app` crate hydrate, so the
//! WASM carries those and nothing else.

// Links the `app` crate so that its islands are registered.
use app as _;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();

    // End-to-end tests wait for this mark before they rely on hydration.
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
