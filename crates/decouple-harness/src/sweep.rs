//! Sweeps: a base config times a grid of field values times seeds, one run
//! folder per point, resumable and shardable.
//!
//! A sweep file (TOML, or JSON) has the fields
//! `name` (default: the file stem), `base` (a run config file, relative to the
//! sweep file, or an inline table; either is overlaid on the docs/model.md §7
//! default), `[grid]` (dotted field paths, each to a list of values),
//! `seeds` (a list, or a count `n` for seeds `0..n`; default: the base seed),
//! `[evaluation]` (sample sizes) and `[plot]` (`metrics`, and the axes `x`
//! and `y`). Axes are ordered by their path; runs are the product of the
//! axes (last axis fastest) with the seeds innermost, numbered from 0.
//!
//! **Sharding.** `--shard I/N` (1 <= I <= N) runs exactly the runs whose
//! number `k` has `k mod N = I - 1`: a deterministic partition that needs no
//! coordination, and that interleaves the grid so shards cost about the same.
//!
//! **Resuming.** A run whose folder is complete with the same config hash
//! (see `run_folder`) is skipped; anything else (missing, killed midway,
//! truncated or missing files, changed config) is redone. A complete run
//! made by other code (another decouple version or git commit), or trained
//! on a data file whose bytes have changed since, is *stale*: the sweep
//! stops before training and says how many there are, unless told to redo
//! them (`--rerun-stale`) or keep them (`--accept-stale`).
//!
//! Relative data-file paths in the sweep file (its inline `base` and its
//! `grid` values of `data.path` and `data.labels`) resolve against the
//! sweep file's folder; those of a `base` file against that file's folder.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config_file::{self, RunConfig, label, overlay, set_path};
use crate::error::Within as _;
use crate::manifest::{Axis, PlannedRun, PlotSpec, SweepManifest, default_metrics, default_out, sanitize, write_manifest};
use crate::run_folder::{self, FolderHooks, FolderState, Origin};
use crate::sweep_results::{self, METRICS, Tally};
use crate::training::{Execution, RunSpec, execute_each};
use crate::{CodeVersion, HarnessError, code_version};
use decouple_train::Registry;

/// Most runs one sweep may have.
pub const MAX_RUNS: usize = 100_000;

/// A loaded sweep: its manifest and the config of every run.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The plan.
    pub manifest: SweepManifest,
    /// `configs[k]` is the config of run `k`.
    pub configs: Vec<RunConfig>,
    /// The sweep file.
    pub file: String,
}

/// `I/N`: this machine runs shard `I` of `N` (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// `I`, in `1..=N`.
    pub index: usize,
    /// `N >= 1`.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let parse = |part: &str| part.trim().parse::<usize>().ok();
        match text.split_once('/').map(|(index, count)| (parse(index), parse(count))) {
            Some((Some(index), Some(count))) if count >= 1 && (1..=count).contains(&index) => Ok(Self { index, count }),
            _ => Err(format!("`{text}` is not a shard I/N with 1 <= I <= N (e.g. 1/4)")),
        }
    }
}

impl Shard {
    /// Whether run number `run` belongs to this shard (`run mod N = I - 1`).
    #[must_use]
    pub fn contains(&self, run: usize) -> bool {
        run % self.count == self.index - 1
    }
}

const SWEEP_FIELDS: [&str; 6] = ["name", "base", "grid", "seeds", "evaluation", "plot"];

/// Reads a sweep file.
///
/// # Errors
/// Any invalid input, prefixed with the file name.
pub fn load_sweep(file: &Path) -> crate::Result<Sweep> {
    load_sweep_with(file, &Registry::default())
}

/// Reads a sweep file whose named parts resolve through `registry`.
///
/// # Errors
/// Any invalid input, prefixed with the file name.
pub fn load_sweep_with(file: &Path, registry: &Registry) -> crate::Result<Sweep> {
    let document = config_file::read_document(file)?;
    let stem = file.file_stem().map_or_else(|| "sweep".into(), |stem| stem.to_string_lossy().into_owned());
    let mut sweep = parse_sweep_with(document, file.parent(), &stem, registry).within(|| file.display().to_string())?;
    sweep.file = file.display().to_string();
    Ok(sweep)
}

