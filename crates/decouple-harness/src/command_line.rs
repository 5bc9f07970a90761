//! The command line of your own runs, as a library: `run`, `sweep`,
//! `merge`, `analyze` and `compare`, with the flags of `decouple`, over a
//! [`Registry`] of named parts. `decouple` flattens [`Command`] into its own
//! commands; a binary of yours that registers its objective or augmentation
//! gets all of it with one call:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     let registry = decouple_train::Registry::default(); // register your parts here
//!     decouple_harness::command_line::main("my-lab", registry)
//! }
//! ```
//!
//! Argument parsing (clap) and printing only; the work is done by the
//! modules of this crate, whose errors are the typed [`HarnessError`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use decouple_train::Registry;

use crate::progress::Progress;
use crate::run_folder::{RunDone, RunOptions, RunSummary};
use crate::sweep::{Shard, StalePolicy, SweepOptions};
use crate::training::Execution;
use crate::{HarnessError, available_cores, code_version};

/// A line of a command's report, told to the progress sink (standard output, or the host's: the Python package's `sys.stdout`).
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {
        $out.say(&format!($($arg)*))
    };
}

/// The commands on your own configs and run folders.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum Command {
    /// One training run of a config file (TOML or JSON, overlaid on the docs/model.md §7 default) with the full analysis.
    Run {
        /// The config file (see examples/configs/).
        #[arg(long)]
        config: PathBuf,
        /// Override a field: `--set path.to.field=value` (repeatable, applied in order).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// Output folder (default results/runs/STEM-HASH8).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run again even if the folder holds this exact config complete.
        #[arg(long)]
        force: bool,
        /// Threads of the run (default: available cores); results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// What to do with a complete run on a data file that changed since (one made by other code is always trained again).
        #[command(flatten)]
        stale: StaleFlags,
        /// Print the fully resolved config, its hash and the output folder, then exit.
        #[arg(long)]
        dry_run: bool,
    },
    /// A grid of runs x seeds from a sweep file; reruns skip complete runs; `--shard I/N` runs one part.
    Sweep {
        /// The sweep file (see examples/configs/sweep-small.toml).
        #[arg(long)]
        config: PathBuf,
        /// Independent runs in parallel (default: available cores); results do not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// Run only shard I of N (1 <= I <= N): the runs numbered k with k mod N = I - 1.
        #[arg(long, value_name = "I/N")]
        shard: Option<Shard>,
        /// Output folder (default results/sweeps/NAME).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Threads of each run (default: the cores divided among the runs in parallel); results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// What to do with stale complete runs (made by other code, or on a data file that changed since).
        #[command(flatten)]
        stale: StaleFlags,
        /// List the runs with the state of their folders and the output folder, then exit.
        #[arg(long)]
        dry_run: bool,
    },
    /// Recompute the analysis and plots of a run folder from its saved network (no training); writes analysis.json.
    Analyze {
        /// The run folder.
        dir: PathBuf,
    },
    /// Print run folders side by side and overlay their curves in one SVG.
    Compare {
        /// Run folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The SVG of the curves (the losses go to STEM-loss.svg beside it).
        #[arg(long, default_value = "compare.svg")]
        out: PathBuf,
    },
    /// Combine the folders of a sweep's shards into one sweep folder with sweep.csv and plots.
    Merge {
        /// Sweep folders written by the shards.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder (default results/sweeps/NAME).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// `--rerun-stale` / `--accept-stale`: what a resumed run or sweep does with
/// stale complete runs (made by other code, or on a data file that changed since).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct StaleFlags {
    /// Train stale complete runs again.
    #[arg(long, conflicts_with = "accept_stale")]
    pub rerun_stale: bool,
    /// Keep stale complete runs as they are (sweep.csv names each run's commit).
    #[arg(long)]
    pub accept_stale: bool,
}

