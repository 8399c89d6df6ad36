//! A browserless user agent for the authorization code flow: it follows the login and consent
//! forms as a browser would (cookies, hidden fields, the CSRF token), and a public client's
//! side of PKCE and the token requests.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use registrar_core::authz::{User, hash_password};
use registrar_core::secrets::{OsRandom, random_token};
use registrar_testkit::TestServer;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

/// The password of every test user.
pub const PASSWORD: &str = "correct horse battery staple";

/// Adds a user to the server's store, as `registrar users add` does.
pub async fn add_user(server: &TestServer, username: &str) -> User {
    let user = User {
        id: random_token(&OsRandom, 16),
        username: username.to_owned(),
        password_hash: hash_password(PASSWORD, &OsRandom).unwrap(),
        created_at: 1_700_000_000,
        name: Some(format!("{username} Example")),
        email: Some(format!("{username}@example.com")),
        email_verified: true,
    };
    server.stores().users().insert_user(&user).await.unwrap();
    user
}

/// An MCP-style public client: no application_type, `none`, a localhost redirect URI.
pub async fn register_public_client(server: &TestServer, extra: Value) -> Value {
    let mut body = json!({
        "client_name": "Example MCP client",
        "redirect_uris": ["http://localhost:33418/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": "openid profile email offline_access",
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (name, value) in extra {
            body.insert(name.clone(), value.clone());
        }
    }
    let response = server.register(body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// A confidential web client (`client_secret_basic`) whose redirect URI is an https URL.
pub async fn register_confidential_client(server: &TestServer) -> Value {
    let response = server
        .register(json!({
            "client_name": "Example web app",
            "redirect_uris": [WEB_REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
            "scope": "openid profile email offline_access",
        }))
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// The redirect URI of [`register_confidential_client`].
pub const WEB_REDIRECT: &str = "https://app.example.com/callback";

/// Exchanges a code as a confidential client, with HTTP Basic.
pub async fn exchange_confidential(
    server: &TestServer,
    client: &Value,
    code: &str,
    verifier: &str,
) -> reqwest::Response {
    server
        .http()
        .post(server.url("/connect/token"))
        .basic_auth(
            client["client_id"].as_str().unwrap(),
            client["client_secret"].as_str(),
        )
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", WEB_REDIRECT),
        ])
        .send()
        .await
        .unwrap()
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = random_token(&OsRandom, 32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// One browser: a cookie jar that does not follow redirects, so each step can be looked at.
#[derive(Debug)]
pub struct Agent {
    pub http: reqwest::Client,
}

impl Default for Agent {
    fn default() -> Self {
        Self::new()
    }
}

impl Agent {
    pub fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .unwrap(),
        }
    }

    pub async fn get(&self, url: &str) -> Page {
        Page::from(self.http.get(url).send().await.unwrap()).await
    }

    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> Page {
        Page::from(self.http.post(url).form(form).send().await.unwrap()).await
    }

    /// Submits the page's form with `fields` added to its hidden ones.
    pub async fn submit(&self, page: &Page, fields: &[(&str, &str)]) -> Page {
        let action = page.form_action().expect("the page has a form");
        let mut form: Vec<(String, String)> = page.hidden_fields();
        for (name, value) in fields {
            form.push(((*name).to_owned(), (*value).to_owned()));
        }
        let pairs: Vec<(&str, &str)> = form
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        self.post(&action, &pairs).await
    }

    /// Signs in and allows, as far as each is asked for: from the authorization URL to the
    /// redirect with the code.
    pub async fn authorize(&self, authorize_url: &str, username: &str) -> Url {
        let mut page = self.get(authorize_url).await;
        if page.body.contains("id=\"password\"") {
            page = self
                .submit(&page, &[("username", username), ("password", PASSWORD)])
                .await;
        }
        if page.body.contains("id=\"allow\"") {
            page = self.submit(&page, &[("decision", "allow")]).await;
        }
        page.redirect().unwrap_or_else(|| {
            panic!(
                "a redirect to the client, got {} {}",
                page.status, page.body
            )
        })
    }
}

/// A response as the user agent sees it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    async fn from(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let location = headers
            .get("location")
            .map(|value| value.to_str().unwrap().to_owned());
        let body = response.text().await.unwrap();
        Self {
            status,
            location,
            headers,
            body,
        }
    }

    /// The `Location` of a `303`.
    pub fn redirect(&self) -> Option<Url> {
        (self.status == 303)
            .then(|| Url::parse(self.location.as_deref()?).ok())
            .flatten()
    }

    pub fn form_action(&self) -> Option<String> {
        attribute_after(&self.body, "<form", "action")
    }

    /// Every `<input type="hidden">` of the page.
    pub fn hidden_fields(&self) -> Vec<(String, String)> {
        let mut fields = Vec::new();
        let mut rest = self.body.as_str();
        while let Some(start) = rest.find("<input type=\"hidden\"") {
            let tag_end = rest[start..].find('>').unwrap() + start;
            let tag = &rest[start..=tag_end];
            let name = attribute_after(tag, "<input", "name").unwrap();
            let value = attribute_after(tag, "<input", "value").unwrap_or_default();
            fields.push((name, value));
            rest = &rest[tag_end..];
        }
        fields
    }

    pub fn hidden(&self, name: &str) -> Option<String> {
        self.hidden_fields()
            .into_iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value)
    }
}

/// The unescaped value of `attribute` in the first `tag` of `html`.
fn attribute_after(html: &str, tag: &str, attribute: &str) -> Option<String> {
    let start = html.find(tag)?;
    let tag_end = html[start..].find('>')? + start;
    let inside = &html[start..tag_end];
    let marker = format!(" {attribute}=\"");
    let value_start = inside.find(&marker)? + marker.len();
    let value_end = inside[value_start..].find('"')? + value_start;
    Some(unescape(&inside[value_start..value_end]))
}

/// Reverses askama's HTML escaping.
pub fn unescape(text: &str) -> String {
    text.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
}

/// The authorization URL for `client` with the usual parameters, overridden or removed by
/// `overrides` (a `None` value removes the parameter).
pub fn authorize_url(
    server: &TestServer,
    client: &Value,
    challenge: &str,
    overrides: &[(&str, Option<&str>)],
) -> String {
    let client_id = client["client_id"].as_str().unwrap();
    // The client's own first redirect URI, unless overridden.
    let redirect_uri = client["redirect_uris"][0]
        .as_str()
        .unwrap_or("http://localhost:33418/callback");
    let mut parameters: Vec<(String, String)> = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", "openid profile email offline_access"),
        ("state", "state-123"),
        ("nonce", "nonce-456"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    for (name, value) in overrides {
        parameters.retain(|(existing, _)| existing != name);
        if let Some(value) = value {
            parameters.push(((*name).to_owned(), (*value).to_owned()));
        }
    }
    let mut url = Url::parse(&server.url("/connect/authorize")).unwrap();
    url.query_pairs_mut().extend_pairs(parameters);
    url.to_string()
}

/// The value of a query parameter of `url`.
pub fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Exchanges a code at the token endpoint as a public client.
pub async fn exchange(
    server: &TestServer,
    client: &Value,
    code: &str,
    verifier: &str,
    redirect_uri: &str,
) -> reqwest::Response {
    server
        .http()
        .post(server.url("/connect/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client["client_id"].as_str().unwrap()),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", redirect_uri),
        ])
        .send()
        .await
        .unwrap()
}

/// Refreshes as a public client.
pub async fn refresh(
    server: &TestServer,
    client: &Value,
    refresh_token: &str,
) -> reqwest::Response {
    server
        .http()
        .post(server.url("/connect/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", client["client_id"].as_str().unwrap()),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .unwrap()
}

/// Runs the whole flow and returns the token response.
pub async fn tokens_for(server: &TestServer, client: &Value, username: &str) -> Value {
    let agent = Agent::new();
    let (verifier, challenge) = pkce();
    let redirect = agent
        .authorize(&authorize_url(server, client, &challenge, &[]), username)
        .await;
    let code = query(&redirect, "code").unwrap();
    let response = exchange(
        server,
        client,
        &code,
        &verifier,
        "http://localhost:33418/callback",
    )
    .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A confidential `client_credentials` client, standing for a resource server.
pub async fn confidential_client(server: &TestServer) -> Value {
    let response = server
        .register(json!({
            "client_name": "resource server",
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_basic",
        }))
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// The resource server's introspection of `token`.
pub async fn introspect(server: &TestServer, resource_server: &Value, token: &str) -> Value {
    server
        .http()
        .post(server.url("/connect/introspect"))
        .basic_auth(
            resource_server["client_id"].as_str().unwrap(),
            resource_server["client_secret"].as_str(),
        )
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The userinfo endpoint's answer for `access_token`.
pub async fn userinfo(server: &TestServer, access_token: &str) -> reqwest::Response {
    server
        .http()
        .get(server.url("/connect/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
}

/// The ID token's claims, verified against the published JWKS with an independent JWS library.
pub async fn verified_id_token(server: &TestServer, id_token: &str, client_id: &str) -> Value {
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(
        header.alg,
        Algorithm::RS256,
        "the default id_token_signed_response_alg"
    );
    let jwks: Value = server.get_json("/.well-known/jwks.json").await;
    let kid = header.kid.unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == kid.as_str())
        .expect("the ID token's key is published");
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[server.url("").trim_end_matches('/')]);
    jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .unwrap()
        .claims
}
