//! Client authentication at the token and introspection endpoints (RFC 6749 §2.3, RFC 7523,
//! OpenID Connect Core §9): each client only by its registered `token_endpoint_auth_method`.
//!
//! Two rules shape the order of the checks. Every refusal that depends on the client (unknown,
//! another method registered, wrong secret, a signature that does not verify, keys that cannot be
//! fetched) is the one answer [`AUTHENTICATION_FAILED`], so the answer never tells who is
//! registered or how. And a client assertion passes every check that needs no key (its form,
//! `alg`, `iss`, `sub`, `aud`, `exp`, an unused `jti`) before Registrar looks for a key, so no
//! junk, stale or replayed assertion makes it fetch a client's `jwks_uri`.

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;
use registrar_core::cimd::UnusableClient;
use registrar_core::store::RegisteredClient;
use registrar_core::token::{
    AssertionError, AssertionLimits, AssertionMethod, AssertionRules, ParsedAssertion, TokenError,
    VerifiedAssertion, parse_assertion, record_assertion, refuse_recorded_jti, unverified_subject,
};
use registrar_core::{AuthMethod, ClientId, Pipeline};

use super::{Form, TokenService};

/// RFC 7523 §2.2.
const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The one answer to every failure that depends on the client, so that it does not tell an
/// unknown client from a wrong secret, nor reveal which method a client registered.
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
pub(crate) enum Presented<'a> {
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

pub(crate) fn presented<'a>(
    headers: &HeaderMap,
    form: &'a Form,
) -> Result<Presented<'a>, TokenError> {
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

/// Whether a presented client id is a metadata document URL (which only `none` and
/// `private_key_jwt` clients have).
fn is_document_url(client_id: &str) -> bool {
    ClientId::parse(client_id).is_some_and(|client_id| client_id.is_metadata_document())
}

/// The generic refusal, with a `Basic` challenge when the client used the `Authorization`
/// header (RFC 6749 §5.2): that follows what the caller sent, never what was registered.
fn failed(http: bool) -> TokenError {
    match http {
        true => TokenError::invalid_client_http(AUTHENTICATION_FAILED),
        false => TokenError::invalid_client(AUTHENTICATION_FAILED),
    }
}

async fn find_client(
    pipeline: &Pipeline,
    client_id: &str,
    http: bool,
) -> Result<RegisteredClient, TokenError> {
    let Some(client_id) = ClientId::parse(client_id) else {
        return Err(failed(http));
    };
    // A blocked or expired client is refused as an unknown one, and a metadata document that
    // cannot be used too; why is only logged.
    match pipeline.usable_client(&client_id).await {
        Ok(client) => Ok(client),
        Err(UnusableClient::Store(error)) => Err(error.into()),
        Err(UnusableClient::Unknown) => Err(failed(http)),
        Err(refused @ UnusableClient::Document(_)) => {
            tracing::info!(%client_id, reason = %refused, "client authentication failed");
            Err(failed(http))
        }
    }
}

/// The client must use its registered method; which one it is stays in the log.
fn require_method(
    client: &RegisteredClient,
    method: AuthMethod,
    http: bool,
) -> Result<(), TokenError> {
    if client.metadata.auth_method() == Some(method) {
        return Ok(());
    }
    tracing::debug!(
        client_id = %client.client_id,
        registered = client.metadata.auth_method_name(),
        presented = method.as_str(),
        "client authentication failed: not the registered method"
    );
    Err(failed(http))
}

fn check_secret(
    pipeline: &Pipeline,
    client: &RegisteredClient,
    secret: &str,
    http: bool,
) -> Result<(), TokenError> {
    let Some(stored) = &client.secret else {
        return Err(failed(http));
    };
    if !pipeline.services().hasher().verify(secret, &stored.hash) {
        return Err(failed(http));
    }
    // Only a caller who knows the secret learns that it expired.
    if stored.is_expired(pipeline.services().clock().now()) {
        let description = "the client secret has expired";
        return Err(match http {
            true => TokenError::invalid_client_http(description),
            false => TokenError::invalid_client(description),
        });
    }
    Ok(())
}

/// Authenticates the client of a token, introspection or revocation request, and records the
/// use of a client that proved who it is (`lifecycle`); a public client's use is recorded when
/// it gets a token, since naming a client id proves nothing.
pub async fn authenticate_client(
    pipeline: &Pipeline,
    tokens: &TokenService,
    headers: &HeaderMap,
    form: &Form,
) -> Result<AuthenticatedClient, TokenError> {
    let authenticated = authenticate_presented(pipeline, tokens, headers, form).await?;
    if authenticated.method != AuthMethod::None {
        record_use(pipeline, &authenticated.client).await;
    }
    Ok(authenticated)
}

/// Records a use of `client` now, when one is due.
pub async fn record_use(pipeline: &Pipeline, client: &RegisteredClient) {
    let services = pipeline.services();
    services
        .stores()
        .record_use(
            client,
            &services.settings().lifecycle,
            services.clock().now(),
        )
        .await;
}

