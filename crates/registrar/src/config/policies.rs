//! `[policies.NAME]`: declarative registration policies, read into `registrar_core::Policy` values
//! and checked against the rest of the configuration. Every error names `policies.NAME.key`.

use std::collections::BTreeMap;

use anyhow::bail;
use registrar_core::policy::{
    Binding, HostPattern, OPEN_POLICY, Policies, Policy, PolicyError, is_policy_name,
};
use registrar_core::trust::StatementMode;
use registrar_core::{ApplicationType, AuthMethod, GrantType, Settings};
use serde::Deserialize;

/// One `[policies.NAME]` table. Every key is optional: a missing one keeps the starting policy's
/// value (`Policy::open_default` for a policy named or bound to `open`, else
/// `Policy::unrestricted`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySection {
    pub bind: Option<Vec<BindEntry>>,
    pub allow_registration: Option<bool>,
    pub grant_types: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub auth_methods: Option<Vec<String>>,
    pub redirect_uri_hosts: Option<Vec<String>>,
    pub application_types: Option<Vec<String>>,
    pub allow_client_credentials: Option<bool>,
    pub allow_registration_scope: Option<bool>,
    pub allow_introspection: Option<bool>,
    pub max_clients: Option<u64>,
    pub max_access_token_lifetime: Option<u64>,
    pub max_refresh_token_lifetime: Option<u64>,
}

/// An item of `bind`: `"open"`, `"bearer"`, `"software_statement"`, or
/// `{ software_statement = "ISSUER" }` with an optional `software_id = "ID"`.
///
/// Anything else lands in `Other`, so the error can say what is expected instead of serde's
/// "did not match any variant".
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum BindEntry {
    Route(String),
    Statement(StatementBind),
    Other(toml::Value),
}

/// `{ software_statement = "ISSUER", software_id = "ID" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementBind {
    pub software_statement: String,
    pub software_id: Option<String>,
}

const BIND_EXPECTED: &str = "expected \"open\", \"bearer\", \"cimd\", \"software_statement\", { software_statement = \"ISSUER\" } or { software_statement = \"ISSUER\", software_id = \"ID\" }";

/// Reads one policy table; a key that does not deserialize is found by reading the keys one at
/// a time, so the error names it.
pub fn section(name: &str, table: toml::Table) -> anyhow::Result<PolicySection> {
    let error = match toml::Value::Table(table.clone()).try_into::<PolicySection>() {
        Ok(section) => return Ok(section),
        Err(error) => error,
    };
    for (key, value) in table {
        let single = toml::Table::from_iter([(key.clone(), value)]);
        if let Err(error) = toml::Value::Table(single).try_into::<PolicySection>() {
            bail!("policies.{name}.{key}: {}", error.message().trim_end());
        }
    }
    bail!("policies.{name}: {}", error.message().trim_end())
}

fn bindings(at: &str, entries: Vec<BindEntry>) -> anyhow::Result<Vec<Binding>> {
    let mut bindings = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let binding = match entry {
            BindEntry::Route(route) => match route.as_str() {
                "open" => Binding::Open,
                "bearer" => Binding::Bearer,
                "cimd" => Binding::MetadataDocument,
                "software_statement" => Binding::SoftwareStatement {
                    issuer: None,
                    software_id: None,
                },
                other => bail!("{at}[{index}]: unknown route \"{other}\"; {BIND_EXPECTED}"),
            },
            BindEntry::Statement(StatementBind {
                software_statement,
                software_id,
            }) => {
                if software_statement.is_empty() || software_id.as_deref() == Some("") {
                    bail!("{at}[{index}]: the issuer and software_id must not be empty");
                }
                Binding::SoftwareStatement {
                    issuer: Some(software_statement),
                    software_id,
                }
            }
            BindEntry::Other(value) => {
                bail!("{at}[{index}]: {value} is not a route; {BIND_EXPECTED}")
            }
        };
        if bindings.contains(&binding) {
            bail!("{at}: {binding} is listed twice");
        }
        bindings.push(binding);
    }
    Ok(bindings)
}

