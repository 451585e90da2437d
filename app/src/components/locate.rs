//! The "use my location" button of the search form, the one island that
//! search ships to the browser.

use leptos::prelude::*;

/// Asks the browser for the location when pressed, writes it into the
/// search form's `lat` and `lon` fields, clears the typed name and submits.
/// When the location is denied or unavailable it shows a message and moves focus
/// to the name field.
///
/// The texts come from the server as props, because an island sees none of
/// the context (such as the locale) of the page around it. The button stays
/// hidden until the island runs, so a browser without JavaScript never
/// shows a button that does nothing.
#[island]
pub fn LocateButton(label: String, asking: String, failed: String) -> impl IntoView {
    let (ready, set_ready) = signal(false);
    let (status, set_status) = signal(String::new());
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| set_ready.set(true));
    let on_click = move |_| {
        set_status.set(asking.clone());
        #[cfg(feature = "hydrate")]
        browser::locate(failed.clone(), set_status);
        #[cfg(not(feature = "hydrate"))]
        let _ = &failed;
    };
    view! {
        <div class="locate">
            <button type="button" class="button" hidden=move || !ready.get() on:click=on_click>
                {label}
            </button>
            <p class="locate-status" role="status">{move || status.get()}</p>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use leptos::wasm_bindgen::closure::Closure;
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use leptos::web_sys::js_sys::{Function, Object, Reflect};
    use leptos::web_sys::{HtmlFormElement, HtmlInputElement};

    /// Milliseconds to wait for a position before giving up.
    const TIMEOUT_MS: u32 = 15_000;
    /// Age in milliseconds of a cached position that is still good enough.
    const MAXIMUM_AGE_MS: u32 = 300_000;

    fn property(target: &JsValue, name: &str) -> Option<JsValue> {
        Reflect::get(target, &JsValue::from_str(name))
            .ok()
            .filter(|value| !value.is_undefined() && !value.is_null())
    }

    fn input(id: &str) -> Option<HtmlInputElement> {
        document().get_element_by_id(id)?.dyn_into().ok()
    }

    /// Calls `navigator.geolocation.getCurrentPosition` through `Reflect`,
    /// which needs no extra web-sys features in the WASM.
    pub fn locate(failed: String, set_status: WriteSignal<String>) {
        let fail = move || {
            set_status.set(failed.clone());
            if let Some(name) = input("search-q") {
                let _ = name.focus();
            }
        };
        let call = property(&window(), "navigator")
            .and_then(|navigator| property(&navigator, "geolocation"))
            .and_then(|geolocation| {
                let method: Function = property(&geolocation, "getCurrentPosition")?
                    .dyn_into()
                    .ok()?;
                Some((geolocation, method))
            });
        let Some((geolocation, get_current_position)) = call else {
            fail();
            return;
        };

        let on_success = Closure::once_into_js({
            let fail = fail.clone();
            move |position: JsValue| {
                if !search_from(&position) {
                    fail();
                }
            }
        });
        let on_error = Closure::once_into_js({
            let fail = fail.clone();
            move |_error: JsValue| fail()
        });
        let options = Object::new();
        let _ = Reflect::set(&options, &"enableHighAccuracy".into(), &false.into());
        let _ = Reflect::set(&options, &"timeout".into(), &TIMEOUT_MS.into());
        let _ = Reflect::set(&options, &"maximumAge".into(), &MAXIMUM_AGE_MS.into());
        if get_current_position
            .call3(&geolocation, &on_success, &on_error, &options)
            .is_err()
        {
            fail();
        }
    }

    /// Fills the form from a `GeolocationPosition` and submits it. Returns
    /// false when the position or the form is missing.
    fn search_from(position: &JsValue) -> bool {
        let coordinate = |name: &str| {
            property(position, "coords")
                .and_then(|coords| property(&coords, name))
                .and_then(|value| value.as_f64())
        };
        let (Some(latitude), Some(longitude)) = (coordinate("latitude"), coordinate("longitude"))
        else {
            return false;
        };
        let form: Option<HtmlFormElement> = document()
            .get_element_by_id("search-form")
            .and_then(|element| element.dyn_into().ok());
        let (Some(lat), Some(lon), Some(name), Some(form)) = (
            input("search-lat"),
            input("search-lon"),
            input("search-q"),
            form,
        ) else {
            return false;
        };
        lat.set_value(&format!("{latitude:.6}"));
        lon.set_value(&format!("{longitude:.6}"));
        // A typed name wins over coordinates, so it has to go.
        name.set_value("");
        // The position no longer comes from the map.
        if let Some(start) = input("search-start") {
            start.set_value("");
        }
        form.submit().is_ok()
    }
}
