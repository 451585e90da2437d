//! HTML pages of the stand-in portal: login, error and signed out. Simplified
//! Chinese comes first with English under it. The pages use inline CSS only
//! and no external assets.

use std::fmt::Write;

use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;
use http::header::CACHE_CONTROL;

use super::citizens::Citizen;

const STYLE: &str = "\
body{margin:0;font-family:system-ui,-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;\
background:#f3f6fa;color:#1c2733;line-height:1.5}\
main{max-width:32rem;margin:0 auto;padding:1rem}\
.notice{background:#fff4d6;border:2px dashed #b7791f;border-radius:.5rem;padding:.75rem;margin:0 0 1rem}\
h1{color:#0b5cad;font-size:1.5rem;margin:.5rem 0 0}\
.en{color:#4a5868;font-size:.9rem;margin-top:0}\
ul{list-style:none;padding:0;margin:0}\
li{margin:.5rem 0}\
button{display:block;width:100%;text-align:left;font:inherit;padding:.75rem 1rem;\
border:1px solid #9fb3c8;border-radius:.5rem;background:#fff;color:inherit;cursor:pointer}\
button:hover,button:focus-visible{border-color:#0b5cad;outline:3px solid #9cc7f2}\
.name{font-size:1.15rem;font-weight:600;margin-right:.5rem}\
.unverified{color:#a12b2b}\
code{word-break:break-all}";

/// Renders the login page for a valid authorization request. `hidden` contains the
/// request's parameters, which the form posts back with the chosen citizen.
pub(super) fn login_page(
    client_id: &str,
    hidden: &[(&str, String)],
    citizens: &[Citizen],
) -> Response {
    let client_id = escape(client_id);
    let mut body = String::new();
    body.push_str(NOTICE);
    body.push_str("<h1>我的南京 · 统一身份认证</h1>\n");
    body.push_str("<p class=\"en\" lang=\"en\">My Nanjing sign-in</p>\n");
    let _ = write!(
        body,
        "<p>应用 <code>{client_id}</code> 请求登录。请选择一位演示市民：</p>\n\
         <p class=\"en\" lang=\"en\">The application <code>{client_id}</code> requests a sign-in. \
         Choose a demo citizen:</p>\n"
    );

    body.push_str("<form method=\"post\" action=\"/authorize\">\n");
    for (name, value) in hidden {
        let _ = writeln!(
            body,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        );
    }
    body.push_str("<ul>\n");
    for citizen in citizens {
        let _ = write!(
            body,
            "<li><button type=\"submit\" name=\"citizen\" value=\"{subject}\">\
             <span class=\"name\">{name}</span>{zh}<br><span class=\"en\" lang=\"en\">{en}</span>",
            subject = escape(citizen.subject),
            name = escape(citizen.name),
            zh = escape(citizen.description_zh),
            en = escape(citizen.description_en),
        );
        if !citizen.verified {
            body.push_str(
                "<br><span class=\"unverified\">未实名认证 \
                 <span lang=\"en\">(not real-name verified)</span></span>",
            );
        }
        body.push_str("</button></li>\n");
    }
    body.push_str("</ul>\n</form>\n");

    html_response(StatusCode::OK, "登录 · Sign in", &body)
}

/// Renders the page shown instead of a redirect when the client or its redirect URI
/// cannot be trusted. `message` is the English reason.
pub(super) fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "{NOTICE}<h1>登录请求无效</h1>\n\
         <p class=\"en\" lang=\"en\">Invalid sign-in request</p>\n\
         <p>本门户不会返回发出请求的应用。请检查应用的门户配置。</p>\n\
         <p class=\"en\" lang=\"en\">The portal does not return to the application. \
         Check the application's portal settings.</p>\n\
         <p lang=\"en\"><code>{}</code></p>\n",
        escape(message)
    );
    html_response(status, "请求无效 · Invalid request", &body)
}

/// Renders the page shown after `/end-session` when there is no registered address
/// to return to. `note` explains, in English, why the portal stayed here.
pub(super) fn signed_out_page(note: Option<&str>) -> Response {
    let mut body = format!(
        "{NOTICE}<h1>已退出</h1>\n<p class=\"en\" lang=\"en\">Signed out</p>\n\
         <p>你已退出本地替身门户。</p>\n\
         <p class=\"en\" lang=\"en\">You have signed out of the local stand-in portal.</p>\n"
    );
    if let Some(note) = note {
        let _ = writeln!(body, "<p lang=\"en\"><code>{}</code></p>", escape(note));
    }
    html_response(StatusCode::OK, "已退出 · Signed out", &body)
}

/// Banner at the top of every page, so that a user does not mistake the
/// stand-in for the real portal.
const NOTICE: &str = "<p class=\"notice\" role=\"note\"><strong>本地开发替身</strong>：\
这不是真正的“我的南京”，仅供开发和测试使用，请勿输入任何真实信息。<br>\
<span lang=\"en\"><strong>Local stand-in for development.</strong> This is not the real \
“My Nanjing” city portal. Do not enter any real information.</span></p>\n";

fn html_response(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>我的南京（本地替身）· {title}</title>\n<style>{STYLE}</style>\n</head>\n\
         <body>\n<main>\n{body}</main>\n</body>\n</html>\n"
    );
    (status, [(CACHE_CONTROL, "no-store")], Html(page)).into_response()
}

/// Escapes text for HTML element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