/// Builds a sweep from a parsed document; `dir` resolves a `base` path.
///
/// # Errors
/// Unknown fields, bad values, grid paths that do not exist, runs whose
/// config is invalid (named by their values), too many runs.
pub fn parse_sweep(document: Value, dir: Option<&Path>, default_name: &str) -> crate::Result<Sweep> {
    parse_sweep_with(document, dir, default_name, &Registry::default())
}

/// [`parse_sweep`], with named parts resolved through `registry`.
///
/// # Errors
/// As [`parse_sweep`].
pub fn parse_sweep_with(document: Value, dir: Option<&Path>, default_name: &str, registry: &Registry) -> crate::Result<Sweep> {
    let Value::Object(mut fields) = document else { return Err(HarnessError::invalid("", "a sweep file is a table")) };
    if let Some(unknown) = fields.keys().find(|key| !SWEEP_FIELDS.contains(&key.as_str())) {
        let valid = SWEEP_FIELDS.map(|field| format!("`{field}`")).join(", ");
        return Err(HarnessError::invalid(unknown.clone(), format!("unknown field `{unknown}` of a sweep file; valid fields: {valid}")));
    }
    let name = match fields.remove("name") {
        None => default_name.to_string(),
        Some(Value::String(name)) if !name.trim().is_empty() => name,
        Some(other) => return Err(HarnessError::invalid("name", format!("name: expected a non-empty string, found {other}"))),
    };
    let here = dir.unwrap_or(Path::new(""));
    let mut base = config_file::default_tree();
    match fields.remove("base") {
        None => {}
        Some(Value::String(path)) => {
            let path = dir.map_or_else(|| PathBuf::from(&path), |dir| dir.join(&path));
            let mut document = config_file::read_document(&path)?;
            config_file::upgrade_document(&mut document).within(|| format!("base {}", path.display()))?;
            config_file::resolve_document_paths(&mut document, path.parent().unwrap_or(Path::new("")));
            base = config_file::base_tree(&document);
            overlay(&mut base, document, "").within(|| format!("base {}", path.display()))?;
        }
        Some(mut table @ Value::Object(_)) => {
            config_file::upgrade_document(&mut table).within(|| "base".into())?;
            config_file::resolve_document_paths(&mut table, here);
            base = config_file::base_tree(&table);
            overlay(&mut base, table, "").within(|| "base".into())?;
        }
        Some(other) => {
            return Err(HarnessError::invalid("base", format!("base: expected a config file path or a table, found {other}")));
        }
    }
    if let Some(evaluation) = fields.remove("evaluation") {
        set_path(&mut base, "evaluation", evaluation)?;
    }
    let mut axes = Vec::new();
    if let Some(grid) = fields.remove("grid") {
        flatten_grid(grid, "", &mut axes)?;
    }
    for (path, values) in &mut axes {
        if config_file::PATH_FIELDS.contains(&path.as_str()) {
            for value in values.iter_mut() {
                if let Value::String(text) = value {
                    *text = config_file::resolve_path(text, here);
                }
            }
        }
    }
    if axes.iter().any(|(path, _)| path == "seed") {
        return Err(HarnessError::invalid("grid.seed", "grid: sweep seeds with `seeds = [..]` (or a count), not a grid over `seed`"));
    }
    let axes = shorten(axes);
    let seeds = match fields.remove("seeds") {
        None => vec![base.get("seed").and_then(Value::as_u64).unwrap_or(0)],
        Some(Value::Number(count)) => match count.as_u64() {
            Some(count @ 1..=10_000) => (0..count).collect(),
            _ => {
                let message = format!("seeds = {count} is out of range: a count must be in [1, 10000] (or give a list)");
                return Err(HarnessError::invalid("seeds", message));
            }
        },
        Some(Value::Array(items)) => {
            let seeds: Option<Vec<u64>> = items.iter().map(Value::as_u64).collect();
            match seeds {
                Some(seeds) if !seeds.is_empty() && seeds.iter().collect::<HashSet<_>>().len() == seeds.len() => seeds,
                _ => return Err(HarnessError::invalid("seeds", "seeds: expected a non-empty list of distinct non-negative integers")),
            }
        }
        Some(other) => {
            return Err(HarnessError::invalid("seeds", format!("seeds: expected a count or a list of integers, found {other}")));
        }
    };
    let plot: PlotSpec = match fields.remove("plot") {
        None => PlotSpec { metrics: default_metrics(), x: None, y: None },
        Some(plot) => serde_json::from_value(plot).map_err(|error| HarnessError::invalid("plot", format!("plot: {error}")))?,
    };
    check_plot(&plot, &axes)?;
    let points = axes.iter().try_fold(1usize, |total, axis| total.checked_mul(axis.values.len()));
    match points.and_then(|points| points.checked_mul(seeds.len())) {
        Some(total) if total <= MAX_RUNS => {}
        _ => return Err(HarnessError::invalid("grid", format!("the grid times the seeds has more than {MAX_RUNS} runs"))),
    }
    expand(name, base, axes, seeds, plot, registry)
}

