//! The report: one line per measurement, or a Markdown table with ratios to the baseline and
//! to node-oidc-provider.

use std::fmt::Write as _;

use crate::measurement::Measurement;

/// `Registrar SQLite  register  c=16  1974 req/s  p50 … p90 … p99 … max …  errors 0 (201: …)`.
pub fn line(measurement: &Measurement) -> String {
    let outcome = &measurement.outcome;
    let flag = if outcome.is_flagged() {
        "  FLAGGED: the run had errors"
    } else {
        ""
    };
    format!(
        "{:<24} {:<14} c={:<4} {:>9.0} req/s  p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>8.2} ms  errors {} ({}){flag}",
        measurement.system,
        measurement.scenario,
        measurement.concurrency,
        outcome.successes_per_second(),
        outcome.latency_ms(0.5),
        outcome.latency_ms(0.9),
        outcome.latency_ms(0.99),
        outcome.max_latency_ms(),
        outcome.errors(),
        outcome.statuses(),
    )
}

/// The system a Registrar measurement is compared with as its bare baseline: registrations
/// only, on the same kind of store.
fn baseline_of(measurement: &Measurement) -> Option<&'static str> {
    if !measurement.system.starts_with("Registrar") || measurement.scenario != "register" {
        return None;
    }
    Some(if measurement.system.contains("PostgreSQL") {
        "baseline PostgreSQL"
    } else {
        "baseline SQLite FULL"
    })
}

fn rate_of<'a>(
    measurements: &'a [Measurement],
    system: impl Fn(&str) -> bool,
    like: &Measurement,
) -> Option<&'a Measurement> {
    measurements.iter().find(|other| {
        system(&other.system)
            && other.scenario == like.scenario
            && other.concurrency == like.concurrency
    })
}

fn ratio(measurement: &Measurement, reference: Option<&Measurement>) -> String {
    match reference {
        Some(reference) if reference.outcome.successes_per_second() > 0.0 => format!(
            "{:.2}×",
            measurement.outcome.successes_per_second() / reference.outcome.successes_per_second()
        ),
        _ => "—".to_owned(),
    }
}

/// A Markdown table of every measurement, then the configuration of each system.
pub fn markdown(measurements: &[Measurement], configs: &[(String, String)]) -> String {
    let mut out = String::from(
        "| system | scenario | c | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | × baseline | × node |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for measurement in measurements {
        let outcome = &measurement.outcome;
        let baseline = baseline_of(measurement).and_then(|name| {
            rate_of(
                measurements,
                |system| system == name,
                &Measurement {
                    scenario: "register".to_owned(),
                    ..measurement.clone()
                },
            )
        });
        let node = if measurement.system.starts_with("Registrar") {
            rate_of(
                measurements,
                |system| system.starts_with("node"),
                measurement,
            )
        } else {
            None
        };
        let errors = match outcome.errors() {
            0 => "0".to_owned(),
            count => format!("**{count}** ({})", outcome.statuses()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {errors} | {} | {} |",
            measurement.system,
            measurement.scenario,
            measurement.concurrency,
            outcome.successes_per_second(),
            outcome.latency_ms(0.5),
            outcome.latency_ms(0.9),
            outcome.latency_ms(0.99),
            outcome.max_latency_ms(),
            ratio(measurement, baseline),
            ratio(measurement, node),
        );
    }
    if measurements
        .iter()
        .any(|measurement| measurement.outcome.is_flagged())
    {
        out.push_str("\n**Runs with errors are flagged in bold: their rates are not a measurement of success.**\n");
    }
    out.push('\n');
    for (system, config) in configs {
        let _ = writeln!(out, "- {system}: {config}.");
    }
    out
}

/// The same as plain lines.
pub fn plain(measurements: &[Measurement], configs: &[(String, String)]) -> String {
    let mut out = String::new();
    for measurement in measurements {
        out.push_str(&line(measurement));
        out.push('\n');
    }
    for (system, config) in configs {
        let _ = writeln!(out, "{system}: {config}");
    }
    out
}

/// Each system's peak resident memory (`VmHWM`) over its runs, in MiB.
pub fn peak_rss(peaks: &[(String, u64)], markdown: bool) -> String {
    if peaks.is_empty() {
        return String::new();
    }
    let mut out = String::from(match markdown {
        true => "\n| system | peak RSS under load |\n| --- | --- |\n",
        false => "\npeak RSS under load (VmHWM):\n",
    });
    for (system, kib) in peaks {
        let mib = *kib as f64 / 1024.0;
        let _ = match markdown {
            true => writeln!(out, "| {system} | {mib:.1} MiB |"),
            false => writeln!(out, "  {system}: {mib:.1} MiB"),
        };
    }
    out
}
