use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::{Locale, t, t_string, use_i18n};
use crate::prefs::{TextSize, current_text_size};

/// Language and text size, saved on this device by the server in cookies.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let i18n = use_i18n();
    let is_en = move || i18n.get_locale() == Locale::en;
    let large = current_text_size() == TextSize::Large;
    view! {
        <Title text=t_string!(i18n, settings_title).to_string() />
        <h1>{t!(i18n, settings_title)}</h1>
        <form method="post" action="/prefs" class="settings-form">
            <input type="hidden" name="return_to" value="/settings" />
            <fieldset>
                <legend>{t!(i18n, settings_language)}</legend>
                <label>
                    <input type="radio" name="locale" value="zh-CN" checked=move || !is_en() />
                    <span lang="zh-CN">"简体中文"</span>
                </label>
                <label>
                    <input type="radio" name="locale" value="en" checked=is_en />
                    <span lang="en">"English"</span>
                </label>
            </fieldset>
            <fieldset>
                <legend>{t!(i18n, settings_text_size)}</legend>
                <label>
                    <input type="radio" name="text_size" value="normal" checked=!large />
                    {t!(i18n, settings_text_normal)}
                </label>
                <label>
                    <input type="radio" name="text_size" value="large" checked=large />
                    {t!(i18n, settings_text_large)}
                </label>
            </fieldset>
            <p class="hint">{t!(i18n, settings_saved_hint)}</p>
            <button type="submit" class="primary">{t!(i18n, settings_save)}</button>
        </form>
    }
}