fn flatten_grid(node: Value, path: &str, axes: &mut Vec<(String, Vec<Value>)>) -> crate::Result<()> {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                flatten_grid(value, &if path.is_empty() { key } else { format!("{path}.{key}") }, axes)?;
            }
            Ok(())
        }
        Value::Array(values) if !values.is_empty() && !path.is_empty() => {
            axes.push((path.to_string(), values));
            Ok(())
        }
        Value::Array(_) => {
            Err(HarnessError::invalid(format!("grid.{path}"), format!("grid.{path}: a grid entry needs at least one value")))
        }
        other => {
            let field = if path.is_empty() { "grid".to_string() } else { format!("grid.{path}") };
            Err(HarnessError::invalid(field.clone(), format!("{field}: expected a list of values, found {other}")))
        }
    }
}

/// Gives every axis the shortest path suffix no other axis shares.
fn shorten(axes: Vec<(String, Vec<Value>)>) -> Vec<Axis> {
    let suffix =
        |path: &str, segments: usize| path.rsplit('.').take(segments).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(".");
    axes.iter()
        .map(|(path, values)| {
            let depth = path.split('.').count();
            let short = (1..=depth)
                .map(|segments| suffix(path, segments))
                .find(|candidate| {
                    axes.iter()
                        .filter(|(other, _)| other != path)
                        .all(|(other, _)| suffix(other, candidate.split('.').count()) != *candidate)
                })
                .unwrap_or_else(|| path.clone());
            Axis { path: path.clone(), short, values: values.clone() }
        })
        .collect()
}

fn check_plot(plot: &PlotSpec, axes: &[Axis]) -> crate::Result<()> {
    if let Some(unknown) = plot.metrics.iter().find(|metric| !METRICS.contains(&metric.as_str())) {
        let message = format!("plot.metrics: unknown metric `{unknown}`; known: {}", METRICS.join(", "));
        return Err(HarnessError::invalid("plot.metrics", message));
    }
    for (field, axis) in [("x", &plot.x), ("y", &plot.y)] {
        if let Some(axis) = axis {
            if !axes.iter().any(|known| &known.path == axis || &known.short == axis) {
                let paths: Vec<&str> = axes.iter().map(|known| known.path.as_str()).collect();
                let message = format!("plot.{field}: `{axis}` is not a swept field; swept: {}", paths.join(", "));
                return Err(HarnessError::invalid(format!("plot.{field}"), message));
            }
        }
    }
    Ok(())
}

