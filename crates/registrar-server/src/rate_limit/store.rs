//! A `governor` state store that can also probe a key without consuming from its bucket.
//!
//! `governor` has no "would this be allowed?" call, but its GCRA decides through a closure the
//! state store runs. This store runs that closure on the current state and, for a probe, keeps
//! the state as it was: the answer is exactly the one the next consuming call would get.

use std::hash::Hash;

use governor::nanos::Nanos;
use governor::state::keyed::{DashMapStateStore, ShrinkableKeyedStateStore};
use governor::state::{NotKeyed, StateStore};

/// A key and whether the call consumes a unit or only probes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Probe {
    pub(crate) key: String,
    pub(crate) consume: bool,
}

/// The per-key GCRA states, shared by consuming and probing calls.
#[derive(Debug, Default)]
pub(crate) struct ProbeStore {
    states: DashMapStateStore<String>,
}

impl StateStore for ProbeStore {
    type Key = Probe;

    fn measure_and_replace<T, F, E>(&self, probe: &Probe, decide: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        if probe.consume {
            return self.states.measure_and_replace(&probe.key, decide);
        }
        match self.states.get(&probe.key) {
            // An unknown key has a full bucket; a probe adds no entry for it.
            None => decide(None).map(|(outcome, _)| outcome),
            Some(state) => state.measure_and_replace(&NotKeyed::NonKey, |current| {
                // Writing back the value just read leaves the bucket as it was.
                let unchanged = current.unwrap_or(Nanos::new(0));
                decide(current).map(|(outcome, _)| (outcome, unchanged))
            }),
        }
    }
}

impl ShrinkableKeyedStateStore<Probe> for ProbeStore {
    fn retain_recent(&self, drop_below: Nanos) {
        ShrinkableKeyedStateStore::<String>::retain_recent(&self.states, drop_below);
    }

    fn len(&self) -> usize {
        ShrinkableKeyedStateStore::<String>::len(&self.states)
    }

    fn is_empty(&self) -> bool {
        ShrinkableKeyedStateStore::<String>::is_empty(&self.states)
    }
}