impl StaleFlags {
    /// The policy the flags ask for (refuse by default).
    #[must_use]
    pub fn policy(self) -> StalePolicy {
        match (self.rerun_stale, self.accept_stale) {
            (true, _) => StalePolicy::Rerun,
            (_, true) => StalePolicy::Accept,
            _ => StalePolicy::Refuse,
        }
    }
}

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Parses the process's arguments as one [`Command`] and runs it with
/// `registry`; errors are printed (`error: ...`) with exit code 2.
#[must_use]
pub fn main(name: &'static str, registry: Registry) -> ExitCode {
    use clap::{CommandFactory as _, FromArgMatches as _};
    let matches = Cli::command().name(name).get_matches();
    let command = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli.command,
        Err(error) => error.exit(),
    };
    report(execute(command, registry))
}

/// Prints an error of [`execute`] as `decouple` does: `error: ...`, exit code 2.
#[must_use]
pub fn report(result: crate::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", crate::chain(&error));
            ExitCode::from(2)
        }
    }
}

/// Runs `command` with the named parts of `registry`, printing what it did.
///
/// # Errors
/// Whatever the command's module returns (invalid config, unwritable or
/// locked folder, stale runs, ...).
pub fn execute(command: Command, registry: Registry) -> crate::Result<ExitCode> {
    let base = Execution { progress: crate::progress_bar::sink(), registry: Arc::new(registry), ..Execution::default() };
    execute_on(command, &base)
}

/// [`execute`] with the registry, progress sink and stop flag of `base` (its
/// thread count is the command's `--threads`), for hosts that bring their own
/// (the Python package).
///
/// # Errors
/// As [`execute`]; [`HarnessError::Stopped`] once `base.stop` is requested.
pub fn execute_on(command: Command, base: &Execution) -> crate::Result<ExitCode> {
    let registry = base.registry.clone();
    let execution = |threads: Option<usize>| -> crate::Result<Execution> {
        if threads == Some(0) {
            return Err(HarnessError::invalid("--threads", "--threads 0 is out of range: give at least 1 (default: the available cores)"));
        }
        Ok(Execution { cores: available_cores(), threads, ..base.clone() })
    };
    match command {
        Command::Run { config, set, out, dry_run: true, .. } => dry_run(&*base.progress, &config, &set, out, &registry),
        Command::Run { config, set, out, force, threads, stale, .. } => {
            let mut execution = execution(threads)?;
            execution.threads = Some(threads.unwrap_or(execution.cores));
            let options = RunOptions { sets: set, out, force, stale: stale.policy(), execution };
            run(&*base.progress, &config, &options)
        }
        Command::Sweep { config, jobs, shard, out, threads, stale, dry_run } => {
            let mut options = SweepOptions::new(jobs.unwrap_or_else(available_cores).max(1));
            (options.out, options.shard) = (out, shard);
            options.stale = stale.policy();
            options.execution = execution(threads)?;
            sweep(&*base.progress, &config, &options, dry_run)
        }
        Command::Merge { dirs, out } => merge(&*base.progress, &dirs, out),
        Command::Analyze { dir } => analyze(&*base.progress, &dir, &registry),
        Command::Compare { dirs, out } => compare(&*base.progress, &dirs, &out),
    }
}

