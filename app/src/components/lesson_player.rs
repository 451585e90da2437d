//! The player of a course lesson. Rendered on the server it is a plain
//! `<video>` or `<audio>` element with the browser's own controls, which
//! plays without JavaScript. Hydrated, it resumes where a signed-in viewer
//! stopped and records the position while they watch. The island is lazy,
//! so only course pages fetch its WASM.

use leptos::prelude::*;

/// Seconds of playing between two saved positions.
const SAVE_EVERY_SECONDS: f64 = 15.0;
/// A saved position closer than this to either end starts from the top.
const RESUME_MARGIN_SECONDS: f64 = 5.0;

/// Plays the lesson `lesson_id` from `src`. `preload="none"` keeps an old
/// phone on mobile data from downloading anything before play is pressed.
/// `resume` is where the viewer stopped; `signed_in` decides whether the
/// position is saved. Chinese captions, when given, are on by default.
#[island(lazy)]
pub fn LessonPlayer(
    lesson_id: i64,
    src: String,
    content_type: String,
    resume: u32,
    signed_in: bool,
    label: String,
    /// The captions' address and their label in the player's menu.
    captions: Option<(String, String)>,
) -> impl IntoView {
    // The last position saved, in seconds.
    let saved = StoredValue::new(f64::from(resume));
    let save = move |position: f64, finished: bool| {
        if !signed_in || !position.is_finite() {
            return;
        }
        saved.set_value(position);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            // A lost save costs only the resume point, so errors are dropped.
            let _ = crate::api::courses::save_lesson_progress(
                lesson_id,
                position.max(0.0) as u32,
                finished,
            )
            .await;
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (lesson_id, finished);
    };
    let on_loaded = move |event: leptos::ev::Event| {
        let media = event_target::<leptos::web_sys::HtmlMediaElement>(&event);
        let resume = f64::from(resume);
        if resume > RESUME_MARGIN_SECONDS && resume < media.duration() - RESUME_MARGIN_SECONDS {
            media.set_current_time(resume);
        }
    };
    let on_time = move |event: leptos::ev::Event| {
        let media = event_target::<leptos::web_sys::HtmlMediaElement>(&event);
        let now = media.current_time();
        if (now - saved.get_value()).abs() >= SAVE_EVERY_SECONDS {
            save(now, false);
        }
    };
    let on_pause = move |event: leptos::ev::Event| {
        let media = event_target::<leptos::web_sys::HtmlMediaElement>(&event);
        if !media.ended() {
            save(media.current_time(), false);
        }
    };
    let on_ended = move |event: leptos::ev::Event| {
        let media = event_target::<leptos::web_sys::HtmlMediaElement>(&event);
        save(media.current_time(), true);
    };
    let track = captions.map(|(src, label)| {
        view! { <track kind="captions" src=src srclang="zh-Hans" label=label default=true /> }
    });
    if content_type.starts_with("audio/") {
        view! {
            <audio class="lesson-media" controls preload="none" aria-label=label
                on:loadedmetadata=on_loaded on:timeupdate=on_time on:pause=on_pause on:ended=on_ended>
                <source src=src type=content_type />
                {track}
            </audio>
        }
        .into_any()
    } else {
        view! {
            <video class="lesson-media" controls preload="none" playsinline=true aria-label=label
                on:loadedmetadata=on_loaded on:timeupdate=on_time on:pause=on_pause on:ended=on_ended>
                <source src=src type=content_type />
                {track}
            </video>
        }
        .into_any()
    }
}
