//! The commands: `serve`, `initial-token …`, `clients …`, `keys …`, `users …`, `events …` on the
//! configured store, and `policies …`, which reads only the configuration.

mod events;

use anyhow::{Context, bail};
use registrar_core::StoreError;
use registrar_core::authz::{User, hash_password};
use registrar_core::initial_token::{InitialTokenOptions, mint_initial_token};
use registrar_core::lifecycle::Standing;
use registrar_core::policy::{Binding, Policies, Policy};
use registrar_core::secrets::random_token;
use registrar_core::token::{
    KeyRingConfig, SigningAlgorithm, key_states, load_key_ring, rotate_signing_key,
};
use registrar_core::{ClientId, Pipeline, Stores};
use registrar_server::metrics;
use registrar_server::serve::ServeOptions;
use registrar_server::{AppState, RouteGroups, RouterOptions, TokenOptions};
use registrar_store::StoreCloser;

use crate::cli::{
    Cli, ClientsCommand, Command, InitialTokenCommand, KeysCommand, PoliciesCommand, UsersCommand,
};
use crate::config::{self, Config, Overrides};
use crate::{logging, secret_key, users};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut overrides = Overrides {
        database: cli.global.database,
        ..Overrides::default()
    };
    let mut groups = RouteGroups::ALL;
    if let Command::Serve(serve) = &cli.command {
        overrides.listen = serve.listen.clone();
        overrides.issuer = serve.issuer.clone();
        groups = route_groups(&serve.routes)?;
    }
    // `policies check FILE` reads FILE in place of `--config`, with the same parser.
    let config_file = match &cli.command {
        Command::Policies(PoliciesCommand::Check { file }) => Some(file.as_path()),
        _ => cli.global.config.as_deref(),
    };
    let config = config::load(config_file, overrides)?;
    match cli.command {
        Command::Serve(_) => serve(config, groups).await,
        Command::InitialToken(command) => initial_token(config, command).await,
        Command::Clients(command) => clients(config, command).await,
        Command::Keys(command) => keys(config, command).await,
        Command::Users(command) => users(config, command).await,
        Command::Policies(PoliciesCommand::List) => {
            policies_list(&config);
            Ok(())
        }
        Command::Policies(PoliciesCommand::Check { .. }) => {
            policies_check(&config);
            Ok(())
        }
        Command::Events(command) => events::events(config, command).await,
    }
}

/// `--routes all` or a comma-separated list of `registration` and `authorization`.
fn route_groups(list: &str) -> anyhow::Result<RouteGroups> {
    let mut groups = RouteGroups {
        registration: false,
        authorization: false,
    };
    for name in list.split(',').map(str::trim) {
        match name {
            "all" => groups = RouteGroups::ALL,
            "registration" => groups.registration = true,
            "authorization" => groups.authorization = true,
            other => bail!(
                "--routes: unknown route group {other:?}; expected all, registration or authorization"
            ),
        }
    }
    Ok(groups)
}

/// The pipeline every command works through: the store (migrated on open) and the server
/// secret. Commands read time and randomness through it, as the server does.
async fn open(config: &Config) -> anyhow::Result<Pipeline> {
    let (pipeline, _closer) = open_closable(config).await?;
    Ok(pipeline)
}

/// [`open`], and what closes the store when `serve` stops.
async fn open_closable(config: &Config) -> anyhow::Result<(Pipeline, StoreCloser)> {
    let key = secret_key::load(config.secret_key.as_deref(), &config.database)?;
    let (store, closer) = registrar_store::connect_with_closer(&config.database, config.pool)
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                crate::config::redact_database(&config.database)
            )
        })?;
    let pipeline = Pipeline::builder(config.settings.clone(), Stores::from_backend(store))
        .server_secret(&key)
        .build()
        .context("cannot build the registration pipeline")?;
    Ok((pipeline, closer))
}

