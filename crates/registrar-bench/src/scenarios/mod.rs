//! The scenarios: registration, RFC 7592 read and update, `client_credentials` tokens,
//! introspection, the authorization code flow and refreshes.

mod code;
mod manage;
mod owned;
mod refresh;
mod register;
mod token;

pub use code::{
    CODE_CHALLENGE, CODE_VERIFIER, Code, HeldRefreshToken, authorization_query, code_from_location,
    redirect_uri,
};
pub use manage::{Read, Update};
pub use owned::WorkerOwned;
pub use refresh::Refresh;
pub use register::{InitialTokens, Register, TOKEN_SPREAD, token_index};
pub use token::{Introspect, Token};

use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request};

use crate::scenario::Body;

/// The body type of token and introspection requests.
const FORM: &str = "application/x-www-form-urlencoded";

/// A request with a bearer or basic `authorization` value and an optional body.
fn request(
    method: Method,
    path: &str,
    authorization: Option<&str>,
    content: Option<(&'static str, Vec<u8>)>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(authorization) = authorization {
        builder = builder.header(AUTHORIZATION, authorization);
    }
    let body = match content {
        Some((content_type, bytes)) => {
            builder = builder.header(CONTENT_TYPE, content_type);
            Body::from(bytes)
        }
        None => Body::default(),
    };
    builder
        .body(body)
        .unwrap_or_else(|error| panic!("a bench request for {path} is malformed: {error}"))
}

/// The string member `name` of a JSON object answer, if it is one and has it.
fn string_member(body: &[u8], name: &str) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get(name)?
        .as_str()
        .map(str::to_owned)
}

/// The pool index worker `worker` uses for its `sequence`th request: the workers walk the pool
/// in step, apart, so no two ask for the same client at once while the pool is larger than the
/// concurrency.
fn spread(worker: usize, sequence: u64, len: usize) -> usize {
    let len = len.max(1) as u64;
    ((worker as u64).wrapping_mul(7919).wrapping_add(sequence) % len) as usize
}
