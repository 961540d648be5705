//! `GET /_sandbox/console` (API.md section 14): one web page, built into
//! the binary, over the control API. Its style and script are inline and
//! named by their SHA-256 in a strict Content-Security-Policy, so the page
//! runs nothing it did not bring and fetches nothing from elsewhere.

use std::sync::OnceLock;

use base64::Engine as _;
use http::{HeaderName, HeaderValue, header};

use super::app::Reply;
use crate::domain::state::sha256;

const HTML: &str = include_str!("console/console.html");
const CSS: &str = include_str!("console/console.css");
const JS: &str = include_str!("console/console.js");

/// The page and its Content-Security-Policy, built once.
struct Page {
    html: Vec<u8>,
    csp: String,
}

fn page() -> &'static Page {
    static PAGE: OnceLock<Page> = OnceLock::new();
    PAGE.get_or_init(|| {
        let digest =
            |s: &str| base64::engine::general_purpose::STANDARD.encode(sha256(s.as_bytes()));
        let html = HTML
            .replacen("<style></style>", &format!("<style>{CSS}</style>"), 1)
            .replacen("<script></script>", &format!("<script>{JS}</script>"), 1);
        let csp = format!(
            "default-src 'self'; script-src 'sha256-{}'; style-src 'sha256-{}'; \
             img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'none'; frame-ancestors 'none'",
            digest(JS),
            digest(CSS)
        );
        Page {
            html: html.into_bytes(),
            csp,
        }
    })
}

/// The console page, with the headers that keep it to itself.
pub fn reply() -> Reply {
    let page = page();
    let mut reply = Reply::ok(page.html.clone());
    let h = |name: HeaderName, value: &str| {
        (
            name,
            HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("")),
        )
    };
    reply.headers = vec![
        h(header::CONTENT_TYPE, "text/html; charset=utf-8"),
        h(header::CONTENT_SECURITY_POLICY, &page.csp),
        h(header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        h(header::X_FRAME_OPTIONS, "DENY"),
        h(header::REFERRER_POLICY, "no-referrer"),
        h(header::CACHE_CONTROL, "no-store"),
    ];
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_carries_its_style_and_script_and_fetches_nothing_else() {
        let page = page();
        let html = String::from_utf8_lossy(&page.html);
        assert!(html.contains(CSS) && html.contains(JS));
        assert_eq!(html.matches("<script").count(), 1, "one script, inline");
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(!JS.contains("http://") && !JS.contains("https://"));
        assert!(page.csp.contains("frame-ancestors 'none'"));
    }
}
