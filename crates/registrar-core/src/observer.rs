//! `RegistrationObserver`: told how every registration that reached the pipeline ended, with
//! its context (caller, route of registration, policy), for what watches the server from
//! outside the steps: metrics, audit logs.

use std::fmt::Debug;

use crate::context::RegistrationContext;
use crate::error::RegistrationError;

/// How a registration ended.
#[derive(Debug, Clone, Copy)]
pub enum RegistrationOutcome<'a> {
    /// The client was stored.
    Created,
    /// A dry run (`?dry_run=true`) passed: nothing was stored.
    DryRun,
    /// A retry with the `Idempotency-Key` of a stored registration: its first answer again,
    /// nothing stored.
    Replayed,
    /// Refused, a dry run or not, with the error as the responder answers it.
    Refused(&'a RegistrationError),
}

impl RegistrationOutcome<'_> {
    /// `created`, `dry_run`, `replayed` or `refused`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::DryRun => "dry_run",
            Self::Replayed => "replayed",
            Self::Refused(_) => "refused",
        }
    }
}

/// Watches registrations. Called once per registration or dry run that reached the pipeline,
/// after its answer is decided; it cannot change the answer, and it runs on the request's task,
/// so it must be quick (count, or hand the event to a channel).
pub trait RegistrationObserver: Send + Sync + Debug {
    /// `cx` is the request's context as the steps left it: `cx.policy()` is set once the policy
    /// step ran, which a refusal by an earlier rule never reaches.
    fn registration_ended(&self, cx: &RegistrationContext, outcome: RegistrationOutcome<'_>);
}
