//! Client authentication at the token and introspection endpoints (RFC 6749 §2.3, RFC 7523,
//! OpenID Connect Core §9): each client only by its registered `token_endpoint_auth_method`.

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;
use registrar_core::store::RegisteredClient;
use registrar_core::token::{
    AssertionCheck, AssertionLimits, TokenError, record_assertion, unverified_subject,
    verify_client_secret_jwt, verify_private_key_jwt,
};
use registrar_core::{AuthMethod, ClientId, Pipeline};

use super::{Form, TokenService};

/// RFC 7523 §2.2.
const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The one generic failure, so the answer does not tell unknown clients from wrong secrets.
const AUTHENTICATION_FAILED: &str = "client authentication failed";

/// A client that proved who it is, and how.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    /// The client as stored.
    pub client: RegisteredClient,
    /// The method used; `none` for a public client, which proved nothing.
    pub method: AuthMethod,
}

/// The credentials a request presented.
enum Presented<'a> {
    Basic {
        client_id: String,
        secret: String,
    },
    Post {
        client_id: &'a str,
        secret: &'a str,
    },
    Assertion {
        client_id: Option<&'a str>,
        assertion: &'a str,
    },
    ClientIdOnly(&'a str),
    Nothing,
}

/// RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, TokenError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let malformed = || TokenError::invalid_client_http("the authorization header is malformed");
    if values.next().is_some() {
        return Err(malformed());
    }
    let text = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = text.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(TokenError::invalid_client_http(
            "the token endpoint takes HTTP Basic client authentication, not this scheme",
        ));
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |part: &str| {
        percent_decode_str(&part.replace('+', " "))
            .decode_utf8()
            .map(|text| text.into_owned())
            .map_err(|_| malformed())
    };
    Ok(Some((unescape(id)?, unescape(secret)?)))
}

fn presented<'a>(headers: &HeaderMap, form: &'a Form) -> Result<Presented<'a>, TokenError> {
    let basic = basic_credentials(headers)?;
    let assertion = form.get("client_assertion");
    let post_secret = form.get("client_secret");
    let form_client_id = form.get("client_id");
    let methods = usize::from(basic.is_some())
        + usize::from(assertion.is_some())
        + usize::from(post_secret.is_some());
    if methods > 1 {
        // RFC 6749 §2.3: a client must not use more than one authentication method.
        return Err(TokenError::InvalidRequest(
            "use exactly one client authentication method".to_owned(),
        ));
    }
    if let Some((client_id, secret)) = basic {
        if form_client_id.is_some_and(|form_id| form_id != client_id) {
            return Err(TokenError::InvalidRequest(
                "client_id differs from the client in the authorization header".to_owned(),
            ));
        }
        return Ok(Presented::Basic { client_id, secret });
    }
    if let Some(assertion) = assertion {
        if form.get("client_assertion_type") != Some(JWT_BEARER_ASSERTION) {
            return Err(TokenError::invalid_client(format!(
                "client_assertion_type must be {JWT_BEARER_ASSERTION}"
            )));
        }
        return Ok(Presented::Assertion {
            client_id: form_client_id,
            assertion,
        });
    }
    Ok(match (post_secret, form_client_id) {
        (Some(secret), Some(client_id)) => Presented::Post { client_id, secret },
        (Some(_), None) => {
            return Err(TokenError::InvalidRequest(
                "client_secret needs client_id".to_owned(),
            ));
        }
        (None, Some(client_id)) => Presented::ClientIdOnly(client_id),
        (None, None) => Presented::Nothing,
    })
}

/// The client a request claims to be, before anything is verified: for counting failed
/// authentications per client, never for trusting it.
pub fn claimed_client_id(headers: &HeaderMap, form: &Form) -> Option<String> {
    if let Ok(Some((client_id, _))) = basic_credentials(headers) {
        return Some(client_id);
    }
    if let Some(client_id) = form.get("client_id") {
        return Some(client_id.to_owned());
    }
    form.get("client_assertion").and_then(unverified_subject)
}

async fn find_client(
    pipeline: &Pipeline,
    client_id: &str,
    http: bool,
) -> Result<RegisteredClient, TokenError> {
    let fail = || match http {
        true => TokenError::invalid_client_http(AUTHENTICATION_FAILED),
        false => TokenError::invalid_client(AUTHENTICATION_FAILED),
    };
    let Some(client_id) = ClientId::parse(client_id) else {
        return Err(fail());
    };
    pipeline
        .services()
        .stores()
        .clients()
        .get_client(&client_id)
        .await?
        .ok_or_else(fail)
}

fn require_method(
    client: &RegisteredClient,
    method: AuthMethod,
    http: bool,
) -> Result<(), TokenError> {
    if client.metadata.auth_method() == Some(method) {
        return Ok(());
    }
    let description = format!(
        "the client must authenticate with its registered method {}",
        client.metadata.auth_method_name()
    );
    Err(match http {
        true => TokenError::invalid_client_http(description),
        false => TokenError::invalid_client(description),
    })
}

fn check_secret(
    pipeline: &Pipeline,
    client: &RegisteredClient,
    secret: &str,
    http: bool,
) -> Result<(), TokenError> {
    let fail = |description: &str| match http {
        true => TokenError::invalid_client_http(description),
        false => TokenError::invalid_client(description),
    };
    let Some(stored) = &client.secret else {
        return Err(fail(AUTHENTICATION_FAILED));
    };
    if !pipeline.services().hasher().verify(secret, &stored.hash) {
        return Err(fail(AUTHENTICATION_FAILED));
    }
    if stored.is_expired(pipeline.services().clock().now()) {
        return Err(fail("the client secret has expired"));
    }
    Ok(())
}

