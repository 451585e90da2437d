//! Per-device preferences kept in cookies, so that server-rendered pages
//! honour them before any script runs.

/// Cookie that contains the text size: `large` or absent.
pub const TEXT_SIZE_COOKIE: &str = "ningyu_text";
/// Cookie that leptos_i18n reads for the preferred locale.
pub const LOCALE_COOKIE: &str = "i18n_pref_locale";

/// The text size a device asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextSize {
    #[default]
    Normal,
    /// At least 1.5 times the normal size, for older users.
    Large,
}

impl TextSize {
    /// Reads the text size from a `Cookie` header value.
    pub fn from_cookie_header(header: &str) -> Self {
        let large = header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| name == TEXT_SIZE_COOKIE && value == "large");
        if large { Self::Large } else { Self::Normal }
    }
}

/// Returns the text size of the page being rendered: from the request's
/// cookie on the server, from the class the server put on `<html>` in the
/// browser, so both sides agree during hydration.
pub fn current_text_size() -> TextSize {
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::use_context;

        use_context::<http::request::Parts>()
            .and_then(|parts| {
                parts
                    .headers
                    .get(http::header::COOKIE)
                    .and_then(|value| value.to_str().ok())
                    .map(TextSize::from_cookie_header)
            })
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        let large = leptos::prelude::document()
            .document_element()
            .is_some_and(|html| html.class_list().contains("text-large"));
        if large {
            TextSize::Large
        } else {
            TextSize::Normal
        }
    }
}

/// Returns `target` when it is a same-site path (one leading `/`, no
/// backslash, no scheme), else `/`. Used for every post-action redirect.
pub fn safe_return_path(target: &str) -> &str {
    let is_path = target.starts_with('/')
        && !target.starts_with("//")
        && !target.contains('\\')
        && !target.chars().any(char::is_control);
    if is_path { target } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_size_read_from_cookie_header() {
        let cases = [
            ("", TextSize::Normal),
            ("ningyu_text=large", TextSize::Large),
            ("a=b; ningyu_text=large; c=d", TextSize::Large),
            ("ningyu_text=normal", TextSize::Normal),
            ("xningyu_text=large", TextSize::Normal),
        ];
        for (header, expected) in cases {
            assert_eq!(
                TextSize::from_cookie_header(header),
                expected,
                "header {header:?}"
            );
        }
    }

    #[test]
    fn return_path_accepts_only_same_site_paths() {
        let cases = [
            ("/", "/"),
            ("/places/1?x=1", "/places/1?x=1"),
            ("//other.example", "/"),
            ("/\\other.example", "/"),
            ("https://other.example", "/"),
            ("places", "/"),
            ("/a\nb", "/"),
        ];
        for (target, expected) in cases {
            assert_eq!(safe_return_path(target), expected, "target {target:?}");
        }
    }
}