fn run(console: &dyn Progress, config: &Path, options: &RunOptions) -> crate::Result<ExitCode> {
    let (dir, summary, done) = crate::run_folder::run_file(config, options)?;
    match done {
        RunDone::AlreadyComplete => say!(console, "already complete with this config (use --force to run again): {}", dir.display()),
        RunDone::ReplacedStale => say!(console, "the folder held this config made by other code: ran it again with this code"),
        RunDone::RetrainedOnNewData => {
            say!(console, "the folder held this config trained on data that changed since: ran it again on the data as it is now")
        }
        RunDone::KeptStale => say!(console, "kept the complete run on data that changed since (--accept-stale): {}", dir.display()),
        _ => {}
    }
    print_summary(console, &summary);
    say!(console, "wrote {}", dir.display());
    Ok(if summary.report.is_some() || summary.sample_report.is_some() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The lines `run` prints about a finished run.
fn print_summary(console: &dyn Progress, summary: &RunSummary) {
    match (&summary.report, &summary.sample_report, &summary.error) {
        (Some(report), _, _) => say!(
            console,
            "{}: median best_j {:.3}, {} of {} features >= 0.9, sparse energy {:.3} (random {:.3}) with {} of {} neurons live, probe f(x) {:.3} vs raw x {:.3}, {:.1} s",
            summary.name,
            report.median_best,
            report.n_recovered,
            report.n_features,
            report.sparse_energy_weighted,
            report.sparse_energy_random,
            report.n_live,
            report.n_neurons,
            report.probe.learned,
            report.probe.raw,
            summary.wall_s
        ),
        (None, Some(report), _) => print_sample_report(console, &summary.name, report, summary.wall_s),
        (None, None, error) => say!(console, "{}: FAILED: {}", summary.name, error.as_deref().unwrap_or("unknown error")),
    }
}

fn print_sample_report(console: &dyn Progress, name: &str, report: &decouple_eval::SampleReport, wall_s: f64) {
    say!(
        console,
        "{name}: {} samples: active fraction {:.3}, {} dead, kurtosis {:.2}, participation ratio {:.1}, top-{} share {:.3}, effective rank {:.1}, {wall_s:.1} s",
        report.n_samples,
        report.active_fraction,
        report.n_dead,
        report.kurtosis_median,
        report.participation_ratio_median,
        report.top_k,
        report.top_k_share_median,
        report.effective_rank,
    );
    say!(
        console,
        "decoupling meter (median pair correlation, raw / thresholded): learned {:.3} / {:.3}, top PCs {:.3} / {:.3}, random {:.3} / {:.3}",
        report.meter_learned.raw_median,
        report.meter_learned.thresholded_median,
        report.meter_top_pcs.raw_median,
        report.meter_top_pcs.thresholded_median,
        report.meter_random.raw_median,
        report.meter_random.thresholded_median
    );
    if let Some(probes) = &report.probes {
        let few = probes.few_labels.as_ref().map_or(String::from("n/a"), |p| format!("{:.3}", p.test_accuracy));
        say!(console, "probe accuracy: all labels {:.3}, few labels per class {few}", probes.all_labels.test_accuracy);
    }
    let not_available: Vec<&str> = report.not_available.iter().map(|m| m.metric.as_str()).collect();
    say!(console, "not available (no dictionary M): {}", not_available.join(", "));
}

fn dry_run(console: &dyn Progress, config: &Path, sets: &[String], out: Option<PathBuf>, registry: &Registry) -> crate::Result<ExitCode> {
    let plan = crate::run_folder::plan_run(config, sets, out, registry)?;
    let json = |error| HarnessError::Json { what: "the resolved config".into(), error };
    say!(console, "{}", serde_json::to_string_pretty(&plan.config).map_err(json)?);
    say!(console, "config hash: {}", plan.hash);
    let current = code_version();
    let state = match crate::run_folder::completed(&plan.dir, &plan.hash) {
        Some(summary) if summary.code_version() != *current => {
            format!("complete with this config, made by other code ({}): `run` trains it again", summary.code_version().short())
        }
        Some(summary) => match summary.stale_reason(current, plan.config.data_digest()) {
            Some(reason) => format!("complete with this config, {reason}: `run` refuses it (--rerun-stale or --accept-stale)"),
            None => "complete with this config: `run` keeps it (--force trains it again)".to_string(),
        },
        None => "to be written".to_string(),
    };
    say!(console, "output folder: {} ({state})", plan.dir.display());
    say!(console, "code: decouple {}", current.short());
    Ok(ExitCode::SUCCESS)
}

fn analyze(console: &dyn Progress, dir: &Path, registry: &Registry) -> crate::Result<ExitCode> {
    let analysis = crate::analyze::analyze_with(dir, registry)?;
    match &analysis.report {
        crate::analyze::Report::Network(report) => say!(
            console,
            "{}: median best_j {:.3}, {} of {} features >= 0.9, sparse energy {:.3} with {} of {} neurons live, probe f(x) {:.3} vs raw x {:.3}",
            dir.display(),
            report.median_best,
            report.n_recovered,
            report.n_features,
            report.sparse_energy_weighted,
            report.n_live,
            report.n_neurons,
            report.probe.learned,
            report.probe.raw
        ),
        crate::analyze::Report::Samples(report) => print_sample_report(console, &dir.display().to_string(), report, 0.0),
    }
    match &analysis.state {
        crate::analyze::StateCheck::Restored(0) => {}
        crate::analyze::StateCheck::Restored(tensors) => {
            say!(console, "restored the objective's state from the checkpoint ({tensors} tensors)")
        }
        crate::analyze::StateCheck::NotRegistered { kind, tensors } => say!(
            console,
            "objective `{kind}` is not registered in this binary: its state ({tensors} tensors) is kept in the checkpoint, not read \
             (the analysis does not need it)"
        ),
    }
    let code = code_version().short();
    match analysis.same_as_summary {
        Some(true) => {
            say!(console, "the same report as summary.json (run made by decouple {}; analysed by {code})", analysis.made_by.short())
        }
        Some(false) => {
            say!(console, "differs from summary.json, made by decouple {} (analysed by {code})", analysis.made_by.short())
        }
        None => say!(console, "summary.json has no report to compare with"),
    }
    say!(console, "wrote {} and {}", dir.join("analysis.json").display(), analysis.plots.join(", "));
    Ok(ExitCode::SUCCESS)
}

fn compare(console: &dyn Progress, dirs: &[PathBuf], out: &Path) -> crate::Result<ExitCode> {
    let comparison = crate::compare::compare(dirs, out)?;
    console.say(comparison.table.trim_end());
    let plots: Vec<String> = comparison.plots.iter().map(|plot| plot.display().to_string()).collect();
    say!(console, "curves: {}", plots.join(", "));
    Ok(ExitCode::SUCCESS)
}

fn sweep(console: &dyn Progress, config: &Path, options: &SweepOptions, dry_run: bool) -> crate::Result<ExitCode> {
    if dry_run {
        let survey = crate::sweep::survey(config, options)?;
        let current = code_version();
        console.say(survey.listing(current).trim_end());
        say!(
            console,
            "{} runs -> {} (code: decouple {}; {} stale: made by other code or on changed data)",
            survey.runs.len(),
            survey.out.display(),
            current.short(),
            survey.stale(current).len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let outcome = crate::sweep::run_sweep(config, options)?;
    let tally = outcome.tally;
    say!(
        console,
        "{} runs: {} ok, {} failed, {} missing; table: {}",
        outcome.runs,
        tally.ok,
        tally.failed,
        tally.missing,
        outcome.table.display()
    );
    if options.shard.is_some_and(|shard| shard.count > 1) {
        say!(console, "merge the shards for sweep.csv and plots: cargo xtask merge DIR...");
    }
    Ok(ExitCode::SUCCESS)
}

fn merge(console: &dyn Progress, dirs: &[PathBuf], out: Option<PathBuf>) -> crate::Result<ExitCode> {
    let outcome = crate::merge::merge(dirs, out)?;
    let tally = outcome.tally;
    say!(
        console,
        "merged {} folder(s) into {}: {} runs, {} ok, {} failed, {} missing",
        dirs.len(),
        outcome.out.display(),
        outcome.runs,
        tally.ok,
        tally.failed,
        tally.missing
    );
    if !outcome.missing.is_empty() {
        eprintln!("missing runs (rerun their shard): {}", outcome.missing.join(", "));
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
