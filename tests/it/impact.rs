//! The impact report's statistics against an independent implementation:
//! `tests/tools/impact_check.py`, brute force with numpy, written from the
//! definitions rather than from our code. Ignored by a plain `cargo test`
//! (it needs python3 with numpy); `.ci/run` installs numpy and runs these.

use belong::insights::impact::{self, Cell, Unit};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A generated panel: `teams` teams over `cycles` cycles, `starts` giving
/// (team, first cycle taking part), a true effect in points, and `gaps`
/// cells withheld (missing, as a suppressed cell is).
fn panel(seed: u64, teams: usize, cycles: usize, starts: &[(usize, usize)], effect: f64, gaps: usize) -> Vec<Unit> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut units: Vec<Unit> = (0..teams)
        .map(|t| {
            let start = starts.iter().find(|(team, _)| *team == t).map(|(_, s)| *s);
            let level = rng.gen_range(45.0..75.0);
            let cells = (0..cycles)
                .map(|c| {
                    let lift = if start.is_some_and(|s| c >= s) { effect } else { 0.0 };
                    Some(Cell {
                        value: (level + lift + rng.gen_range(-6.0..6.0)).clamp(0.0, 100.0),
                        weight: f64::from(rng.gen_range(5..25)),
                    })
                })
                .collect();
            Unit { start, cells }
        })
        .collect();
    for _ in 0..gaps {
        let (t, c) = (rng.gen_range(0..teams), rng.gen_range(0..cycles));
        units[t].cells[c] = None;
    }
    units
}

fn python(units: &[Unit]) -> serde_json::Value {
    use std::io::Write;
    let input: Vec<serde_json::Value> = units
        .iter()
        .map(|u| {
            serde_json::json!({
                "start": u.start,
                "cells": u.cells.iter().map(|c| c.map(|c| [c.value, c.weight])).collect::<Vec<_>>(),
            })
        })
        .collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tools/impact_check.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (with numpy: pip install numpy)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the numpy check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close(ours: f64, theirs: &serde_json::Value, what: &str, tolerance: f64) {
    let theirs = theirs.as_f64().unwrap_or_else(|| panic!("{what}: numpy gave {theirs}"));
    assert!(
        (ours - theirs).abs() <= tolerance,
        "{what}: ours {ours}, numpy {theirs}"
    );
}

/// Every figure the report shows, ours against numpy's.
fn agree(units: &[Unit]) -> impact::Inference {
    let ours = impact::estimate(units).expect("the design can be estimated");
    let theirs = python(units);
    close(ours.effect, &theirs["effect"], "estimate", 1e-9);
    close(ours.p_value, &theirs["p_value"], "p-value", 1e-12);
    close(ours.min_p, &theirs["min_p"], "smallest p", 1e-12);
    assert_eq!(ours.assignments as u64, theirs["assignments"].as_u64().unwrap());
    assert!(ours.enumerated);
    for (end, mine, what) in [("low", ours.low, "interval low"), ("high", ours.high, "interval high")] {
        match mine {
            Some(v) => close(v, &theirs[end], what, 1e-6),
            None => assert!(theirs[end].is_null(), "{what}: ours open, numpy {}", theirs[end]),
        }
    }
    ours
}

#[test]
#[ignore = "needs python3 with numpy; .ci/run installs it and runs this"]
fn external_numpy_agrees_on_one_start_with_a_suppressed_cell() {
    let units = panel(1, 8, 6, &[(0, 3), (1, 3)], 12.0, 1);
    assert!(units.iter().any(|u| u.cells.contains(&None)));
    let r = agree(&units);
    assert_eq!(r.assignments, 28);
    assert!(r.low.is_some() && r.high.is_some(), "{r:?}");
    assert!(!r.cannot_tell());
}

#[test]
#[ignore = "needs python3 with numpy; .ci/run installs it and runs this"]
fn external_numpy_agrees_on_staggered_starts_and_missing_cells() {
    let units = panel(2, 9, 8, &[(0, 3), (1, 3), (2, 5), (3, 5)], 10.0, 3);
    let r = agree(&units);
    assert_eq!(r.cohorts.len(), 2);
    assert_eq!(r.assignments, 756, "9! / (2! 2! 5!)");
    assert!(r.low.is_some() && r.high.is_some(), "{r:?}");
}

#[test]
#[ignore = "needs python3 with numpy; .ci/run installs it and runs this"]
fn external_numpy_agrees_when_nothing_happened() {
    let units = panel(3, 10, 7, &[(4, 4), (5, 4), (6, 4)], 0.0, 2);
    let r = agree(&units);
    assert_eq!(r.assignments, 120);
}

#[test]
#[ignore = "needs python3 with numpy; .ci/run installs it and runs this"]
fn external_numpy_agrees_that_four_teams_cannot_tell() {
    let units = panel(4, 4, 6, &[(0, 3)], 25.0, 0);
    let r = agree(&units);
    assert_eq!(r.min_p, 0.25);
    assert!(r.cannot_tell() && r.inconclusive());
}
