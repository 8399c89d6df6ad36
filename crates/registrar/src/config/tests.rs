//! Tests of the configuration: precedence, and each section's good and bad values.

use registrar_core::policy::{Binding, OPEN_DEFAULT_SCOPES, OPEN_POLICY, Policy};
use registrar_core::settings::LifetimeLimits;
use registrar_core::trust::{IssuerKeys, StatementMode};
use registrar_core::{AuthMethod, GrantType};
use registrar_server::{Quota, RateLimitConfig};

use super::*;

/// The public P-256 key of RFC 7517 Appendix A.1, as an inline TOML table.
const EC_JWKS: &str = r#"{ keys = [ { kty = "EC", crv = "P-256", x = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4", y = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM" } ] }"#;

/// A software statement issuer, so that policies can be bound to it.
const PARTNER: &str = r#"
[software_statement]
mode = "accept"
[[software_statement.trusted_issuers]]
issuer = "https://partner.example"
jwks_uri = "https://partner.example/jwks.json"
algs = ["ES256"]
software_ids = ["app-1", "app-2"]
"#;

fn resolved(text: &str) -> anyhow::Result<Config> {
    let file: FileConfig = toml::from_str(text)?;
    resolve(file, Overrides::default())
}

fn config(text: &str) -> Config {
    match resolved(text) {
        Ok(config) => config,
        Err(error) => panic!("{text}\nfailed: {error:#}"),
    }
}

/// Every case must fail with an error that contains its fragment.
fn check_errors(cases: &[(&str, &str)]) {
    for (text, fragment) in cases {
        match resolved(text) {
            Ok(_) => panic!("{text}\nwas accepted; expected an error with {fragment:?}"),
            Err(error) => {
                let message = format!("{error:#}");
                assert!(
                    message.contains(fragment),
                    "{text}\nfailed with {message:?}, which lacks {fragment:?}"
                );
            }
        }
    }
}

#[test]
fn flags_beat_the_file_and_defaults_fill_the_rest() {
    let file: FileConfig = toml::from_str(
        "listen = \"127.0.0.1:9000\"\ndatabase = \"sqlite://file.db\"\nscopes = [\"openid\"]\n[registration]\nmode = \"open\"\n",
    )
    .unwrap();
    let config = resolve(
        file,
        Overrides {
            database: Some("sqlite://flag.db".to_owned()),
            ..Overrides::default()
        },
    )
    .unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:9000");
    assert_eq!(config.database, "sqlite://flag.db");
    assert_eq!(config.settings.issuer.as_str(), "http://127.0.0.1:9000/");
    assert_eq!(config.settings.scopes, vec!["openid".to_owned()]);
    assert_eq!(config.settings.mode, RegistrationMode::Open);
    assert_eq!(config.settings.token_signing_alg, SigningAlgorithm::Es256);
}

#[test]
fn signing_algorithm_comes_from_the_tokens_section() {
    let file: FileConfig = toml::from_str("[tokens]\nsigning_alg = \"EdDSA\"").unwrap();
    let config = resolve(file, Overrides::default()).unwrap();
    assert_eq!(config.settings.token_signing_alg, SigningAlgorithm::EdDsa);
    let file: FileConfig = toml::from_str("[tokens]\nsigning_alg = \"HS256\"").unwrap();
    assert!(resolve(file, Overrides::default()).is_err());
}

#[test]
fn typos_and_bad_values_are_errors() {
    assert!(toml::from_str::<FileConfig>("lisen = \"x\"").is_err());
    let file: FileConfig = toml::from_str("[registration]\nmode = \"wide-open\"").unwrap();
    let error = resolve(file, Overrides::default()).unwrap_err();
    assert!(error.to_string().contains("registration.mode"));
    let error = resolve(
        FileConfig::default(),
        Overrides {
            listen: Some("nowhere".to_owned()),
            ..Overrides::default()
        },
    )
    .unwrap_err();
    assert!(error.to_string().contains("listen"));
}

#[test]
fn the_defaults_have_no_warnings_and_the_built_in_policies() {
    let config = config("");
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert_eq!(config.settings.bearer_scope, "registrar.configuration");
    let names: Vec<&str> = config
        .settings
        .policies
        .iter()
        .map(|policy| policy.name.as_str())
        .collect();
    assert_eq!(names, ["default", "open"]);
    assert_eq!(
        config.settings.software_statements.mode,
        StatementMode::Ignore
    );
    assert!(config.settings.trusted_token_issuers.is_empty());
    assert_eq!(config.rate_limits, RateLimitConfig::default());
}

