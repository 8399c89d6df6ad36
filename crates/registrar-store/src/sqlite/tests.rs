//! What only the SQLite backend promises: its file, its pragmas, its two pools, its error codes.
//! The behaviour every backend shares is `registrar_testkit::store_contract`.

use registrar_core::ids::ClientId;
use registrar_core::metadata::ClientMetadata;
use registrar_core::secrets::TokenHasher;
use registrar_core::store::{ClientStore, RegisteredClient};
use registrar_core::token::ReplayCache;
use tempfile::TempDir;

use super::*;

async fn open_in(folder: &TempDir) -> SqliteStore {
    let url = format!("sqlite://{}", folder.path().join("nested.db").display());
    SqliteStore::open(&url).await.expect("open the store")
}

fn client(client_id: &str, registration_token: &str) -> RegisteredClient {
    let hasher = TokenHasher::new(b"sqlite tests");
    RegisteredClient {
        client_id: ClientId::parse(client_id).expect("client id"),
        client_id_issued_at: 1_700_000_000,
        secret: None,
        registration_token: Some(hasher.hash(registration_token)),
        metadata: ClientMetadata {
            client_name: Some("Example".to_owned()),
            grant_types: vec!["client_credentials".to_owned()],
            ..ClientMetadata::default()
        },
        initial_token_id: None,
        registered_anonymously: false,
        updated_at: 1_700_000_000,
        extensions: serde_json::Map::new(),
        policy: None,
        state: Default::default(),
    }
}

/// A pragma's value as text on a connection of `pool`; most pragmas name their one column after
/// themselves.
async fn pragma(pool: &SqlitePool, name: &str, column: &str) -> String {
    let query = format!("SELECT CAST({column} AS TEXT) FROM pragma_{name}");
    let (value,): (String,) = sqlx::query_as(&query)
        .fetch_one(pool)
        .await
        .expect("read pragma");
    value
}

#[tokio::test]
async fn open_creates_a_missing_file_with_durable_wal_settings() {
    let folder = TempDir::new().expect("temporary folder");

    let store = open_in(&folder).await;

    let writer = store.pool();
    assert!(folder.path().join("nested.db").exists());
    assert_eq!(pragma(writer, "journal_mode", "journal_mode").await, "wal");
    // 2 is FULL: a commit is on disk before the caller hears of it.
    assert_eq!(pragma(writer, "synchronous", "synchronous").await, "2");
    assert_eq!(pragma(writer, "foreign_keys", "foreign_keys").await, "1");
    assert_eq!(pragma(writer, "busy_timeout", "timeout").await, "5000");
}

#[tokio::test]
async fn reopening_a_database_keeps_its_clients_and_migrates_once() {
    let folder = TempDir::new().expect("temporary folder");
    let registered_client = client("reopened", "token");
    let first = open_in(&folder).await;
    first
        .insert_client(&registered_client, None, 1_700_000_000)
        .await
        .expect("insert");
    first.close().await;

    let second = open_in(&folder).await;

    let stored = second
        .get_client(&registered_client.client_id)
        .await
        .expect("get");
    assert_eq!(stored, Some(registered_client));
}

#[tokio::test]
async fn unique_violations_name_the_duplicate_key() {
    let folder = TempDir::new().expect("temporary folder");
    let store = open_in(&folder).await;
    store
        .insert_client(&client("first", "token one"), None, 0)
        .await
        .expect("insert");

    let same_id = store
        .insert_client(&client("first", "token two"), None, 0)
        .await;
    let same_token = store
        .insert_client(&client("second", "token one"), None, 0)
        .await;

    assert!(
        matches!(same_id, Err(StoreError::Duplicate("client_id"))),
        "{same_id:?}"
    );
    assert!(
        matches!(same_token, Err(StoreError::Duplicate("registration_token"))),
        "{same_token:?}"
    );
}

#[tokio::test]
async fn connect_opens_sqlite_urls_and_rejects_unknown_schemes() {
    let folder = TempDir::new().expect("temporary folder");
    let url = format!("sqlite://{}", folder.path().join("connect.db").display());

    let store = crate::connect(&url).await.expect("connect");
    let unknown = crate::connect("mysql://root:hunter2@localhost/registrar").await;

    store.ping().await.expect("ping");
    let Err(StoreError::Backend(message)) = unknown else {
        panic!("expected a backend error, got {unknown:?}");
    };
    assert_eq!(
        message,
        r#"unsupported database url scheme "mysql": expected sqlite:// or postgres://"#
    );
}

