//! The command line of INTERFACE.md.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "registrar",
    version,
    about = "OAuth 2.0 / OpenID Connect Dynamic Client Registration server"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Taken by every command, so the CLI works on the same store as the server.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// TOML configuration file.
    #[arg(long, global = true, env = "REGISTRAR_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://FILE or postgres://...
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage initial access tokens.
    #[command(subcommand, name = "initial-token")]
    InitialToken(InitialTokenCommand),
    /// Inspect and delete registered clients.
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// List or rotate the keys access tokens and ID tokens are signed with.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage the end users who log in at the authorization endpoint.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Show or check the registration policies of the configuration; opens no database.
    #[command(subcommand)]
    Policies(PoliciesCommand),
    /// List audit events: registrations, updates, deletes and refusals.
    #[command(subcommand)]
    Events(EventsCommand),
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// List recorded events, oldest first: time, action, outcome, client, route, credential,
    /// source, error, changed members.
    List {
        /// Only the events of this client.
        #[arg(long, value_name = "ID", allow_hyphen_values = true)]
        client: Option<String>,
        /// Only events of this recent past, e.g. 30m, 24h, 7d.
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
        since: Option<std::time::Duration>,
        /// Print a JSON array of the events, every field included.
        #[arg(long)]
        json: bool,
        /// At most this many events, the newest.
        #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user; prints the user's id (the `sub` of their tokens) alone on stdout.
    Add {
        /// What the user types on the login page: 1 to 64 characters.
        username: String,
        /// Read the password from the first line of stdin (required: a password on the command
        /// line would be seen in the process list and the shell history).
        #[arg(long)]
        password_stdin: bool,
        /// The user's full name (the `name` claim).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// The user's email address (the `email` claim).
        #[arg(long, value_name = "EMAIL")]
        email: Option<String>,
        /// Mark the email address as verified (`email_verified`); needs --email.
        #[arg(long, requires = "email")]
        email_verified: bool,
    },
    /// List users: username, id, created (never password hashes).
    List,
    /// Remove a user with their sessions, consents and grants.
    Remove { username: String },
    /// Set a user's password from the first line of stdin; ends their sessions.
    Passwd {
        username: String,
        /// Read the new password from the first line of stdin (required).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PoliciesCommand {
    /// List every policy, built-in ones included: name, routes it is bound to, limits.
    List,
    /// Load FILE as `--config` would and check it, policies and all.
    Check {
        /// The TOML configuration file to check.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List signing keys: kid, algorithm, created, state.
    List,
    /// Add a new active key of each signing algorithm; the previous ones stay published until
    /// their tokens expire.
    Rotate,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Issuer identifier (the public base URL).
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// Route groups to serve: all, or any of registration, authorization (comma-separated),
    /// so the registration API can run on another host than the token side.
    #[arg(long, value_name = "LIST", default_value = "all")]
    pub routes: String,
}

#[derive(Debug, Subcommand)]
pub enum InitialTokenCommand {
    /// Mint a token; prints the token alone on stdout.
    Create {
        /// Lifetime, e.g. 30m, 24h, 7d.
        #[arg(long, value_parser = humantime::parse_duration)]
        expires_in: Option<std::time::Duration>,
        /// How many clients the token may register.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        max_uses: Option<u32>,
        /// A note for whoever lists tokens later.
        #[arg(long)]
        note: Option<String>,
        /// The configured policy (`policies.NAME`) the clients it registers get.
        #[arg(long, value_name = "NAME")]
        policy: Option<String>,
    },
    /// List tokens (never the token values).
    List,
    /// Revoke a token by id.
    Revoke {
        // Ids are base64url and may start with '-'.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// List registered clients.
    List,
    /// Show a client's metadata as JSON (never secrets).
    Show {
        // Client ids are base64url and may start with '-'.
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Delete a client, its secret and its tokens.
    Delete {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Block a client: it can neither authenticate nor manage itself, and its access tokens
    /// stop working, until it is unblocked.
    Block {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Unblock a blocked client.
    Unblock {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
}
