//! The setup of the code and refresh scenarios: a user signs in once through the server's real
//! login page and consents once to each pooled client, as a person in a browser would, so the
//! measured authorization requests are silent (a session cookie and remembered consent).

use anyhow::{Context, bail};
use hyper::header::{CONTENT_TYPE, COOKIE, HOST, HeaderValue, SET_COOKIE};
use hyper::{Method, Request, StatusCode};
use url::form_urlencoded;

use crate::connection::{Answer, Connection};
use crate::generator::Target;
use crate::pool::PooledClient;
use crate::scenario::Body;
use crate::scenarios::{authorization_query, code_from_location};

/// The authorization endpoint.
pub const AUTHORIZE_PATH: &str = "/connect/authorize";
/// Where the login form posts.
pub const LOGIN_PATH: &str = "/connect/authorize/login";
/// Where the consent form posts.
pub const CONSENT_PATH: &str = "/connect/authorize/consent";

/// A user of the login page.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

/// Signs `user` in and consents to each of `clients` for `scope`; returns the `Cookie` value
/// that makes later authorization requests silent.
pub async fn sign_in(
    target: &Target,
    user: &Credentials,
    clients: &[PooledClient],
    scope: &str,
) -> anyhow::Result<HeaderValue> {
    let Some(first) = clients.first() else {
        bail!("signing in needs at least one registered client");
    };
    let mut browser = Browser::open(target).await?;
    let login = browser.authorize(first, scope).await?;
    if login.status != StatusCode::OK || !login.body.contains("name=\"password\"") {
        bail!(
            "GET {AUTHORIZE_PATH} without a session did not show the login page: {}",
            login.describe()
        );
    }
    let after_login = browser
        .submit(
            LOGIN_PATH,
            &login,
            &[("username", &user.username), ("password", &user.password)],
        )
        .await?;
    if after_login.body.contains("name=\"password\"") {
        bail!(
            "the login page refused the user {}: {}",
            user.username,
            after_login.describe()
        );
    }
    browser.consent(first, after_login).await?;
    for client in &clients[1..] {
        let page = browser.authorize(client, scope).await?;
        browser.consent(client, page).await?;
    }
    browser.cookie()
}

/// A page as the setup reads it.
#[derive(Debug)]
struct Page {
    status: StatusCode,
    code: Option<String>,
    body: String,
}

impl Page {
    fn from(answer: &Answer) -> Self {
        Self {
            status: answer.status,
            code: code_from_location(&answer.headers),
            body: String::from_utf8_lossy(&answer.body).into_owned(),
        }
    }

    /// The status and the start of the body, for an error message.
    fn describe(&self) -> String {
        let start: String = self.body.chars().take(300).collect();
        format!("{} {start}", self.status)
    }
}

/// One browser: a keep-alive connection and a cookie jar.
struct Browser {
    connection: Connection,
    host: HeaderValue,
    cookies: Vec<(String, String)>,
}

impl Browser {
    async fn open(target: &Target) -> anyhow::Result<Self> {
        let connection = Connection::open(target.address, None)
            .await
            .with_context(|| format!("cannot connect to {}", target.address))?;
        let host = HeaderValue::from_str(&target.address.to_string())
            .context("the address is not a Host value")?;
        Ok(Self {
            connection,
            host,
            cookies: Vec::new(),
        })
    }

    /// The jar as a `Cookie` value.
    fn cookie(&self) -> anyhow::Result<HeaderValue> {
        let joined = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        HeaderValue::from_str(&joined).context("the server set a cookie that cannot be sent back")
    }

    async fn send(&mut self, mut request: Request<Body>) -> anyhow::Result<Page> {
        let what = format!("{} {}", request.method(), request.uri().path());
        request.headers_mut().insert(HOST, self.host.clone());
        if !self.cookies.is_empty() {
            request.headers_mut().insert(COOKIE, self.cookie()?);
        }
        let answer = self
            .connection
            .send(request)
            .await
            .with_context(|| format!("{what} got no answer"))?;
        for set_cookie in answer.headers.get_all(SET_COOKIE) {
            self.remember(set_cookie);
        }
        Ok(Page::from(&answer))
    }

    /// Keeps a `Set-Cookie`'s name and value; its attributes do not matter to one origin.
    fn remember(&mut self, set_cookie: &HeaderValue) {
        let Ok(text) = set_cookie.to_str() else {
            return;
        };
        let pair = text.split(';').next().unwrap_or_default();
        let Some((name, value)) = pair.split_once('=') else {
            return;
        };
        let (name, value) = (name.trim(), value.trim());
        self.cookies.retain(|(kept, _)| kept != name);
        if !value.is_empty() {
            self.cookies.push((name.to_owned(), value.to_owned()));
        }
    }

    async fn authorize(&mut self, client: &PooledClient, scope: &str) -> anyhow::Result<Page> {
        let uri = format!(
            "{AUTHORIZE_PATH}?{}&state=setup",
            authorization_query(client, scope)
        );
        let request = Request::builder()
            .method(Method::GET)
            .uri(uri)
            .body(Body::default())
            .context("an authorization request is malformed")?;
        self.send(request).await
    }

    /// Posts `page`'s form to `path` with its hidden fields and `fields`.
    async fn submit(
        &mut self,
        path: &str,
        page: &Page,
        fields: &[(&str, &str)],
    ) -> anyhow::Result<Page> {
        let mut form = form_urlencoded::Serializer::new(String::new());
        for hidden in ["csrf_token", "authorization_request"] {
            let Some(value) = hidden_value(&page.body, hidden) else {
                bail!(
                    "the page before {path} has no hidden {hidden}: {}",
                    page.describe()
                );
            };
            form.append_pair(hidden, &value);
        }
        for (name, value) in fields {
            form.append_pair(name, value);
        }
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.finish()))
            .context("a form post is malformed")?;
        self.send(request).await
    }

    /// Allows `client` on its consent page, unless `page` is already the redirect with a code.
    async fn consent(&mut self, client: &PooledClient, page: Page) -> anyhow::Result<()> {
        if page.status == StatusCode::SEE_OTHER && page.code.is_some() {
            return Ok(());
        }
        if page.status != StatusCode::OK || !page.body.contains("name=\"decision\"") {
            bail!(
                "the signed-in authorization request of {} did not show the consent page: {}",
                client.client_id,
                page.describe()
            );
        }
        let answer = self
            .submit(CONSENT_PATH, &page, &[("decision", "allow")])
            .await?;
        if answer.status != StatusCode::SEE_OTHER || answer.code.is_none() {
            bail!(
                "allowing {} did not redirect with a code: {}",
                client.client_id,
                answer.describe()
            );
        }
        Ok(())
    }
}

/// The value of the `<input>` named `name` in `html`, unescaped.
pub fn hidden_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let value_start = tag.find("value=\"")? + "value=\"".len();
    let value_end = value_start + tag[value_start..].find('"')?;
    Some(unescape_html(&tag[value_start..value_end]))
}

/// Undoes the HTML escaping of an attribute value: the named entities a template engine
/// writes, and numeric ones.
fn unescape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').and_then(|semicolon| {
            let entity = &rest[1..semicolon];
            let character = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let number = entity.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }?;
            Some((character, semicolon))
        });
        match decoded {
            Some((character, semicolon)) => {
                out.push(character);
                rest = &rest[semicolon + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