#[tokio::test]
async fn readers_share_the_writer_settings_but_cannot_write() {
    let folder = TempDir::new().expect("temporary folder");
    let store = open_in(&folder).await;
    let (readers, writer) = (store.reader(), store.pool());

    let written = sqlx::query("DELETE FROM clients").execute(readers).await;

    assert_eq!(pragma(readers, "journal_mode", "journal_mode").await, "wal");
    assert_eq!(pragma(readers, "busy_timeout", "timeout").await, "5000");
    assert_eq!(pragma(readers, "query_only", "query_only").await, "1");
    assert_eq!(pragma(writer, "query_only", "query_only").await, "0");
    let Err(sqlx::Error::Database(error)) = written else {
        panic!("expected a database error, got {written:?}");
    };
    // 8 is SQLITE_READONLY.
    assert_eq!(error.code().as_deref(), Some("8"));
}

#[tokio::test]
async fn a_held_writer_makes_writes_unavailable_while_reads_go_on() {
    let folder = TempDir::new().expect("temporary folder");
    let url = format!("sqlite://{}", folder.path().join("held.db").display());
    let pool_options = PoolOptions {
        max_connections: 1,
        acquire_timeout: Duration::from_millis(200),
    };
    let store = SqliteStore::open_with(&url, pool_options)
        .await
        .expect("open the store");
    let registered_client = client("before", "token");
    store
        .insert_client(&registered_client, None, 0)
        .await
        .expect("insert");

    let held = store.pool().acquire().await.expect("hold the writer");
    let read = store.get_client(&registered_client.client_id).await;
    let written = store
        .insert_client(&client("during", "other"), None, 0)
        .await;
    let pinged = store.ping().await;
    drop(held);
    let written_after = store
        .insert_client(&client("after", "other"), None, 0)
        .await;

    assert_eq!(read.expect("read"), Some(registered_client));
    assert!(
        matches!(written, Err(StoreError::Unavailable(_))),
        "{written:?}"
    );
    assert!(
        matches!(pinged, Err(StoreError::Unavailable(_))),
        "{pinged:?}"
    );
    written_after.expect("insert once the writer is free");
}

#[test]
fn busy_and_locked_codes_mean_unavailable() {
    let cases = [
        ("5", true),     // SQLITE_BUSY
        ("517", true),   // SQLITE_BUSY_SNAPSHOT
        ("773", true),   // SQLITE_BUSY_TIMEOUT
        ("6", true),     // SQLITE_LOCKED
        ("262", true),   // SQLITE_LOCKED_SHAREDCACHE
        ("19", false),   // SQLITE_CONSTRAINT
        ("2067", false), // SQLITE_CONSTRAINT_UNIQUE
        ("13", false),   // SQLITE_FULL
        ("not a number", false),
    ];
    for (code, expected) in cases {
        assert_eq!(is_unavailable(code), expected, "code {code}");
    }
}

/// The replay cache's rows, as `(jti, expires_at)` in jti order.
async fn recorded_jtis(store: &SqliteStore) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT jti, expires_at FROM assertion_jtis ORDER BY jti")
        .fetch_all(store.pool())
        .await
        .expect("read assertion_jtis")
}

#[tokio::test]
async fn a_recorded_jti_is_forgotten_only_a_day_after_it_expired() {
    let folder = TempDir::new().expect("temporary folder");
    let store = open_in(&folder).await;
    let expired_at = 1_700_000_000;

    let first = store.record_jti("client", "jti", expired_at).await;
    let within_a_day = store.record_jti("client", "jti", expired_at + 86_400).await;
    let after_a_day = store.record_jti("client", "jti", expired_at + 86_401).await;

    assert!(first.expect("record"), "a fresh jti is recorded");
    assert!(
        !within_a_day.expect("record"),
        "a row a day behind the new expires_at may still be needed"
    );
    assert!(
        after_a_day.expect("record"),
        "a row more than a day behind the new expires_at has expired and is taken over"
    );
    assert_eq!(
        recorded_jtis(&store).await,
        [("jti".to_owned(), expired_at + 86_401)]
    );
}

#[tokio::test]
async fn the_first_recording_purges_rows_expired_a_day_before_it() {
    let folder = TempDir::new().expect("temporary folder");
    let store = open_in(&folder).await;
    let recorded_at = 1_700_000_000;
    for (jti, expires_at) in [("old", recorded_at - 1), ("recent", recorded_at)] {
        sqlx::query("INSERT INTO assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3)")
            .bind("client")
            .bind(jti)
            .bind(expires_at)
            .execute(store.pool())
            .await
            .expect("insert a jti row");
    }

    let fresh = store
        .record_jti("other client", "new", recorded_at + 86_400)
        .await;

    assert!(fresh.expect("record"));
    assert_eq!(
        recorded_jtis(&store).await,
        [
            ("new".to_owned(), recorded_at + 86_400),
            ("recent".to_owned(), recorded_at),
        ],
        "only the row that expired more than a day before the recorded expires_at is purged"
    );
}

