use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::i18n::{Locale, t, t_string, use_i18n};

/// The page header: skip link, product name and main navigation.
#[component]
pub fn Header() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <a class="skip-link" href="#main">{t!(i18n, skip_to_content)}</a>
        <header class="site-header">
            <a class="brand" href="/">
                <span class="brand-name">{t!(i18n, app_name)}</span>
                <span class="brand-tagline">{t!(i18n, app_tagline)}</span>
            </a>
            <nav aria-label=move || t_string!(i18n, nav_label)>
                <ul>
                    <li><a href="/">{t!(i18n, nav_home)}</a></li>
                    <li><a href="/search">{t!(i18n, nav_places)}</a></li>
                    <li><a href="/courses">{t!(i18n, nav_courses)}</a></li>
                    <li><a href="/bookings">{t!(i18n, nav_bookings)}</a></li>
                    <li><a href="/inbox">{t!(i18n, nav_inbox)}</a></li>
                    <li><a href="/family">{t!(i18n, nav_family)}</a></li>
                    <li><a href="/settings">{t!(i18n, nav_settings)}</a></li>
                    <li><AccountLink /></li>
                </ul>
            </nav>
        </header>
    }
}

/// The header link to the account page, or to signing in when signed out.
///
/// The request tells the server whether someone is signed in, so the link
/// needs no resource. Pages render on the server only (islands mode).
#[component]
fn AccountLink() -> impl IntoView {
    let i18n = use_i18n();
    #[cfg(feature = "ssr")]
    let signed_in = crate::api::viewer().is_some();
    #[cfg(not(feature = "ssr"))]
    let signed_in = false;
    if signed_in {
        view! { <a href="/account">{t!(i18n, nav_account)}</a> }.into_any()
    } else {
        view! { <a href="/sign-in">{t!(i18n, nav_sign_in)}</a> }.into_any()
    }
}

/// Renders the page footer with the language and text-size switches.
///
/// Both are plain forms that post to `/prefs`, so they work without
/// JavaScript; the server stores the choice in a cookie and redirects back.
#[component]
pub fn Footer() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let return_to = move || {
        let search = location.search.get();
        if search.is_empty() {
            location.pathname.get()
        } else {
            format!("{}?{}", location.pathname.get(), search)
        }
    };
    let other_locale = move || match i18n.get_locale() {
        Locale::en => "zh-CN",
        _ => "en",
    };
    view! {
        <footer class="site-footer">
            <div class="prefs">
                <form method="post" action="/prefs">
                    <input type="hidden" name="return_to" value=return_to />
                    <input type="hidden" name="locale" value=other_locale />
                    <button type="submit" lang=other_locale>
                        {t!(i18n, switch_to_other_language)}
                    </button>
                </form>
                // Only one of these two forms shows, by the class on <html>.
                <form method="post" action="/prefs" class="when-normal-text">
                    <input type="hidden" name="return_to" value=return_to />
                    <input type="hidden" name="text_size" value="large" />
                    <button type="submit">{t!(i18n, toggle_large_text)}</button>
                </form>
                <form method="post" action="/prefs" class="when-large-text">
                    <input type="hidden" name="return_to" value=return_to />
                    <input type="hidden" name="text_size" value="normal" />
                    <button type="submit">{t!(i18n, toggle_normal_text)}</button>
                </form>
            </div>
            <p>{t!(i18n, footer_text)}</p>
        </footer>
    }
}