async fn authenticate_presented(
    pipeline: &Pipeline,
    tokens: &TokenService,
    headers: &HeaderMap,
    form: &Form,
) -> Result<AuthenticatedClient, TokenError> {
    match presented(headers, form)? {
        Presented::Basic { client_id, secret } => {
            // A metadata document client never has a secret: nothing to fetch for one.
            if is_document_url(&client_id) {
                return Err(failed(true));
            }
            let client = find_client(pipeline, &client_id, true).await?;
            require_method(&client, AuthMethod::ClientSecretBasic, true)?;
            check_secret(pipeline, &client, &secret, true)?;
            Ok(AuthenticatedClient {
                client,
                method: AuthMethod::ClientSecretBasic,
            })
        }
        Presented::Post { client_id, secret } => {
            if is_document_url(client_id) {
                return Err(failed(false));
            }
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

/// A refusal that depends on the client: logged with its reason, answered generically.
fn refused(client: &RegisteredClient, error: &AssertionError) -> TokenError {
    tracing::debug!(client_id = %client.client_id, reason = %error, "client assertion refused");
    failed(false)
}

/// RFC 7523 client authentication, cheapest check first; see the module documentation.
async fn authenticate_assertion(
    pipeline: &Pipeline,
    tokens: &TokenService,
    form_client_id: Option<&str>,
    assertion: &str,
) -> Result<AuthenticatedClient, TokenError> {
    let settings = pipeline.settings();
    let audiences = [settings.issuer_id().to_owned(), settings.token_endpoint()];
    let allowed_algs = settings.assertion_signing_algs();
    let rules = AssertionRules {
        audiences: &audiences,
        allowed_algs: &allowed_algs,
        now: pipeline.services().clock().now(),
        limits: AssertionLimits::default(),
    };
    // 1. What needs neither the client nor a key; these refusals say nothing about any client.
    let parsed = parse_assertion(assertion, &rules)?;
    if form_client_id.is_some_and(|form_id| form_id != parsed.client_id()) {
        return Err(TokenError::invalid_client(
            "client_id differs from the client assertion's subject",
        ));
    }
    // 2. The client, its method and its registered alg.
    let client = find_client(pipeline, parsed.client_id(), false).await?;
    if client.client_id.as_str() != parsed.client_id() {
        return Err(failed(false));
    }
    let method = match client.metadata.auth_method() {
        Some(AuthMethod::PrivateKeyJwt) => AssertionMethod::PrivateKeyJwt,
        Some(AuthMethod::ClientSecretJwt) => AssertionMethod::ClientSecretJwt,
        Some(AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::None)
        | None => {
            tracing::debug!(
                client_id = %client.client_id,
                registered = client.metadata.auth_method_name(),
                "client authentication failed: an assertion from a client that registered no jwt method"
            );
            return Err(failed(false));
        }
    };
    let registered_alg = client.metadata.token_endpoint_auth_signing_alg.as_deref();
    parsed
        .check_method(method, registered_alg)
        .map_err(|error| refused(&client, &error))?;
    // 3. A replayed jti, looked up without recording it.
    let replay = pipeline.services().stores().replay();
    refuse_recorded_jti(replay.as_ref(), &parsed).await?;
    // 4. Only now a key: the client's keys, perhaps fetched, or its secret.
    let verified = match method {
        AssertionMethod::PrivateKeyJwt => {
            verify_with_client_keys(tokens, &client, &parsed, registered_alg).await?
        }
        AssertionMethod::ClientSecretJwt => {
            verify_with_client_secret(pipeline, &client, &parsed, registered_alg)?
        }
    };
    // 5. Recording the jti is the atomic step: of two concurrent uses one wins.
    record_assertion(replay.as_ref(), client.client_id.as_str(), &verified).await?;
    let method = match method {
        AssertionMethod::PrivateKeyJwt => AuthMethod::PrivateKeyJwt,
        AssertionMethod::ClientSecretJwt => AuthMethod::ClientSecretJwt,
    };
    Ok(AuthenticatedClient { client, method })
}

/// Verifies with the registered `jwks`, or the `jwks_uri` set from the cache, which fetches it
/// through the SSRF-safe fetcher (again, once, if the assertion's `kid` is not in the set it
/// held). A failed fetch is logged and answered generically: its detail describes the network.
async fn verify_with_client_keys(
    tokens: &TokenService,
    client: &RegisteredClient,
    parsed: &ParsedAssertion<'_>,
    registered_alg: Option<&str>,
) -> Result<VerifiedAssertion, TokenError> {
    if let Some(jwks) = &client.metadata.jwks {
        return parsed
            .verify_with_jwks(jwks, registered_alg)
            .map_err(|error| refused(client, &error));
    }
    let Some(jwks_uri) = &client.metadata.jwks_uri else {
        tracing::warn!(client_id = %client.client_id, "a private_key_jwt client has no keys");
        return Err(failed(false));
    };
    let jwks = tokens
        .jwks_cache
        .get(jwks_uri, parsed.kid())
        .await
        .map_err(|error| {
            tracing::warn!(client_id = %client.client_id, %error, "cannot fetch the client's jwks_uri");
            failed(false)
        })?;
    parsed
        .verify_with_jwks(&jwks, registered_alg)
        .map_err(|error| refused(client, &error))
}

/// Verifies with the client secret, decrypted by the `SecretCipher`; an expired secret is
/// refused once the signature proved the caller knows it.
fn verify_with_client_secret(
    pipeline: &Pipeline,
    client: &RegisteredClient,
    parsed: &ParsedAssertion<'_>,
    registered_alg: Option<&str>,
) -> Result<VerifiedAssertion, TokenError> {
    let secret = client
        .secret
        .as_ref()
        .and_then(|stored| stored.encrypted.as_deref())
        .and_then(|sealed| {
            pipeline
                .services()
                .cipher()
                .decrypt(sealed, client.client_id.as_str().as_bytes())
        })
        .ok_or_else(|| {
            tracing::error!(client_id = %client.client_id, "the stored client secret cannot be decrypted");
            failed(false)
        })?;
    let verified = parsed
        .verify_with_secret(&secret, registered_alg)
        .map_err(|error| refused(client, &error))?;
    if let Some(stored) = &client.secret
        && stored.is_expired(pipeline.services().clock().now())
    {
        return Err(TokenError::invalid_client("the client secret has expired"));
    }
    Ok(verified)
}
