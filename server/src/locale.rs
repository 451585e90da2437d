//! Choosing the response language for REST and plain HTTP responses, the same
//! way leptos_i18n does for pages: the saved cookie first, then
//! `Accept-Language`, then Simplified Chinese.

use app::i18n::Locale;
use app::prefs::LOCALE_COOKIE;
use http::HeaderMap;
use http::header::ACCEPT_LANGUAGE;

/// Returns the locale for a request with these headers.
pub fn negotiate(headers: &HeaderMap) -> Locale {
    if let Some(locale) = cookie_locale(headers) {
        return locale;
    }
    headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .map_or_else(Locale::default, from_accept_language)
}

fn cookie_locale(headers: &HeaderMap) -> Option<Locale> {
    crate::web::cookie_values(headers, LOCALE_COOKIE)
        .next()
        .and_then(|value| value.parse().ok())
}

/// Picks the supported locale with the highest quality in an
/// `Accept-Language` value; ties keep the header's order.
fn from_accept_language(header: &str) -> Locale {
    let mut best: Option<(f32, Locale)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .find_map(|param| param.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let locale = if tag == "zh" || tag.starts_with("zh-") {
            Some(Locale::zh_CN)
        } else if tag == "en" || tag.starts_with("en-") {
            Some(Locale::en)
        } else {
            None
        };
        if let Some(locale) = locale
            && quality > 0.0
            && best.is_none_or(|(best_quality, _)| quality > best_quality)
        {
            best = Some((quality, locale));
        }
    }
    best.map_or_else(Locale::default, |(_, locale)| locale)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn accept_language_picks_highest_supported_quality() {
        let cases = [
            ("", Locale::zh_CN),
            ("en-US,en;q=0.9", Locale::en),
            ("zh-CN,zh;q=0.9,en;q=0.8", Locale::zh_CN),
            ("fr,en;q=0.5", Locale::en),
            ("fr", Locale::zh_CN),
            ("en;q=0.3,zh-TW;q=0.8", Locale::zh_CN),
            ("en;q=0", Locale::zh_CN),
        ];
        for (header, expected) in cases {
            assert_eq!(from_accept_language(header), expected, "header {header:?}");
        }
    }

    #[test]
    fn cookie_overrides_accept_language() {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("zh-CN"));
        headers.insert(
            http::header::COOKIE,
            HeaderValue::from_static("a=1; i18n_pref_locale=en"),
        );
        assert_eq!(negotiate(&headers), Locale::en);
    }
}
