//! `decouple`: the command line behind `cargo xtask reproduce`, and behind
//! `cargo xtask run|sweep|merge|analyze|compare` for your own configs and
//! sweeps. Argument parsing and printing only (and the progress bar): the
//! work is done by `decouple-experiments` (reproduce) and `decouple-harness`
//! (run, sweep, merge, analyze, compare).

mod progress;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use decouple_experiments::RunContext;
use decouple_experiments::experiments::{self, EXPERIMENTS};
use decouple_experiments::report::{self, Verdict};
use decouple_harness::available_cores;
use decouple_harness::run_folder::RunDone;
use decouple_harness::sweep::StalePolicy;
use decouple_harness::training::{Execution, RunCache};

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
        /// Threads of each run (default: the cores divided among the runs in parallel); results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
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
        /// Threads of the run (default: available cores); results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
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
        shard: Option<decouple_harness::sweep::Shard>,
        /// Output folder (default results/sweeps/NAME).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Threads of each run (default: the cores divided among the runs in parallel); results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Redo complete runs made by other code (another decouple version or git commit).
        #[arg(long, conflicts_with = "accept_stale")]
        rerun_stale: bool,
        /// Keep complete runs made by other code beside the new ones (sweep.csv names each run's commit).
        #[arg(long)]
        accept_stale: bool,
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
    /// Copy a finished reproduction (REPORT.md and its SVGs) into docs/experiments.md and docs/figures/
    /// (keeping its Robustness section), or with `--robustness DIR` write only that section.
    PublishDocs {
        /// The results folder of a full default run.
        #[arg(long, default_value = "results")]
        from: PathBuf,
        /// The docs folder.
        #[arg(long, default_value = "docs")]
        to: PathBuf,
        /// Publish even from a tree with uncommitted changes (the docs would cite a commit without its code).
        #[arg(long)]
        allow_dirty: bool,
        /// Write only the Robustness section of TO/experiments.md (every claim: seeds holding, worst seed, spread)
        /// from this results folder of a many-seed run (`decouple reproduce --seeds 10 --out results-10`); the rest is kept.
        #[arg(long, value_name = "DIR", conflicts_with = "from")]
        robustness: Option<PathBuf>,
    },
}

/// The line of a REPORT.md that names its command and commit (`Generated ...`).
fn generated_line(report: &str) -> Option<&str> {
    report.lines().find(|line| line.starts_with("Generated"))
}

/// Refuses to publish from a dirty tree or a report of one, unless `allow_dirty`.
fn check_clean(from: &Path, to: &Path, report: &str, allow_dirty: bool) -> anyhow::Result<()> {
    let commit = decouple_harness::git_commit(to);
    if commit.ends_with("-dirty") && !allow_dirty {
        anyhow::bail!(
            "the tree of {} has uncommitted changes (commit {commit}): docs/experiments.md would cite a commit that does not \
             contain its code; commit them, rerun `cargo xtask reproduce`, then publish (--allow-dirty overrides)",
            to.display()
        );
    }
    check_clean_report(from, report, allow_dirty)
}

/// Refuses a report made from a tree with uncommitted changes, unless `allow_dirty`.
fn check_clean_report(from: &Path, report: &str, allow_dirty: bool) -> anyhow::Result<()> {
    if generated_line(report).is_some_and(|header| header.contains("-dirty`")) && !allow_dirty {
        anyhow::bail!(
            "{}/REPORT.md was made from a tree with uncommitted changes (see its `Generated` line): rerun `cargo xtask reproduce` \
             from a clean commit, then publish (--allow-dirty overrides)",
            from.display()
        );
    }
    Ok(())
}

/// `publish-docs --robustness DIR`: replaces (or appends) the Robustness
/// section of `to/experiments.md` with the claims of every summary in `dir`.
fn publish_robustness(dir: &Path, to: &Path, allow_dirty: bool) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let report = std::fs::read_to_string(dir.join("REPORT.md")).with_context(|| format!("reading {}/REPORT.md", dir.display()))?;
    // The section cites the commit of the many-seed run (its REPORT.md), not the docs tree's, so only that report must be clean.
    check_clean_report(dir, &report, allow_dirty)?;
    let order: Vec<&str> = EXPERIMENTS.iter().map(|experiment| experiment.id).collect();
    let summaries = report::read_summaries(dir, &order)?;
    if summaries.is_empty() {
        anyhow::bail!(
            "{} holds no experiment's summary.json: run `decouple reproduce --seeds 10 --out {}` first",
            dir.display(),
            dir.display()
        );
    }
    let path = to.join("experiments.md");
    let document = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {} (publish the default run first: `decouple publish-docs`)", path.display()))?;
    let provenance = format!("Run: {}", generated_line(&report).unwrap_or("(the report names no command or commit)"));
    let section = report::robustness_section(&summaries, &provenance);
    decouple_harness::write_atomic(&path, &report::with_robustness_section(&document, &section))?;
    println!("wrote the robustness section of {} ({} experiments)", path.display(), summaries.len());
    Ok(ExitCode::SUCCESS)
}

