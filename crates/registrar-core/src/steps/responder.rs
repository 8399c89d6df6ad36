//! `Responder`: the client information response and the answer to errors, overridable.

use std::fmt::Debug;

use async_trait::async_trait;

use crate::context::{Operation, RegistrationContext};
use crate::error::RegistrationError;
use crate::respond::{self, ClientInformation};

/// Builds what registration, read and update return, and may change how an error is answered.
#[async_trait]
pub trait Responder: Send + Sync + Debug {
    /// The client information (RFC 7591 §3.2.1); see [`respond::client_information`].
    async fn respond(
        &self,
        cx: &mut RegistrationContext,
    ) -> Result<ClientInformation, RegistrationError> {
        respond::client_information(cx)
    }

    /// The error a failed request is answered with; the default answers `error` as it is.
    /// `cx` is `None` when the request failed before its context existed (the caller could
    /// not be authorized).
    async fn respond_error(
        &self,
        operation: Operation,
        cx: Option<&RegistrationContext>,
        error: RegistrationError,
    ) -> RegistrationError {
        let _ = (operation, cx);
        error
    }
}

/// The default responses.
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultResponder;

impl Responder for DefaultResponder {}