#[tokio::test]
async fn a_secret_ciphertext_without_a_secret_hash_is_a_corrupt_row() {
    let folder = TempDir::new().expect("temporary folder");
    let store = open_in(&folder).await;
    let registered_client = client("tampered", "token");
    store
        .insert_client(&registered_client, None, 1_700_000_000)
        .await
        .expect("insert");
    sqlx::query("UPDATE clients SET secret_ciphertext = 'sealed' WHERE client_id = $1")
        .bind(registered_client.client_id.as_str())
        .execute(store.pool())
        .await
        .expect("tamper with the row");

    let result = store.get_client(&registered_client.client_id).await;

    let Err(StoreError::Backend(message)) = result else {
        panic!("expected a backend error, got {result:?}");
    };
    assert_eq!(
        message,
        "corrupt stored row: secret_ciphertext without secret_hash"
    );
}

/// Concurrent registrations with one initial access token of `max_uses` uses, while the writer
/// is held so that they queue: the group commit takes them in few commits, exactly `max_uses`
/// of them succeed (the others fail alone, changing nothing), and a duplicate client id in the
/// same batch fails without failing its neighbours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_commit_keeps_initial_token_limits_exact_and_fails_writes_alone() {
    use std::sync::atomic::Ordering;

    use registrar_core::store::{InitialAccessToken, InitialAccessTokenStore};

    const WRITES: usize = 120;
    const MAX_USES: u32 = 50;
    let folder = TempDir::new().expect("temporary folder");
    let store = open_in(&folder).await;
    let hasher = TokenHasher::new(b"sqlite tests");
    let token_hash = hasher.hash("initial token");
    store
        .insert_initial_token(&InitialAccessToken {
            id: "group".to_owned(),
            token_hash: token_hash.clone(),
            created_at: 1_700_000_000,
            expires_at: None,
            max_uses: Some(MAX_USES),
            uses: 0,
            note: None,
            policy: None,
        })
        .await
        .expect("insert the token");
    let group_commit = store.group_commit.clone().expect("group commit is on");
    let stats = group_commit.stats();
    let commits_before = stats.commits.load(Ordering::Relaxed);
    let taken_before = stats.taken.load(Ordering::Relaxed);

    // Held, the writer cannot begin: every write below waits in its queue.
    let held = store.pool().acquire().await.expect("hold the writer");
    let mut tasks = Vec::new();
    for index in 0..WRITES {
        let store = store.clone();
        let token_hash = token_hash.clone();
        tasks.push(tokio::spawn(async move {
            // Two writes share each of the first ten ids: one of each pair is a duplicate.
            let id = if index < 20 {
                format!("pair-{}", index / 2)
            } else {
                format!("client-{index}")
            };
            let client = client(&id, &format!("rat-{index}"));
            store
                .insert_client(&client, Some(&token_hash), 1_700_000_000)
                .await
        }));
    }
    // Every write handed over: queued, or taken into the batch that waits for the writer.
    let handed_over = || {
        let taken = stats.taken.load(Ordering::Relaxed) - taken_before;
        group_commit.queued() + usize::try_from(taken).unwrap_or(usize::MAX)
    };
    while handed_over() < WRITES {
        tokio::task::yield_now().await;
    }
    drop(held);

    let mut created = 0;
    let mut rejected = 0;
    let mut duplicates = 0;
    for task in tasks {
        match task.await.expect("the task") {
            Ok(()) => created += 1,
            Err(StoreError::InitialTokenRejected) => rejected += 1,
            Err(StoreError::Duplicate(_)) => duplicates += 1,
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    let token = store
        .find_initial_token(&token_hash)
        .await
        .unwrap()
        .expect("the token");
    assert_eq!(created, MAX_USES as usize, "exactly max_uses registrations");
    assert_eq!(token.uses, MAX_USES, "a failed write gives its use back");
    assert_eq!(created + rejected + duplicates, WRITES);
    assert!(duplicates <= 10, "a duplicate fails alone: {duplicates}");
    assert_eq!(store.list_clients().await.unwrap().len(), created);
    let commits = stats.commits.load(Ordering::Relaxed) - commits_before;
    assert!(
        commits <= 3,
        "{WRITES} queued writes take few commits, not {commits}"
    );
}

/// Without group commit (the benchmark's baseline) every write still commits on its own.
#[tokio::test]
async fn without_group_commit_each_write_commits_alone() {
    let folder = TempDir::new().expect("temporary folder");
    let store = open_in(&folder).await.without_group_commit();
    store
        .insert_client(&client("alone", "rat"), None, 1_700_000_000)
        .await
        .expect("insert");
    let stored = store
        .get_client(&ClientId::parse("alone").unwrap())
        .await
        .unwrap();
    assert!(stored.is_some());
}
