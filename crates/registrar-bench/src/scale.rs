//! `registrar-bench scale`: the same scenarios on a store of (by default) 1,000 and of
//! 1,000,000 clients, each on a fresh Registrar, with the ratio between them and the store's size
//! per client.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::cli::CommonArgs;
use crate::generator::Target;
use crate::measurement::Measurement;
use crate::runs::{ScenarioName, pool_size, run_scenarios};
use crate::seed::{SeedStore, StoreSize};
use crate::servers::registrar::{Database, Limits, RunningRegistrar};
use crate::session::Session;
use crate::suite::{Results, registrar_options, timing};

/// One store size's runs.
#[derive(Debug)]
pub struct AtScale {
    /// Clients stored before the first measured run.
    pub stored: usize,
    /// The store after seeding.
    pub size: StoreSize,
    /// How long seeding the filler clients took.
    pub seeding: Duration,
    /// Its measurements.
    pub measurements: Vec<Measurement>,
}

/// What `scale` measured.
#[derive(Debug, Default)]
pub struct ScaleResults {
    /// Every measurement, as `run` reports them.
    pub results: Results,
    /// By store size, smallest first.
    pub sizes: Vec<AtScale>,
}

impl ScaleResults {
    /// The runs' report, then the comparison across store sizes.
    pub fn render(&self, markdown: bool) -> String {
        let mut out = self.results.render(markdown);
        out.push('\n');
        out.push_str(&comparison(&self.sizes, markdown));
        out
    }
}

/// Runs `scenarios` on a fresh Registrar for each count in `stored`.
///
/// The pool the scenarios walk over is registered over HTTP first; the rest of each count is
/// filled with copies of the pool's first client ([`SeedStore::seed`]). Under the default rate
/// limits the registration quotas are raised beyond reach (every check still made): the
/// server-wide `policy_registrations` quota would refuse the register runs, and what is compared
/// here is the store's size, not the limiter.
pub async fn scale(
    stored: &[usize],
    scenarios: &[ScenarioName],
    common: &CommonArgs,
) -> anyhow::Result<ScaleResults> {
    let common = CommonArgs {
        limits: match common.limits {
            Limits::Default => Limits::Raised,
            other => other,
        },
        ..common.clone()
    };
    let options = registrar_options(&common, &common.alg)?;
    let store = match options.database {
        Database::Sqlite => "SQLite",
        Database::Postgres(_) => "PostgreSQL",
    };
    let mut sorted = stored.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = ScaleResults::default();
    for count in sorted {
        let server = RunningRegistrar::start(&options).await?;
        let system = format!("Registrar {store}, {} stored", grouped(count as u64));
        let mut session = Session::new(
            &system,
            &server.description,
            Target {
                address: server.address,
            },
            Some(server.initial_tokens.clone()),
            false,
        );
        let outcome = async {
            let pool = session
                .register_pool(pool_size(&common.concurrency))
                .await?;
            let seeder = SeedStore::open(&server.database_url).await?;
            let started = Instant::now();
            let template = &pool
                .first()
                .ok_or_else(|| anyhow::anyhow!("the pool is empty"))?
                .client_id;
            seeder
                .seed(template, count.saturating_sub(pool.len()))
                .await?;
            let seeding = started.elapsed();
            let size = seeder.size().await?;
            seeder.close().await;
            eprintln!(
                "{system}: seeded in {:.1} s, {} clients, {:.1} MiB",
                seeding.as_secs_f64(),
                size.clients,
                size.bytes as f64 / (1024.0 * 1024.0)
            );
            let measured = run_scenarios(
                &mut session,
                scenarios,
                &common.concurrency,
                timing(&common),
                &format!("token {}", common.alg),
                pool,
            )
            .await?;
            anyhow::Ok((size, seeding, measured))
        }
        .await;
        out.results.add_peak_rss(&system, server.peak_rss_kib());
        server.stop().await;
        let (size, seeding, measured) = outcome?;
        out.results.add(&session, measured.clone());
        out.sizes.push(AtScale {
            stored: count,
            size,
            seeding,
            measurements: measured,
        });
    }
    Ok(out)
}

/// `1000000` as `1,000,000`.
pub fn grouped(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Each scenario's rate at every store size and the largest's ratio to the smallest, then the
/// stores' sizes.
pub fn comparison(sizes: &[AtScale], markdown: bool) -> String {
    let (Some(smallest), Some(largest)) = (sizes.first(), sizes.last()) else {
        return String::new();
    };
    let mut out = String::new();
    let mut header = vec!["scenario".to_owned(), "c".to_owned()];
    for at in sizes {
        header.push(format!("req/s at {}", grouped(at.stored as u64)));
        header.push(format!("p99 ms at {}", grouped(at.stored as u64)));
    }
    header.push(format!(
        "{} ÷ {}",
        grouped(largest.stored as u64),
        grouped(smallest.stored as u64)
    ));
    let mut rows = Vec::new();
    for first in &smallest.measurements {
        let mut row = vec![first.scenario.clone(), first.concurrency.to_string()];
        let mut last_rate = None;
        for at in sizes {
            match at.measurements.iter().find(|other| {
                other.scenario == first.scenario && other.concurrency == first.concurrency
            }) {
                Some(found) => {
                    let rate = found.outcome.successes_per_second();
                    let flag = if found.outcome.is_flagged() {
                        " (errors)"
                    } else {
                        ""
                    };
                    row.push(format!("{rate:.0}{flag}"));
                    row.push(format!("{:.2}", found.outcome.latency_ms(0.99)));
                    last_rate = Some(rate);
                }
                None => {
                    row.push("—".to_owned());
                    row.push("—".to_owned());
                    last_rate = None;
                }
            }
        }
        let base = first.outcome.successes_per_second();
        row.push(match last_rate {
            Some(rate) if base > 0.0 => format!("{:.2}×", rate / base),
            _ => "—".to_owned(),
        });
        rows.push(row);
    }
    table(&mut out, &header, &rows, markdown);
    out.push('\n');
    let header = [
        "stored clients",
        "rows in clients",
        "store size",
        "bytes per client",
        "seeding",
    ]
    .map(str::to_owned);
    let rows: Vec<Vec<String>> = sizes
        .iter()
        .map(|at| {
            vec![
                grouped(at.stored as u64),
                grouped(at.size.clients),
                format!("{:.1} MiB", at.size.bytes as f64 / (1024.0 * 1024.0)),
                grouped(at.size.bytes / at.size.clients.max(1)),
                format!("{:.1} s", at.seeding.as_secs_f64()),
            ]
        })
        .collect();
    table(&mut out, &header, &rows, markdown);
    if sizes.len() > 1 && largest.size.clients > smallest.size.clients {
        // The marginal cost: what each added client costs, without the fixed part of the store.
        let added = largest.size.clients - smallest.size.clients;
        let bytes = largest.size.bytes.saturating_sub(smallest.size.bytes);
        let _ = writeln!(
            out,
            "\nEach added client costs {} bytes of store (tables and indexes).",
            grouped(bytes / added)
        );
    }
    out
}

fn table(out: &mut String, header: &[String], rows: &[Vec<String>], markdown: bool) {
    let line = |cells: &[String]| match markdown {
        true => format!("| {} |", cells.join(" | ")),
        false => cells.join("  "),
    };
    let _ = writeln!(out, "{}", line(header));
    if markdown {
        let _ = writeln!(out, "|{}", " --- |".repeat(header.len()));
    }
    for row in rows {
        let _ = writeln!(out, "{}", line(row));
    }
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1_000_000), "1,000,000");
        assert_eq!(grouped(12_345_678), "12,345,678");
    }
}
