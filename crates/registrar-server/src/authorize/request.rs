//! Reading and checking an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID
//! Connect Core §3.1.2.1, RFC 8707 §2), in the order RFC 6749 §4.1.2.1 needs: the client and
//! redirect URI first, whose errors are shown to the user and never redirected, then the rest,
//! whose errors go back to the client.

use registrar_core::authz::{PkceError, check_code_challenge, match_redirect_uri};
use registrar_core::cimd::UnusableClient;
use registrar_core::store::RegisteredClient;
use registrar_core::{ClientId, GrantType, Settings};

use crate::error::ApiError;
use crate::state::AppState;

/// The longest value of any authorization request parameter; longer is `invalid_request`.
const MAX_PARAMETER_BYTES: usize = 2048;
/// At most this many `resource` parameters.
const MAX_RESOURCES: usize = 10;
/// At most this many parameters: a real request has about ten, and the repeat check below is
/// quadratic.
const MAX_PARAMETERS: usize = 64;

/// A checked authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    /// The client, as stored.
    pub client: RegisteredClient,
    /// The `redirect_uri` exactly as sent: the code goes there, and the token request must
    /// repeat it.
    pub redirect_uri: String,
    /// Returned unchanged (RFC 6749 §4.1.2).
    pub state: Option<String>,
    /// The requested scope values, each registered for the client, without repeats.
    pub scopes: Vec<String>,
    /// RFC 8707 resource indicators.
    pub resources: Vec<String>,
    /// OIDC Core §3.1.2.1.
    pub nonce: Option<String>,
    /// RFC 7636 §4.2, S256.
    pub code_challenge: String,
    /// `prompt=login`: authenticate again even with a session.
    pub prompt_login: bool,
    /// `prompt=consent`: ask again even with remembered consent.
    pub prompt_consent: bool,
    /// `prompt=none`: never show a page; fail instead.
    pub prompt_none: bool,
    /// `max_age`, or the client's `default_max_age` (OIDC Core §3.1.2.1, OIDC DCR §2).
    pub max_age: Option<u64>,
    /// The raw query string, carried through the login and consent forms and checked again
    /// when they are posted.
    pub raw: String,
}

impl AuthorizationRequest {
    /// Whether this is an OpenID Connect request.
    pub fn is_openid(&self) -> bool {
        self.scopes.iter().any(|scope| scope == "openid")
    }
}

/// Why an authorization request was refused.
#[derive(Debug)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: shown on an error page, never redirected
    /// (RFC 6749 §4.1.2.1, §10.15: no open redirector).
    Page(String),
    /// Sent back to the client's redirect URI (RFC 6749 §4.1.2.1).
    Redirect {
        /// Where to.
        redirect_uri: String,
        /// The request's `state`.
        state: Option<String>,
        /// The RFC 6749 / OIDC Core error code.
        error: &'static str,
        /// The `error_description`.
        description: String,
    },
    /// The store failed.
    Server(ApiError),
}

/// The parameters of a query string or form, with repeats refused except `resource`
/// (RFC 6749 §3.1, RFC 8707 §2).
pub struct Parameters {
    pairs: Vec<(String, String)>,
}

impl Parameters {
    /// Parses `query`; the error names the repeated or oversized parameter.
    pub fn parse(query: &str) -> Result<Self, String> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if value.is_empty() {
                continue;
            }
            if value.len() > MAX_PARAMETER_BYTES {
                return Err(format!("the parameter {name} is too long"));
            }
            // `state`, `nonce` and `resource` are stored with the code or echoed back: no control
            // characters (PostgreSQL refuses a NUL in text, terminals obey escapes).
            if value.chars().any(char::is_control) {
                return Err(format!(
                    "the parameter {name} must not contain control characters"
                ));
            }
            if pairs.len() == MAX_PARAMETERS {
                return Err(format!("a request has at most {MAX_PARAMETERS} parameters"));
            }
            if name != "resource" && pairs.iter().any(|(seen, _)| *seen == name) {
                return Err(format!("the parameter {name} must not be repeated"));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Self { pairs })
    }

    /// The value of a single-valued parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(seen, _)| seen == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every value of a repeatable parameter.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.pairs
            .iter()
            .filter(move |(seen, _)| seen == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Checks the request in `query` (a raw query string).
pub async fn parse_request(
    state: &AppState,
    query: &str,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let parameters = Parameters::parse(query).map_err(AuthorizeError::Page)?;
    let client = find_client(state, &parameters).await?;
    let Some(redirect_uri) = parameters.get("redirect_uri") else {
        return Err(AuthorizeError::Page("redirect_uri is required".to_owned()));
    };
    if match_redirect_uri(&client.metadata.redirect_uris, redirect_uri).is_none() {
        return Err(AuthorizeError::Page(
            "the redirect_uri is not registered for this client".to_owned(),
        ));
    }
    let redirect_uri = redirect_uri.to_owned();
    let request_state = parameters.get("state").map(str::to_owned);
    let refuse = |error: &'static str, description: String| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: request_state.clone(),
        error,
        description,
    };
    check_response(&parameters, &client)
        .map_err(|(error, description)| refuse(error, description))?;
    let settings = state.pipeline.settings();
    let scopes = requested_scopes(settings, &client, parameters.get("scope"))
        .map_err(|description| refuse("invalid_scope", description))?;
    let mut resources: Vec<String> = Vec::new();
    for resource in parameters.all("resource") {
        if !settings.accepts_resource(resource) {
            return Err(refuse(
                "invalid_target",
                "resource must be an absolute https URI (or http on a loopback host) without a fragment that this server issues tokens for".to_owned(),
            ));
        }
        if !resources.iter().any(|seen| seen == resource) {
            resources.push(resource.to_owned());
        }
    }
    if resources.len() > MAX_RESOURCES {
        return Err(refuse(
            "invalid_target",
            format!("at most {MAX_RESOURCES} resource parameters are accepted"),
        ));
    }
    check_code_challenge(
        parameters.get("code_challenge"),
        parameters.get("code_challenge_method"),
    )
    .map_err(|error: PkceError| refuse("invalid_request", error.to_string()))?;
    let code_challenge = parameters
        .get("code_challenge")
        .unwrap_or_default()
        .to_owned();
    let (prompt_none, prompt_login, prompt_consent) = prompt(parameters.get("prompt"))
        .map_err(|description| refuse("invalid_request", description))?;
    let max_age = match parameters.get("max_age") {
        Some(value) => Some(value.parse::<u64>().map_err(|_| {
            refuse(
                "invalid_request",
                "max_age must be a non-negative integer number of seconds".to_owned(),
            )
        })?),
        None => client.metadata.default_max_age,
    };
    Ok(AuthorizationRequest {
        client,
        redirect_uri,
        state: request_state,
        scopes,
        resources,
        nonce: parameters.get("nonce").map(str::to_owned),
        code_challenge,
        prompt_login,
        prompt_consent,
        prompt_none,
        max_age,
        raw: query.to_owned(),
    })
}

