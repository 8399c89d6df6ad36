//! RFC 7592 read (`GET`) and update (`PUT`) at each client's `registration_client_uri`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper::{HeaderMap, Method, Request, StatusCode};

use crate::bodies;
use crate::pool::PooledClient;
use crate::scenario::{Body, Scenario};

/// Reads over a pool of clients, each with its own registration access token.
#[derive(Debug)]
pub struct Read {
    clients: Vec<PooledClient>,
}

impl Read {
    /// Reads of `clients`.
    pub fn new(clients: Vec<PooledClient>) -> Self {
        Self { clients }
    }
}

impl Scenario for Read {
    fn request(&self, worker: usize, sequence: u64) -> Request<Body> {
        let client = &self.clients[super::spread(worker, sequence, self.clients.len())];
        let authorization = format!("Bearer {}", client.registration_access_token);
        super::request(
            Method::GET,
            &client.management_path,
            Some(&authorization),
            None,
        )
    }
}

/// Full-replacement updates. Each successful `PUT` rotates the client's registration access
/// token, so worker `w` owns the clients whose index is `w` modulo the concurrency and keeps
/// their new tokens; the pool must be at least as large as the concurrency.
#[derive(Debug)]
pub struct Update {
    clients: Vec<Mutex<PooledClient>>,
    workers: usize,
    last_used: Vec<AtomicUsize>,
}

impl Update {
    /// Updates of `clients` by `workers` workers.
    pub fn new(clients: Vec<PooledClient>, workers: usize) -> Self {
        let workers = workers.max(1);
        Self {
            clients: clients.into_iter().map(Mutex::new).collect(),
            workers,
            last_used: (0..workers).map(|_| AtomicUsize::new(0)).collect(),
        }
    }

    /// The clients with their current tokens.
    pub fn into_clients(self) -> Vec<PooledClient> {
        self.clients
            .into_iter()
            .filter_map(|client| client.into_inner().ok())
            .collect()
    }
}

impl Scenario for Update {
    fn request(&self, worker: usize, sequence: u64) -> Request<Body> {
        let owned = self
            .clients
            .len()
            .saturating_sub(worker)
            .div_ceil(self.workers);
        // A pool smaller than the concurrency makes workers share clients, whose rotated
        // tokens they then race for: the run shows 401s and is flagged.
        let index = (worker + (sequence as usize % owned.max(1)) * self.workers)
            % self.clients.len().max(1);
        if let Some(last) = self.last_used.get(worker) {
            last.store(index, Ordering::Relaxed);
        }
        let client = self.clients[index]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let body = bodies::update(&client.metadata, &client.client_id, sequence);
        let authorization = format!("Bearer {}", client.registration_access_token);
        super::request(
            Method::PUT,
            &client.management_path,
            Some(&authorization),
            Some((
                "application/json",
                serde_json::to_vec(&body).unwrap_or_default(),
            )),
        )
    }

    fn response(
        &self,
        worker: usize,
        status: StatusCode,
        _headers: &HeaderMap,
        body: &[u8],
    ) -> bool {
        if status != StatusCode::OK {
            return status.is_success();
        }
        let Some(index) = self
            .last_used
            .get(worker)
            .map(|last| last.load(Ordering::Relaxed))
        else {
            return true;
        };
        let rotated = super::string_member(body, "registration_access_token");
        if let (Some(token), Some(client)) = (rotated, self.clients.get(index))
            && let Ok(mut client) = client.lock()
        {
            client.registration_access_token = token;
        }
        true
    }
}