#[test]
fn bearer_scope_is_set_without_a_warning() {
    let config = config("[registration]\nbearer_scope = \"registrar.admin\"");
    assert_eq!(config.settings.bearer_scope, "registrar.admin");
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn bearer_scope_must_be_a_scope_token_outside_scopes() {
    check_errors(&[
        (
            "[registration]\nbearer_scope = \"two words\"",
            "registration.bearer_scope",
        ),
        (
            "[registration]\nbearer_scope = \"\"",
            "registration.bearer_scope",
        ),
        (
            "[registration]\nbearer_scope = 'a\"b'",
            "registration.bearer_scope",
        ),
        (
            "[registration]\nbearer_scope = 'a\\b'",
            "registration.bearer_scope",
        ),
        (
            "scopes = [\"openid\", \"registrar.configuration\"]",
            "is registration.bearer_scope, which is never in scopes",
        ),
        (
            "scopes = [\"openid\", \"admin\"]\n[registration]\nbearer_scope = \"admin\"",
            "is registration.bearer_scope, which is never in scopes",
        ),
        (
            "scopes = [\"openid\", \"bad scope\"]",
            "scopes: \"bad scope\"",
        ),
    ]);
}

#[test]
fn trusted_token_issuers_take_inline_or_remote_keys_and_one_or_many_audiences() {
    let config = config(&format!(
        r#"
[[registration.trusted_token_issuers]]
issuer = "https://login.example"
jwks = {EC_JWKS}
algs = ["ES256"]
audience = "https://registrar.example"

[[registration.trusted_token_issuers]]
issuer = "https://other.example"
jwks_uri = "https://other.example/jwks"
algs = ["RS256", "PS256"]
audience = ["https://registrar.example", "registrar"]
"#
    ));
    let issuers = &config.settings.trusted_token_issuers;
    assert_eq!(issuers.len(), 2);
    assert_eq!(issuers[0].trusted.issuer, "https://login.example");
    assert_eq!(issuers[0].audience, ["https://registrar.example"]);
    let IssuerKeys::Inline(jwks) = &issuers[0].trusted.keys else {
        panic!("{:?}", issuers[0].trusted.keys);
    };
    assert_eq!(jwks["keys"][0]["crv"], "P-256");
    assert_eq!(
        issuers[1].trusted.keys,
        IssuerKeys::Uri("https://other.example/jwks".to_owned())
    );
    assert_eq!(
        issuers[1].audience,
        ["https://registrar.example", "registrar"]
    );
}

#[test]
fn trusted_token_issuer_errors_name_the_entry() {
    let entry = |body: &str| {
        format!(
            "[[registration.trusted_token_issuers]]\nissuer = \"https://ok.example\"\njwks_uri = \"https://ok.example/jwks\"\nalgs = [\"ES256\"]\naudience = \"a\"\n[[registration.trusted_token_issuers]]\n{body}"
        )
    };
    let both = entry(&format!(
        "issuer = \"https://b.example\"\njwks_uri = \"https://b.example/jwks\"\njwks = {EC_JWKS}\nalgs = [\"ES256\"]\naudience = \"a\""
    ));
    let neither = entry("issuer = \"https://b.example\"\nalgs = [\"ES256\"]\naudience = \"a\"");
    let plain_http = entry(
        "issuer = \"https://b.example\"\njwks_uri = \"http://b.example/jwks\"\nalgs = [\"ES256\"]\naudience = \"a\"",
    );
    let hmac = entry(
        "issuer = \"https://b.example\"\njwks_uri = \"https://b.example/jwks\"\nalgs = [\"HS256\"]\naudience = \"a\"",
    );
    let no_algs = entry(
        "issuer = \"https://b.example\"\njwks_uri = \"https://b.example/jwks\"\naudience = \"a\"",
    );
    let no_audience = entry(
        "issuer = \"https://b.example\"\njwks_uri = \"https://b.example/jwks\"\nalgs = [\"ES256\"]",
    );
    let empty_audience = entry(
        "issuer = \"https://b.example\"\njwks_uri = \"https://b.example/jwks\"\nalgs = [\"ES256\"]\naudience = []",
    );
    let twice = entry(
        "issuer = \"https://ok.example\"\njwks_uri = \"https://ok.example/jwks\"\nalgs = [\"ES256\"]\naudience = \"a\"",
    );
    let private_key = entry(
        "issuer = \"https://b.example\"\njwks = { keys = [ { kty = \"EC\", crv = \"P-256\", x = \"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4\", y = \"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM\", d = \"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE\" } ] }\nalgs = [\"ES256\"]\naudience = \"a\"",
    );
    let at = "registration.trusted_token_issuers[1]";
    check_errors(&[
        (&both, &format!("{at}: set jwks_uri or jwks, not both")),
        (&neither, &format!("{at}: set jwks_uri")),
        (
            &plain_http,
            &format!("{at}: trusted issuer https://b.example"),
        ),
        (&hmac, "HS256"),
        (
            &no_algs,
            &format!("{at}: trusted issuer https://b.example lists no algs"),
        ),
        (&no_audience, &format!("{at}: audience is required")),
        (&empty_audience, &format!("{at}.audience")),
        (
            &twice,
            &format!("{at}: the issuer https://ok.example is listed twice"),
        ),
        (&private_key, "private key material"),
        (
            "[[registration.trusted_token_issuers]]\nissuer = \"x\"\nkeys = \"y\"",
            "unknown field `keys`",
        ),
        (
            "[[registration.trusted_token_issuers]]\nissuer = \"https://b.example\"\njwks_uri = \"https://b.example/jwks\"\nalgs = [\"ES256\"]\naudience = 3",
            "a string or a list of strings",
        ),
    ]);
}

#[test]
fn software_statement_modes_leeway_and_issuers_are_read() {
    let config = config(&format!(
        r#"
[software_statement]
mode = "require"
leeway = 30
[[software_statement.trusted_issuers]]
issuer = "https://partner.example"
jwks = {EC_JWKS}
algs = ["ES256"]
authorizes_registration = true
single_use = true
software_ids = ["app-1"]
max_age = 86400
[[software_statement.trusted_issuers]]
issuer = "https://other.example"
jwks_uri = "https://other.example/jwks"
algs = ["EdDSA"]
"#
    ));
    let statements = &config.settings.software_statements;
    assert_eq!(statements.mode, StatementMode::Require);
    assert_eq!(statements.leeway, 30);
    assert_eq!(statements.issuers.len(), 2);
    let partner = &statements.issuers[0];
    assert_eq!(partner.trusted.issuer, "https://partner.example");
    assert!(partner.authorizes_registration && partner.single_use);
    assert_eq!(partner.software_ids, Some(vec!["app-1".to_owned()]));
    assert_eq!(partner.max_age, Some(86_400));
    let other = &statements.issuers[1];
    assert!(!other.authorizes_registration && !other.single_use);
    assert_eq!(other.software_ids, None);
    assert_eq!(other.max_age, None);
    assert!(config.settings.statements_authorize());

    assert_eq!(
        self::config(PARTNER).settings.software_statements.mode,
        StatementMode::Accept
    );
    // Ignore keeps the default leeway and may list issuers for later.
    let ignore = self::config("[software_statement]\nmode = \"ignore\"");
    assert_eq!(ignore.settings.software_statements.leeway, 60);
}

#[test]
fn software_statement_errors_name_the_key() {
    let issuer = "[[software_statement.trusted_issuers]]\nissuer = \"https://p.example\"\njwks_uri = \"https://p.example/jwks\"\nalgs = [\"ES256\"]\n";
    check_errors(&[
        (
            "[software_statement]\nmode = \"sometimes\"",
            "software_statement.mode: \"sometimes\" must be ignore, accept or require",
        ),
        (
            "[software_statement]\nmode = \"accept\"",
            "software_statement.mode: accept needs at least one",
        ),
        (
            "[software_statement]\nmode = \"require\"",
            "software_statement.mode: require needs at least one",
        ),
        (
            "[software_statement]\nleeway = 86400",
            "software_statement.leeway",
        ),
        (
            &format!("[software_statement]\nmode = \"accept\"\n{issuer}max_age = 0"),
            "software_statement.trusted_issuers[0].max_age",
        ),
        (
            &format!("[software_statement]\nmode = \"accept\"\n{issuer}software_ids = []"),
            "software_statement.trusted_issuers[0].software_ids",
        ),
        (
            "[software_statement]\nmode = \"accept\"\n[[software_statement.trusted_issuers]]\nissuer = \"https://p.example\"\nalgs = [\"ES256\"]",
            "software_statement.trusted_issuers[0]: set jwks_uri",
        ),
        (
            &format!("[software_statement]\nmode = \"accept\"\n{issuer}audience = \"x\""),
            "unknown field `audience`",
        ),
    ]);
}

#[test]
fn policies_start_from_unrestricted_and_override_what_they_set() {
    let config = config(
        r#"
[policies.ci]
bind = ["bearer"]
grant_types = ["client_credentials"]
scopes = ["openid"]
auth_methods = ["private_key_jwt", "client_secret_basic"]
redirect_uri_hosts = ["*.example.com", "localhost"]
application_types = ["web"]
allow_introspection = false
max_clients = 100
max_access_token_lifetime = 600
max_refresh_token_lifetime = 86400

[policies.partner-review]
allow_registration = false
"#,
    );
    let policies = &config.settings.policies;
    let ci = policies.get("ci").unwrap();
    assert_eq!(ci.bind, [Binding::Bearer]);
    assert_eq!(ci.grant_types, Some(vec![GrantType::ClientCredentials]));
    assert_eq!(ci.scopes, Some(vec!["openid".to_owned()]));
    assert_eq!(
        ci.auth_methods,
        Some(vec![
            AuthMethod::PrivateKeyJwt,
            AuthMethod::ClientSecretBasic
        ])
    );
    let hosts: Vec<&str> = ci
        .redirect_uri_hosts
        .iter()
        .flatten()
        .map(|host| host.as_str())
        .collect();
    assert_eq!(hosts, ["*.example.com", "localhost"]);
    assert!(ci.allow_client_credentials && ci.allow_registration);
    assert!(!ci.allow_introspection && !ci.allow_registration_scope);
    assert_eq!(ci.max_clients, Some(100));
    assert_eq!(ci.max_access_token_lifetime, Some(600));
    assert_eq!(ci.max_refresh_token_lifetime, Some(86_400));

    let review = policies.get("partner-review").unwrap();
    assert_eq!(
        **review,
        Policy {
            allow_registration: false,
            ..Policy::unrestricted("partner-review")
        }
    );
    // The built-in ones are still there.
    assert_eq!(**policies.get(OPEN_POLICY).unwrap(), Policy::open_default());
    assert!(policies.get("default").is_some());
}

#[test]
fn a_policy_named_or_bound_to_open_starts_from_the_open_default() {
    let config = config("[policies.mcp]\nbind = [\"open\"]\nmax_clients = 1000");
    let policies = &config.settings.policies;
    let mcp = policies.get("mcp").unwrap();
    assert_eq!(
        **mcp,
        Policy {
            name: "mcp".to_owned(),
            max_clients: Some(1000),
            ..Policy::open_default()
        }
    );
    assert_eq!(
        mcp.scopes,
        Some(OPEN_DEFAULT_SCOPES.map(str::to_owned).to_vec())
    );
    // It replaces the built-in open policy as the policy of open registration.
    assert!(policies.get(OPEN_POLICY).is_none());

    let config = self::config(
        "[policies.open]\nscopes = [\"openid\"]\nredirect_uri_hosts = [\"localhost\", \"127.0.0.1\"]",
    );
    let open = config.settings.policies.get(OPEN_POLICY).unwrap();
    assert_eq!(open.bind, [Binding::Open]);
    assert_eq!(open.scopes, Some(vec!["openid".to_owned()]));
    assert!(!open.allow_client_credentials && !open.allow_introspection);
}

#[test]
fn policies_bind_to_software_statements_of_any_or_one_issuer() {
    let config = config(&format!(
        r#"{PARTNER}
[policies.any-partner]
bind = ["software_statement"]
[policies.partner]
bind = [{{ software_statement = "https://partner.example" }}]
[policies.partner-app]
bind = [{{ software_statement = "https://partner.example", software_id = "app-1" }}]
"#
    ));
    let policies = &config.settings.policies;
    let binding = |name: &str| policies.get(name).unwrap().bind.clone();
    assert_eq!(
        binding("any-partner"),
        [Binding::SoftwareStatement {
            issuer: None,
            software_id: None
        }]
    );
    assert_eq!(
        binding("partner"),
        [Binding::SoftwareStatement {
            issuer: Some("https://partner.example".to_owned()),
            software_id: None
        }]
    );
    assert_eq!(
        binding("partner-app"),
        [Binding::SoftwareStatement {
            issuer: Some("https://partner.example".to_owned()),
            software_id: Some("app-1".to_owned())
        }]
    );
    assert!(
        policies
            .get("partner-app")
            .unwrap()
            .requires_software_statement
    );
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn a_statement_binding_while_statements_are_ignored_is_a_warning() {
    let config = config("[policies.partners]\nbind = [\"software_statement\"]");
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(
        config.warnings[0].starts_with("policies.partners.bind: software statements are ignored"),
        "{:?}",
        config.warnings
    );
}

#[test]
fn client_credentials_for_open_registration_is_a_warning() {
    let config = config("[policies.open]\nallow_client_credentials = true");
    assert!(
        config
            .settings
            .policies
            .get(OPEN_POLICY)
            .unwrap()
            .allow_client_credentials
    );
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(
        config.warnings[0]
            .starts_with("policies.open.allow_client_credentials: anyone may register"),
        "{:?}",
        config.warnings
    );
}

#[test]
fn the_bearer_scope_is_a_policy_scope_only_with_allow_registration_scope() {
    let config = config(
        "[policies.admin]\nallow_registration_scope = true\ngrant_types = [\"client_credentials\"]\nscopes = [\"registrar.configuration\"]",
    );
    let admin = config.settings.policies.get("admin").unwrap();
    assert!(admin.allow_registration_scope);
    assert_eq!(
        admin.scopes,
        Some(vec!["registrar.configuration".to_owned()])
    );
    check_errors(&[(
        "[policies.admin]\nscopes = [\"registrar.configuration\"]",
        "policies.admin.scopes: registrar.configuration is registration.bearer_scope; it needs allow_registration_scope = true",
    )]);
}

#[test]
fn policy_errors_name_the_policy_and_the_key() {
    let partner_bound = |binding: &str| format!("{PARTNER}\n[policies.p]\nbind = [{binding}]");
    check_errors(&[
        (
            "[policies.ci]\ngrant_types = [\"password\"]",
            "policies.ci.grant_types: unknown grant type \"password\"; expected one of authorization_code, refresh_token, client_credentials",
        ),
        (
            "[policies.ci]\ngrant_types = [\"implicit\"]",
            "policies.ci.grant_types: grant type \"implicit\" is not supported by this server",
        ),
        (
            "[policies.ci]\ngrant_types = []",
            "policies.ci.grant_types: an empty list allows no grant type",
        ),
        (
            "[policies.ci]\nauth_methods = [\"tls_client_auth\"]",
            "policies.ci.auth_methods: unknown token_endpoint_auth_method \"tls_client_auth\"",
        ),
        (
            "[policies.ci]\napplication_types = [\"desktop\"]",
            "policies.ci.application_types: unknown application_type \"desktop\"",
        ),
        (
            "[policies.ci]\nredirect_uri_hosts = [\"a*.example\"]",
            "policies.ci.redirect_uri_hosts: the host pattern 'a*.example'",
        ),
        (
            "[policies.ci]\nredirect_uri_hosts = []",
            "policies.ci.redirect_uri_hosts",
        ),
        (
            "[policies.ci]\nscopes = [\"openid\", \"payments\"]",
            "policies.ci.scopes: \"payments\" is not in scopes",
        ),
        (
            "[policies.ci]\nmax_clients = 0",
            "policies.ci.max_clients: must be at least 1",
        ),
        (
            "[policies.ci]\nmax_access_token_lifetime = 0",
            "policies.ci.max_access_token_lifetime",
        ),
        (
            "[policies.ci]\nmax_refresh_token_lifetime = 0",
            "policies.ci.max_refresh_token_lifetime",
        ),
        (
            "[policies.ci]\ngrant_type = [\"client_credentials\"]",
            "policies.ci.grant_type: unknown field `grant_type`",
        ),
        (
            "[policies.ci]\nbind = [\"bearer\"]\nmax_clients = \"ten\"",
            "policies.ci.max_clients: invalid type",
        ),
        (
            "[policies.ci]\nbind = \"bearer\"",
            "policies.ci.bind: invalid type",
        ),
        (
            "[policies.ci]\nbind = [\"bearer\", \"everyone\"]",
            "policies.ci.bind[1]: unknown route \"everyone\"; expected \"open\", \"bearer\", \"cimd\"",
        ),
        (
            "[policies.ci]\nbind = [{ software_id = \"app\" }]",
            "policies.ci.bind[0]: ",
        ),
        (
            "[policies.ci]\nbind = [3]",
            "policies.ci.bind[0]: 3 is not a route",
        ),
        (
            "[policies.ci]\nbind = [\"bearer\", \"bearer\"]",
            "policies.ci.bind: bearer is listed twice",
        ),
        (
            "[policies.a]\nbind = [\"bearer\"]\n[policies.b]\nbind = [\"bearer\"]",
            "policies.b.bind: policies a and b are both bound to bearer",
        ),
        (
            "[policies.\"a b\"]\nmax_clients = 1",
            "policies.\"a b\": a policy name",
        ),
        (
            "[policies.mcp]\nbind = [\"open\"]\nallow_registration_scope = true",
            "policies.mcp.allow_registration_scope: a policy of open registration must not grant the registration scope",
        ),
        (
            "[policies.mcp]\nbind = [\"open\"]\ngrant_types = [\"client_credentials\"]",
            "policies.mcp.grant_types: client_credentials needs allow_client_credentials = true",
        ),
        (
            &partner_bound("{ software_statement = \"https://stranger.example\" }"),
            "policies.p.bind: the software statement issuer https://stranger.example is not in software_statement.trusted_issuers",
        ),
        (
            &partner_bound(
                "{ software_statement = \"https://partner.example\", software_id = \"app-9\" }",
            ),
            "policies.p.bind: software_id app-9 is not in the software_ids of https://partner.example",
        ),
        (
            &partner_bound("{ software_statement = \"https://partner.example\", extra = 1 }"),
            "policies.p.bind[0]: ",
        ),
    ]);
}

#[test]
fn rate_limits_are_read_into_the_server_config_and_validated() {
    let config = config(
        r#"
[rate_limits]
registration = { burst = 5, per_seconds = 10 }
redis_url = "redis://127.0.0.1:6379/0"
trusted_proxy_header = "x-forwarded-for"
"#,
    );
    assert_eq!(
        config.rate_limits,
        RateLimitConfig {
            registration: Quota::new(5, 10),
            redis_url: Some("redis://127.0.0.1:6379/0".to_owned()),
            trusted_proxy_header: Some("x-forwarded-for".to_owned()),
            ..RateLimitConfig::default()
        }
    );
    assert!(
        !self::config("[rate_limits]\nenabled = false")
            .rate_limits
            .enabled
    );
    check_errors(&[
        (
            "[rate_limits]\nregistration = { burst = 0, per_seconds = 10 }",
            "rate_limits: rate limit",
        ),
        (
            "[rate_limits]\nredis_url = \"http://cache\"",
            "rate_limits: rate limit redis_url",
        ),
        (
            "[rate_limits]\ntrusted_proxy_header = \"x forwarded\"",
            "rate_limits: rate limit trusted_proxy_header",
        ),
        (
            "[rate_limits]\nregistrations = 5",
            "unknown field `registrations`",
        ),
    ]);
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| (*value).to_owned()).collect()
}

#[test]
fn default_scopes_resources_and_cors_origins_have_their_defaults() {
    let settings = config("").settings;
    assert_eq!(settings.default_scopes, strings(&["openid"]));
    assert_eq!(settings.resources, None);
    assert!(settings.cors_allowed_origins.is_empty());
    assert_eq!(settings.lifetimes, LifetimeLimits::default());
}

#[test]
fn default_scopes_are_read_and_must_be_offered_scopes() {
    let settings = config("default_scopes = [\"openid\", \"profile\"]").settings;
    assert_eq!(settings.default_scopes, strings(&["openid", "profile"]));
    assert!(
        config("default_scopes = []")
            .settings
            .default_scopes
            .is_empty()
    );
    let settings = config("scopes = [\"api\", \"openid\"]\ndefault_scopes = [\"api\"]").settings;
    assert_eq!(settings.default_scopes, strings(&["api"]));
    // Left unset, the built-in default gives way to scopes that do not offer it.
    let settings = config("scopes = [\"api\"]").settings;
    assert!(
        settings.default_scopes.is_empty(),
        "{:?}",
        settings.default_scopes
    );
    check_errors(&[
        (
            "default_scopes = [\"admin\"]",
            "default_scopes: admin is not in scopes",
        ),
        (
            "scopes = [\"api\"]\ndefault_scopes = [\"openid\"]",
            "default_scopes: openid is not in scopes",
        ),
        (
            "default_scopes = [\"offline_access\"]",
            "default_scopes may not contain offline_access",
        ),
        (
            "default_scopes = [\"registrar.configuration\"]",
            "default_scopes may not contain registrar.configuration",
        ),
        (
            "default_scopes = [\"openid\", \"openid\"]",
            "default_scopes: \"openid\" is listed twice",
        ),
        ("default_scopes = \"openid\"", "default_scopes"),
    ]);
}

#[test]
fn resources_are_absolute_https_uris_without_fragments() {
    let settings = config(
        "resources = [\"https://api.example.com\", \"https://mcp.example.com/mcp\", \"https://api.example.com/v1?tenant=a\", \"http://localhost:3000/mcp\", \"http://127.0.0.1:8080/mcp\"]",
    )
    .settings;
    assert_eq!(
        settings.resources,
        Some(strings(&[
            "https://api.example.com",
            "https://mcp.example.com/mcp",
            "https://api.example.com/v1?tenant=a",
            "http://localhost:3000/mcp",
            "http://127.0.0.1:8080/mcp",
        ]))
    );
    assert_eq!(
        config("resources = []").settings.resources,
        Some(Vec::new())
    );
    for bad in [
        "http://api.example.com",
        "http://127.0.0.2:3000/mcp",
        "http://localhost.evil.example/mcp",
        "https://api.example.com/#top",
        "https://api.example.com/#",
        "/relative/path",
        "api.example.com",
        "urn:example:resource",
        "https://",
        "",
    ] {
        check_errors(&[(
            &format!("resources = [\"https://ok.example\", \"{bad}\"]"),
            &format!(
                "resources[1]: \"{bad}\" must be an absolute https URI (or http on a loopback host) without a fragment"
            ),
        )]);
    }
    check_errors(&[
        (
            "resources = [\"https://a.example\", \"https://a.example\"]",
            "resources[1]: \"https://a.example\" is listed twice",
        ),
        ("resources = \"https://a.example\"", "resources"),
    ]);
}

#[test]
fn cors_origins_are_star_or_bare_origins_in_serialized_form() {
    let settings = config(
        "[cors]\nallowed_origins = [\"https://app.example.com\", \"http://localhost:3000\", \"HTTPS://Admin.Example.com:443\", \"http://[::1]:8080\", \"*\"]",
    )
    .settings;
    assert_eq!(
        settings.cors_allowed_origins,
        strings(&[
            "https://app.example.com",
            "http://localhost:3000",
            "https://admin.example.com",
            "http://[::1]:8080",
            "*",
        ])
    );
    assert!(
        config("[cors]\nallowed_origins = []")
            .settings
            .cors_allowed_origins
            .is_empty()
    );
    for bad in [
        "https://app.example.com/",
        "https://app.example.com/path",
        "https://app.example.com?x=1",
        "https://app.example.com#x",
        "https://user@app.example.com",
        "ftp://files.example.com",
        "app.example.com",
        "null",
        "**",
        "",
    ] {
        check_errors(&[(
            &format!("[cors]\nallowed_origins = [\"*\", \"{bad}\"]"),
            &format!("cors.allowed_origins[1]: \"{bad}\" must be * or an origin"),
        )]);
    }
    check_errors(&[
        (
            "[cors]\nallowed_origins = [\"https://a.example\", \"https://A.example:443\"]",
            "cors.allowed_origins[1]: \"https://A.example:443\" is listed twice",
        ),
        (
            "[cors]\nallowed_origin = [\"*\"]",
            "unknown field `allowed_origin`",
        ),
        ("[cors]\nallowed_origins = \"*\"", "allowed_origins"),
    ]);
}

#[test]
fn default_lifetimes_and_the_session_lifetime_come_from_the_tokens_section() {
    let lifetimes = config(
        r#"
[tokens]
default_identity_token_lifetime = 600
default_authorization_code_lifetime = 30
default_absolute_refresh_token_lifetime = 864000
default_sliding_refresh_token_lifetime = 86400
default_consent_lifetime = 2592000
session_lifetime = 3600
"#,
    )
    .settings
    .lifetimes;
    assert_eq!(
        lifetimes,
        LifetimeLimits {
            default_identity_token: 600,
            default_authorization_code: 30,
            default_absolute_refresh_token: 864_000,
            default_sliding_refresh_token: 86_400,
            default_consent: 2_592_000,
            session: 3_600,
            ..LifetimeLimits::default()
        }
    );
    // An absolute default shorter than the built-in sliding one takes the sliding one with it.
    let lifetimes = config("[tokens]\ndefault_absolute_refresh_token_lifetime = 3600")
        .settings
        .lifetimes;
    assert_eq!(
        (
            lifetimes.default_absolute_refresh_token,
            lifetimes.default_sliding_refresh_token
        ),
        (3_600, 3_600)
    );
    // Each key alone leaves the others at their defaults.
    let lifetimes = config("[tokens]\nsession_lifetime = 60").settings.lifetimes;
    assert_eq!(
        lifetimes,
        LifetimeLimits {
            session: 60,
            ..LifetimeLimits::default()
        }
    );
}

#[test]
fn default_lifetimes_are_within_what_a_client_may_register() {
    let limits = LifetimeLimits::default();
    let mut cases = Vec::new();
    for (key, max) in [
        ("default_identity_token_lifetime", limits.max_identity_token),
        (
            "default_authorization_code_lifetime",
            limits.max_authorization_code,
        ),
        (
            "default_absolute_refresh_token_lifetime",
            limits.max_absolute_refresh_token,
        ),
        (
            "default_sliding_refresh_token_lifetime",
            limits.max_sliding_refresh_token,
        ),
        ("default_consent_lifetime", limits.max_consent),
        ("session_lifetime", 365 * 86_400),
    ] {
        cases.push((
            format!("[tokens]\n{key} = 0"),
            format!("tokens.{key} must be at least 1 second"),
        ));
        cases.push((
            format!("[tokens]\n{key} = {}", max + 1),
            format!("tokens.{key}: at most {max} seconds"),
        ));
        // The largest is accepted (the sliding default only with an absolute one as long).
        let largest = format!(
            "[tokens]\n{key} = {max}\ndefault_absolute_refresh_token_lifetime = {}",
            limits.max_absolute_refresh_token
        );
        if key != "default_absolute_refresh_token_lifetime" {
            config(&largest);
        }
    }
    cases.push((
        "[tokens]\ndefault_absolute_refresh_token_lifetime = 86400\ndefault_sliding_refresh_token_lifetime = 86401".to_owned(),
        "tokens.default_sliding_refresh_token_lifetime: 86401 seconds is longer than tokens.default_absolute_refresh_token_lifetime, 86400 seconds".to_owned(),
    ));
    cases.push((
        "[tokens]\ndefault_id_token_lifetime = 60".to_owned(),
        "unknown field `default_id_token_lifetime`".to_owned(),
    ));
    cases.push((
        "[tokens]\nsession_lifetime = -1".to_owned(),
        "session_lifetime".to_owned(),
    ));
    let cases: Vec<(&str, &str)> = cases
        .iter()
        .map(|(text, fragment)| (text.as_str(), fragment.as_str()))
        .collect();
    check_errors(&cases);
}

/// A self-signed P-256 root, valid for a century: `outbound.extra_ca_file` needs a real
/// certificate to accept.
const TEST_ROOT_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBoTCCAUegAwIBAgIUOpiKB+GjAICl6LsLoQuMRKwLHgAwCgYIKoZIzj0EAwIw
JTEjMCEGA1UEAwwacmVnaXN0cmFyIGNvbmZpZyB0ZXN0IHJvb3QwIBcNMjYxMjAy
MDY0MDIyWhgPMjEyNjExMDgwNjQwMjJaMCUxIzAhBgNVBAMMGnJlZ2lzdHJhciBj
b25maWcgdGVzdCByb290MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEh9SNsCwS
UZpUUdYLj2fyVEim0gJTSmUzByv//aiGX/iO9KHqKoa2NZqK7nor6ffY38jCMPPQ
uUq4egK3SARNW6NTMFEwHQYDVR0OBBYEFG//4huDRLLrXsS029yEC1+1tFy+MB8G
A1UdIwQYMBaAFG//4huDRLLrXsS029yEC1+1tFy+MA8GA1UdEwEB/wQFMAMBAf8w
CgYIKoZIzj0EAwIDSAAwRQIgWvv3s+7bdHjANDHtCypAtn9poMyda0sgIjMv8IX+
argCIQCy49hp1GdlmhSIorBEWiu65pb0KefyZWNGjVsDVephbw==
-----END CERTIFICATE-----
";

#[test]
fn outbound_allow_hosts_feed_the_registration_rules_and_the_fetcher() {
    let config = config(
        "[outbound]\nallow_hosts = [\"127.0.0.1:8443\", \"[::1]:8443\", \"JWKS.test:443\"]\n",
    );

    let in_settings: Vec<String> = config
        .settings
        .outbound_allow_hosts
        .iter()
        .map(ToString::to_string)
        .collect();
    let in_fetcher: Vec<String> = config
        .fetch
        .allow_hosts
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        in_settings,
        ["127.0.0.1:8443", "[::1]:8443", "jwks.test:443"]
    );
    assert_eq!(in_fetcher, in_settings);
    assert!(config.fetch.extra_root_certificates.is_empty());
    let defaults = self::config("");
    assert!(defaults.settings.outbound_allow_hosts.is_empty());
    assert!(defaults.fetch.allow_hosts.is_empty());
}

