//! Items each owned by one worker, for scenarios whose answers replace what the next request
//! presents (a rotated registration access token or refresh token): two workers sharing one
//! would race for its rotations.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// Worker `w` of `workers` owns the items whose index is `w` modulo `workers`, walks them in
/// turn, and remembers which it presented last so that its answer can update that one. There
/// must be at least as many items as workers.
#[derive(Debug)]
pub struct WorkerOwned<T> {
    items: Vec<Mutex<T>>,
    workers: usize,
    last_used: Vec<AtomicUsize>,
}

impl<T: Clone> WorkerOwned<T> {
    /// `items` shared out among `workers` workers.
    pub fn new(items: Vec<T>, workers: usize) -> Self {
        let workers = workers.max(1);
        Self {
            items: items.into_iter().map(Mutex::new).collect(),
            workers,
            last_used: (0..workers).map(|_| AtomicUsize::new(0)).collect(),
        }
    }

    /// The item `worker` presents in its `sequence`th request, as last updated.
    pub fn next(&self, worker: usize, sequence: u64) -> T {
        let owned = self
            .items
            .len()
            .saturating_sub(worker)
            .div_ceil(self.workers);
        // Fewer items than workers make workers share items, whose rotations they then race
        // for: the run shows refusals and is flagged.
        let index =
            (worker + (sequence as usize % owned.max(1)) * self.workers) % self.items.len().max(1);
        if let Some(last) = self.last_used.get(worker) {
            last.store(index, Ordering::Relaxed);
        }
        self.items[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Changes the item `worker` presented last.
    pub fn update_last(&self, worker: usize, change: impl FnOnce(&mut T)) {
        let Some(index) = self
            .last_used
            .get(worker)
            .map(|last| last.load(Ordering::Relaxed))
        else {
            return;
        };
        if let Some(item) = self.items.get(index) {
            change(&mut item.lock().unwrap_or_else(PoisonError::into_inner));
        }
    }

    /// The items as last updated.
    pub fn into_items(self) -> Vec<T> {
        self.items
            .into_iter()
            .map(|item| item.into_inner().unwrap_or_else(PoisonError::into_inner))
            .collect()
    }
}
