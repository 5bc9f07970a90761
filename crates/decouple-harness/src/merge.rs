//! `decouple merge DIR...`: combines the output folders of the shards of one
//! sweep (or one shared folder they all wrote to) into a single sweep folder:
//! every complete run folder is copied (atomically) into `OUT/runs/`, and
//! `sweep.csv` and the plots are written over the whole sweep. The result is
//! the folder an unsharded sweep would have written; rerunning the sweep on
//! it finds every run complete.

use std::path::{Path, PathBuf};

use crate::manifest::{SweepManifest, default_out, write_manifest};
use crate::run_folder::{completed, copy_run, remove_partials};
use crate::sweep_results::{self, Tally};
use crate::{HarnessError, SweepFolder};

/// What a merge did.
#[derive(Debug, Clone)]
pub struct MergeOutcome {
    /// The merged folder.
    pub out: PathBuf,
    /// Runs in the sweep.
    pub runs: usize,
    /// Statuses over the whole sweep.
    pub tally: Tally,
    /// Names of the runs no folder had complete.
    pub missing: Vec<String>,
}

fn manifest(dir: &Path) -> crate::Result<SweepManifest> {
    let path = dir.join("sweep.json");
    let text = std::fs::read_to_string(&path)
        .map_err(HarnessError::io("reading", &path))
        .map_err(|error| error.within(format!("{} is not a sweep folder", dir.display())))?;
    serde_json::from_str(&text).map_err(|error| HarnessError::Json { what: format!("parsing {}", path.display()), error })
}

fn same_folder(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// Merges `dirs` into `out` (default `results/sweeps/NAME`).
///
/// # Errors
/// A folder that is not a sweep folder, folders of different sweeps, I/O failure.
pub fn merge(dirs: &[PathBuf], out: Option<PathBuf>) -> crate::Result<MergeOutcome> {
    let Some(first) = dirs.first() else { return Err(HarnessError::invalid("", "give at least one sweep folder")) };
    let reference = manifest(first)?;
    for dir in &dirs[1..] {
        let other = manifest(dir)?;
        if other.plan_hash != reference.plan_hash {
            let folder = |dir: &PathBuf, manifest: SweepManifest| {
                Box::new(SweepFolder { dir: dir.clone(), name: manifest.name, plan: manifest.plan_hash })
            };
            return Err(HarnessError::DifferentSweeps { first: folder(first, reference), other: folder(dir, other) });
        }
    }
    let out = out.unwrap_or_else(|| default_out(&reference.name));
    std::fs::create_dir_all(out.join("runs")).map_err(HarnessError::io("creating", &out))?;
    write_manifest(&out, &reference)?;
    let mut missing = Vec::new();
    for run in &reference.runs {
        let target = out.join("runs").join(&run.name);
        if completed(&target, &run.config_hash).is_some() {
            continue;
        }
        let source = dirs.iter().map(|dir| dir.join("runs").join(&run.name)).find(|source| completed(source, &run.config_hash).is_some());
        match source {
            Some(source) if !same_folder(&source, &target) => {
                // One writer per run folder: a run being written there now is not replaced.
                let _lock = crate::folder_lock::FolderLock::acquire(&target)?;
                remove_partials(&target)?;
                copy_run(&source, &target)?;
            }
            _ => missing.push(run.name.clone()),
        }
    }
    let indices: Vec<usize> = reference.runs.iter().map(|run| run.index).collect();
    let tally = sweep_results::write(&out, &reference, &indices, "sweep.csv", true)?;
    Ok(MergeOutcome { out, runs: reference.runs.len(), tally, missing })
}
