//! The camera button of the staff check-in form. It reads the family's QR
//! code with the browser's `BarcodeDetector`, where the browser has one,
//! and submits the check-in form with the scanned text. The island is
//! lazy, so only the staff session page fetches its WASM.

use leptos::prelude::*;

/// Shows a "scan with the camera" button when the browser offers both
/// `BarcodeDetector` and a camera (`navigator.mediaDevices.getUserMedia`).
/// While scanning it shows the camera's picture and a stop button. The
/// first QR code found goes into the field `#check-in-code`, and the form
/// `#check-in-form` is submitted.
///
/// The texts come from the server as props, because an island sees none of
/// the page's context. Without JavaScript, or without those browser
/// features, nothing is shown and the typed form is the whole feature.
#[island(lazy)]
pub fn ScanButton(label: String, scanning: String, failed: String, stop: String) -> impl IntoView {
    let (supported, set_supported) = signal(false);
    let (active, set_active) = signal(false);
    let (status, set_status) = signal(String::new());
    let video = NodeRef::<leptos::html::Video>::new();
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        set_supported.set(browser::supported());
        #[cfg(not(feature = "hydrate"))]
        let _ = set_supported;
    });
    let on_start = move |_| {
        set_status.set(scanning.clone());
        set_active.set(true);
        #[cfg(feature = "hydrate")]
        browser::start(video, active, set_active, set_status, failed.clone());
        #[cfg(not(feature = "hydrate"))]
        let _ = (&failed, video, set_status);
    };
    let on_stop = move |_| {
        set_active.set(false);
        set_status.set(String::new());
        #[cfg(feature = "hydrate")]
        browser::stop(video);
    };
    view! {
        <div class="scan" hidden=move || !supported.get()>
            <button type="button" class="button big" hidden=move || active.get() on:click=on_start>
                {label}
            </button>
            <video class="scan-video" node_ref=video muted=true playsinline=true hidden=move || !active.get()></video>
            <button type="button" class="button" hidden=move || !active.get() on:click=on_stop>
                {stop}
            </button>
            <p class="scan-status" role="status">{move || status.get()}</p>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use leptos::web_sys::js_sys::{Array, Function, Object, Promise, Reflect};
    use leptos::web_sys::{HtmlFormElement, HtmlInputElement};
    use wasm_bindgen_futures::JsFuture;

    /// Pause between two looks at the camera's picture, in milliseconds.
    const SCAN_INTERVAL_MS: i32 = 250;

    fn property(target: &JsValue, name: &str) -> Option<JsValue> {
        Reflect::get(target, &JsValue::from_str(name))
            .ok()
            .filter(|value| !value.is_undefined() && !value.is_null())
    }

    fn call(target: &JsValue, method: &str, args: &Array) -> Option<JsValue> {
        let function: Function = property(target, method)?.dyn_into().ok()?;
        function.apply(target, args).ok()
    }

    fn media_devices() -> Option<JsValue> {
        property(&window(), "navigator").and_then(|navigator| property(&navigator, "mediaDevices"))
    }

    /// Returns whether the browser can scan QR codes with a camera.
    pub fn supported() -> bool {
        property(&window(), "BarcodeDetector").is_some()
            && media_devices().is_some_and(|devices| property(&devices, "getUserMedia").is_some())
    }

    /// Opens the back camera and looks for a QR code until one is found or
    /// `active` turns false.
    pub fn start(
        video: NodeRef<leptos::html::Video>,
        active: ReadSignal<bool>,
        set_active: WriteSignal<bool>,
        set_status: WriteSignal<String>,
        failed: String,
    ) {
        leptos::task::spawn_local(async move {
            let found = scan(video, active).await;
            stop(video);
            match found {
                Ok(Some(text)) => submit(&text),
                Ok(None) => {}
                Err(_) => {
                    set_active.set(false);
                    set_status.set(failed);
                    if let Some(input) = code_input() {
                        let _ = input.focus();
                    }
                }
            }
        });
    }

    async fn scan(
        video: NodeRef<leptos::html::Video>,
        active: ReadSignal<bool>,
    ) -> Result<Option<String>, JsValue> {
        let missing = || JsValue::from_str("missing");
        let element = video.get_untracked().ok_or_else(missing)?;
        let constraints = Object::new();
        let camera = Object::new();
        Reflect::set(&camera, &"facingMode".into(), &"environment".into())?;
        Reflect::set(&constraints, &"video".into(), &camera)?;
        Reflect::set(&constraints, &"audio".into(), &false.into())?;
        let devices = media_devices().ok_or_else(missing)?;
        let request =
            call(&devices, "getUserMedia", &Array::of1(&constraints)).ok_or_else(missing)?;
        let stream = JsFuture::from(Promise::from(request)).await?;
        Reflect::set(&element, &"srcObject".into(), &stream)?;
        if let Some(playing) = call(&element, "play", &Array::new()) {
            JsFuture::from(Promise::from(playing)).await?;
        }

        let constructor: Function = property(&window(), "BarcodeDetector")
            .ok_or_else(missing)?
            .dyn_into()?;
        let options = Object::new();
        Reflect::set(&options, &"formats".into(), &Array::of1(&"qr_code".into()))?;
        let detector = Reflect::construct(&constructor, &Array::of1(&options))?;
        while active.get_untracked() {
            let detecting = call(&detector, "detect", &Array::of1(&element)).ok_or_else(missing)?;
            // A frame that cannot be read yet (the camera is starting) is
            // no reason to stop.
            if let Ok(codes) = JsFuture::from(Promise::from(detecting)).await
                && let Some(text) = Array::from(&codes)
                    .iter()
                    .find_map(|code| property(&code, "rawValue").and_then(|raw| raw.as_string()))
            {
                return Ok(Some(text));
            }
            sleep(SCAN_INTERVAL_MS).await;
        }
        Ok(None)
    }

    async fn sleep(milliseconds: i32) {
        let promise = Promise::new(&mut |resolve, _| {
            let _ = window()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, milliseconds);
        });
        let _ = JsFuture::from(promise).await;
    }

    /// Stops every track of the camera stream, which turns the camera off.
    pub fn stop(video: NodeRef<leptos::html::Video>) {
        let Some(element) = video.get_untracked() else {
            return;
        };
        let element: JsValue = element.into();
        if let Some(stream) = property(&element, "srcObject") {
            if let Some(tracks) = call(&stream, "getTracks", &Array::new()) {
                for track in Array::from(&tracks).iter() {
                    let _ = call(&track, "stop", &Array::new());
                }
            }
            let _ = Reflect::set(&element, &"srcObject".into(), &JsValue::NULL);
        }
    }

    fn code_input() -> Option<HtmlInputElement> {
        document()
            .get_element_by_id("check-in-code")?
            .dyn_into()
            .ok()
    }

    fn submit(text: &str) {
        let form: Option<HtmlFormElement> = document()
            .get_element_by_id("check-in-form")
            .and_then(|element| element.dyn_into().ok());
        if let (Some(input), Some(form)) = (code_input(), form) {
            input.set_value(text);
            let _ = form.submit();
        }
    }
}
