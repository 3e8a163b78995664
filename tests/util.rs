//! Helpers: run the real binary, make scratch folders, read CSV files.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The repository root; tests run the binary from here so relative paths match the docs.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What a run of the binary printed and returned.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `kubesim ARGS` in `cwd`.
pub fn kubesim_in(cwd: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the kubesim binary runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `kubesim ARGS` from the repository root.
pub fn kubesim(args: &[&str]) -> Output {
    kubesim_in(repo(), args)
}

/// A fresh, empty scratch folder unique to this test process and call.
pub fn scratch(tag: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("kubesim-test-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Runs a scenario into a scratch folder with `--check --quiet` plus `extra` flags;
/// returns the folder. Panics with the binary's stderr when it fails.
pub fn run_scenario(scenario: &str, extra: &[&str]) -> PathBuf {
    let out = scratch("run");
    let out_s = out.to_string_lossy().into_owned();
    let mut args = vec!["run", scenario, "--check", "--quiet", "--out", &out_s];
    args.extend_from_slice(extra);
    let res = kubesim(&args);
    assert!(
        res.code == 0 || res.code == 1,
        "kubesim {args:?} failed: {}",
        res.stderr
    );
    out
}

/// A CSV file as (header, rows of fields). Fields in these files are never quoted except
/// messages, which tests read only whole.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap_or("")
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines.map(split_csv_line).collect();
    (header, rows)
}

fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

/// The value of column `name` in `row`.
pub fn col<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    &row[i]
}

/// The scenarios shipped in scenarios/, as paths relative to the repository, sorted.
pub fn shipped_scenarios() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("scenarios"))
        .expect("scenarios/")
        .filter_map(|e| e.ok())
        .map(|e| format!("scenarios/{}", e.file_name().to_string_lossy()))
        .filter(|p| p.ends_with(".yaml"))
        .collect();
    files.sort();
    files
}

/// summary.json of a run folder.
pub fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json");
    serde_json::from_str(&text).expect("summary.json is JSON")
}

/// Writes `scenario` with `from` replaced by `to` into a scratch folder and returns its
/// path (the fixtures it is used on name no relative files).
pub fn variant(scenario: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo().join(scenario)).expect("fixture");
    assert!(text.contains(from), "{scenario} has no `{from}`");
    let dir = scratch("variant");
    let path = dir.join("variant.yaml");
    std::fs::write(&path, text.replace(from, to)).expect("write variant");
    path
}

/// (time, kind, object, reason, message) of every row of a run's events.csv.
pub fn events(dir: &Path) -> Vec<(f64, String, String, String, String)> {
    let (h, rows) = read_csv(&dir.join("events.csv"));
    rows.iter()
        .map(|r| {
            (
                col(&h, r, "time_s").parse().expect("time"),
                col(&h, r, "kind").to_string(),
                col(&h, r, "object").to_string(),
                col(&h, r, "reason").to_string(),
                col(&h, r, "message").to_string(),
            )
        })
        .collect()
}
