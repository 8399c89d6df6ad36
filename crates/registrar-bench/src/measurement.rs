//! One measured run, as the report shows it.

use crate::stats::Outcome;

/// One measured run.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// The system's name, `Registrar SQLite`.
    pub system: String,
    /// The scenario, `register` or `token ES256`.
    pub scenario: String,
    /// Workers.
    pub concurrency: usize,
    /// What was counted.
    pub outcome: Outcome,
}
