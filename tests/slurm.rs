//! A sweep run as a real Slurm job array: `tests/slurm/start.sh` starts a single-node
//! cluster (installing Debian's `slurm-wlm` and `munge` as root where they are absent),
//! `sbatch --array=1-3` runs the shortened lag sweep with `--shard auto`, and the merged
//! shards must be the files of a one-machine sweep, byte for byte. Where Slurm cannot be
//! had (not root, no apt-get) the test says it skipped and passes, unless
//! `ARCHSIM_REQUIRE_SLURM` is set (`.ci/run` sets it once it has installed Slurm).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The daemons the start script started, stopped when the test ends however it ends.
struct Cluster {
    started: Vec<String>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // slurmd, slurmctld, then munged: the reverse of their start, each gone before
        // the next is told (slurmctld saving its state still talks to munged).
        for pid in self.started.iter().rev() {
            stop(pid);
        }
    }
}

/// Sends `pid` SIGTERM and waits up to 10 s for it to exit, then SIGKILL.
fn stop(pid: &str) {
    let alive =
        || Command::new("kill").args(["-0", pid]).output().is_ok_and(|o| o.status.success());
    let _ = Command::new("kill").arg(pid).status();
    for _ in 0..100 {
        if !alive() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = Command::new("kill").args(["-9", pid]).status();
}

/// Starts the cluster, or returns why it cannot be had here.
fn start_cluster(scratch: &Path) -> Result<Cluster, String> {
    let pids = scratch.join("started.pids");
    let script = common::root().join("tests/slurm/start.sh");
    let run = Command::new("bash").arg(&script).arg(&pids).output().expect("bash runs");
    let said = String::from_utf8_lossy(&run.stdout).trim().to_string();
    let started = std::fs::read_to_string(&pids).unwrap_or_default();
    let cluster = Cluster { started: started.lines().map(str::to_string).collect() };
    match run.status.code() {
        Some(0) => Ok(cluster),
        Some(3) => Err(said),
        _ => {
            panic!("{} failed:\n{said}\n{}", script.display(), String::from_utf8_lossy(&run.stderr))
        }
    }
}

fn scratch() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("slurm");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The arguments of the shortened lag sweep, then `extra`.
fn sweep_args(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["sweep", "scenarios/sweep_lag_vs_loss.ron"]
        .into_iter()
        .chain(["--set", "duration=\"1m\"", "--threads", "1", "--quiet"])
        .map(str::to_string)
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// The job array's script: each task runs its shard, numbered as Slurm numbers it.
fn job_script(dir: &Path) -> String {
    let binary = env!("CARGO_BIN_EXE_archsim");
    let out = format!("{}/shard-$SLURM_ARRAY_TASK_ID", dir.display());
    let args =
        shlex::try_join(sweep_args(&["--shard", "auto", "--out"]).iter().map(|s| s.as_str()))
            .unwrap();
    format!(
        "#!/bin/bash\n#SBATCH --array=1-3\n#SBATCH --job-name=archsim-lag-sweep\n\
         #SBATCH --output={dir}/task-%a.log\n\
         cd {root}\nexec {binary} {args} \"{out}\"\n",
        dir = dir.display(),
        root = common::root().display(),
    )
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn archsim(args: &[String]) {
    let run = Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .current_dir(common::root())
        .output()
        .expect("archsim runs");
    assert!(run.status.success(), "{args:?}\n{}", String::from_utf8_lossy(&run.stderr));
}

#[test]
fn a_slurm_job_array_sweeps_what_one_machine_sweeps() {
    let dir = scratch();
    let _cluster = match start_cluster(&dir) {
        Ok(cluster) => cluster,
        Err(why) if std::env::var_os("ARCHSIM_REQUIRE_SLURM").is_some() => {
            panic!("ARCHSIM_REQUIRE_SLURM is set, but Slurm cannot be had: {why}")
        }
        Err(why) => {
            eprintln!("skipping the Slurm test: {why}");
            return;
        }
    };
    let script = dir.join("sweep.sbatch");
    std::fs::write(&script, job_script(&dir)).unwrap();
    // --wait returns when every task has ended, non-zero if one failed.
    let submit = Command::new("timeout")
        .args(["600", "sbatch", "--wait", "--parsable"])
        .arg(&script)
        .output()
        .expect("sbatch runs");
    let logs: String = (1..=3)
        .map(|k| std::fs::read_to_string(dir.join(format!("task-{k}.log"))).unwrap_or_default())
        .collect();
    assert!(
        submit.status.success(),
        "the job array failed: {}\n{}\n{logs}",
        String::from_utf8_lossy(&submit.stdout),
        String::from_utf8_lossy(&submit.stderr)
    );
    let shards: Vec<String> = (1..=3).map(|k| format!("{}/shard-{k}", dir.display())).collect();
    for (k, shard) in shards.iter().enumerate() {
        let journal = std::fs::read_to_string(Path::new(shard).join("runs.jsonl")).unwrap();
        let header = journal.lines().next().unwrap();
        assert!(header.contains(&format!("\"shard\":\"{}/3\"", k + 1)), "{header}");
    }
    let merged = dir.join("merged");
    let mut merge = vec!["merge".to_string(), "--quiet".into(), "--out".into()];
    merge.push(merged.display().to_string());
    merge.extend(shards.iter().rev().cloned());
    archsim(&merge);
    let whole = dir.join("whole");
    archsim(&sweep_args(&["--out", &whole.display().to_string()]));
    assert_eq!(files(&merged), files(&whole));
    for name in files(&whole) {
        let (a, b) =
            (std::fs::read(merged.join(&name)).unwrap(), std::fs::read(whole.join(&name)).unwrap());
        assert!(a == b, "{name}: the job array's merge differs from one machine's sweep");
    }
}