#[test]
fn malformed_outbound_allow_hosts_are_errors_naming_the_entry() {
    check_errors(&[
        (
            "[outbound]\nallow_hosts = [\"127.0.0.1\"]",
            "outbound.allow_hosts[0]: \"127.0.0.1\" needs a port",
        ),
        (
            "[outbound]\nallow_hosts = [\"127.0.0.1:8443\", \"127.0.0.1:port\"]",
            "outbound.allow_hosts[1]: \"127.0.0.1:port\" has a bad port",
        ),
        (
            "[outbound]\nallow_hosts = [\"127.0.0.1:70000\"]",
            "outbound.allow_hosts[0]: \"127.0.0.1:70000\" has a bad port",
        ),
        (
            "[outbound]\nallow_hosts = [\"https://127.0.0.1:8443\"]",
            "outbound.allow_hosts[0]: \"https://127.0.0.1:8443\" must be host:port, such as 127.0.0.1:8443 or [::1]:8443, without a scheme",
        ),
        (
            "[outbound]\nallow_hosts = [\"127.0.0.1:8443/jwks\"]",
            "outbound.allow_hosts[0]: \"127.0.0.1:8443/jwks\" must be host:port",
        ),
        (
            "[outbound]\nallow_hosts = [\"127.0.0.1:8443\", \"0x7f.1:8443\"]",
            "outbound.allow_hosts[1]: \"0x7f.1:8443\" is listed twice",
        ),
        ("[outbound]\nallow_host = []", "unknown field `allow_host`"),
    ]);
}

