//! Client lifecycle: whether a registered client may still be used, when its use is recorded,
//! and which clients the housekeeping deletes (`lifecycle.unused_ttl`, `lifecycle.inactive_ttl`).
//!
//! A client's last use (a successful authentication at the token, introspection or revocation
//! endpoint, or with its registration access token) is kept in `last_used_at`, written only when
//! the stored value is older than [`LifecycleSettings::use_granularity`]: at most one write per
//! client per hour, never one per token request. Every check of a TTL reads that same stored
//! value, so the endpoints and the housekeeping always agree on which clients have expired.
//!
//! An expired client is refused exactly as an unknown one (`invalid_client` at the token
//! endpoint, `401 invalid_token` at management), so a well-behaved client registers again; the
//! housekeeping then deletes it with its grants and records an `expire` audit event. A blocked
//! client (`registrar clients block`) is refused the same way but never deleted by a TTL: an
//! operator who blocked it decides what becomes of it.

use crate::ids::ClientId;

/// The most a recorded use may lag behind the real last use: one hour.
pub const MAX_USE_GRANULARITY: i64 = 60 * 60;

/// What the store keeps of a client beside its registration: its last use and its block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientState {
    /// When the client was last used, as recorded (at most [`LifecycleSettings::use_granularity`]
    /// behind); `None` if it never was. Clients registered before uses were recorded count as
    /// used at the upgrade.
    pub last_used_at: Option<i64>,
    /// When an operator blocked the client; `None` unless it is blocked.
    pub blocked_at: Option<i64>,
}

/// The TTLs of `lifecycle.*`; 0 turns one off. Both are off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LifecycleSettings {
    /// Seconds after registration after which a client that was never used expires
    /// (`lifecycle.unused_ttl`).
    pub unused_ttl: u64,
    /// Seconds after its last use (or its registration, if it was never used) after which a
    /// client expires (`lifecycle.inactive_ttl`).
    pub inactive_ttl: u64,
}

impl LifecycleSettings {
    /// Whether either TTL is set.
    pub fn is_enabled(&self) -> bool {
        self.unused_ttl != 0 || self.inactive_ttl != 0
    }

    /// How stale the recorded last use may get before a use writes it again: an hour, or a
    /// 24th of `inactive_ttl` when that is shorter, so that a client is never taken for
    /// inactive more than about 4% of its TTL early. Uses are recorded whether or not a TTL is
    /// set, so that turning one on later finds the clients' real activity.
    pub fn use_granularity(&self) -> i64 {
        let inactive = i64::try_from(self.inactive_ttl).unwrap_or(i64::MAX);
        match inactive {
            0 => MAX_USE_GRANULARITY,
            ttl => (ttl / 24).clamp(1, MAX_USE_GRANULARITY),
        }
    }

    /// The cut-offs at `now`: which registration and activity times have expired.
    pub fn cutoffs(&self, now: i64) -> ExpiryCutoffs {
        let before = |ttl: u64| match ttl {
            0 => None,
            ttl => Some(now.saturating_sub(i64::try_from(ttl).unwrap_or(i64::MAX))),
        };
        ExpiryCutoffs {
            unused_before: before(self.unused_ttl),
            inactive_before: before(self.inactive_ttl),
        }
    }

    /// Whether a use at `now` should be written: none was recorded, or the record is at least
    /// [`LifecycleSettings::use_granularity`] old.
    pub fn use_is_due(&self, state: &ClientState, now: i64) -> bool {
        state
            .last_used_at
            .is_none_or(|last| now.saturating_sub(last) >= self.use_granularity())
    }
}

/// The times at and before which a client has expired; `None` where the TTL is off. A store
/// selects and deletes expired clients by these, so its SQL and [`ExpiryCutoffs::expiry`]
/// state one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryCutoffs {
    /// A client never used and registered at or before this time has expired.
    pub unused_before: Option<i64>,
    /// A client whose last use (its registration if never used) is at or before this time has
    /// expired.
    pub inactive_before: Option<i64>,
}

impl ExpiryCutoffs {
    /// Whether any TTL applies.
    pub fn is_empty(&self) -> bool {
        self.unused_before.is_none() && self.inactive_before.is_none()
    }

    /// Which TTL a client registered at `registered_at` has outlived, if any. Blocked clients
    /// expire too (they are refused either way), but the housekeeping leaves them to the
    /// operator.
    pub fn expiry(&self, registered_at: i64, state: &ClientState) -> Option<Expiry> {
        if state.last_used_at.is_none()
            && self
                .unused_before
                .is_some_and(|cutoff| registered_at <= cutoff)
        {
            return Some(Expiry::Unused);
        }
        let last_activity = state.last_used_at.unwrap_or(registered_at);
        if self
            .inactive_before
            .is_some_and(|cutoff| last_activity <= cutoff)
        {
            return Some(Expiry::Inactive);
        }
        None
    }
}

/// A client the housekeeping deletes (`ClientStore::expired_clients`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredClient {
    /// The client.
    pub client_id: ClientId,
    /// The TTL it outlived.
    pub expiry: Expiry,
}

/// Which TTL a client outlived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Never used within `lifecycle.unused_ttl` of its registration.
    Unused,
    /// Not used for `lifecycle.inactive_ttl`.
    Inactive,
}

impl Expiry {
    /// The setting that expired the client, as the audit event's route names it.
    pub fn setting(self) -> &'static str {
        match self {
            Self::Unused => "lifecycle.unused_ttl",
            Self::Inactive => "lifecycle.inactive_ttl",
        }
    }
}

/// Whether a client may be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// It may authenticate and manage itself.
    Active,
    /// An operator blocked it (`registrar clients block`).
    Blocked,
    /// It outlived a TTL; the housekeeping deletes it.
    Expired(Expiry),
}

impl Standing {
    /// Whether the client may be used.
    pub fn is_active(self) -> bool {
        self == Self::Active
    }

    /// Why the client is refused, for the log.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Blocked => "blocked",
            Self::Expired(Expiry::Unused) => "expired: never used within lifecycle.unused_ttl",
            Self::Expired(Expiry::Inactive) => "expired: unused for lifecycle.inactive_ttl",
        }
    }
}

/// The standing at `now` under `settings` of a client registered at `registered_at`.
pub fn standing(
    registered_at: i64,
    state: &ClientState,
    settings: &LifecycleSettings,
    now: i64,
) -> Standing {
    if state.blocked_at.is_some() {
        return Standing::Blocked;
    }
    match settings.cutoffs(now).expiry(registered_at, state) {
        Some(expiry) => Standing::Expired(expiry),
        None => Standing::Active,
    }
}

#[cfg(test)]
mod tests;