fn expand(name: String, base: Value, axes: Vec<Axis>, seeds: Vec<u64>, plot: PlotSpec, registry: &Registry) -> crate::Result<Sweep> {
    let points: usize = axes.iter().map(|axis| axis.values.len()).product();
    let (mut runs, mut configs, mut names) = (Vec::new(), Vec::new(), HashSet::new());
    for point in 0..points {
        let mut coords = vec![0; axes.len()];
        let mut rest = point;
        for (slot, axis) in coords.iter_mut().zip(&axes).rev() {
            *slot = rest % axis.values.len();
            rest /= axis.values.len();
        }
        let mut tree = base.clone();
        let mut parts = Vec::new();
        for (axis, &coord) in axes.iter().zip(&coords) {
            let value = &axis.values[coord];
            set_path(&mut tree, &axis.path, value.clone()).within(|| format!("grid {} = {}", axis.path, label(value)))?;
            parts.push(format!("{}={}", axis.short, sanitize(&label(value), 40)));
        }
        for &seed in &seeds {
            let mut tree = tree.clone();
            set_path(&mut tree, "seed", Value::from(seed))?;
            let describe = || parts.iter().cloned().chain([format!("seed={seed}")]).collect::<Vec<_>>().join(", ");
            let config = config_file::resolve_with(&tree, registry).within(|| format!("run {}", describe()))?;
            let config_hash = config.hash();
            let run_name =
                parts.iter().cloned().chain([format!("seed={seed}"), config_hash[..8].to_string()]).collect::<Vec<_>>().join("_");
            if !names.insert(run_name.clone()) {
                let message = format!("the grid gives the same run twice ({}): remove the repeated value", describe());
                return Err(HarnessError::invalid("grid", message));
            }
            runs.push(PlannedRun { index: runs.len(), name: run_name, seed, coords: coords.clone(), config_hash });
            configs.push(config);
        }
    }
    let listing: String = runs.iter().map(|run| format!("{} {}\n", run.name, run.config_hash)).collect();
    let plan_hash = config_file::hash_text(&listing);
    Ok(Sweep { manifest: SweepManifest { name, axes, seeds, plot, runs, plan_hash }, configs, file: String::new() })
}

pub use crate::run_folder::StalePolicy;

/// Options of `decouple sweep`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SweepOptions {
    /// Output folder (default `results/sweeps/NAME`).
    pub out: Option<PathBuf>,
    /// Runs in parallel (at most).
    pub jobs: usize,
    /// Only this shard.
    pub shard: Option<Shard>,
    /// What to do with complete runs made by other code.
    pub stale: StalePolicy,
    /// Threads per run, where progress goes and the registry of named parts.
    pub execution: Execution,
}

impl SweepOptions {
    /// `jobs` runs in parallel, all shards, the default output folder, stale runs refused, the default execution.
    #[must_use]
    pub fn new(jobs: usize) -> Self {
        Self { out: None, jobs, shard: None, stale: StalePolicy::Refuse, execution: Execution::default() }
    }
}

/// What a sweep invocation did.
#[derive(Debug, Clone)]
pub struct SweepOutcome {
    /// The output folder.
    pub out: PathBuf,
    /// Runs of this shard.
    pub runs: usize,
    /// Statuses of this shard's runs after it.
    pub tally: Tally,
    /// The table written.
    pub table: PathBuf,
}

/// The state of every run of a sweep's shard, before it runs.
#[derive(Debug, Clone)]
pub struct Survey {
    /// The sweep.
    pub sweep: Sweep,
    /// Its output folder.
    pub out: PathBuf,
    /// The shard.
    pub shard: Shard,
    /// The run numbers of the shard, each with the state of its folder.
    pub runs: Vec<(usize, FolderState)>,
}

impl Survey {
    /// The data digest run `index` is configured with now.
    #[must_use]
    pub fn digest(&self, index: usize) -> Option<&str> {
        self.sweep.configs[index].data_digest()
    }

