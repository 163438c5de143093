//! A shard of a sweep: `--shard K/N` runs every N-th run, starting at run K - 1, so each
//! shard gets a mix of every variant and point (heavy and light runs alike), and the N
//! shards together run each run exactly once. `--shard auto` takes K and N from a batch
//! scheduler's environment, so a job array states its size once.

use std::fmt;

/// Shard `k` of `n`, from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 1.
    pub k: usize,
    /// How many shards.
    pub n: usize,
}

impl Shard {
    /// The whole sweep.
    pub const WHOLE: Shard = Shard { k: 1, n: 1 };

    /// Parses `K/N` (1 ≤ K ≤ N).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("`--shard {text}`: expected K/N with 1 ≤ K ≤ N, such as 2/8");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let k: usize = k.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if k == 0 || k > n { Err(bad()) } else { Ok(Shard { k, n }) }
    }

    /// Parses `--shard`: `K/N`, or `auto` (Slurm's job array says which shard and how
    /// many), or `auto/N` (a Kubernetes indexed Job says which; a pod is not told the
    /// Job's completions, so the count is given). `env` looks a variable up.
    pub fn parse_with(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        match text.trim().strip_prefix("auto") {
            Some("") => Shard::from_slurm(&env),
            Some(count) => match count.strip_prefix('/') {
                Some(n) => Shard::from_kubernetes(n, &env),
                None => Shard::parse(text),
            },
            None => Shard::parse(text),
        }
    }

    /// Shard from a Slurm job array's `SLURM_ARRAY_TASK_ID`, `..._COUNT` and `..._MIN`:
    /// `--array=1-8` and `--array=0-7` both give shards 1/8 to 8/8.
    fn from_slurm(env: &impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let var = |name: &str| -> Result<usize, String> {
            let value = env(name).ok_or_else(|| {
                format!(
                    "`--shard auto`: {name} is not set; run it as a Slurm job array \
                     (sbatch --array=1-N), or give the shard as K/N (or auto/N in a \
                     Kubernetes indexed Job)"
                )
            })?;
            value
                .trim()
                .parse()
                .map_err(|_| format!("`--shard auto`: {name}={value} is not a number"))
        };
        let (id, count, min) = (
            var("SLURM_ARRAY_TASK_ID")?,
            var("SLURM_ARRAY_TASK_COUNT")?,
            var("SLURM_ARRAY_TASK_MIN")?,
        );
        match id.checked_sub(min).map(|i| i + 1) {
            Some(k) if k <= count && count > 0 => Ok(Shard { k, n: count }),
            _ => Err(format!(
                "`--shard auto`: task {id} of an array of {count} from {min} is not a shard; \
                 give the array a step of 1 (--array=1-{count})"
            )),
        }
    }

    /// Shard `JOB_COMPLETION_INDEX + 1` of `count`.
    fn from_kubernetes(
        count: &str,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<Shard, String> {
        let bad = || format!("`--shard auto/{count}`: expected auto/N with N ≥ 1, such as auto/8");
        let n: usize = count.trim().parse().map_err(|_| bad())?;
        let index = env("JOB_COMPLETION_INDEX").ok_or_else(|| {
            format!(
                "`--shard auto/{n}`: JOB_COMPLETION_INDEX is not set; run it in a Kubernetes \
                 Job with completionMode: Indexed, or give the shard as K/N"
            )
        })?;
        let index: usize = index.trim().parse().map_err(|_| {
            format!("`--shard auto/{n}`: JOB_COMPLETION_INDEX={index} is not a number")
        })?;
        if n == 0 {
            return Err(bad());
        }
        if index >= n {
            return Err(format!(
                "`--shard auto/{n}`: JOB_COMPLETION_INDEX={index} is not below {n}; give the \
                 Job's completions as the count"
            ));
        }
        Ok(Shard { k: index + 1, n })
    }

    /// Whether this shard runs the run with plan index `index`.
    pub fn selects(&self, index: usize) -> bool {
        index % self.n == self.k - 1
    }

    /// Whether this is the whole sweep.
    pub fn is_whole(&self) -> bool {
        self.n == 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_runs() {
        let shards: Vec<Shard> =
            (1..=3).map(|k| Shard::parse(&format!("{k}/3")).unwrap()).collect();
        for index in 0..20 {
            assert_eq!(shards.iter().filter(|s| s.selects(index)).count(), 1);
        }
        assert!(Shard::WHOLE.selects(7));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Shard::parse(" 2/ 8").unwrap().to_string(), "2/8");
    }

    fn from(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let vars: Vec<(String, String)> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn auto_reads_a_slurm_array_from_one_or_from_zero() {
        let slurm = |id: &str, min: &str| {
            let env = from(&[
                ("SLURM_ARRAY_TASK_ID", id),
                ("SLURM_ARRAY_TASK_COUNT", "8"),
                ("SLURM_ARRAY_TASK_MIN", min),
            ]);
            Shard::parse_with("auto", env)
        };
        assert_eq!(slurm("1", "1"), Ok(Shard { k: 1, n: 8 }));
        assert_eq!(slurm("8", "1"), Ok(Shard { k: 8, n: 8 }));
        assert_eq!(slurm("0", "0"), Ok(Shard { k: 1, n: 8 }));
        assert_eq!(slurm("7", "0"), Ok(Shard { k: 8, n: 8 }));
        // --array=1-15:2 has 8 tasks numbered up to 15: not shards of 8.
        assert!(slurm("15", "1").unwrap_err().contains("step of 1"));
        assert!(slurm("x", "1").unwrap_err().contains("SLURM_ARRAY_TASK_ID=x"));
        let none = Shard::parse_with("auto", from(&[])).unwrap_err();
        assert!(none.contains("SLURM_ARRAY_TASK_ID is not set"), "{none}");
    }

    #[test]
    fn auto_over_a_count_reads_a_kubernetes_index() {
        let k8s = |index: &str, text: &str| {
            Shard::parse_with(text, from(&[("JOB_COMPLETION_INDEX", index)]))
        };
        assert_eq!(k8s("0", "auto/8"), Ok(Shard { k: 1, n: 8 }));
        assert_eq!(k8s("7", "auto/8"), Ok(Shard { k: 8, n: 8 }));
        assert!(k8s("8", "auto/8").unwrap_err().contains("not below 8"));
        assert!(k8s("0", "auto/0").unwrap_err().contains("expected auto/N"));
        assert!(k8s("0", "auto/x").unwrap_err().contains("expected auto/N"));
        assert!(
            Shard::parse_with("auto/3", from(&[])).unwrap_err().contains("JOB_COMPLETION_INDEX")
        );
        // A plain K/N ignores the environment.
        assert_eq!(k8s("5", "2/3"), Ok(Shard { k: 2, n: 3 }));
        assert!(k8s("5", "automatic").is_err());
    }
}
