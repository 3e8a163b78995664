//! Shards: one machine's slice of a plan or a comparison, so a batch system can spread the
//! work (`kubesim merge` joins the slices into what one machine would have written).
//!
//! Shard `I/N` counts from 0, as a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX` does.
//! Without `--shard`, the index and count come from the environment: `JOB_COMPLETION_INDEX`
//! with `KUBESIM_SHARDS` (or `JOB_COMPLETIONS`; Kubernetes exposes no count, so the
//! manifest in deploy/ sets it), or Slurm's `SLURM_ARRAY_TASK_ID` (less
//! `SLURM_ARRAY_TASK_MIN`) with `SLURM_ARRAY_TASK_COUNT`.

/// Slice `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// From 0.
    pub index: u32,
    /// At least 1.
    pub count: u32,
}

impl Shard {
    /// Whether item `i` of a fixed, ordered list belongs to this shard (round robin, so
    /// every shard gets a fair share of early and late items).
    pub fn owns(&self, i: usize) -> bool {
        i % self.count as usize == self.index as usize
    }

    /// `I/N` text.
    pub fn label(&self) -> String {
        format!("{}/{}", self.index, self.count)
    }
}

/// Parses `I/N` (0 ≤ I < N).
pub fn parse_shard(text: &str) -> Result<Shard, String> {
    let bad = || format!("--shard `{text}`: expected I/N with 0 ≤ I < N, e.g. 0/4");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let index: u32 = i.trim().parse().map_err(|_| bad())?;
    let count: u32 = n.trim().parse().map_err(|_| bad())?;
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

/// The shard the environment names (None when it names none); `var` reads a variable.
pub fn shard_from_env(var: &dyn Fn(&str) -> Option<String>) -> Result<Option<Shard>, String> {
    let num = |name: &str| -> Result<Option<u32>, String> {
        match var(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("{name}={v}: expected a whole number")),
        }
    };
    if let Some(index) = num("JOB_COMPLETION_INDEX")? {
        let count = match num("KUBESIM_SHARDS")? {
            Some(c) => c,
            None => num("JOB_COMPLETIONS")?.ok_or_else(|| {
                "JOB_COMPLETION_INDEX is set but not KUBESIM_SHARDS (the Job's completions): set it, or pass --shard I/N".to_string()
            })?,
        };
        return parse_shard(&format!("{index}/{count}")).map(Some);
    }
    if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let count = num("SLURM_ARRAY_TASK_COUNT")?.ok_or_else(|| {
            "SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT".to_string()
        })?;
        let index = id.checked_sub(min).ok_or_else(|| {
            format!("SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}")
        })?;
        return parse_shard(&format!("{index}/{count}")).map(Some);
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|p| p.0 == k).map(|p| p.1.to_string())
    }

    #[test]
    fn shards_parse_and_split_round_robin() {
        let s = parse_shard("1/3").expect("ok");
        assert_eq!((s.index, s.count), (1, 3));
        assert!(s.owns(1) && s.owns(4) && !s.owns(0) && !s.owns(2));
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_environment_names_the_shard_as_kubernetes_or_slurm_do() {
        assert_eq!(shard_from_env(&env(&[])), Ok(None));
        let k = shard_from_env(&env(&[
            ("JOB_COMPLETION_INDEX", "2"),
            ("KUBESIM_SHARDS", "4"),
        ]));
        assert_eq!(k, Ok(Some(Shard { index: 2, count: 4 })));
        assert!(shard_from_env(&env(&[("JOB_COMPLETION_INDEX", "2")])).is_err());
        // Slurm arrays may start at 1: --array=1-4 gives ids 1..4, min 1, count 4.
        let s = shard_from_env(&env(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]));
        assert_eq!(s, Ok(Some(Shard { index: 3, count: 4 })));
        assert!(shard_from_env(&env(&[("SLURM_ARRAY_TASK_ID", "x")])).is_err());
    }
}
