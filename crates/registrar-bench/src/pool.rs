//! Clients registered before a measurement, with the credentials the scenarios present.

use serde_json::Value;

/// One registered client.
#[derive(Debug, Clone)]
pub struct PooledClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`, when one was issued.
    pub client_secret: String,
    /// The RFC 7592 registration access token, as last rotated.
    pub registration_access_token: String,
    /// The path of `registration_client_uri`.
    pub management_path: String,
    /// The body it was registered with, the base of its updates.
    pub metadata: Value,
}

impl PooledClient {
    /// Reads a client information response (RFC 7591 §3.2.1); `metadata` is the request body.
    pub fn from_response(response: &Value, metadata: Value) -> Option<Self> {
        let text = |name: &str| {
            response
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let uri = text("registration_client_uri")?;
        let management_path = match url::Url::parse(&uri) {
            Ok(url) => url.path().to_owned(),
            Err(_) => uri,
        };
        Some(Self {
            client_id: text("client_id")?,
            client_secret: text("client_secret")?,
            registration_access_token: text("registration_access_token")?,
            management_path,
            metadata,
        })
    }

    /// RFC 6749 §2.3.1 `client_secret_basic`. Registrar and node-oidc-provider issue ids and
    /// secrets of URL-safe characters only, which form-encoding leaves as they are.
    pub fn basic_authorization(&self) -> String {
        use base64::Engine as _;
        let pair = format!("{}:{}", self.client_id, self.client_secret);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}
