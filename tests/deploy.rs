//! deploy/: the Slurm array script really shards a plan, and the Indexed Job's shard count
//! matches its completions.

use crate::util::{kubesim, repo, scratch};

#[test]
fn the_slurm_array_script_shards_a_plan_that_merges_into_one_machines_result() {
    let whole = scratch("slurm-whole");
    let r = kubesim(&[
        "plan",
        "tests/data/plans/small.yaml",
        "--quiet",
        "--out",
        &whole.to_string_lossy(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // `kubesim` on PATH, as on a cluster node.
    let bin = scratch("slurm-bin");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kubesim"), bin.join("kubesim"))
        .expect("symlink");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let shards = scratch("slurm-shards");
    // sbatch --array=1-2: task ids 1 and 2, min 1, count 2.
    for id in ["1", "2"] {
        let out = std::process::Command::new("bash")
            .arg("deploy/slurm/plan-array.sh")
            .current_dir(repo())
            .env("PATH", &path)
            .env("PLAN", "tests/data/plans/small.yaml")
            .env("OUT", &shards)
            .env("SLURM_ARRAY_TASK_ID", id)
            .env("SLURM_ARRAY_TASK_MIN", "1")
            .env("SLURM_ARRAY_TASK_COUNT", "2")
            .env("SLURM_CPUS_PER_TASK", "1")
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let merged = scratch("slurm-merged");
    let r = kubesim(&[
        "merge",
        &shards.join("shard-1").to_string_lossy(),
        &shards.join("shard-2").to_string_lossy(),
        "--out",
        &merged.to_string_lossy(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for f in ["plan.csv", "index.html"] {
        assert_eq!(
            std::fs::read(merged.join(f)).expect(f),
            std::fs::read(whole.join(f)).expect(f),
            "{f}"
        );
    }
    // Outside an array task the script refuses to run.
    let out = std::process::Command::new("bash")
        .arg("deploy/slurm/plan-array.sh")
        .current_dir(repo())
        .env("PATH", &path)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .expect("bash runs");
    assert!(!out.status.success());
}

#[test]
fn the_indexed_job_tells_kubesim_its_shard_count() {
    let text = std::fs::read_to_string(repo().join("deploy/kubernetes/plan-indexed-job.yaml"))
        .expect("manifest");
    let job_text = text.split("\n---\n").next().expect("first document");
    let job: serde_json::Value = serde_saphyr::from_str(job_text).expect("valid YAML");
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    let completions = job["spec"]["completions"].as_u64().expect("completions");
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    let shards = container["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == "KUBESIM_SHARDS")
        .and_then(|e| e["value"].as_str())
        .and_then(|v| v.parse::<u64>().ok());
    assert_eq!(
        shards,
        Some(completions),
        "KUBESIM_SHARDS must equal completions"
    );
    let args = container["args"][0].as_str().expect("args");
    assert!(args.contains("kubesim plan") && args.contains("$JOB_COMPLETION_INDEX"));
    let merge: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(repo().join("deploy/kubernetes/plan-merge-job.yaml"))
            .expect("merge manifest"),
    )
    .expect("valid YAML");
    assert!(
        merge["spec"]["template"]["spec"]["containers"][0]["args"][0]
            .as_str()
            .is_some_and(|a| a.contains("kubesim merge"))
    );
}