    /// Complete runs made by other code than `current`, or on data that changed since.
    #[must_use]
    pub fn stale(&self, current: &CodeVersion) -> Vec<usize> {
        self.runs
            .iter()
            .filter(|(index, state)| matches!(state, FolderState::Complete(summary) if summary.is_stale(current, self.digest(*index))))
            .map(|(index, _)| *index)
            .collect()
    }

    /// One line per run: its name, config hash and state (what `sweep --dry-run` prints).
    #[must_use]
    pub fn listing(&self, current: &CodeVersion) -> String {
        let mut text = String::new();
        for (index, state) in &self.runs {
            let run = &self.sweep.manifest.runs[*index];
            let state = match state {
                FolderState::Missing => "to run".to_string(),
                FolderState::Incomplete { step, steps } => format!("incomplete at step {step} of {steps}: to run again"),
                FolderState::Damaged(reason) => format!("damaged ({reason}): to run again"),
                FolderState::OtherConfig => "another config in its folder: to run again".to_string(),
                FolderState::Complete(summary) => match summary.stale_reason(current, self.digest(*index)) {
                    Some(reason) => format!("complete, {reason}"),
                    None => "complete".to_string(),
                },
            };
            text.push_str(&format!("{:>5} {} {} {state}\n", run.index, run.config_hash, run.name));
        }
        text
    }
}

/// Loads the sweep file and reads the state of each of the shard's run folders (writes nothing).
///
/// # Errors
/// Invalid sweep file.
pub fn survey(file: &Path, options: &SweepOptions) -> crate::Result<Survey> {
    let sweep = load_sweep_with(file, &options.execution.registry)?;
    let out = options.out.clone().unwrap_or_else(|| default_out(&sweep.manifest.name));
    let shard = options.shard.unwrap_or(Shard { index: 1, count: 1 });
    let runs = sweep
        .manifest
        .runs
        .iter()
        .filter(|run| shard.contains(run.index))
        .map(|run| (run.index, run_folder::inspect(&out.join("runs").join(&run.name), &run.config_hash)))
        .collect();
    Ok(Survey { sweep, out, shard, runs })
}

