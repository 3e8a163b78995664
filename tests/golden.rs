//! Golden outputs: the quickstart's summary and node table are pinned byte for byte, so any
//! change to what a run reports is a deliberate one. Regenerate with
//! `KUBESIM_UPDATE_GOLDEN=1 cargo test golden` (ignored when CI=true) and review the diff.

use crate::util::{repo, run_scenario};

#[test]
fn quickstart_outputs_match_the_golden_files() {
    let dir = run_scenario("scenarios/quickstart.yaml", &[]);
    let golden = repo().join("tests/golden/quickstart");
    let update = std::env::var_os("KUBESIM_UPDATE_GOLDEN").is_some()
        && std::env::var("CI").as_deref() != Ok("true");
    for f in ["summary.json", "summary.csv", "nodes.csv"] {
        let got = std::fs::read_to_string(dir.join(f)).expect("run output");
        let path = golden.join(f);
        if update {
            std::fs::create_dir_all(&golden).expect("golden dir");
            std::fs::write(&path, &got).expect("write golden");
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run with KUBESIM_UPDATE_GOLDEN=1 to create it)",
                path.display()
            )
        });
        assert_eq!(got, want, "{f} differs from {}", path.display());
    }
}
