//! What a run counted: requests, statuses, transport errors and the latency histogram.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

/// The slowest latency the histogram holds, in microseconds; a slower answer is recorded as this.
const MAX_LATENCY_MICROS: u64 = 60_000_000;

/// The counts of one worker, or of a whole run once merged.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Answers read, whatever their status.
    pub responses: u64,
    /// Answers by status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Answers the scenario did not count as successes (see `Scenario::response`): for most,
    /// those outside 2xx.
    pub failures: u64,
    /// Requests that got no answer: a refused connection, a reset, a malformed response.
    pub transport_errors: u64,
    /// Latencies of the answers, in microseconds.
    pub latency: Histogram<u64>,
}

impl Default for Tally {
    fn default() -> Self {
        Self::new()
    }
}

impl Tally {
    /// An empty tally.
    pub fn new() -> Self {
        Self {
            responses: 0,
            statuses: BTreeMap::new(),
            failures: 0,
            transport_errors: 0,
            // Three significant digits: 0.1% resolution at every magnitude.
            latency: Histogram::new_with_bounds(1, MAX_LATENCY_MICROS, 3)
                .unwrap_or_else(|_| unreachable!("the bounds are valid constants")),
        }
    }

    /// Counts one answer; `success`: whether the scenario counted it as one.
    pub fn record_response(&mut self, status: u16, success: bool, latency: Duration) {
        self.responses += 1;
        if !success {
            self.failures += 1;
        }
        *self.statuses.entry(status).or_default() += 1;
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency
            .saturating_record(micros.clamp(1, MAX_LATENCY_MICROS));
    }

    /// Adds another worker's counts.
    pub fn merge(&mut self, other: &Tally) {
        self.responses += other.responses;
        for (status, count) in &other.statuses {
            *self.statuses.entry(*status).or_default() += count;
        }
        self.failures += other.failures;
        self.transport_errors += other.transport_errors;
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
    }
}

/// A finished run: the merged tally and the time it was measured over.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Every measured answer and error.
    pub tally: Tally,
    /// The measured window (warm-up excluded); for a run bounded by a request count, the whole
    /// run.
    pub measured: Duration,
}

impl Outcome {
    /// Answers that were not successes: outside 2xx, or not what the scenario expected (an
    /// authorization request's `303` without a code).
    pub fn failures(&self) -> u64 {
        self.tally.failures
    }

    /// Failed answers and transport errors together.
    pub fn errors(&self) -> u64 {
        self.failures() + self.tally.transport_errors
    }

    /// Whether anything went wrong: such a run's figures are not a measurement of success.
    pub fn is_flagged(&self) -> bool {
        self.errors() > 0 || self.tally.responses == 0
    }

    /// Successful answers per second over the measured window.
    pub fn successes_per_second(&self) -> f64 {
        let successes = self.tally.responses - self.failures();
        successes as f64 / self.measured.as_secs_f64().max(f64::EPSILON)
    }

    /// The latency at `quantile` (0.5, 0.99, …), in milliseconds.
    pub fn latency_ms(&self, quantile: f64) -> f64 {
        self.tally.latency.value_at_quantile(quantile) as f64 / 1000.0
    }

    /// The slowest answer, in milliseconds.
    pub fn max_latency_ms(&self) -> f64 {
        self.tally.latency.max() as f64 / 1000.0
    }

    /// `201: 20, 429: 3`.
    pub fn statuses(&self) -> String {
        let mut parts: Vec<String> = self
            .tally
            .statuses
            .iter()
            .map(|(status, count)| format!("{status}: {count}"))
            .collect();
        if self.tally.transport_errors > 0 {
            parts.push(format!("transport: {}", self.tally.transport_errors));
        }
        parts.join(", ")
    }
}