#[test]
fn outbound_extra_ca_file_loads_every_certificate_of_the_bundle() {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("roots.pem");
    std::fs::write(&path, format!("{TEST_ROOT_PEM}{TEST_ROOT_PEM}")).expect("write roots");

    let config = config(&format!(
        "[outbound]\nextra_ca_file = {:?}\n",
        path.display().to_string()
    ));

    assert_eq!(config.fetch.extra_root_certificates.len(), 2);
}

#[test]
fn an_unreadable_or_invalid_extra_ca_file_is_an_error() {
    let folder = tempfile::tempdir().expect("temp dir");
    let missing = folder.path().join("missing.pem");
    let empty = folder.path().join("empty.pem");
    std::fs::write(&empty, "# no certificate here\n").expect("write");
    let junk = folder.path().join("junk.pem");
    std::fs::write(
        &junk,
        "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    let section = |path: &std::path::Path| {
        format!(
            "[outbound]\nextra_ca_file = {:?}\n",
            path.display().to_string()
        )
    };
    let cases = [
        (
            section(&missing),
            format!("outbound.extra_ca_file: cannot read {}", missing.display()),
        ),
        (
            section(&empty),
            format!(
                "outbound.extra_ca_file: {} holds no PEM certificate",
                empty.display()
            ),
        ),
        (
            section(&junk),
            format!(
                "outbound.extra_ca_file: {} certificate 1 of 1 is not a valid X.509 certificate",
                junk.display()
            ),
        ),
    ];
    let cases: Vec<(&str, &str)> = cases
        .iter()
        .map(|(text, fragment)| (text.as_str(), fragment.as_str()))
        .collect();
    check_errors(&cases);
}

