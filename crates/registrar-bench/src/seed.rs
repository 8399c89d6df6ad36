//! Filler clients for the scale runs: copies of one registered client's rows, under fresh ids
//! and credential hashes, written straight into the store's tables.
//!
//! Registering a million clients over HTTP would take longer than the runs it prepares; a copy
//! of a real registration has the size and the index entries of one (its `clients` row, its
//! audit event and its provenance), which is what the scale runs measure. The copies are not
//! usable clients: no one knows their secrets.

use anyhow::Context;
use registrar_core::secrets::{OsRandom, random_token};
use sqlx::{PgPool, SqlitePool};

/// Rows written per statement (and per transaction).
pub const BATCH: usize = 20_000;

/// The tables a registration writes a row to, keyed by `client_id`.
const TABLES: [&str; 3] = ["clients", "audit_events", "client_provenance"];

/// The store of a running Registrar, opened beside it.
#[derive(Debug)]
pub enum SeedStore {
    /// Its SQLite file.
    Sqlite(SqlitePool),
    /// Its PostgreSQL database.
    Postgres(PgPool),
}

/// What the store holds after seeding.
#[derive(Debug, Clone, Copy)]
pub struct StoreSize {
    /// Rows in `clients`.
    pub clients: u64,
    /// Bytes of the three tables with their indexes (PostgreSQL), or of the whole database file
    /// in use, free pages excepted (SQLite).
    pub bytes: u64,
}

impl SeedStore {
    /// Opens the store at `database_url` (the URL Registrar was configured with).
    pub async fn open(database_url: &str) -> anyhow::Result<Self> {
        if database_url.starts_with("sqlite:") {
            let options = database_url
                .parse::<sqlx::sqlite::SqliteConnectOptions>()
                .context("cannot parse the SQLite URL")?
                // The server's writer may hold the lock for a batch; wait for it.
                .busy_timeout(std::time::Duration::from_secs(30))
                // Filler rows need no fsync of their own (the server's commits still make its
                // file durable), and random ids land all over the indexes: a large page cache
                // keeps them from being read back from the file for every row.
                .synchronous(sqlx::sqlite::SqliteSynchronous::Off)
                .pragma("cache_size", "-524288");
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .context("cannot open the SQLite file to seed")?;
            Ok(Self::Sqlite(pool))
        } else {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(database_url)
                .await
                .context("cannot connect to the PostgreSQL database to seed")?;
            Ok(Self::Postgres(pool))
        }
    }

    /// Adds `count` copies of `template`'s rows, each under a fresh client id (160 random bits,
    /// as Registrar issues) and fresh random registration-access-token and secret hashes.
    pub async fn seed(&self, template: &str, count: usize) -> anyhow::Result<()> {
        let mut statements = Vec::with_capacity(TABLES.len());
        for table in TABLES {
            let columns = self.columns(table).await?;
            anyhow::ensure!(
                columns.iter().any(|column| column == "client_id"),
                "the store's {table} table has no client_id column"
            );
            statements.push(copy_statement(self.dialect(), table, &columns));
        }
        let mut left = count;
        while left > 0 {
            let size = left.min(BATCH);
            let rows = fresh_rows(size);
            self.insert_batch(&statements, template, &rows)
                .await
                .with_context(|| format!("cannot seed {size} filler clients"))?;
            left -= size;
        }
        if let Self::Postgres(pool) = self {
            // Autovacuum would analyze the grown tables soon; a production database has its
            // statistics, so the runs should not see a planner that thinks they are tiny.
            sqlx::query("ANALYZE clients, audit_events, client_provenance")
                .execute(pool)
                .await
                .context("cannot analyze the seeded tables")?;
        }
        Ok(())
    }

    /// How many clients the store holds and how large it is.
    pub async fn size(&self) -> anyhow::Result<StoreSize> {
        let (clients, bytes): (i64, i64) = match self {
            Self::Sqlite(pool) => {
                let clients = sqlx::query_scalar("SELECT count(*) FROM clients")
                    .fetch_one(pool)
                    .await?;
                let bytes = sqlx::query_scalar(
                    "SELECT (c.page_count - f.freelist_count) * s.page_size \
                     FROM pragma_page_count() AS c, pragma_freelist_count() AS f, pragma_page_size() AS s",
                )
                .fetch_one(pool)
                .await?;
                (clients, bytes)
            }
            Self::Postgres(pool) => {
                let clients = sqlx::query_scalar("SELECT count(*) FROM clients")
                    .fetch_one(pool)
                    .await?;
                let bytes = sqlx::query_scalar(
                    "SELECT (pg_total_relation_size('clients') + pg_total_relation_size('audit_events') \
                     + pg_total_relation_size('client_provenance'))::BIGINT",
                )
                .fetch_one(pool)
                .await?;
                (clients, bytes)
            }
        };
        Ok(StoreSize {
            clients: u64::try_from(clients).unwrap_or_default(),
            bytes: u64::try_from(bytes).unwrap_or_default(),
        })
    }

    /// Closes the connection.
    pub async fn close(self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }

    fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The columns of `table`, in order.
    async fn columns(&self, table: &str) -> anyhow::Result<Vec<String>> {
        let columns: Vec<String> = match self {
            Self::Sqlite(pool) => {
                sqlx::query_scalar("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
                    .bind(table)
                    .fetch_all(pool)
                    .await?
            }
            Self::Postgres(pool) => sqlx::query_scalar(
                "SELECT column_name::TEXT FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(pool)
            .await?,
        };
        anyhow::ensure!(
            !columns.is_empty(),
            "the store has no {table} table: is it Registrar's?"
        );
        Ok(columns)
    }

    async fn insert_batch(
        &self,
        statements: &[String],
        template: &str,
        rows: &[FreshRow],
    ) -> anyhow::Result<()> {
        match self {
            Self::Sqlite(pool) => {
                let values = serde_json::to_string(
                    &rows
                        .iter()
                        .map(|row| [&row.client_id, &row.rat_hash, &row.secret_hash])
                        .collect::<Vec<_>>(),
                )?;
                let mut transaction = pool.begin().await?;
                for statement in statements {
                    sqlx::query(statement)
                        .bind(&values)
                        .bind(template)
                        .execute(&mut *transaction)
                        .await?;
                }
                transaction.commit().await?;
            }
            Self::Postgres(pool) => {
                let column = |pick: fn(&FreshRow) -> &String| {
                    rows.iter().map(|row| pick(row).clone()).collect::<Vec<_>>()
                };
                let (ids, rats, secrets) = (
                    column(|row| &row.client_id),
                    column(|row| &row.rat_hash),
                    column(|row| &row.secret_hash),
                );
                let mut transaction = pool.begin().await?;
                for statement in statements {
                    sqlx::query(statement)
                        .bind(&ids)
                        .bind(&rats)
                        .bind(&secrets)
                        .bind(template)
                        .execute(&mut *transaction)
                        .await?;
                }
                transaction.commit().await?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Dialect {
    Sqlite,
    Postgres,
}

/// One filler client's fresh values.
struct FreshRow {
    client_id: String,
    rat_hash: String,
    secret_hash: String,
}

fn fresh_rows(count: usize) -> Vec<FreshRow> {
    let hex = || {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).unwrap_or_else(|error| panic!("no randomness: {error}"));
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    };
    (0..count)
        .map(|_| FreshRow {
            client_id: random_token(&OsRandom, 20),
            rat_hash: hex(),
            secret_hash: hex(),
        })
        .collect()
}

/// `INSERT INTO table (…) SELECT … FROM fresh values × the template's rows`: every column copied
/// from the template but the client id and the two credential hashes; an identity `id` (the
/// audit event's) is left to the database.
fn copy_statement(dialect: Dialect, table: &str, columns: &[String]) -> String {
    let copied: Vec<&String> = columns
        .iter()
        .filter(|column| !(table == "audit_events" && column.as_str() == "id"))
        .collect();
    let expressions: Vec<String> = copied
        .iter()
        .map(|column| match column.as_str() {
            "client_id" => "s.id".to_owned(),
            "rat_hash" if table == "clients" => {
                "CASE WHEN t.rat_hash IS NULL THEN NULL ELSE s.rat END".to_owned()
            }
            "secret_hash" if table == "clients" => {
                "CASE WHEN t.secret_hash IS NULL THEN NULL ELSE s.sec END".to_owned()
            }
            other => format!("t.{other}"),
        })
        .collect();
    let names: Vec<&str> = copied.iter().map(|column| column.as_str()).collect();
    let (fresh, template) = match dialect {
        // SQLite names a subquery's columns inside it; PostgreSQL names unnest's in the alias.
        Dialect::Sqlite => (
            "(SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS rat, \
             json_extract(value, '$[2]') AS sec FROM json_each(?1)) AS s",
            "?2",
        ),
        Dialect::Postgres => (
            "unnest($1::TEXT[], $2::TEXT[], $3::TEXT[]) AS s(id, rat, sec)",
            "$4",
        ),
    };
    format!(
        "INSERT INTO {table} ({}) SELECT {} FROM {fresh}, {table} AS t WHERE t.client_id = {template}",
        names.join(", "),
        expressions.join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_replaces_ids_and_hashes_and_leaves_the_identity_alone() {
        let columns: Vec<String> = ["id", "time", "client_id", "action"]
            .map(str::to_owned)
            .to_vec();
        let statement = copy_statement(Dialect::Postgres, "audit_events", &columns);
        assert_eq!(
            statement,
            "INSERT INTO audit_events (time, client_id, action) SELECT t.time, s.id, t.action \
             FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[]) AS s(id, rat, sec), audit_events AS t \
             WHERE t.client_id = $4"
        );
        let columns: Vec<String> = ["client_id", "rat_hash", "secret_hash", "metadata"]
            .map(str::to_owned)
            .to_vec();
        let statement = copy_statement(Dialect::Sqlite, "clients", &columns);
        assert!(statement.contains("FROM (SELECT json_extract(value, '$[0]') AS id"));
        assert!(
            statement.contains("FROM json_each(?1)) AS s, clients AS t WHERE t.client_id = ?2")
        );
        assert!(statement.contains("ELSE s.rat END, CASE WHEN t.secret_hash IS NULL"));
        assert!(statement.contains(", t.metadata FROM"));
    }
}
