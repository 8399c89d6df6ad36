//! The server-rendered pages: login, consent, and messages (errors, logout). Templates are in
//! `templates/`; askama escapes every value for HTML, so nothing a client registered (its name,
//! its URIs) can become markup.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// The login page.
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    /// Who is asking.
    pub client_name: &'a str,
    /// Where the form posts.
    pub action: &'a str,
    /// The form's CSRF token.
    pub csrf_token: &'a str,
    /// The authorization request, carried through.
    pub authorization_request: &'a str,
    /// What the user typed last time, after a failure.
    pub username: &'a str,
    /// Why the last attempt failed.
    pub error: Option<&'a str>,
}

/// The consent page.
#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    /// The client's name, or its id when it registered none.
    pub client_name: &'a str,
    /// The client's `logo_uri`, https only.
    pub logo_uri: Option<&'a str>,
    /// For a client whose id is a metadata document URL, that URL's host: the one thing about
    /// it that is verified, since the document was fetched from there.
    pub client_host: Option<&'a str>,
    /// The user who is signed in.
    pub username: &'a str,
    /// The host the code goes to.
    pub redirect_host: &'a str,
    /// Whether every registered redirect URI is on loopback.
    pub all_localhost: bool,
    /// Each scope with what it means.
    pub scopes: Vec<(String, &'static str)>,
    /// RFC 8707 resources.
    pub resources: &'a [String],
    /// The client's own links: label and https URL.
    pub links: Vec<(&'static str, &'a str)>,
    /// Where the form posts.
    pub action: &'a str,
    /// The form's CSRF token.
    pub csrf_token: &'a str,
    /// The authorization request, carried through.
    pub authorization_request: &'a str,
}

/// A confirmation form on a message page.
pub struct Confirm<'a> {
    /// Where the form posts.
    pub action: &'a str,
    /// The form's CSRF token.
    pub csrf_token: &'a str,
    /// What is being confirmed, carried through.
    pub request: &'a str,
    /// The button's label.
    pub label: &'a str,
}

/// A page with a title and a message, optionally a confirmation button.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    /// The heading.
    pub title: &'a str,
    /// The text.
    pub message: &'a str,
    /// A form to confirm with.
    pub confirm: Option<Confirm<'a>>,
}

/// What each scope value means, for the consent page.
pub fn describe_scope(scope: &str) -> &'static str {
    match scope {
        "openid" => "confirm who you are",
        "profile" => "see your name and username",
        "email" => "see your email address",
        "offline_access" => "keep access while you are away",
        _ => "a permission this application registered",
    }
}

/// Renders a page with the headers every page needs: no caching, no framing (the consent
/// button must not be clickjacked), and a content security policy that allows no script.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    let body = match page.render() {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "a page did not render");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response();
        }
    };
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        // No form-action: Chromium applies it to the redirect after the consent form, which goes
        // to the client's own redirect URI.
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src https:; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    // Same-origin, not no-referrer: under no-referrer browsers send `Origin: null` with the
    // forms, and the form handlers check the origin.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// An error page: for requests whose client or redirect URI cannot be trusted.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    render(
        status,
        &MessagePage {
            title: "This request cannot be completed",
            message,
            confirm: None,
        },
    )
}
