//! `decouple`: the command line behind `cargo xtask reproduce`, and behind
//! `cargo xtask run|sweep|merge|analyze|compare` for your own configs and
//! sweeps. Argument parsing and printing only: the work is done by
//! `decouple-experiments` (reproduce) and `decouple-harness` (run, sweep,
//! merge, analyze, compare, whose command line is the harness's
//! `command_line`, with the built-in parts).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use decouple_experiments::experiments::EXPERIMENTS;
use decouple_experiments::report;
use decouple_experiments::reproduce::{ReproduceOptions, reproduce};
use decouple_harness::available_cores;
use decouple_harness::command_line;
use decouple_harness::training::Execution;
use decouple_train::Registry;

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
    /// run, sweep, merge, analyze, compare: your own configs and run folders (decouple_harness::command_line).
    #[command(flatten)]
    Own(decouple_harness::command_line::Command),
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
        Command::Own(command) => return Ok(decouple_harness::command_line::report(command_line::execute(command, Registry::default()))),
    };
    if list {
        for experiment in EXPERIMENTS {
            println!("{:<18} {} — measures {}", experiment.id, experiment.claim, experiment.measures);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut options = ReproduceOptions::new(out);
    (options.quick, options.only, options.seeds) = (quick, only, seeds);
    options.jobs = jobs.unwrap_or_else(available_cores).max(1);
    let execution = Execution { threads, progress: decouple_harness::progress_bar::sink(), ..Execution::default() };
    Ok(if reproduce(&options, execution)? { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