#[test]
fn debug_hides_the_secret_key_and_the_database_password() {
    let config = config(
        "database = \"postgres://registrar:hunter2-database@db.example/registrar\"\nsecret_key = \"an-operator-secret-that-must-not-leak\"",
    );
    let shown = format!("{config:?}");
    assert!(!shown.contains("hunter2-database"), "{shown}");
    assert!(!shown.contains("an-operator-secret"), "{shown}");
    assert!(shown.contains("db.example"), "{shown}");
}

#[test]
fn log_format_is_json_or_pretty_and_unset_is_left_to_the_terminal() {
    assert_eq!(config("").log_format, None);
    assert_eq!(
        config("[log]\nformat = \"json\"\n").log_format,
        Some(LogFormat::Json)
    );
    assert_eq!(
        config("[log]\nformat = \"pretty\"\n").log_format,
        Some(LogFormat::Pretty)
    );
    check_errors(&[
        (
            "[log]\nformat = \"xml\"\n",
            "log.format: \"xml\" must be json or pretty",
        ),
        (
            "[log]\nformat = \"JSON\"\n",
            "log.format: \"JSON\" must be json or pretty",
        ),
        ("[log]\nlevel = \"debug\"\n", "unknown field `level`"),
    ]);
}

#[test]
fn the_log_format_environment_variable_beats_the_file() {
    let from_file = || log_format::LogSection {
        format: Some("json".to_owned()),
    };
    assert_eq!(
        log_format::log_format(Some("pretty".to_owned()), from_file()).unwrap(),
        Some(LogFormat::Pretty)
    );
    assert_eq!(
        log_format::log_format(None, from_file()).unwrap(),
        Some(LogFormat::Json)
    );
    let error = log_format::log_format(Some("text\n".to_owned()), from_file()).unwrap_err();
    // The value is quoted escaped, so it cannot break the message.
    assert_eq!(
        error.to_string(),
        "REGISTRAR_LOG_FORMAT: \"text\\n\" must be json or pretty"
    );
}

