//! The authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636): a silent `GET` of the
//! authorization endpoint by a signed-in user whose consent is remembered, then the code's
//! exchange at the token endpoint (`client_secret_basic`). Each worker alternates the two.

use std::sync::Mutex;

use hyper::header::{COOKIE, HeaderValue, LOCATION};
use hyper::{HeaderMap, Method, Request, StatusCode};
use serde_json::Value;
use url::form_urlencoded;

use crate::pool::PooledClient;
use crate::scenario::{Body, Scenario};

use super::FORM;

/// The PKCE verifier of every flow, with its S256 challenge: the pair of RFC 7636 Appendix B.
/// A real client makes one per flow; the server's work (one SHA-256 at the exchange) is the same.
pub const CODE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// `BASE64URL(SHA256(CODE_VERIFIER))`.
pub const CODE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The query of an authorization request by `client` for `scope`, without `state`: what the
/// sign-in setup and the measured requests send.
pub fn authorization_query(client: &PooledClient, scope: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", redirect_uri(client))
        .append_pair("scope", scope)
        .append_pair("code_challenge", CODE_CHALLENGE)
        .append_pair("code_challenge_method", "S256")
        .finish()
}

/// The first registered redirect URI of `client`, where its codes go.
pub fn redirect_uri(client: &PooledClient) -> &str {
    client
        .metadata
        .get("redirect_uris")
        .and_then(|uris| uris.get(0))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The `code` of an authorization response's `Location`, if it carries one (an error response
/// carries `error` instead).
pub fn code_from_location(headers: &HeaderMap) -> Option<String> {
    let location = headers.get(LOCATION)?.to_str().ok()?;
    let location = url::Url::parse(location).ok()?;
    location
        .query_pairs()
        .find(|(name, _)| name == "code")
        .map(|(_, code)| code.into_owned())
        .filter(|code| !code.is_empty())
}

/// A refresh token a code exchange issued, with the credentials of the client it belongs to.
#[derive(Debug, Clone)]
pub struct HeldRefreshToken {
    /// The client's `client_secret_basic` `Authorization` value.
    pub client_authorization: String,
    /// The refresh token, as last rotated.
    pub refresh_token: String,
}

/// One client's prepared requests.
#[derive(Debug)]
struct Prepared {
    /// `PATH?QUERY&state=`: the state is added per request.
    authorize_prefix: String,
    authorization: String,
    /// `&redirect_uri=…&code_verifier=…`, after the code in the token request body.
    exchange_suffix: String,
}

/// Where one worker is in its flow.
#[derive(Debug, Default)]
struct Flow {
    client: usize,
    code: Option<String>,
    exchanging: bool,
}

/// Authorization code flows over a pool of clients, all by one signed-in user.
#[derive(Debug)]
pub struct Code {
    token_path: String,
    cookie: HeaderValue,
    clients: Vec<Prepared>,
    flows: Vec<Mutex<Flow>>,
    kept: Option<Mutex<Vec<HeldRefreshToken>>>,
}

impl Code {
    /// Flows by `workers` workers for `scope`, each authorization request at `authorize_path`
    /// with `cookie` (the signed-in user's session; consent to every client is remembered) and
    /// each code exchanged at `token_path`.
    pub fn new(
        authorize_path: &str,
        token_path: &str,
        clients: &[PooledClient],
        scope: &str,
        cookie: HeaderValue,
        workers: usize,
    ) -> Self {
        let clients = clients
            .iter()
            .map(|client| Prepared {
                authorize_prefix: format!(
                    "{authorize_path}?{}&state=",
                    authorization_query(client, scope)
                ),
                authorization: client.basic_authorization(),
                exchange_suffix: format!(
                    "&{}",
                    form_urlencoded::Serializer::new(String::new())
                        .append_pair("redirect_uri", redirect_uri(client))
                        .append_pair("code_verifier", CODE_VERIFIER)
                        .finish()
                ),
            })
            .collect();
        Self {
            token_path: token_path.to_owned(),
            cookie,
            clients,
            flows: (0..workers.max(1)).map(|_| Mutex::default()).collect(),
            kept: None,
        }
    }

    /// Keeps the refresh token of every exchange that issued one.
    pub fn keeping_refresh_tokens(mut self) -> Self {
        self.kept = Some(Mutex::new(Vec::new()));
        self
    }

    /// The kept refresh tokens.
    pub fn into_refresh_tokens(self) -> Vec<HeldRefreshToken> {
        self.kept
            .and_then(|kept| kept.into_inner().ok())
            .unwrap_or_default()
    }

    fn authorize(&self, client: &Prepared, worker: usize, sequence: u64) -> Request<Body> {
        let mut request = super::request(
            Method::GET,
            &format!("{}w{worker}s{sequence}", client.authorize_prefix),
            None,
            None,
        );
        request.headers_mut().insert(COOKIE, self.cookie.clone());
        request
    }

    fn exchange(&self, client: &Prepared, code: &str) -> Request<Body> {
        let code: String = form_urlencoded::byte_serialize(code.as_bytes()).collect();
        let body = format!(
            "grant_type=authorization_code&code={code}{}",
            client.exchange_suffix
        );
        super::request(
            Method::POST,
            &self.token_path,
            Some(&client.authorization),
            Some((FORM, body.into_bytes())),
        )
    }

    /// Keeps the refresh token of a successful exchange's body.
    fn keep(&self, client: usize, body: &[u8]) {
        let (Some(kept), Some(prepared)) = (&self.kept, self.clients.get(client)) else {
            return;
        };
        let token = super::string_member(body, "refresh_token");
        if let (Some(refresh_token), Ok(mut kept)) = (token, kept.lock()) {
            kept.push(HeldRefreshToken {
                client_authorization: prepared.authorization.clone(),
                refresh_token,
            });
        }
    }
}

impl Scenario for Code {
    fn request(&self, worker: usize, sequence: u64) -> Request<Body> {
        let Some(flow) = self.flows.get(worker) else {
            panic!("the code scenario was made for fewer workers than run it");
        };
        let mut flow = flow
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match flow.code.take() {
            Some(code) => {
                flow.exchanging = true;
                self.exchange(&self.clients[flow.client], &code)
            }
            None => {
                flow.exchanging = false;
                flow.client = super::spread(worker, sequence, self.clients.len());
                self.authorize(&self.clients[flow.client], worker, sequence)
            }
        }
    }

    fn response(
        &self,
        worker: usize,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> bool {
        let Some(flow) = self.flows.get(worker) else {
            return false;
        };
        let mut flow = flow
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if flow.exchanging {
            let success = status == StatusCode::OK;
            if success {
                self.keep(flow.client, body);
            }
            return success;
        }
        // RFC 6749 §4.1.2: the code comes in the redirect; a login or consent page (200) means
        // the setup did not sign in or consent, and an error redirect carries no code.
        if status != StatusCode::SEE_OTHER {
            return false;
        }
        flow.code = code_from_location(headers);
        flow.code.is_some()
    }
}
