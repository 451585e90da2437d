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
///
/// The check also applies to the target percent-decoded once and twice, so
/// that `/%2F/other.example` and its double encoding, which some servers
/// and proxies decode on the way, are refused too.
pub fn safe_return_path(target: &str) -> &str {
    let mut decoded = target.to_owned();
    for _ in 0..3 {
        if !is_same_site_path(&decoded) {
            return "/";
        }
        let next = percent_decode(&decoded);
        if next == decoded {
            break;
        }
        decoded = next;
    }
    if target.len() > MAX_RETURN_PATH {
        "/"
    } else {
        target
    }
}

/// Maximum length of a return path kept, in bytes.
const MAX_RETURN_PATH: usize = 1000;

fn is_same_site_path(target: &str) -> bool {
    target.starts_with('/')
        && !target.starts_with("//")
        && !target.contains('\\')
        && !target.chars().any(char::is_control)
}

/// Decodes `%XX` escapes; invalid escapes and non-UTF-8 results stay as
/// they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let (Some(high), Some(low)) = (
                bytes
                    .get(index + 1)
                    .and_then(|b| char::from(*b).to_digit(16)),
                bytes
                    .get(index + 2)
                    .and_then(|b| char::from(*b).to_digit(16)),
            )
        {
            out.push(u8::try_from(high * 16 + low).unwrap_or(b'%'));
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
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
            ("/%2F/other.example", "/"),
            ("/%2f%2fother.example", "/"),
            ("%2F%2Fother.example", "/"),
            ("/%5Cother.example", "/"),
            ("/%255Cother.example", "/"),
            ("/%252F%252Fother.example", "/"),
            ("https%3A%2F%2Fother.example", "/"),
            ("/bookings?x=1", "/bookings?x=1"),
            (
                "/search?q=%E6%89%98%E8%82%B2",
                "/search?q=%E6%89%98%E8%82%B2",
            ),
        ];
        for (target, expected) in cases {
            assert_eq!(safe_return_path(target), expected, "target {target:?}");
        }
    }
}
