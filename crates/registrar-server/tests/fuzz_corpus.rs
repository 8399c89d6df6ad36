//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) and the inputs of past findings
//! (`fuzz/regressions/<target>/`) through the same functions the fuzz targets run, on stable
//! Rust without cargo-fuzz: every input the fuzzer kept, and every crash it found, stays checked
//! by `cargo test`. `scripts/fuzz` grows the corpus; docs/fuzzing.md has the details.

use std::path::{Path, PathBuf};

use registrar_server::fuzz::{TARGETS, Target};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted; panics if it cannot be read.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every file of `files` through `target`, reporting each input that panics by its name;
/// returns how many got through every check.
fn replay(name: &str, target: Target, files: &[PathBuf]) -> usize {
    let mut failures = Vec::new();
    let mut accepted = 0;
    for file in files {
        let data = std::fs::read(file)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", file.display()));
        match std::panic::catch_unwind(|| target(&data)) {
            Ok(true) => accepted += 1,
            Ok(false) => {}
            Err(_) => failures.push(file.display().to_string()),
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} input(s) fail: {failures:#?}",
        failures.len()
    );
    accepted
}

#[test]
fn every_target_has_a_corpus_and_every_input_passes() {
    for (name, target) in TARGETS {
        let corpus = inputs(&fuzz_dir().join("corpus").join(name));
        assert!(
            !corpus.is_empty(),
            "fuzz/corpus/{name}/ is empty: the corpus is part of the repository"
        );
        let accepted = replay(name, target, &corpus);
        // A corpus that only reaches the first refusal would fuzz nothing behind it: a fixture
        // that stopped matching the checks (a key, a setting) shows here.
        assert!(
            accepted > 0 && accepted < corpus.len(),
            "fuzz/corpus/{name}/: {accepted} of {} inputs get through every check; a corpus needs both kinds",
            corpus.len()
        );
    }
}

#[test]
fn every_past_finding_stays_fixed() {
    for (name, target) in TARGETS {
        let dir = fuzz_dir().join("regressions").join(name);
        // A target without findings has no directory.
        if dir.exists() {
            replay(name, target, &inputs(&dir));
        }
    }
}
