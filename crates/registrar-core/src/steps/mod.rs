//! The step traits of a request, as the seeds group them: [`Validator`] → [`Processor`] →
//! [`Persister`] → [`Responder`].
//!
//! Every step is an async default method that receives the request's one
//! [`RegistrationContext`]; override the one you want to change and keep the rest. An override
//! that only adds a rule calls the default rule's free function (in `validate`, `process`,
//! `persist` or `respond`) and then its own check. Create, read, update and delete all run
//! through the same four traits, so an override governs all four operations.
//!
//! These traits sit above the rule modules: the rules import nothing from here.
//!
//! [`RegistrationContext`]: crate::RegistrationContext

mod persister;
mod processor;
mod responder;
mod validator;

use std::sync::Arc;

pub use persister::{DefaultPersister, Persister};
pub use processor::{DefaultProcessor, Processor};
pub use responder::{DefaultResponder, Responder};
pub use validator::{DefaultValidator, Validator};

/// One implementation of each step trait: what a pipeline runs.
#[derive(Debug, Clone)]
pub struct Steps {
    /// Validates the request.
    pub validator: Arc<dyn Validator>,
    /// Applies defaults and issues the identifier and credentials.
    pub processor: Arc<dyn Processor>,
    /// Inserts, replaces or deletes the client.
    pub persister: Arc<dyn Persister>,
    /// Builds the response, and decides how errors are answered.
    pub responder: Arc<dyn Responder>,
}

impl Default for Steps {
    fn default() -> Self {
        Self {
            validator: Arc::new(DefaultValidator),
            processor: Arc::new(DefaultProcessor),
            persister: Arc::new(DefaultPersister),
            responder: Arc::new(DefaultResponder),
        }
    }
}
