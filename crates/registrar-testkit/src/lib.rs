//! Test support: `TestServer` boots the real router on a real port over a real store,
//! `store_contract` is the suite every store backend must pass, and `browser` drives a real
//! headless Chromium.

#![warn(missing_docs)]

pub mod browser;
pub mod document_server;
pub mod jwks_server;
pub mod store_contract;
pub mod tcp_proxy;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use registrar_core::initial_token::{InitialTokenOptions, mint_initial_token};
use registrar_core::secrets::OsRandom;
use registrar_core::store::Store;
use registrar_core::token::{SecretCipher, SigningAlgorithm, SigningKey, generate_signing_key};
use registrar_core::{
    Clock, Persister, Pipeline, Processor, Responder, SecretGenerator, Settings, StoreError,
    Stores, SystemClock, Validator,
};
use registrar_server::{AppState, TokenOptions};
use tokio::sync::oneshot;

/// Where a test server keeps its clients.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A fresh SQLite file in a temporary folder.
    Sqlite,
    /// A fresh database on the PostgreSQL server at this URL.
    Postgres(String),
}

/// The environment variable that names a PostgreSQL server for tests, e.g.
/// `postgres://postgres@127.0.0.1:5432/test`.
pub const POSTGRES_ENV: &str = "REGISTRAR_TEST_POSTGRES";

impl Backend {
    /// The PostgreSQL backend when `REGISTRAR_TEST_POSTGRES` is set.
    pub fn postgres() -> Option<Self> {
        std::env::var(POSTGRES_ENV)
            .ok()
            .filter(|url| !url.is_empty())
            .map(Self::Postgres)
    }
}

/// A database made for one test: a temporary SQLite file, or a new PostgreSQL database.
#[derive(Debug)]
pub struct TestDatabase {
    /// The database URL, `sqlite://…` or `postgres://…`, for `--database` or a store.
    pub url: String,
    _folder: Option<tempfile::TempDir>,
    /// The PostgreSQL server the database was created on, to drop it afterwards.
    postgres_server: Option<String>,
}

impl TestDatabase {
    /// A new, empty database on `backend`; dropping it removes the SQLite folder or the
    /// PostgreSQL database.
    pub async fn create(backend: &Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let folder = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}", folder.path().join("registrar.db").display());
                Self {
                    url,
                    _folder: Some(folder),
                    postgres_server: None,
                }
            }
            Backend::Postgres(server_url) => Self {
                url: create_postgres_database(server_url).await,
                _folder: None,
                postgres_server: Some(server_url.clone()),
            },
        }
    }

    /// Another handle on an existing database, for a second instance; it cleans nothing up.
    pub fn shared(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            _folder: None,
            postgres_server: None,
        }
    }

    /// The folder of a SQLite database, for files that belong beside it.
    pub fn folder(&self) -> Option<&std::path::Path> {
        self._folder.as_ref().map(tempfile::TempDir::path)
    }
}

/// Creates a uniquely named database on the server and returns its URL.
pub async fn create_postgres_database(server_url: &str) -> String {
    use sqlx::Connection as _;
    let name = format!(
        "registrar_test_{}",
        registrar_core::secrets::random_token(&OsRandom, 9)
            .to_ascii_lowercase()
            .replace(['-', '_'], "x")
    );
    let mut connection = sqlx::PgConnection::connect(server_url)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut connection)
        .await
        .expect("create a test database");
    let mut url = url::Url::parse(server_url).expect("postgres URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(server_url) = self.postgres_server.take() else {
            return;
        };
        let database_url = self.url.clone();
        // Drop cannot await, and the test's runtime may be shutting down: use a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            runtime.block_on(drop_postgres_database(&server_url, &database_url));
        })
        .join();
        if dropped.is_err() {
            eprintln!("could not drop the test database {}", self.url);
        }
    }
}

/// Drops a database made by `create_postgres_database`, closing its connections.
pub async fn drop_postgres_database(server_url: &str, database_url: &str) {
    use sqlx::Connection as _;
    let name = url::Url::parse(database_url)
        .expect("database URL")
        .path()
        .trim_start_matches('/')
        .to_owned();
    let mut connection = sqlx::PgConnection::connect(server_url)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut connection)
        .await
        .expect("drop the test database");
}