#[test]
fn shutdown_grace_period_is_seconds_up_to_an_hour() {
    assert_eq!(config("").shutdown_grace, Duration::from_secs(30));
    assert_eq!(
        config("shutdown_grace_period = 5\n").shutdown_grace,
        Duration::from_secs(5)
    );
    assert_eq!(
        config("shutdown_grace_period = 0\n").shutdown_grace,
        Duration::ZERO
    );
    check_errors(&[(
        "shutdown_grace_period = 3601\n",
        "shutdown_grace_period: at most 3600 seconds, not 3601",
    )]);
}

#[test]
fn idempotency_window_is_seconds_up_to_a_week_and_a_day_by_default() {
    assert_eq!(config("").settings.idempotency_window, 86_400);
    assert_eq!(
        config("[registration]\nidempotency_window = 600\n")
            .settings
            .idempotency_window,
        600
    );
    assert_eq!(
        config("[registration]\nidempotency_window = 0\n")
            .settings
            .idempotency_window,
        0
    );
    check_errors(&[(
        "[registration]\nidempotency_window = 604801\n",
        "registration.idempotency_window: at most 604800 seconds (7 days), not 604801",
    )]);
}

#[test]
fn metrics_listen_is_an_address_of_its_own_and_unset_by_default() {
    assert_eq!(config("").metrics_listen, None);
    assert_eq!(
        config("[metrics]\nlisten = \"127.0.0.1:9100\"\n").metrics_listen,
        Some("127.0.0.1:9100".parse().unwrap())
    );
    assert_eq!(
        config("[metrics]\nlisten = \"[::1]:9100\"\n").metrics_listen,
        Some("[::1]:9100".parse().unwrap())
    );
    check_errors(&[
        (
            "[metrics]\nlisten = \"localhost:9100\"\n",
            "metrics.listen: \"localhost:9100\" is not an address such as 127.0.0.1:9100",
        ),
        (
            "[metrics]\nlisten = \"9100\"\n",
            "metrics.listen: \"9100\" is not an address",
        ),
        (
            "listen = \"127.0.0.1:9100\"\n[metrics]\nlisten = \"127.0.0.1:9100\"\n",
            "metrics.listen: 127.0.0.1:9100 is also listen",
        ),
        ("[metrics]\nlisten = 9100\n", "invalid type"),
        (
            "[metrics]\nlisten_on = \"127.0.0.1:9100\"\n",
            "unknown field `listen_on`",
        ),
        (
            "[metric]\nlisten = \"127.0.0.1:9100\"\n",
            "unknown field `metric`",
        ),
    ]);
}

