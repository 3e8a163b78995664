//! The catalogue of bad scenarios in tests/data/bad/: each file's first line states where
//! the error must point (`# expect: [FILE:]LINE FIELD | MESSAGE FRAGMENT`). Every one must
//! exit 2 with that location, field and message, for both `validate` and `run`, and never
//! panic or leave a half-written report.

use crate::util::{kubesim, repo, scratch};

struct Expectation {
    file: String,
    line: u32,
    field: String,
    fragment: String,
}

fn expectation(path: &str, text: &str) -> Expectation {
    let header = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# expect: "))
        .unwrap_or_else(|| panic!("{path}: first line must be `# expect: ...`"));
    let (location, fragment) = header.split_once(" | ").unwrap_or((header, ""));
    let (loc, field) = location.split_once(' ').unwrap_or((location, ""));
    let (file, line) = match loc.rsplit_once(':') {
        Some((f, l)) => (format!("tests/data/bad/{f}"), l),
        None => (path.to_string(), loc),
    };
    Expectation {
        file,
        line: line
            .parse()
            .unwrap_or_else(|_| panic!("{path}: bad line in header")),
        field: field.trim().to_string(),
        fragment: fragment.trim().to_string(),
    }
}

fn check(path: &str, stderr: &str, code: i32, exp: &Expectation) {
    assert_eq!(code, 2, "{path}: exit code\n{stderr}");
    assert!(!stderr.contains("panicked"), "{path} panicked:\n{stderr}");
    let first = stderr.lines().next().unwrap_or("");
    let at = format!("error: {}:{}", exp.file, exp.line);
    assert!(
        first.starts_with(&at),
        "{path}: expected `{at}` in:\n{stderr}"
    );
    if !exp.field.is_empty() {
        assert!(
            first.contains(&format!(": {}: ", exp.field)),
            "{path}: field `{}` in:\n{stderr}",
            exp.field
        );
    }
    assert!(
        first.contains(&exp.fragment),
        "{path}: message `{}` in:\n{stderr}",
        exp.fragment
    );
}

#[test]
fn every_bad_scenario_is_rejected_with_file_line_field_and_reason() {
    let dir = repo().join("tests/data/bad");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/bad")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 15,
        "the catalogue needs at least 15 cases, has {}",
        files.len()
    );
    for file in files {
        let rel = format!(
            "tests/data/bad/{}",
            file.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        let text = std::fs::read_to_string(&file).expect("readable");
        let exp = expectation(&rel, &text);
        let v = kubesim(&["validate", &rel]);
        check(&rel, &v.stderr, v.code, &exp);
        let out = scratch("bad");
        let out_s = out.join("report").to_string_lossy().into_owned();
        let r = kubesim(&["run", &rel, "--out", &out_s]);
        check(&rel, &r.stderr, r.code, &exp);
        assert!(
            !out.join("report").exists(),
            "{rel}: a rejected scenario must not create reports"
        );
    }
}

#[test]
fn empty_and_missing_files_name_the_file() {
    let dir = scratch("empty");
    let empty = dir.join("empty.yaml");
    std::fs::write(&empty, "\n  \n").expect("write");
    let r = kubesim(&["validate", &empty.to_string_lossy()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("empty.yaml: the file is empty"),
        "{}",
        r.stderr
    );
    let r = kubesim(&["run", "no/such/scenario.yaml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("no/such/scenario.yaml: cannot read the scenario"),
        "{}",
        r.stderr
    );
}

#[test]
fn several_errors_are_reported_together() {
    let dir = scratch("multi");
    let f = dir.join("multi.yaml");
    std::fs::write(
        &f,
        "name: t\nduration: 1h\ncluster:\n  pools:\n    - {name: a, instanceType: m5.large, count: -1}\nworkloads:\n  - name: w\n    replicas: -2\n    template: {spec: {containers: [{name: c}]}}\n",
    )
    .expect("write");
    let r = kubesim(&["validate", &f.to_string_lossy()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(":5:")
            && r.stderr
                .contains("cluster.pools[0].count: -1 must be 0 or more"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(":8:")
            && r.stderr
                .contains("workloads[0].replicas: -2 must be 0 or more"),
        "{}",
        r.stderr
    );
}