/// A running Registrar on `127.0.0.1:0`, serving the real router over a real store.
#[derive(Debug)]
pub struct TestServer {
    /// Where it listens.
    pub address: SocketAddr,
    /// The pipeline it serves, with its settings, stores and clock.
    pub pipeline: Pipeline,
    /// What its handlers share.
    pub state: AppState,
    /// The database it runs on, dropped with the server.
    pub database: TestDatabase,
    /// The clock every request reads: a `ManualClock` lets a test move time instead of
    /// sleeping.
    pub clock: Arc<dyn Clock>,
    backend: Arc<dyn Store>,
    http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
}

/// The secret every test server hashes with, so tests can share one database between servers.
pub const TEST_SECRET_KEY: &[u8] = b"registrar test secret key, 32 bytes or more";

/// The ready-made signing key of `algorithm` that every [`TestServer`] puts in its fresh database
/// for each algorithm it signs with and was given no key of. Generated once per process: an RSA
/// key takes seconds in a debug build, and hundreds of tests each start a server.
pub fn ready_made_signing_key(algorithm: SigningAlgorithm) -> &'static SigningKey {
    static KEYS: OnceLock<Vec<SigningKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        SigningAlgorithm::ALL
            .iter()
            .map(|algorithm| {
                generate_signing_key(*algorithm, &OsRandom, SystemClock.now())
                    .expect("generate a ready-made signing key")
            })
            .collect()
    })
    .iter()
    .find(|key| key.algorithm == algorithm)
    .expect("a ready-made key of every algorithm")
}

type Configure = Box<dyn FnOnce(&mut Settings) + Send>;
type Customize =
    Box<dyn FnOnce(registrar_core::PipelineBuilder) -> registrar_core::PipelineBuilder + Send>;

/// Sets up a [`TestServer`]: backend or database, settings, token options, clock, random
/// source, steps and ready-made signing keys.
pub struct TestServerBuilder {
    backend: Backend,
    database: Option<(TestDatabase, Arc<dyn Store>)>,
    configure: Configure,
    token_options: TokenOptions,
    clock: Arc<dyn Clock>,
    customize: Vec<Customize>,
    signing_keys: Vec<SigningKey>,
    stores: Option<Box<dyn FnOnce(Stores) -> Stores + Send>>,
    router_options: registrar_server::RouterOptions,
    serve_options: registrar_server::serve::ServeOptions,
}