#[test]
fn audit_retention_and_max_refusals_are_read_and_default_to_90_days_and_10000() {
    let defaults = config("").settings.audit;
    assert_eq!(defaults.retention, 90 * 24 * 3600);
    assert_eq!(defaults.max_refusals, 10_000);

    let audit = config("[audit]\nretention = \"7d\"\nmax_refusals = 50\n")
        .settings
        .audit;
    assert_eq!(audit.retention, 7 * 24 * 3600);
    assert_eq!(audit.max_refusals, 50);
    assert_eq!(
        config("[audit]\nretention = \"0s\"\n")
            .settings
            .audit
            .retention,
        0
    );
    check_errors(&[
        (
            "[audit]\nretention = \"soon\"\n",
            "audit.retention: \"soon\" is not a duration such as 90d or 12h",
        ),
        ("[audit]\nkeep = 3\n", "unknown field `keep`"),
    ]);
}

#[test]
fn lifecycle_ttls_are_durations_off_by_default() {
    let defaults = config("").settings.lifecycle;
    assert_eq!((defaults.unused_ttl, defaults.inactive_ttl), (0, 0));
    assert!(!defaults.is_enabled());

    let lifecycle = config("[lifecycle]\nunused_ttl = \"24h\"\ninactive_ttl = \"90d\"\n")
        .settings
        .lifecycle;
    assert_eq!(lifecycle.unused_ttl, 24 * 3600);
    assert_eq!(lifecycle.inactive_ttl, 90 * 24 * 3600);
    assert_eq!(
        config("[lifecycle]\ninactive_ttl = \"0s\"\n")
            .settings
            .lifecycle
            .inactive_ttl,
        0
    );
    check_errors(&[
        (
            "[lifecycle]\nunused_ttl = \"a while\"\n",
            "lifecycle.unused_ttl: \"a while\" is not a duration such as 24h or 90d",
        ),
        (
            "[lifecycle]\ninactive_ttl = \"30s\"\n",
            "lifecycle.inactive_ttl must be at least 1 minute, or 0s to turn it off",
        ),
        ("[lifecycle]\nttl = \"1d\"\n", "unknown field `ttl`"),
    ]);
}
