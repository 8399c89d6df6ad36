//! What the rate limits add to a request: `RateLimits::check` (a registration), and
//! `failures_exceeded` (every management and client authentication request asks it first) for a
//! key that never failed and for one that did, in memory, as every instance without
//! `rate_limits.redis_url` counts.
//!
//! Run with `cargo bench -p registrar-server --bench rate_limits`; `docs/benchmarks.md` has
//! figures.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use registrar_core::ManualClock;
use registrar_server::rate_limit::ip_key;
use registrar_server::{LimitKind, Quota, RateLimitConfig, RateLimits};

/// A fixed "now": nothing here reads the wall clock.
const NOW: i64 = 1_700_000_000;

fn configured() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

fn limits() -> RateLimits {
    let config = RateLimitConfig {
        // Never refused, so every iteration takes the same path.
        registration: Quota::new(u32::MAX, 1),
        ..RateLimitConfig::default()
    };
    RateLimits::new(config, Arc::new(ManualClock::new(NOW))).expect("valid limits")
}

fn rate_limits(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let limits = limits();
    let address = ip_key("203.0.113.7".parse().expect("an address"));
    let mut group = criterion.benchmark_group("rate_limits");
    group.bench_function("check_registration", |bencher| {
        bencher.iter(|| {
            runtime
                .block_on(limits.check(LimitKind::Registration, black_box(&address)))
                .expect("allowed")
        });
    });
    group.bench_function("failures_exceeded_clean_key", |bencher| {
        bencher.iter(|| {
            runtime
                .block_on(
                    limits.failures_exceeded(LimitKind::ManagementFailure, black_box(&address)),
                )
                .expect("allowed")
        });
    });
    let failed = ip_key("203.0.113.8".parse().expect("an address"));
    runtime.block_on(limits.record_failure(LimitKind::ManagementFailure, &failed));
    group.bench_function("failures_exceeded_after_a_failure", |bencher| {
        bencher.iter(|| {
            runtime
                .block_on(
                    limits.failures_exceeded(LimitKind::ManagementFailure, black_box(&failed)),
                )
                .expect("allowed")
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = configured();
    targets = rate_limits
}
criterion_main!(benches);