async fn find_client(
    state: &AppState,
    parameters: &Parameters,
) -> Result<RegisteredClient, AuthorizeError> {
    let Some(client_id) = parameters.get("client_id") else {
        return Err(AuthorizeError::Page("client_id is required".to_owned()));
    };
    let unknown = || AuthorizeError::Page("the client is not registered here".to_owned());
    let client_id = ClientId::parse(client_id).ok_or_else(unknown)?;
    // A blocked or expired client is as unknown here as everywhere; a metadata document that
    // cannot be used says why, so its developer can fix it.
    match state.pipeline.usable_client(&client_id).await {
        Ok(client) => Ok(client),
        Err(UnusableClient::Unknown) => Err(unknown()),
        Err(refused @ UnusableClient::Document(_)) => {
            Err(AuthorizeError::Page(refused.to_string()))
        }
        Err(UnusableClient::Store(error)) => Err(AuthorizeError::Server(error.into())),
    }
}

/// `response_type=code` for a client registered for it; request objects are not supported
/// (OIDC Core §6: `request_not_supported`); only the query response mode.
fn check_response(
    parameters: &Parameters,
    client: &RegisteredClient,
) -> Result<(), (&'static str, String)> {
    if parameters.get("request").is_some() {
        return Err((
            "request_not_supported",
            "request objects are not supported".to_owned(),
        ));
    }
    if parameters.get("request_uri").is_some() {
        return Err((
            "request_uri_not_supported",
            "request_uri is not supported".to_owned(),
        ));
    }
    match parameters.get("response_type") {
        None => {
            return Err(("invalid_request", "response_type is required".to_owned()));
        }
        Some("code") => {}
        Some(_) => {
            return Err((
                "unsupported_response_type",
                "this server supports only the response type code".to_owned(),
            ));
        }
    }
    if !client.metadata.has_grant_type(GrantType::AuthorizationCode)
        || !client
            .metadata
            .response_types
            .iter()
            .any(|response_type| response_type == "code")
    {
        return Err((
            "unauthorized_client",
            "the client is not registered for the authorization_code grant".to_owned(),
        ));
    }
    if let Some(mode) = parameters.get("response_mode")
        && mode != "query"
    {
        return Err(("invalid_request", "response_mode must be query".to_owned()));
    }
    Ok(())
}

/// The requested scope, each value registered for the client (RFC 6749 §3.3); with none, the
/// registered scope. The registration scope is never granted to a user's token.
pub fn requested_scopes(
    settings: &Settings,
    client: &RegisteredClient,
    requested: Option<&str>,
) -> Result<Vec<String>, String> {
    let registered: Vec<&str> = client
        .metadata
        .scopes()
        .filter(|scope| *scope != settings.bearer_scope)
        .collect();
    let Some(requested) = requested else {
        return Ok(registered.iter().map(|scope| (*scope).to_owned()).collect());
    };
    let mut scopes: Vec<String> = Vec::new();
    for value in requested.split(' ').filter(|value| !value.is_empty()) {
        if !registered.contains(&value) {
            return Err(format!(
                "the scope {value} is not registered for this client"
            ));
        }
        if !scopes.iter().any(|seen| seen == value) {
            scopes.push(value.to_owned());
        }
    }
    Ok(scopes)
}

/// OIDC Core §3.1.2.1: `none` alone, or any of `login`, `consent`, `select_account`.
pub(crate) fn prompt(value: Option<&str>) -> Result<(bool, bool, bool), String> {
    let Some(value) = value else {
        return Ok((false, false, false));
    };
    let values: Vec<&str> = value.split(' ').filter(|value| !value.is_empty()).collect();
    for value in &values {
        if !matches!(*value, "none" | "login" | "consent" | "select_account") {
            return Err(format!("prompt {value} is not supported"));
        }
    }
    let none = values.contains(&"none");
    if none && values.len() > 1 {
        return Err("prompt none cannot be combined with other values".to_owned());
    }
    Ok((none, values.contains(&"login"), values.contains(&"consent")))
}