/// Parses each name with `parse`, refusing unknown ones and those `supported` lacks.
fn protocol_values<T: Copy + PartialEq + std::fmt::Display>(
    at: &str,
    what: &str,
    names: Vec<String>,
    parse: impl Fn(&str) -> Option<T>,
    supported: &[T],
) -> anyhow::Result<Vec<T>> {
    let expected = || {
        supported
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if names.is_empty() {
        bail!("{at}: an empty list allows no {what}; list some, or set allow_registration = false");
    }
    let mut values = Vec::with_capacity(names.len());
    for name in names {
        let Some(value) = parse(&name) else {
            bail!(
                "{at}: unknown {what} \"{name}\"; expected one of {}",
                expected()
            );
        };
        if !supported.contains(&value) {
            bail!(
                "{at}: {what} \"{name}\" is not supported by this server; expected one of {}",
                expected()
            );
        }
        if !values.contains(&value) {
            values.push(value);
        }
    }
    Ok(values)
}

/// One policy from its table, checked against the settings resolved before it.
fn policy(
    name: &str,
    section: PolicySection,
    settings: &Settings,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Policy> {
    let at = |key: &str| format!("policies.{name}.{key}");
    let bind = match section.bind {
        Some(entries) => Some(bindings(&at("bind"), entries)?),
        None => None,
    };
    let governs_open = name == OPEN_POLICY
        || bind
            .as_ref()
            .is_some_and(|bind| bind.contains(&Binding::Open));
    // Open registration is anyone's: its policy starts from the restrictive built-in one.
    let mut policy = match governs_open {
        true => Policy {
            name: name.to_owned(),
            ..Policy::open_default()
        },
        false => Policy::unrestricted(name),
    };
    if let Some(bind) = bind {
        policy.bind = bind;
    }
    for binding in &policy.bind {
        let Binding::SoftwareStatement {
            issuer,
            software_id,
        } = binding
        else {
            continue;
        };
        if settings.software_statements.mode == StatementMode::Ignore {
            warnings.push(format!(
                "{}: software statements are ignored (software_statement.mode = ignore), so {binding} never applies",
                at("bind")
            ));
        }
        let Some(issuer) = issuer else {
            continue;
        };
        let Some(trusted) = settings
            .software_statements
            .issuers
            .iter()
            .find(|trusted| trusted.trusted.issuer == *issuer)
        else {
            bail!(
                "{}: the software statement issuer {issuer} is not in software_statement.trusted_issuers",
                at("bind")
            );
        };
        if let (Some(software_id), Some(approved)) = (software_id, &trusted.software_ids)
            && !approved.contains(software_id)
        {
            bail!(
                "{}: software_id {software_id} is not in the software_ids of {issuer}, so no statement would match",
                at("bind")
            );
        }
    }
    if let Some(allow) = section.allow_registration {
        policy.allow_registration = allow;
    }
    if let Some(allow) = section.allow_client_credentials {
        policy.allow_client_credentials = allow;
    }
    if let Some(allow) = section.allow_registration_scope {
        policy.allow_registration_scope = allow;
    }
    if let Some(allow) = section.allow_introspection {
        policy.allow_introspection = allow;
    }
    if governs_open && section.allow_client_credentials == Some(true) {
        warnings.push(format!(
            "{}: anyone may register under this policy of open registration, and so obtain access tokens without a user",
            at("allow_client_credentials")
        ));
    }
    if policy.allow_registration_scope && governs_open {
        bail!(
            "{}: a policy of open registration must not grant the registration scope: anyone could then manage every client",
            at("allow_registration_scope")
        );
    }
    if let Some(names) = section.grant_types {
        let grant_types = protocol_values(
            &at("grant_types"),
            "grant type",
            names,
            GrantType::parse,
            &settings.grant_types,
        )?;
        if grant_types.contains(&GrantType::ClientCredentials) && !policy.allow_client_credentials {
            bail!(
                "{}: client_credentials needs allow_client_credentials = true",
                at("grant_types")
            );
        }
        policy.grant_types = Some(grant_types);
    }
    if let Some(scopes) = section.scopes {
        for scope in &scopes {
            if *scope == settings.bearer_scope {
                if !policy.allow_registration_scope {
                    bail!(
                        "{}: {scope} is registration.bearer_scope; it needs allow_registration_scope = true",
                        at("scopes")
                    );
                }
                continue;
            }
            if !settings.scopes.contains(scope) {
                bail!(
                    "{}: \"{scope}\" is not in scopes ({})",
                    at("scopes"),
                    settings.scopes.join(", ")
                );
            }
        }
        policy.scopes = Some(scopes);
    }
    if let Some(names) = section.auth_methods {
        policy.auth_methods = Some(protocol_values(
            &at("auth_methods"),
            "token_endpoint_auth_method",
            names,
            AuthMethod::parse,
            &settings.token_endpoint_auth_methods,
        )?);
    }
    if let Some(names) = section.application_types {
        policy.application_types = Some(protocol_values(
            &at("application_types"),
            "application_type",
            names,
            ApplicationType::parse,
            ApplicationType::ALL,
        )?);
    }
    if let Some(patterns) = section.redirect_uri_hosts {
        if patterns.is_empty() {
            bail!(
                "{}: an empty list allows no redirect URI; leave it out to allow any host",
                at("redirect_uri_hosts")
            );
        }
        let mut hosts = Vec::with_capacity(patterns.len());
        for pattern in &patterns {
            match HostPattern::parse(pattern) {
                Ok(host) => hosts.push(host),
                Err(reason) => bail!("{}: {reason}", at("redirect_uri_hosts")),
            }
        }
        policy.redirect_uri_hosts = Some(hosts);
    }
    let at_least_one = |key: &str, value: Option<u64>, unit: &str| match value {
        Some(0) => bail!("{}: must be at least 1 {unit}", at(key)),
        other => Ok(other),
    };
    if let Some(max) = at_least_one("max_clients", section.max_clients, "client")? {
        policy.max_clients = Some(max);
    }
    if let Some(max) = at_least_one(
        "max_access_token_lifetime",
        section.max_access_token_lifetime,
        "second",
    )? {
        policy.max_access_token_lifetime = Some(max);
    }
    if let Some(max) = at_least_one(
        "max_refresh_token_lifetime",
        section.max_refresh_token_lifetime,
        "second",
    )? {
        policy.max_refresh_token_lifetime = Some(max);
    }
    Ok(policy)
}

/// Every `[policies.NAME]`, on top of the built-in `open` and `default`.
pub fn policies(
    tables: BTreeMap<String, toml::Table>,
    settings: &Settings,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Policies> {
    let mut configured = Vec::with_capacity(tables.len());
    for (name, table) in tables {
        if !is_policy_name(&name) {
            bail!("policies.\"{name}\": a policy name is 1 to 64 letters, digits, '.', '_' or '-'");
        }
        let section = section(&name, table)?;
        configured.push(policy(&name, section, settings, warnings)?);
    }
    Policies::new(configured).map_err(|error| match &error {
        PolicyError::Conflict { second, .. } => anyhow::anyhow!("policies.{second}.bind: {error}"),
        PolicyError::BadName(name) => anyhow::anyhow!("policies.\"{name}\": {error}"),
        PolicyError::Invalid(_) => anyhow::anyhow!("policies: {error}"),
    })
}