fn publish_docs(from: &Path, to: &Path, allow_dirty: bool) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let report = std::fs::read_to_string(from.join("REPORT.md")).with_context(|| format!("reading {}/REPORT.md", from.display()))?;
    check_clean(from, to, &report, allow_dirty)?;
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
    // The robustness section comes from another (many-seed) run: it is kept, with its own provenance line.
    let previous = std::fs::read_to_string(to.join("experiments.md")).unwrap_or_default();
    if let Some(section) = report::robustness_section_of(&previous) {
        text = report::with_robustness_section(&text, section);
    }
    decouple_harness::write_atomic(&to.join("experiments.md"), &text)?;
    println!("wrote {}", to.join("experiments.md").display());
    Ok(ExitCode::SUCCESS)
}

fn threads_option(threads: Option<usize>) -> anyhow::Result<Option<usize>> {
    if threads == Some(0) {
        anyhow::bail!("--threads 0 is out of range: give at least 1 (default: the available cores)");
    }
    Ok(threads)
}

fn run_config(config: &Path, sets: &[String], out: Option<PathBuf>, force: bool, threads: Option<usize>) -> anyhow::Result<ExitCode> {
    let cores = available_cores();
    let execution = Execution { cores, threads: Some(threads_option(threads)?.unwrap_or(cores)), progress: progress::sink() };
    let (dir, summary, done) = decouple_harness::run_folder::run_file(config, sets, out, force, &execution)?;
    match done {
        RunDone::AlreadyComplete => println!("already complete with this config (use --force to run again): {}", dir.display()),
        RunDone::ReplacedStale => println!("the folder held this config made by other code: ran it again with this code"),
        _ => {}
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

/// `run` of a config whose `data` is a file: train on its samples and analyse without a dictionary.
fn run_file_data(
    config: &Path,
    sets: &[String],
    out: Option<PathBuf>,
    force: bool,
    threads: Option<usize>,
    dry: bool,
) -> anyhow::Result<ExitCode> {
    use decouple_harness::file_run;
    if dry {
        let resolved = file_run::load_file_run(config, sets)?;
        println!("{}", serde_json::to_string_pretty(&resolved)?);
        println!("config hash: {}", resolved.hash());
        println!("output folder: {}", out.unwrap_or_else(|| file_run::default_dir(config, &resolved.hash())).display());
        return Ok(ExitCode::SUCCESS);
    }
    let threads = threads_option(threads)?.unwrap_or_else(available_cores);
    let summary = file_run::run_file_data(config, sets, out, force, threads)?;
    let Some(report) = &summary.report else {
        println!("already complete with this config (use --force to run again): {}", summary.dir.display());
        return Ok(ExitCode::SUCCESS);
    };
    let not_available: Vec<&str> = report.not_available.iter().map(|m| m.metric.as_str()).collect();
    println!(
        "{} samples x {}: active fraction {:.3}, {} dead, kurtosis {:.2}, participation ratio {:.1}, top-{} share {:.3}, effective rank {:.1}, {:.1} s",
        summary.shape.0,
        summary.shape.1,
        report.active_fraction,
        report.n_dead,
        report.kurtosis_median,
        report.participation_ratio_median,
        report.top_k,
        report.top_k_share_median,
        report.effective_rank,
        summary.wall_s
    );
    println!(
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
        println!("probe accuracy: all labels {:.3}, few labels per class {few}", probes.all_labels.test_accuracy);
    }
    println!("not available (no dictionary M): {}", not_available.join(", "));
    println!("wrote {}", summary.dir.display());
    Ok(ExitCode::SUCCESS)
}

fn dry_run(config: &Path, sets: &[String], out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let plan = decouple_harness::run_folder::plan_run(config, sets, out)?;
    println!("{}", serde_json::to_string_pretty(&plan.config)?);
    println!("config hash: {}", plan.hash);
    let state = match decouple_harness::run_folder::completed(&plan.dir, &plan.hash) {
        Some(summary) if summary.is_stale(decouple_harness::code_version()) => {
            format!("complete with this config, made by other code ({}): `run` trains it again", summary.code_version().short())
        }
        Some(_) => "complete with this config: `run` keeps it (--force trains it again)".to_string(),
        None => "to be written".to_string(),
    };
    println!("output folder: {} ({state})", plan.dir.display());
    println!("code: decouple {}", decouple_harness::code_version().short());
    Ok(ExitCode::SUCCESS)
}

fn analyze(dir: &Path) -> anyhow::Result<ExitCode> {
    let analysis = decouple_harness::analyze::analyze(dir)?;
    let report = &analysis.report;
    println!(
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
    );
    let code = decouple_harness::code_version().short();
    match analysis.same_as_summary {
        Some(true) => println!("the same report as summary.json (run made by decouple {}; analysed by {code})", analysis.made_by.short()),
        Some(false) => {
            println!("differs from summary.json, made by decouple {} (analysed by {code})", analysis.made_by.short())
        }
        None => println!("summary.json has no report to compare with"),
    }
    println!("wrote {} and {}", dir.join("analysis.json").display(), analysis.plots.join(", "));
    Ok(ExitCode::SUCCESS)
}

fn compare(dirs: &[PathBuf], out: &Path) -> anyhow::Result<ExitCode> {
    let comparison = decouple_harness::compare::compare(dirs, out)?;
    print!("{}", comparison.table);
    let plots: Vec<String> = comparison.plots.iter().map(|plot| plot.display().to_string()).collect();
    println!("curves: {}", plots.join(", "));
    Ok(ExitCode::SUCCESS)
}

fn sweep(config: &Path, options: &decouple_harness::sweep::SweepOptions, dry_run: bool) -> anyhow::Result<ExitCode> {
    if dry_run {
        let survey = decouple_harness::sweep::survey(config, options)?;
        let current = decouple_harness::code_version();
        print!("{}", survey.listing(current));
        println!(
            "{} runs -> {} (code: decouple {}; {} made by other code)",
            survey.runs.len(),
            survey.out.display(),
            current.short(),
            survey.stale(current).len()
        );
        return Ok(ExitCode::SUCCESS);
    }
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
    let (quick, only, seeds, out, jobs, threads, list) = match Cli::parse().command {
        Command::Reproduce { quick, only, seeds, out, jobs, threads, list } => (quick, only, seeds, out, jobs, threads, list),
        Command::PublishDocs { to, allow_dirty, robustness: Some(dir), .. } => return publish_robustness(&dir, &to, allow_dirty),
        Command::PublishDocs { from, to, allow_dirty, robustness: None } => return publish_docs(&from, &to, allow_dirty),
        Command::Run { config, set, out, force, threads, dry_run } if decouple_harness::file_run::names_file_data(&config)? => {
            return run_file_data(&config, &set, out, force, threads, dry_run);
        }
        Command::Run { config, set, out, dry_run: true, .. } => return dry_run(&config, &set, out),
        Command::Run { config, set, out, force, threads, .. } => return run_config(&config, &set, out, force, threads),
        Command::Sweep { config, jobs, shard, out, threads, rerun_stale, accept_stale, dry_run } => {
            let mut options = decouple_harness::sweep::SweepOptions::new(jobs.unwrap_or_else(available_cores).max(1));
            (options.out, options.shard) = (out, shard);
            options.stale = match (rerun_stale, accept_stale) {
                (true, _) => StalePolicy::Rerun,
                (_, true) => StalePolicy::Accept,
                _ => StalePolicy::Refuse,
            };
            options.execution = Execution { cores: available_cores(), threads: threads_option(threads)?, progress: progress::sink() };
            return sweep(&config, &options, dry_run);
        }
        Command::Merge { dirs, out } => return merge(&dirs, out),
        Command::Analyze { dir } => return analyze(&dir),
        Command::Compare { dirs, out } => return compare(&dirs, &out),
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
    decouple_harness::check_writable(&out)?;
    let mut context = RunContext::new(out, quick, seeds.unwrap_or(if quick { 1 } else { 3 }), jobs.unwrap_or_else(available_cores).max(1))?;
    context.cache = RunCache::new(Execution { cores: available_cores(), threads: threads_option(threads)?, progress: progress::sink() });
    let start = std::time::Instant::now();
    let mut failed = false;
    for experiment in EXPERIMENTS.iter().filter(|experiment| only.is_empty() || only.iter().any(|id| id == experiment.id)) {
        println!("{:<18} running: {}", experiment.id, experiment.claim);
        let summary = (experiment.run)(&context)?;
        for claim in &summary.claims {
            println!(
                "    {} {}: measured {:.4}, threshold {:?} {}; seeds holding {}, worst seed {}",
                claim.result_cell().replace("**", ""),
                claim.name,
                claim.measured,
                claim.comparison,
                claim.threshold,
                claim.seeds_cell(),
                claim.worst_cell()
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
