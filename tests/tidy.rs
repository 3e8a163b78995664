//! Tidy: the project's written rules, enforced (after rust-analyzer's tidy.rs).
//!
//! - every source file starts with a `//!` doc saying why it exists;
//! - every controller names the upstream file it follows (`Upstream:`);
//! - no should-panic or ignored tests (tests assert behaviour, not crashes or absence);
//! - no `.unwrap()` outside tests in src/ (bad input must never panic);
//! - no HashMap/HashSet (iteration order would leak into outputs), Rc/RefCell graphs,
//!   or wall-clock reads outside main.rs (determinism).

use crate::util::repo;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The file's text before its `#[cfg(test)]` module.
fn non_test_part(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

fn files(sub: &str) -> Vec<(String, String)> {
    let mut paths = Vec::new();
    rust_files(&repo().join(sub), &mut paths);
    paths
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(repo()).unwrap_or(&p).display().to_string();
            let text = std::fs::read_to_string(&p).expect("readable");
            (rel, text)
        })
        .collect()
}

#[test]
fn every_module_has_a_doc_comment() {
    for (path, text) in files("src")
        .into_iter()
        .chain(files("tests"))
        .chain(files("benches"))
    {
        assert!(
            text.starts_with("//!"),
            "{path} must start with a //! comment saying why it exists"
        );
    }
}

#[test]
fn every_controller_names_its_upstream_source() {
    // A controller is a file directly in src/control/ or a folder there with a mod.rs.
    for (path, text) in files("src/control") {
        let depth = path.matches('/').count();
        let is_controller =
            (depth == 2 && !path.ends_with("/mod.rs")) || (depth == 3 && path.ends_with("/mod.rs"));
        if !is_controller {
            continue;
        }
        let doc: String = text
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            doc.contains("Upstream:"),
            "{path}: controller doc must name its upstream file"
        );
        // kubernetes/kubernetes, kubernetes/autoscaler, or kubernetes-sigs/karpenter.
        assert!(
            doc.contains("kubernetes/") || doc.contains("kubernetes-sigs/"),
            "{path}: name the upstream repository"
        );
        assert!(doc.contains("Simplified"), "{path}: say what is simplified");
    }
}

#[test]
fn no_ignored_or_should_panic_tests() {
    let banned = [concat!("#[should", "_panic"), concat!("#[ig", "nore")];
    for (path, text) in files("src").into_iter().chain(files("tests")) {
        for b in banned {
            assert!(!text.contains(b), "{path} uses {b}");
        }
    }
}

#[test]
fn no_unwrap_outside_tests_in_src() {
    let unwrap = concat!(".unwrap", "()");
    for (path, text) in files("src") {
        for (n, line) in non_test_part(&text).lines().enumerate() {
            assert!(
                !line.contains(unwrap),
                "{path}:{}: unwrap() in non-test code",
                n + 1
            );
        }
    }
}

/// Threads stay where outputs cannot depend on them: rayon's pool runs whole independent
/// runs (`plan/`), and the row store's helper only maps memory ahead of the simulation.
#[test]
fn threads_appear_only_in_plan_and_the_row_store() {
    for (path, text) in files("src") {
        let allowed = path.contains("/plan/") || path.ends_with("row_store.rs");
        for pattern in [concat!("ray", "on::"), concat!("std::", "thread")] {
            assert!(
                allowed || !non_test_part(&text).contains(pattern),
                "{path} uses {pattern}: a run is single-threaded (see ARCHITECTURE.md)"
            );
        }
    }
}

#[test]
fn determinism_rules_hold_in_src() {
    let banned = [
        (
            concat!("Hash", "Map"),
            "iteration order is random; use BTreeMap or Vec",
        ),
        (
            concat!("Hash", "Set"),
            "iteration order is random; use BTreeSet or Vec",
        ),
        (
            concat!("Ref", "Cell"),
            "no Rc/RefCell graphs; use arenas with integer ids",
        ),
        (
            concat!("Rc", "<"),
            "no Rc/RefCell graphs; use arenas with integer ids",
        ),
        (
            concat!("thread_", "rng"),
            "use a named stream from engine::rng",
        ),
        (
            concat!("Instant", "::now"),
            "simulated time only; the wall clock is for main.rs and progress.rs",
        ),
        (
            concat!("System", "Time"),
            "simulated time only; the wall clock is for main.rs and progress.rs",
        ),
    ];
    for (path, text) in files("src") {
        // The binary's terminal output: the summary line and the progress bar.
        if path.ends_with("main.rs") || path.ends_with("progress.rs") {
            continue;
        }
        for (pattern, why) in banned {
            assert!(
                !non_test_part(&text).contains(pattern),
                "{path} uses {pattern}: {why}"
            );
        }
    }
}