impl std::fmt::Debug for TestServerBuilder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TestServerBuilder")
            .field("backend", &self.backend)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl TestServerBuilder {
    /// Changes the settings (the issuer is set to the server's address first); several calls
    /// apply in order.
    pub fn settings(mut self, configure: impl FnOnce(&mut Settings) + Send + 'static) -> Self {
        let earlier = std::mem::replace(&mut self.configure, Box::new(|_| {}));
        self.configure = Box::new(move |settings| {
            earlier(settings);
            configure(settings);
        });
        self
    }

    /// Token options, e.g. a fetcher that trusts a `JwksServer`.
    pub fn tokens(mut self, token_options: TokenOptions) -> Self {
        self.token_options = token_options;
        self
    }

    /// The clock, e.g. a `ManualClock` the test moves.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The random source.
    pub fn generator(mut self, generator: Arc<dyn SecretGenerator>) -> Self {
        self.customize
            .push(Box::new(move |builder| builder.generator(generator)));
        self
    }

    /// A custom validator step.
    pub fn validator(mut self, validator: Arc<dyn Validator>) -> Self {
        self.customize
            .push(Box::new(move |builder| builder.validator(validator)));
        self
    }

    /// A custom processor step.
    pub fn processor(mut self, processor: Arc<dyn Processor>) -> Self {
        self.customize
            .push(Box::new(move |builder| builder.processor(processor)));
        self
    }

    /// A custom store step.
    pub fn persister(mut self, persister: Arc<dyn Persister>) -> Self {
        self.customize
            .push(Box::new(move |builder| builder.persister(persister)));
        self
    }

    /// A custom response step.
    pub fn responder(mut self, responder: Arc<dyn Responder>) -> Self {
        self.customize
            .push(Box::new(move |builder| builder.responder(responder)));
        self
    }

    /// Swaps stores of the backend's bundle, e.g. `|stores| stores.with_clients(mine)`; several
    /// calls apply in order.
    pub fn stores(mut self, swap: impl FnOnce(Stores) -> Stores + Send + 'static) -> Self {
        self.stores = Some(match self.stores.take() {
            Some(earlier) => Box::new(move |stores| swap(earlier(stores))),
            None => Box::new(swap),
        });
        self
    }

    /// A signing key put in the store (sealed under [`TEST_SECRET_KEY`]) before the server loads
    /// its key ring, instead of the [`ready_made_signing_key`] of its algorithm.
    pub fn signing_key(mut self, key: SigningKey) -> Self {
        self.signing_keys.push(key);
        self
    }

    /// The router's options (request and body timeouts, route groups).
    pub fn router_options(mut self, options: registrar_server::RouterOptions) -> Self {
        self.router_options = options;
        self
    }

    /// The connection limits of the accept loop (header read timeout, shutdown grace).
    pub fn serve_options(mut self, options: registrar_server::serve::ServeOptions) -> Self {
        self.serve_options = options;
        self
    }

    /// Runs the server on an existing database and store, e.g. a second instance.
    pub fn on(mut self, database: TestDatabase, store: Arc<dyn Store>) -> Self {
        self.database = Some((database, store));
        self
    }

    /// Starts the server.
    pub async fn spawn(self) -> TestServer {
        let (database, store) = match self.database {
            Some(existing) => existing,
            None => {
                let database = TestDatabase::create(&self.backend).await;
                let store = registrar_store::connect(&database.url)
                    .await
                    .expect("open the test store");
                (database, store)
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        let issuer = url::Url::parse(&format!("http://{address}")).expect("issuer URL");
        let mut settings = Settings::new(issuer);
        (self.configure)(&mut settings);
        let mut stores = Stores::from_backend(store.clone());
        if let Some(swap) = self.stores {
            stores = swap(stores);
        }
        let cipher = SecretCipher::new(TEST_SECRET_KEY);
        for key in &self.signing_keys {
            stores
                .signing_keys()
                .insert_signing_key(&key.seal(&cipher))
                .await
                .expect("insert a given signing key");
        }
        // A key of every algorithm the ring signs with, so the server generates none at start.
        let mut algorithms = vec![settings.token_signing_alg];
        algorithms.extend(
            settings
                .id_token_signing_algs
                .iter()
                .filter_map(|name| SigningAlgorithm::parse(name)),
        );
        let now = self.clock.now();
        for algorithm in SigningAlgorithm::ALL {
            let given = self
                .signing_keys
                .iter()
                .any(|key| key.algorithm == algorithm);
            if given || !algorithms.contains(&algorithm) {
                continue;
            }
            // Created by the server's clock; the kid and key material stay the cached ones.
            let key = SigningKey {
                created_at: now,
                ..ready_made_signing_key(algorithm).clone()
            };
            // A second instance on a shared database finds the keys the first one inserted.
            match stores
                .signing_keys()
                .insert_signing_key(&key.seal(&cipher))
                .await
            {
                Ok(()) | Err(StoreError::Duplicate(_)) => {}
                Err(error) => panic!("insert a ready-made signing key: {error}"),
            }
        }
        let mut builder = Pipeline::builder(settings, stores)
            .server_secret(TEST_SECRET_KEY)
            .clock(self.clock.clone());
        for customize in self.customize {
            builder = customize(builder);
        }
        let pipeline = builder.build().expect("build the pipeline");
        let state = AppState::new(pipeline.clone(), self.token_options)
            .await
            .expect("load the signing keys");
        let app = registrar_server::router_with(state.clone(), self.router_options);
        let serve_options = self.serve_options;
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum_serve(listener, app, serve_options, stopped).await;
        });
        TestServer {
            address,
            pipeline,
            state,
            database,
            clock: self.clock,
            backend: store,
            http: reqwest::Client::new(),
            shutdown: Some(shutdown),
        }
    }
}

impl TestServer {
    /// A builder for a server on `backend`.
    pub fn builder(backend: Backend) -> TestServerBuilder {
        TestServerBuilder {
            backend,
            database: None,
            configure: Box::new(|_| {}),
            token_options: TokenOptions::default(),
            clock: Arc::new(SystemClock),
            customize: Vec::new(),
            signing_keys: Vec::new(),
            stores: None,
            router_options: registrar_server::RouterOptions::default(),
            serve_options: registrar_server::serve::ServeOptions::default(),
        }
    }

