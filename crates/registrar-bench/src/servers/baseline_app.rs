//! The bare baseline: one axum handler that parses the JSON body and inserts one row, nothing
//! else (no validation, no credentials, no audit), run by `registrar-bench baseline-server`.

use std::str::FromStr as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// SQLite's `synchronous` setting for the baseline (always in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Synchronous {
    /// An fsync at every commit: a committed row survives a power cut.
    Full,
    /// WAL without an fsync per commit: a power cut may lose the last commits.
    Normal,
}

/// Where the baseline inserts.
#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, Clone)]
struct AppState {
    pool: Pool,
    tag: Arc<str>,
    next: Arc<AtomicU64>,
}

/// The baseline's router over `database` (`sqlite://…` or `postgres://…`).
pub async fn router(database: &str, synchronous: Synchronous) -> anyhow::Result<Router> {
    let pool = if database.starts_with("postgres") {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect(database)
            .await
            .context("cannot connect to PostgreSQL")?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS clients (client_id TEXT PRIMARY KEY, metadata TEXT NOT NULL)",
        )
        .execute(&pool)
        .await?;
        Pool::Postgres(pool)
    } else {
        let options = SqliteConnectOptions::from_str(database)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match synchronous {
                Synchronous::Full => SqliteSynchronous::Full,
                Synchronous::Normal => SqliteSynchronous::Normal,
            });
        // One connection: SQLite takes one writer at a time, and a queue in the process is
        // cheaper than writers sleeping in the busy handler (Registrar's writer does the same).
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .context("cannot open SQLite")?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS clients (client_id TEXT PRIMARY KEY, metadata TEXT NOT NULL)",
        )
        .execute(&pool)
        .await?;
        Pool::Sqlite(pool)
    };
    let state = AppState {
        pool,
        tag: crate::bodies::run_tag().into(),
        next: Arc::new(AtomicU64::new(0)),
    };
    Ok(Router::new()
        .route("/connect/dcr", post(register))
        .route("/healthz", get(|| async { StatusCode::OK }))
        .with_state(state))
}

async fn register(State(state): State<AppState>, body: Bytes) -> Response {
    let Ok(metadata) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if !metadata.is_object() {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let client_id = format!(
        "{}-{}",
        state.tag,
        state.next.fetch_add(1, Ordering::Relaxed)
    );
    let text = metadata.to_string();
    let inserted = match &state.pool {
        Pool::Sqlite(pool) => {
            sqlx::query("INSERT INTO clients (client_id, metadata) VALUES (?, ?)")
                .bind(&client_id)
                .bind(&text)
                .execute(pool)
                .await
                .map(|_| ())
        }
        Pool::Postgres(pool) => {
            sqlx::query("INSERT INTO clients (client_id, metadata) VALUES ($1, $2)")
                .bind(&client_id)
                .bind(&text)
                .execute(pool)
                .await
                .map(|_| ())
        }
    };
    match inserted {
        Ok(()) => (
            StatusCode::CREATED,
            axum::Json(json!({ "client_id": client_id })),
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Serves the baseline on `listen` until the process is killed.
pub async fn serve(
    listen: std::net::SocketAddr,
    database: &str,
    synchronous: Synchronous,
) -> anyhow::Result<()> {
    let router = router(database, synchronous).await?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, router).await?;
    Ok(())
}