/// `decouple sweep`: checks that the folder can be written, runs this shard's
/// incomplete runs (and stale ones, as `options.stale` says), writing each
/// folder as it trains, then writes the table (`sweep.csv`, or
/// `sweep-shard-I-of-N.csv` for a shard) and, unsharded, the plots.
///
/// # Errors
/// Invalid sweep file, unwritable folder, stale runs under
/// [`StalePolicy::Refuse`], I/O failure (failed runs are not errors).
pub fn run_sweep(file: &Path, options: &SweepOptions) -> crate::Result<SweepOutcome> {
    let Survey { sweep, out, shard, runs } = survey(file, options)?;
    let manifest = &sweep.manifest;
    let runs_dir = out.join("runs");
    crate::check_writable(&runs_dir)?;
    let current = code_version();
    let (mut complete, mut stale, mut incomplete, mut damaged) = (0, Vec::new(), 0, 0);
    let (mut data_stale, mut refused) = (0, 0);
    let mut pending = Vec::new();
    for (position, (index, state)) in runs.iter().enumerate() {
        let finished = match state {
            // A refusal depends on the memory free at the time: tried again.
            FolderState::Complete(summary) if summary.was_refused() => {
                refused += 1;
                false
            }
            FolderState::Complete(summary) => {
                complete += 1;
                if let Some(reason) = summary.stale_reason(current, sweep.configs[*index].data_digest()) {
                    data_stale += usize::from(summary.code_version() == *current);
                    stale.push((position, reason));
                }
                true
            }
            FolderState::Incomplete { .. } => {
                incomplete += 1;
                false
            }
            FolderState::Damaged(_) => {
                damaged += 1;
                false
            }
            _ => false,
        };
        if finished {
            // A writer killed after finishing the folder leaves its (unheld) lock file.
            crate::folder_lock::clear_unheld(&runs_dir.join(&manifest.runs[*index].name));
        } else {
            // (Partial folders of killed attempts are removed by the run's own start, under its folder lock.)
            pending.push(position);
        }
    }
    let stale_words = match (stale.first(), options.stale) {
        (None, _) => String::new(),
        (Some((_, found)), StalePolicy::Refuse) => {
            return Err(HarnessError::Stale {
                dir: runs_dir,
                stale: stale.len(),
                complete,
                found: found.clone(),
                current: current.short(),
            });
        }
        (Some(_), StalePolicy::Rerun) => {
            pending.extend(stale.iter().map(|(position, _)| *position));
            pending.sort_unstable();
            format!(" ({}, to run again)", stale_count(stale.len(), data_stale))
        }
        (Some(_), _) => format!(" ({}, kept)", stale_count(stale.len(), data_stale)),
    };
    write_manifest(&out, manifest)?;
    let skipped = runs.len() - pending.len();
    let mut redo = Vec::new();
    if incomplete > 0 {
        redo.push(format!("{incomplete} killed midway"));
    }
    if damaged > 0 {
        redo.push(format!("{damaged} with missing or damaged files"));
    }
    if refused > 0 {
        redo.push(format!("{refused} refused for memory before"));
    }
    let redo = if redo.is_empty() { String::new() } else { format!(" ({} among them)", redo.join(", ")) };
    options.execution.progress.say(&format!(
        "sweep {}: {} runs{}, {skipped} already complete{stale_words}, {} to run{redo} -> {}",
        manifest.name,
        runs.len(),
        shard_words(shard),
        pending.len(),
        out.display()
    ));
    let mine: Vec<usize> = runs.iter().map(|(index, _)| *index).collect();
    let specs: Vec<RunSpec> = mine
        .iter()
        .map(|&index| RunSpec { label: manifest.runs[index].name.clone(), config: sweep.configs[index].train.clone() })
        .collect();
    let targets = |position: usize| {
        let run = &manifest.runs[mine[position]];
        let values: BTreeMap<String, Value> =
            manifest.axes.iter().zip(&run.coords).map(|(axis, &coord)| (axis.path.clone(), axis.values[coord].clone())).collect();
        let origin = Origin {
            file: sweep.file.clone(),
            edits: values.iter().map(|(path, value)| format!("{path}={value}")).collect(),
            sweep: Some(manifest.name.clone()),
        };
        (runs_dir.join(&run.name), sweep.configs[run.index].clone(), origin, values)
    };
    let labels = |position: usize| manifest.runs[mine[position]].name.clone();
    let hooks = FolderHooks::new(&targets, &labels);
    execute_each(
        &manifest.name,
        &specs,
        &pending,
        &|position| sweep.configs[mine[position]].evaluation.clone(),
        options.jobs,
        &options.execution,
        &hooks,
    );
    let failures = hooks.failures.into_inner().unwrap_or_default();
    if !failures.is_empty() {
        return Err(HarnessError::Unsaved(failures));
    }
    if options.execution.stop.is_requested() {
        return Err(HarnessError::Stopped { dir: runs_dir });
    }
    let (table, plots) = if shard.count == 1 {
        ("sweep.csv".to_string(), true)
    } else {
        (format!("sweep-shard-{}-of-{}.csv", shard.index, shard.count), false)
    };
    let tally = sweep_results::write(&out, manifest, &mine, &table, plots)?;
    Ok(SweepOutcome { table: out.join(table), out, runs: mine.len(), tally })
}

/// "N made by other code" and/or "N on changed data".
fn stale_count(stale: usize, data_stale: usize) -> String {
    match (stale - data_stale, data_stale) {
        (code, 0) => format!("{code} made by other code"),
        (0, data) => format!("{data} trained on data that changed since"),
        (code, data) => format!("{code} made by other code, {data} trained on data that changed since"),
    }
}

fn shard_words(shard: Shard) -> String {
    if shard.count == 1 { String::new() } else { format!(" in shard {}/{}", shard.index, shard.count) }
}
