//! RFC 7592 read (`GET`) and update (`PUT`) at each client's `registration_client_uri`.

use hyper::{HeaderMap, Method, Request, StatusCode};

use crate::bodies;
use crate::pool::PooledClient;
use crate::scenario::{Body, Scenario};

use super::owned::WorkerOwned;

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
/// token, so each worker owns its clients ([`WorkerOwned`]) and keeps their new tokens; the pool
/// must be at least as large as the concurrency.
#[derive(Debug)]
pub struct Update {
    clients: WorkerOwned<PooledClient>,
}

impl Update {
    /// Updates of `clients` by `workers` workers.
    pub fn new(clients: Vec<PooledClient>, workers: usize) -> Self {
        Self {
            clients: WorkerOwned::new(clients, workers),
        }
    }

    /// The clients with their current tokens.
    pub fn into_clients(self) -> Vec<PooledClient> {
        self.clients.into_items()
    }
}

impl Scenario for Update {
    fn request(&self, worker: usize, sequence: u64) -> Request<Body> {
        let client = self.clients.next(worker, sequence);
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
        if let Some(token) = super::string_member(body, "registration_access_token") {
            self.clients.update_last(worker, |client| {
                client.registration_access_token = token;
            });
        }
        true
    }
}