async fn serve(config: Config, groups: RouteGroups) -> anyhow::Result<()> {
    logging::init(config.log_format);
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    let (pipeline, store) = open_closable(&config).await?;
    let registration_endpoint = pipeline.settings().registration_endpoint();
    let options = TokenOptions {
        rate_limits: config.rate_limits.clone(),
        fetch: config.fetch.clone(),
        ..TokenOptions::default()
    };
    let state = AppState::new(pipeline, options)
        .await
        .context("cannot load the signing keys")?;
    let metrics = metrics::install_recorder()?;
    let housekeeping = tokio::spawn(registrar_server::housekeeping::purge_expired_periodically(
        state.clone(),
        registrar_server::housekeeping::PURGE_INTERVAL,
    ));
    let upkeep = tokio::spawn(metrics::upkeep_periodically(
        metrics.clone(),
        metrics::UPKEEP_INTERVAL,
    ));
    // `/metrics` on the main router only when it has no listener of its own.
    let metrics_app = config
        .metrics_listen
        .map(|_| metrics::metrics_routes(state.clone(), metrics.clone()));
    let app = registrar_server::router_with(
        state,
        RouterOptions {
            groups,
            metrics: config.metrics_listen.is_none().then_some(metrics),
            ..RouterOptions::default()
        },
    );
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let metrics_listener = match config.metrics_listen {
        Some(address) => Some(
            tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("metrics.listen: cannot listen on {address}"))?,
        ),
        None => None,
    };
    tracing::info!(
        issuer = %config.settings.issuer,
        %registration_endpoint,
        database = %crate::config::redact_database(&config.database),
        "registrar listening on {}",
        config.listen
    );
    tracing::info!(
        "mint an initial access token with: registrar initial-token create --max-uses 1 --expires-in 1h"
    );
    let options = ServeOptions {
        shutdown_grace: config.shutdown_grace,
        ..ServeOptions::default()
    };
    // One signal stops both listeners.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let signal = tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let metrics_server = match (metrics_listener, metrics_app) {
        (Some(metrics_listener), Some(metrics_app)) => {
            tracing::info!(
                "metrics on http://{}/metrics",
                metrics_listener.local_addr()?
            );
            Some(tokio::spawn(registrar_server::serve::serve(
                metrics_listener,
                metrics_app,
                options.clone(),
                until_stopped(stopped.clone()),
            )))
        }
        _ => None,
    };
    let served =
        registrar_server::serve::serve(listener, app, options, until_stopped(stopped)).await;
    let metrics_served = match metrics_server {
        Some(server) => server.await.context("the metrics server panicked")?,
        None => Ok(()),
    };
    signal.abort();
    upkeep.abort();
    // The store goes last, once no request can reach it; the purge must not start another query.
    housekeeping.abort();
    if tokio::time::timeout(STORE_CLOSE_WITHIN, store.close())
        .await
        .is_err()
    {
        tracing::warn!(
            "store connections still in use after {STORE_CLOSE_WITHIN:?}; exiting without closing them"
        );
    }
    served.context("the server failed")?;
    metrics_served.context("the metrics server failed")?;
    tracing::info!("registrar stopped");
    Ok(())
}

/// How long `serve` waits, after the grace period, for the store's connections to be returned:
/// a request still running past the grace period holds one until its own timeout.
const STORE_CLOSE_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// `text` safe for an administrator's terminal: control characters and bidirectional
/// formatting characters (which registration refuses, but a row stored before it did may hold)
/// are shown escaped instead of being obeyed.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|character| {
            let bidi = ('\u{202A}'..='\u{202E}').contains(&character)
                || ('\u{2066}'..='\u{2069}').contains(&character);
            if character.is_control() || bidi {
                character.escape_unicode().to_string()
            } else {
                character.to_string()
            }
        })
        .collect()
}

/// Completes once `stopped` turns true (or its sender is gone).
async fn until_stopped(mut stopped: tokio::sync::watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stopped| *stopped).await;
}

/// Completes on SIGINT or SIGTERM, once; a second signal is ignored, the grace period bounds the
/// wait.
async fn shutdown_signal() {
    // A handler that cannot be installed must not read as a signal, or the server would stop
    // as soon as it started.
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    let signal = tokio::select! {
        () = interrupt => "SIGINT",
        () = terminate => "SIGTERM",
    };
    tracing::info!(
        signal,
        "shutting down: no new connections, in-flight requests may finish"
    );
}

