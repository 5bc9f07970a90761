//! `decouple`: the command line behind `cargo xtask reproduce`, and behind
//! `cargo xtask run|sweep|merge` for your own configs and sweeps. Argument
//! parsing and printing only: the work is done by `decouple-experiments`
//! (reproduce) and `decouple-harness` (run, sweep, merge).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use decouple_experiments::RunContext;
use decouple_experiments::experiments::{self, EXPERIMENTS};
use decouple_experiments::report::{self, Verdict};
use decouple_harness::available_cores;

#[derive(Parser)]
#[command(name = "decouple", about = "Reproduce the claims of Wen & Li (2021) by simulation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every experiment (or `--only` some), write results and REPORT.md, exit non-zero if a claim fails.
    Reproduce {
        /// Smaller version for CI.
        #[arg(long)]
        quick: bool,
        /// Comma-separated experiment ids.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Seeds per configuration (default 3, or 1 with --quick).
        #[arg(long)]
        seeds: Option<u64>,
        /// Output folder.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Independent runs in parallel (default: available cores); results do not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// Only list the experiments.
        #[arg(long)]
        list: bool,
    },
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
        shard: Option<decouple_harness::sweep::Shard>,
        /// Output folder (default results/sweeps/NAME).
        #[arg(long)]
        out: Option<PathBuf>,
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
    /// Copy a finished reproduction (REPORT.md and its SVGs) into docs/experiments.md and docs/figures/.
    PublishDocs {
        /// The results folder of a full default run.
        #[arg(long, default_value = "results")]
        from: PathBuf,
        /// The docs folder.
        #[arg(long, default_value = "docs")]
        to: PathBuf,
    },
}

fn publish_docs(from: &std::path::Path, to: &std::path::Path) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let report = std::fs::read_to_string(from.join("REPORT.md")).with_context(|| format!("reading {}/REPORT.md", from.display()))?;
    let figures = to.join("figures");
    std::fs::create_dir_all(&figures)?;
    let (cpu, cores) = (decouple_harness::cpu_model(), available_cores());
    let mut text = format!(
        "<!-- Generated: `cargo xtask reproduce && cargo xtask publish-docs`. Do not edit by hand. -->\n\n\
         Machine (where this was published, the same as the run): {cpu}, {cores} cores. \
         The run's commit, jobs and wall time are in the first lines below.\n\n"
    );
    for line in report.lines() {
        if let (Some(start), Some(end)) = (line.find("]("), line.rfind(')')) {
            if line.starts_with("![") {
                let target = &line[start + 2..end];
                let flat = target.replace('/', "-");
                std::fs::copy(from.join(target), figures.join(&flat)).with_context(|| format!("copying {target}"))?;
                text.push_str(&format!("{}](figures/{flat})\n", &line[..start]));
                continue;
            }
        }
        text.push_str(line);
        text.push('\n');
    }
    decouple_harness::write_atomic(&to.join("experiments.md"), &text)?;
    println!("wrote {}", to.join("experiments.md").display());
    Ok(ExitCode::SUCCESS)
}

fn run_config(config: &std::path::Path, sets: &[String], out: Option<PathBuf>, force: bool) -> anyhow::Result<ExitCode> {
    let (dir, summary, skipped) = decouple_harness::run_folder::run_file(config, sets, out, force)?;
    if skipped {
        println!("already complete with this config (use --force to run again): {}", dir.display());
    }
    match (&summary.report, &summary.error) {
        (Some(report), _) => println!(
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
        (None, error) => println!("{}: FAILED: {}", summary.name, error.as_deref().unwrap_or("unknown error")),
    }
    println!("wrote {}", dir.display());
    Ok(if summary.report.is_some() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn sweep(config: &std::path::Path, options: &decouple_harness::sweep::SweepOptions) -> anyhow::Result<ExitCode> {
    let outcome = decouple_harness::sweep::run_sweep(config, options)?;
    let tally = outcome.tally;
    println!(
        "{} runs: {} ok, {} failed, {} missing; table: {}",
        outcome.runs,
        tally.ok,
        tally.failed,
        tally.missing,
        outcome.table.display()
    );
    if options.shard.is_some_and(|shard| shard.count > 1) {
        println!("merge the shards for sweep.csv and plots: cargo xtask merge DIR...");
    }
    Ok(ExitCode::SUCCESS)
}

fn merge(dirs: &[PathBuf], out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let outcome = decouple_harness::merge::merge(dirs, out)?;
    let tally = outcome.tally;
    println!(
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

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let (quick, only, seeds, out, jobs, list) = match Cli::parse().command {
        Command::Reproduce { quick, only, seeds, out, jobs, list } => (quick, only, seeds, out, jobs, list),
        Command::PublishDocs { from, to } => return publish_docs(&from, &to),
        Command::Run { config, set, out, force } => return run_config(&config, &set, out, force),
        Command::Sweep { config, jobs, shard, out } => {
            let mut options = decouple_harness::sweep::SweepOptions::new(jobs.unwrap_or_else(available_cores).max(1));
            (options.out, options.shard) = (out, shard);
            return sweep(&config, &options);
        }
        Command::Merge { dirs, out } => return merge(&dirs, out),
    };
    for id in &only {
        if experiments::find(id).is_none() {
            let known: Vec<&str> = EXPERIMENTS.iter().map(|experiment| experiment.id).collect();
            anyhow::bail!("unknown experiment `{id}`; known: {}", known.join(", "));
        }
    }
    if list {
        for experiment in EXPERIMENTS {
            println!("{:<18} {} — measures {}", experiment.id, experiment.claim, experiment.measures);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let context = RunContext::new(out, quick, seeds.unwrap_or(if quick { 1 } else { 3 }), jobs.unwrap_or_else(available_cores).max(1))?;
    let start = std::time::Instant::now();
    let mut failed = false;
    for experiment in EXPERIMENTS.iter().filter(|experiment| only.is_empty() || only.iter().any(|id| id == experiment.id)) {
        println!("{:<18} running: {}", experiment.id, experiment.claim);
        let summary = (experiment.run)(&context)?;
        for claim in &summary.claims {
            println!(
                "    {} {}: measured {:.4}, threshold {:?} {}",
                match (claim.pass, claim.hypothesis) {
                    (true, _) => "pass",
                    (false, false) => "FAIL",
                    (false, true) => "does not hold (finding)",
                },
                claim.name,
                claim.measured,
                claim.comparison,
                claim.threshold
            );
        }
        println!("{:<18} {:?} in {:.1} s", experiment.id, summary.verdict, summary.wall_s);
        failed |= summary.verdict == Verdict::Fail;
    }
    let header = format!(
        "Generated by `cargo xtask reproduce{}` at commit `{}` with {}, seeds per configuration: {}, {} parallel jobs, total wall time {:.0} s.",
        if context.quick { " --quick" } else { "" },
        context.git_commit,
        context.toolchain,
        context.seeds,
        context.jobs,
        start.elapsed().as_secs_f64()
    );
    let order: Vec<&str> = EXPERIMENTS.iter().map(|experiment| experiment.id).collect();
    report::write_report(&context.out, &order, &header)?;
    println!("report: {}", context.out.join("REPORT.md").display());
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