    /// A server without rate limits, for a test that sends more failures or registrations
    /// from one address than the limits allow (the limits have tests of their own).
    pub async fn spawn_unlimited(backend: Backend) -> Self {
        let mut options = TokenOptions::default();
        options.rate_limits.enabled = false;
        Self::builder(backend).tokens(options).spawn().await
    }

    /// A server with the default settings (protected registration).
    pub async fn spawn(backend: Backend) -> Self {
        Self::builder(backend).spawn().await
    }

    /// A server whose settings `configure` may change.
    pub async fn spawn_with(
        backend: Backend,
        configure: impl FnOnce(&mut Settings) + Send + 'static,
    ) -> Self {
        Self::builder(backend).settings(configure).spawn().await
    }

    /// A server with changed settings and token options (e.g. a fetcher that trusts a
    /// `JwksServer`).
    pub async fn spawn_with_tokens(
        backend: Backend,
        configure: impl FnOnce(&mut Settings) + Send + 'static,
        token_options: TokenOptions,
    ) -> Self {
        Self::builder(backend)
            .settings(configure)
            .tokens(token_options)
            .spawn()
            .await
    }

    /// A server over an existing store, e.g. a second instance on the same database.
    pub async fn spawn_on(
        database: TestDatabase,
        store: Arc<dyn Store>,
        configure: impl FnOnce(&mut Settings) + Send + 'static,
    ) -> Self {
        Self::builder(Backend::Sqlite)
            .on(database, store)
            .settings(configure)
            .spawn()
            .await
    }

    /// A server over an existing store with token options, e.g. a fetcher that trusts a test
    /// JWKS server.
    pub async fn spawn_with_options(
        database: TestDatabase,
        store: Arc<dyn Store>,
        configure: impl FnOnce(&mut Settings) + Send + 'static,
        token_options: TokenOptions,
    ) -> Self {
        Self::builder(Backend::Sqlite)
            .on(database, store)
            .settings(configure)
            .tokens(token_options)
            .spawn()
            .await
    }

    /// An absolute URL on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// The HTTP client tests send requests with.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `GET path`, parsed as JSON into `T` (a `serde_json::Value`, a JWK Set, …).
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path}: {error}"))
            .json()
            .await
            .unwrap_or_else(|error| panic!("GET {path}: not JSON: {error}"))
    }

    /// The whole backend the server was started on, for tests that look at rows directly.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.backend
    }

    /// The stores the server runs on.
    pub fn stores(&self) -> &Stores {
        self.pipeline.services().stores()
    }

    /// Mints an initial access token directly in the store, as `registrar initial-token create`
    /// does, at the server's clock.
    pub async fn initial_token(&self, options: InitialTokenOptions) -> String {
        let services = self.pipeline.services();
        let (token, _) = mint_initial_token(
            services.stores().initial_tokens().as_ref(),
            services.generator().as_ref(),
            services.hasher(),
            self.clock.now(),
            options,
        )
        .await
        .expect("mint an initial access token");
        token.expose().to_owned()
    }

    /// Registers `body` with a fresh single-use initial access token.
    pub async fn register(&self, body: serde_json::Value) -> reqwest::Response {
        let token = self
            .initial_token(InitialTokenOptions {
                max_uses: Some(1),
                ..InitialTokenOptions::default()
            })
            .await;
        self.http
            .post(self.pipeline.settings().registration_endpoint())
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("POST to the registration endpoint")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

async fn axum_serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    options: registrar_server::serve::ServeOptions,
    stopped: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    registrar_server::serve::serve(listener, app, options, async {
        let _ = stopped.await;
    })
    .await
}

/// Runs an async test body once per backend: SQLite always, PostgreSQL when
/// `REGISTRAR_TEST_POSTGRES` is set.
#[macro_export]
macro_rules! backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    // Without a PostgreSQL server the SQLite run stands alone.
                    if let Some(backend) = $crate::Backend::postgres() {
                        super::$name(backend).await;
                    }
                }
            }
        )*
    };
}