pub(crate) fn timestamp(seconds: i64) -> String {
    u64::try_from(seconds)
        .ok()
        .map(|seconds| {
            humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds),
            )
            .to_string()
        })
        .unwrap_or_else(|| seconds.to_string())
}

/// The names of every policy, for messages.
fn policy_names(policies: &Policies) -> String {
    policies
        .iter()
        .map(|policy| policy.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn initial_token(config: Config, command: InitialTokenCommand) -> anyhow::Result<()> {
    // Checked before the store is opened: a typo must not leave a database behind.
    if let InitialTokenCommand::Create {
        policy: Some(name), ..
    } = &command
        && config.settings.policies.get(name).is_none()
    {
        bail!(
            "--policy: no policy is named {name}; configured: {}",
            policy_names(&config.settings.policies)
        );
    }
    let pipeline = open(&config).await?;
    let services = pipeline.services();
    let store = &services.stores().initial_tokens();
    match command {
        InitialTokenCommand::Create {
            expires_in,
            max_uses,
            note,
            policy,
        } => {
            let options = InitialTokenOptions {
                expires_in: expires_in.map(|duration| duration.as_secs().max(1)),
                max_uses,
                note,
                policy,
            };
            let (token, record) = mint_initial_token(
                store.as_ref(),
                services.generator().as_ref(),
                services.hasher(),
                services.clock().now(),
                options,
            )
            .await?;
            eprintln!("created initial access token {}", record.id);
            // The token alone on stdout, so scripts can capture it.
            println!("{}", token.expose());
        }
        InitialTokenCommand::List => {
            println!(
                "{:<14} {:<21} {:<21} {:<9} {:<16} NOTE",
                "ID", "CREATED", "EXPIRES", "USES", "POLICY"
            );
            for token in store.list_initial_tokens().await? {
                let uses = match token.max_uses {
                    Some(max_uses) => format!("{}/{max_uses}", token.uses),
                    None => format!("{}/-", token.uses),
                };
                println!(
                    "{:<14} {:<21} {:<21} {:<9} {:<16} {}",
                    token.id,
                    timestamp(token.created_at),
                    token
                        .expires_at
                        .map_or_else(|| "never".to_owned(), timestamp),
                    uses,
                    token.policy.as_deref().unwrap_or("-"),
                    token.note.unwrap_or_default()
                );
            }
        }
        InitialTokenCommand::Revoke { id } => {
            if !store.revoke_initial_token(&id).await? {
                bail!("no initial access token has the id {id}");
            }
            eprintln!("revoked initial access token {id}");
        }
    }
    Ok(())
}

fn client_id(text: &str) -> anyhow::Result<ClientId> {
    ClientId::parse(text).with_context(|| format!("\"{text}\" is not a client id"))
}

async fn clients(config: Config, command: ClientsCommand) -> anyhow::Result<()> {
    let pipeline = open(&config).await?;
    let store = &pipeline.services().stores().clients();
    match command {
        ClientsCommand::List => {
            // KIND: `registered` through DCR, or `document` for a Client ID Metadata Document
            // client, whose CREATED is when its document was first fetched.
            println!(
                "{:<28} {:<21} {:<40} {:<8} {:<10} NAME",
                "CLIENT_ID", "CREATED", "GRANT_TYPES", "STATE", "KIND"
            );
            let now = pipeline.services().clock().now();
            for client in store.list_clients().await? {
                let state = match client.standing(&config.settings.lifecycle, now) {
                    Standing::Active => "active",
                    Standing::Blocked => "blocked",
                    Standing::Expired(_) => "expired",
                };
                let kind = match client.client_id.is_metadata_document() {
                    true => "document",
                    false => "registered",
                };
                println!(
                    "{:<28} {:<21} {:<40} {:<8} {:<10} {}",
                    client.client_id,
                    timestamp(client.client_id_issued_at),
                    client.grant_types.join(","),
                    state,
                    kind,
                    printable(&client.client_name.unwrap_or_default())
                );
            }
        }
        ClientsCommand::Show { client_id: id } => {
            let Some(client) = store.get_client(&client_id(&id)?).await? else {
                bail!("no client has the id {id}");
            };
            let mut document = serde_json::to_value(&client.metadata)?;
            if let Some(object) = document.as_object_mut() {
                object.extend(client.extensions.clone());
                object.insert("client_id".to_owned(), client.client_id.as_str().into());
                object.insert(
                    "client_id_issued_at".to_owned(),
                    client.client_id_issued_at.into(),
                );
                if let Some(policy) = &client.policy {
                    object.insert("policy".to_owned(), policy.as_str().into());
                }
                if let Some(secret) = &client.secret {
                    object.insert(
                        "client_secret_expires_at".to_owned(),
                        secret.expires_at.into(),
                    );
                }
                // Not metadata either: the lifecycle's record (`lifecycle`).
                if let Some(last_used_at) = client.state.last_used_at {
                    object.insert("last_used_at".to_owned(), last_used_at.into());
                }
                if let Some(blocked_at) = client.state.blocked_at {
                    object.insert("blocked_at".to_owned(), blocked_at.into());
                }
                if client.client_id.is_metadata_document() {
                    // Nobody registered it: the document at its URL did, last fetched then.
                    object.insert(
                        "metadata_document".to_owned(),
                        serde_json::json!({
                            "url": client.client_id.as_str(),
                            "fetched_at": client.updated_at,
                        }),
                    );
                } else {
                    object.insert(
                        "registration_client_uri".to_owned(),
                        config
                            .settings
                            .registration_client_uri(&client.client_id)
                            .into(),
                    );
                }
                // How it was registered: not metadata, so under a name no metadata member has.
                let provenance = pipeline
                    .services()
                    .stores()
                    .events()
                    .client_provenance(&client.client_id)
                    .await?;
                if let Some(provenance) = provenance {
                    object.insert("provenance".to_owned(), serde_json::to_value(provenance)?);
                }
            }
            println!("{}", serde_json::to_string_pretty(&document)?);
        }
        ClientsCommand::Delete { client_id: id } => {
            events::delete_client(&pipeline, &client_id(&id)?).await?;
            eprintln!("deleted client {id}");
        }
        ClientsCommand::Block { client_id: id } => {
            let now = pipeline.services().clock().now();
            events::set_blocked(&pipeline, &client_id(&id)?, Some(now)).await?;
            eprintln!("blocked client {id}");
        }
        ClientsCommand::Unblock { client_id: id } => {
            events::set_blocked(&pipeline, &client_id(&id)?, None).await?;
            eprintln!("unblocked client {id}");
        }
    }
    Ok(())
}

async fn keys(config: Config, command: KeysCommand) -> anyhow::Result<()> {
    let pipeline = open(&config).await?;
    let settings = pipeline.settings();
    // The ring `serve` builds: the access token algorithm and each ID token algorithm.
    let key_config = KeyRingConfig {
        algorithm: settings.token_signing_alg,
        id_token_algorithms: settings
            .id_token_signing_algs
            .iter()
            .filter_map(|name| SigningAlgorithm::parse(name))
            .collect(),
        max_access_token_lifetime: i64::try_from(settings.lifetimes.max_access_token)
            .unwrap_or(i64::MAX),
    };
    let services = pipeline.services();
    let now = services.clock().now();
    match command {
        KeysCommand::List => {
            // The first start creates the keys; listing before it should show the keys serve will
            // use.
            load_key_ring(
                services.stores().signing_keys().as_ref(),
                services.cipher(),
                key_config.clone(),
                services.generator().as_ref(),
                now,
            )
            .await?;
            let stored = services.stores().signing_keys().list_signing_keys().await?;
            println!("{:<45} {:<6} {:<21} STATE", "KID", "ALG", "CREATED");
            for (key, state) in key_states(&stored, &key_config, now) {
                println!(
                    "{:<45} {:<6} {:<21} {}",
                    key.kid,
                    key.algorithm.as_str(),
                    timestamp(key.created_at),
                    state.as_str()
                );
            }
        }
        KeysCommand::Rotate => {
            let created = rotate_signing_key(
                services.stores().signing_keys().as_ref(),
                services.cipher(),
                &key_config,
                services.generator().as_ref(),
                now,
            )
            .await?;
            for key in &created {
                eprintln!(
                    "created signing key {} ({})",
                    key.kid,
                    key.algorithm.as_str()
                );
            }
            eprintln!("running servers switch to the new keys within a minute");
            // One kid a line, the access token key first.
            for key in &created {
                println!("{}", key.kid);
            }
        }
    }
    Ok(())
}

/// A user id (the `sub` of their tokens) of 160 random bits: opaque, so it says nothing about the
/// username, and not reused when a username is.
const USER_ID_BYTES: usize = 20;

/// The password for `users add` and `users passwd`: only from stdin, never from an argument,
/// which the process list and the shell history would show.
fn password_from_stdin(password_stdin: bool) -> anyhow::Result<String> {
    if !password_stdin {
        bail!("--password-stdin is required: the password is read from the first line of stdin");
    }
    users::read_password(std::io::stdin().lock())
}

/// An argon2id hash of `password`, salted from the pipeline's random source.
fn password_hash(pipeline: &Pipeline, password: &str) -> anyhow::Result<String> {
    hash_password(password, pipeline.services().generator().as_ref())
        .context("cannot hash the password")
}

async fn users(config: Config, command: UsersCommand) -> anyhow::Result<()> {
    // In each command, what the command line and stdin carry is checked before the store is
    // opened: a typo must not leave a database behind.
    match command {
        UsersCommand::Add {
            username,
            password_stdin,
            name,
            email,
            email_verified,
        } => {
            users::check_username(&username)?;
            if let Some(name) = &name {
                users::check_name(name)?;
            }
            if let Some(email) = &email {
                users::check_email(email)?;
            }
            let password = password_from_stdin(password_stdin)?;
            let pipeline = open(&config).await?;
            let services = pipeline.services();
            let user = User {
                id: random_token(services.generator().as_ref(), USER_ID_BYTES),
                username,
                password_hash: password_hash(&pipeline, &password)?,
                created_at: services.clock().now(),
                name,
                email,
                email_verified,
            };
            match services.stores().users().insert_user(&user).await {
                Ok(()) => {}
                Err(StoreError::Duplicate("username")) => {
                    bail!("the username {} is taken", user.username)
                }
                Err(error) => return Err(error).context("cannot add the user"),
            }
            eprintln!("added user {} ({})", user.username, user.id);
            // The id alone on stdout, so scripts can capture it.
            println!("{}", user.id);
        }
        UsersCommand::List => {
            let pipeline = open(&config).await?;
            let listed = pipeline.services().stores().users().list_users().await?;
            let width = listed
                .iter()
                .map(|user| user.username.chars().count())
                .max()
                .unwrap_or(0)
                .max("USERNAME".len());
            println!("{:<width$} {:<28} CREATED", "USERNAME", "ID");
            for user in listed {
                println!(
                    "{:<width$} {:<28} {}",
                    user.username,
                    user.id,
                    timestamp(user.created_at)
                );
            }
        }
        UsersCommand::Remove { username } => {
            users::check_username(&username)?;
            let pipeline = open(&config).await?;
            let store = pipeline.services().stores().users();
            if !store.remove_user(&username).await? {
                bail!("no user is named {username}");
            }
            eprintln!("removed user {username} with their sessions, consents and grants");
        }
        UsersCommand::Passwd {
            username,
            password_stdin,
        } => {
            users::check_username(&username)?;
            let password = password_from_stdin(password_stdin)?;
            let pipeline = open(&config).await?;
            let hash = password_hash(&pipeline, &password)?;
            let store = pipeline.services().stores().users();
            if !store.set_password(&username, &hash).await? {
                bail!("no user is named {username}");
            }
            eprintln!("set the password of {username}; their sessions have ended");
        }
    }
    Ok(())
}

/// `policies check FILE`: FILE resolved as a whole, policies included, so only its warnings
/// and a summary are left to print.
fn policies_check(config: &Config) {
    for warning in &config.warnings {
        eprintln!("warning: {warning}");
    }
    let policies = &config.settings.policies;
    println!(
        "ok: {} policies ({})",
        policies.iter().count(),
        policy_names(policies)
    );
}

/// `policies list`: one row per policy, built-in ones included.
fn policies_list(config: &Config) {
    let rows: Vec<(&str, String, String)> = config
        .settings
        .policies
        .iter()
        .map(|policy| (policy.name.as_str(), bindings(policy), limits(policy)))
        .collect();
    let name_width = rows.iter().map(|row| row.0.len()).max().unwrap_or(0).max(4);
    let bind_width = rows.iter().map(|row| row.1.len()).max().unwrap_or(0).max(4);
    println!("{:<name_width$}  {:<bind_width$}  LIMITS", "NAME", "BIND");
    for (name, bind, limits) in rows {
        println!("{name:<name_width$}  {bind:<bind_width$}  {limits}");
    }
}

/// The routes a policy is bound to, as the configuration writes them; `-` for none.
fn bindings(policy: &Policy) -> String {
    if policy.bind.is_empty() {
        return "-".to_owned();
    }
    policy
        .bind
        .iter()
        .map(|binding| match binding {
            Binding::Open => "open".to_owned(),
            Binding::Bearer => "bearer".to_owned(),
            Binding::MetadataDocument => "cimd".to_owned(),
            Binding::SoftwareStatement {
                issuer: None,
                software_id: None,
            } => "software_statement".to_owned(),
            Binding::SoftwareStatement {
                issuer,
                software_id,
            } => {
                let mut text = format!("software_statement={}", issuer.as_deref().unwrap_or("*"));
                if let Some(software_id) = software_id {
                    text.push_str(&format!(";software_id={software_id}"));
                }
                text
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A one-line summary of what a policy limits; lists only what it sets, and always the
/// switches that differ between the built-in policies.
fn limits(policy: &Policy) -> String {
    fn list<T: std::fmt::Display>(values: &[T]) -> String {
        values
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
    let yes_no = |value: bool| if value { "yes" } else { "no" };
    let mut parts = Vec::new();
    if !policy.allow_registration {
        parts.push("registration=no".to_owned());
    }
    if let Some(grant_types) = &policy.grant_types {
        parts.push(format!("grant_types={}", list(grant_types)));
    }
    if let Some(scopes) = &policy.scopes {
        parts.push(format!("scopes={}", list(scopes)));
    }
    if let Some(methods) = &policy.auth_methods {
        parts.push(format!("auth_methods={}", list(methods)));
    }
    if let Some(hosts) = &policy.redirect_uri_hosts {
        parts.push(format!("redirect_uri_hosts={}", list(hosts)));
    }
    if let Some(kinds) = &policy.application_types {
        parts.push(format!("application_types={}", list(kinds)));
    }
    parts.push(format!(
        "client_credentials={}",
        yes_no(policy.allow_client_credentials)
    ));
    if policy.allow_registration_scope {
        parts.push("registration_scope=yes".to_owned());
    }
    parts.push(format!(
        "introspection={}",
        yes_no(policy.allow_introspection)
    ));
    if let Some(max) = policy.max_clients {
        parts.push(format!("max_clients={max}"));
    }
    if let Some(max) = policy.max_access_token_lifetime {
        parts.push(format!("max_access_token_lifetime={max}s"));
    }
    if let Some(max) = policy.max_refresh_token_lifetime {
        parts.push(format!("max_refresh_token_lifetime={max}s"));
    }
    if policy.requires_software_statement {
        parts.push("statement_on_update=yes".to_owned());
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn printable_escapes_what_a_terminal_would_obey() {
        assert_eq!(
            super::printable("Acme\u{1b}[2J\u{202e}\u{0}"),
            "Acme\\u{1b}[2J\\u{202e}\\u{0}"
        );
        assert_eq!(super::printable("Café app"), "Café app");
    }
}