/// Authenticates the client of a token or introspection request.
pub async fn authenticate_client(
    pipeline: &Pipeline,
    tokens: &TokenService,
    headers: &HeaderMap,
    form: &Form,
) -> Result<AuthenticatedClient, TokenError> {
    match presented(headers, form)? {
        Presented::Basic { client_id, secret } => {
            let client = find_client(pipeline, &client_id, true).await?;
            require_method(&client, AuthMethod::ClientSecretBasic, true)?;
            check_secret(pipeline, &client, &secret, true)?;
            Ok(AuthenticatedClient {
                client,
                method: AuthMethod::ClientSecretBasic,
            })
        }
        Presented::Post { client_id, secret } => {
            let client = find_client(pipeline, client_id, false).await?;
            require_method(&client, AuthMethod::ClientSecretPost, false)?;
            check_secret(pipeline, &client, secret, false)?;
            Ok(AuthenticatedClient {
                client,
                method: AuthMethod::ClientSecretPost,
            })
        }
        Presented::Assertion {
            client_id,
            assertion,
        } => authenticate_assertion(pipeline, tokens, client_id, assertion).await,
        Presented::ClientIdOnly(client_id) => {
            let client = find_client(pipeline, client_id, false).await?;
            require_method(&client, AuthMethod::None, false)?;
            Ok(AuthenticatedClient {
                client,
                method: AuthMethod::None,
            })
        }
        Presented::Nothing => Err(TokenError::invalid_client(
            "client authentication is required",
        )),
    }
}

async fn authenticate_assertion(
    pipeline: &Pipeline,
    tokens: &TokenService,
    form_client_id: Option<&str>,
    assertion: &str,
) -> Result<AuthenticatedClient, TokenError> {
    // The subject only says whose keys to try; the verification below checks it.
    let subject = unverified_subject(assertion);
    let client_id = match (form_client_id, subject.as_deref()) {
        (Some(form_id), Some(subject)) if form_id != subject => {
            return Err(TokenError::invalid_client(
                "client_id differs from the client assertion's subject",
            ));
        }
        (Some(client_id), _) | (None, Some(client_id)) => client_id.to_owned(),
        (None, None) => {
            return Err(TokenError::invalid_client(
                "the client assertion names no client",
            ));
        }
    };
    let client = find_client(pipeline, &client_id, false).await?;
    let settings = pipeline.settings();
    let audiences = [settings.issuer_id().to_owned(), settings.token_endpoint()];
    let allowed_algs = settings.assertion_signing_algs();
    let check = AssertionCheck {
        client_id: client.client_id.as_str(),
        audiences: &audiences,
        allowed_algs: &allowed_algs,
        registered_alg: client.metadata.token_endpoint_auth_signing_alg.as_deref(),
        now: pipeline.services().clock().now(),
        limits: AssertionLimits::default(),
    };
    let (verified, method) = match client.metadata.auth_method() {
        Some(AuthMethod::PrivateKeyJwt) => (
            verify_with_client_keys(tokens, &client, assertion, &check).await?,
            AuthMethod::PrivateKeyJwt,
        ),
        Some(AuthMethod::ClientSecretJwt) => {
            let secret = client
                .secret
                .as_ref()
                .and_then(|stored| stored.encrypted.as_deref())
                .and_then(|sealed| pipeline.services().cipher().decrypt(sealed, client.client_id.as_str().as_bytes()))
                .ok_or_else(|| {
                    tracing::error!(client_id = %client.client_id, "the stored client secret cannot be decrypted");
                    TokenError::invalid_client(AUTHENTICATION_FAILED)
                })?;
            let verified = verify_client_secret_jwt(assertion, &secret, &check)?;
            if let Some(stored) = &client.secret
                && stored.is_expired(check.now)
            {
                return Err(TokenError::invalid_client("the client secret has expired"));
            }
            (verified, AuthMethod::ClientSecretJwt)
        }
        Some(AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::None)
        | None => {
            return Err(TokenError::invalid_client(format!(
                "the client must authenticate with its registered method {}",
                client.metadata.auth_method_name()
            )));
        }
    };
    record_assertion(
        pipeline.services().stores().replay().as_ref(),
        client.client_id.as_str(),
        &verified,
    )
    .await?;
    Ok(AuthenticatedClient { client, method })
}

/// Verifies with the registered `jwks`, or the `jwks_uri` set fetched through the SSRF-safe
/// fetcher, fetching again once if the assertion's key is not in the cached set.
async fn verify_with_client_keys(
    tokens: &TokenService,
    client: &RegisteredClient,
    assertion: &str,
    check: &AssertionCheck<'_>,
) -> Result<registrar_core::token::VerifiedAssertion, TokenError> {
    if let Some(jwks) = &client.metadata.jwks {
        return Ok(verify_private_key_jwt(assertion, jwks, check)?);
    }
    let Some(jwks_uri) = &client.metadata.jwks_uri else {
        return Err(TokenError::invalid_client(
            "the client has no registered keys",
        ));
    };
    let kid = registrar_core::token::unverified_header_kid(assertion);
    let jwks = tokens
        .jwks_cache
        .get(jwks_uri, kid.as_deref())
        .await
        .map_err(|error| {
            tracing::warn!(client_id = %client.client_id, %error, "cannot fetch the client's jwks_uri");
            TokenError::invalid_client(format!("the client's jwks_uri could not be fetched: {error}"))
        })?;
    // The cache fetched again if the assertion's kid was not in the set it held.
    Ok(verify_private_key_jwt(assertion, &jwks, check)?)
}
