//! `decouple-bench` (`cargo xtask bench [--out DIR]`): throughput of the
//! training step and of the reproduction, as a table and as `DIR/bench.json`.
//!
//! Entries (each `{name, threads, unit, min, median, max}` over repetitions):
//! `gemm-peak` (f32 GEMM GFLOP/s at 1024^3 with the workspace's kernel, and
//! the effective GFLOP/s of `step-large` against it), `step-default` and
//! `step-large` (ms per SGD step over blocks of a whole run, fresh batch to
//! update), `peer-epoch` (seconds per epoch of the peer code's setting), peak
//! memory of `step-large` and of the reproduction, and `reproduce` (wall time
//! of `decouple reproduce --quick`; the default scale with `--full`).
//!
//! When `python3 -c "import torch"` works, the PyTorch reference of the same
//! step (`benches/reference/torch_step.py`) runs as a child process:
//! `pytorch/step-default` and `pytorch/step-large` entries, `speed-up vs
//! PyTorch` ratios, and a PyTorch column in the table. Without torch the bench
//! says how to install it and reports decouple alone. `loss-check` compares the
//! two implementations' mean training loss over steps 281-300 of the default
//! setting (5 seeds). `python` times the Python package
//! (`benches/python/python_step.py`, when an interpreter imports `decouple`):
//! a whole default run from Python against the CLI, and the step with a NumPy
//! or a PyTorch objective beside the native and the pure PyTorch step. Speed
//! lives here, never in timed tests.

mod machine;
mod measure;
mod python_package;
mod reference;
mod reproduce;
mod scaling;
mod workloads;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use decouple_harness::write_atomic;
use serde::Serialize;

use machine::Machine;
use measure::Entry;

#[derive(Parser)]
#[command(name = "decouple-bench", about = "Throughput of the decouple training step and reproduction")]
struct Cli {
    /// Write `bench.json` into this folder.
    #[arg(long, default_value = "results/bench")]
    out: PathBuf,
    /// Thread counts of the training benches.
    #[arg(long, value_delimiter = ',', default_values_t = vec![1, 2])]
    threads: Vec<usize>,
    /// Also time the default-scale `reproduce` (several minutes).
    #[arg(long)]
    full: bool,
    /// Skip the `reproduce` entries.
    #[arg(long)]
    no_reproduce: bool,
    /// Do not run the PyTorch reference even if torch is installed.
    #[arg(long)]
    no_pytorch: bool,
    /// Print where the time of one step goes, phase by phase.
    #[arg(long)]
    profile: bool,
    /// Only these entries (`gemm-peak`, `step-default`, `step-large`,
    /// `peer-epoch`, `loss-check`, `scaling`, `python`, `reproduce`); all by default.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Internal: run one workload and print this process's peak memory (MiB).
    #[arg(long, hide = true)]
    child: Option<String>,
}

/// Everything `bench.json` holds.
#[derive(Serialize)]
struct Report {
    command: String,
    machine: Machine,
    entries: Vec<Entry>,
    reproduce_commands: Vec<String>,
    profiles: Vec<ProfileRecord>,
    /// The PyTorch reference, when it ran.
    pytorch: Option<reference::Reference>,
    /// decouple against PyTorch on the loss-curve statistic, when both ran.
    loss_check: Option<LossCheck>,
}

/// The loss-curve check: mean training loss over steps 281-300 of a 300-step
/// run of the default setting, over seeds 0..n, for both implementations.
#[derive(Serialize)]
struct LossCheck {
    statistic: String,
    decouple_values: Vec<f64>,
    decouple_mean: f64,
    pytorch_values: Vec<f64>,
    pytorch_mean: f64,
    difference: f64,
    tolerance: f64,
    agrees: bool,
}

/// Seeds of the loss check.
const LOSS_CHECK_SEEDS: u64 = 5;
/// Stated tolerance on |PyTorch - decouple| of the loss check's 5-seed means
/// (docs/performance.md, benches/reference/README.md).
const LOSS_CHECK_TOLERANCE: f64 = 0.15;

#[derive(Serialize)]
struct ProfileRecord {
    workload: String,
    trained_fraction: f64,
    active_fraction: f64,
    phases_ms: Vec<(String, f64)>,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The target of an entry in words, and whether it is met (the targets of docs/performance.md).
fn target(entry: &Entry) -> Option<(String, bool)> {
    let m = entry.median;
    match (entry.name.as_str(), entry.threads, entry.unit.as_str()) {
        ("gemm-peak", 1, "step-large effective / peak") => Some((">= 0.70".into(), m >= 0.7)),
        ("peer-epoch", 1, "s/epoch") => Some(("<= 0.025".into(), m <= 0.025)),
        ("step-large", 2, "speed-up vs 1 thread") => Some((">= 1.7".into(), m >= 1.7)),
        ("reproduce", _, "s (default scale)") => Some(("<= 180".into(), m <= 180.0)),
        ("step-default", 1, "speed-up vs PyTorch") => Some((">= 3.0".into(), m >= 3.0)),
        ("step-large", 1, "speed-up vs PyTorch") => Some((">= 2.5".into(), m >= 2.5)),
        _ => None,
    }
}

/// The table; the PyTorch entries appear as the `PyTorch min / median` and
/// `ratio` (PyTorch median / decouple median) columns of decouple's rows.
fn print_table(entries: &[Entry]) {
    let with_pytorch = entries.iter().any(|e| e.name.starts_with(reference::PREFIX));
    let (extra_head, extra_rule) = if with_pytorch { (" PyTorch min / median | ratio |", "---|---|") } else { ("", "") };
    println!("\n| name | threads | unit | min | median | max |{extra_head} target |");
    println!("|---|---|---|---|---|---|{extra_rule}---|");
    for entry in entries.iter().filter(|e| !e.name.starts_with(reference::PREFIX) && !e.name.starts_with("scaling-")) {
        let target = target(entry).map_or_else(String::new, |(text, met)| format!("{text} {}", if met { "met" } else { "MISSED" }));
        let extra = if with_pytorch {
            let torch = entries.iter().find(|t| {
                t.name.strip_prefix(reference::PREFIX) == Some(entry.name.as_str()) && t.threads == entry.threads && t.unit == entry.unit
            });
            match torch {
                Some(t) if entry.unit == "ms/step" => {
                    format!(" {} / {} | {:.2}x |", format_value(t.min), format_value(t.median), t.median / entry.median)
                }
                _ => " | |".into(),
            }
        } else {
            String::new()
        };
        println!(
            "| {} | {} | {} | {} | {} | {} |{extra} {} |",
            entry.name,
            entry.threads,
            entry.unit,
            format_value(entry.min),
            format_value(entry.median),
            format_value(entry.max),
            target
        );
    }
}

fn format_value(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.4}")
    }
}

/// Runs the step-large workload briefly and prints this process's peak memory.
fn child(workload: &str) -> anyhow::Result<()> {
    let config = match workload {
        "step-large" => {
            let mut config = workloads::large_config();
            config.steps = 100;
            config
        }
        other => anyhow::bail!("unknown child workload {other}"),
    };
    workloads::step_seconds(config, 1, 100);
    println!("{}", measure::own_peak_rss_mib().context("no /proc/self/status")?);
    Ok(())
}

fn child_peak_mib(workload: &str) -> anyhow::Result<f64> {
    let output = std::process::Command::new(std::env::current_exe()?).args(["--child", workload]).output()?;
    anyhow::ensure!(output.status.success(), "child {workload} failed: {}", String::from_utf8_lossy(&output.stderr));
    Ok(String::from_utf8_lossy(&output.stdout).trim().parse()?)
}

fn step_entries(name: &str, config: decouple_train::TrainConfig, threads: &[usize], block: usize, entries: &mut Vec<Entry>) {
    for &t in threads {
        eprintln!("  {name}, {t} thread(s): {} steps...", config.steps);
        let ms: Vec<f64> = workloads::step_seconds(config.clone(), t, block).iter().map(|s| s * 1e3).collect();
        let entry = Entry::from_samples(name, t, "ms/step", &ms);
        entries.push(entry.inverted("steps/s", |ms| 1e3 / ms));
        entries.insert(entries.len() - 1, entry);
    }
}

fn median_of(entries: &[Entry], name: &str, threads: usize, unit: &str) -> Option<f64> {
    entries.iter().find(|e| e.name == name && e.threads == threads && e.unit == unit).map(|e| e.median)
}

fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    let root = workspace_root();
    let machine = Machine::describe(&root);
    eprintln!("decouple-bench on {} ({} cores, load {}), commit {}", machine.cpu, machine.cores, machine.load_average, machine.git_commit);
    let threads: Vec<usize> = cli.threads.iter().copied().filter(|&t| t >= 1).collect();
    let mut entries = Vec::new();
    let wants = |name: &str| cli.only.is_empty() || cli.only.iter().any(|only| only == name);

    if wants("gemm-peak") {
        eprintln!("  gemm-peak...");
        for &t in &threads {
            entries.push(Entry::from_samples("gemm-peak", t, "GFLOP/s", &workloads::gemm_gflops(1024, t, 7)));
        }
    }
    if wants("step-default") {
        step_entries("step-default", workloads::default_config(), &threads, 100, &mut entries);
    }
    let large = workloads::large_config();
    if wants("step-large") {
        step_entries("step-large", large.clone(), &threads, 50, &mut entries);
    }
    let flops = workloads::dense_step_flops(&large);
    for &t in &threads {
        let (Some(step_ms), Some(peak)) = (median_of(&entries, "step-large", t, "ms/step"), median_of(&entries, "gemm-peak", t, "GFLOP/s"))
        else {
            continue;
        };
        let effective = flops / (step_ms * 1e-3) / 1e9;
        entries.push(Entry::single("gemm-peak", t, "step-large effective GFLOP/s", effective));
        entries.push(Entry::single("gemm-peak", t, "step-large effective / peak", effective / peak));
    }
    if let (Some(one), Some(two)) = (median_of(&entries, "step-large", 1, "ms/step"), median_of(&entries, "step-large", 2, "ms/step")) {
        entries.push(Entry::single("step-large", 2, "speed-up vs 1 thread", one / two));
    }
    if wants("scaling") {
        entries.extend(scaling::decouple_entries());
    }
    let pytorch = run_pytorch(cli, &root, &threads, &wants, &mut entries);
    let mut scaling_table = None;
    if wants("scaling") {
        scaling_table = Some(scaling::write_outputs(&entries, &cli.out)?);
    }
    let loss_check = match (&pytorch, wants("loss-check")) {
        (Some(reference), true) => reference.loss_check.as_ref().map(|torch| loss_check(torch, &mut entries)),
        (None, true) => {
            eprintln!("  loss-check: decouple only (the comparison needs the PyTorch reference)...");
            let values: Vec<f64> = (0..LOSS_CHECK_SEEDS).map(workloads::loss_statistic).collect();
            entries.push(Entry::from_samples("loss-check", 1, "mean loss, steps 281-300, over seeds", &values));
            None
        }
        _ => None,
    };
    let peer = workloads::peer_config(&root)?;
    let batches_per_epoch = match peer.regime {
        decouple_train::DataRegime::Pool { n_samples } => (n_samples / peer.batch_size).max(1),
        _ => 1,
    };
    for &t in threads.iter().filter(|_| wants("peer-epoch")) {
        eprintln!("  peer-epoch, {t} thread(s)...");
        let per_step = workloads::step_seconds(peer.clone(), t, batches_per_epoch);
        let per_epoch: Vec<f64> = per_step.iter().map(|s| s * batches_per_epoch as f64).collect();
        entries.push(Entry::from_samples("peer-epoch", t, "s/epoch", &per_epoch));
    }
    if wants("step-large") {
        match child_peak_mib("step-large") {
            Ok(mib) => entries.push(Entry::single("step-large", 1, "MiB peak RSS", mib)),
            Err(error) => eprintln!("  peak memory of step-large not measured: {error:#}"),
        }
    }

    if wants("python") {
        let binary = reproduce::build_decouple(&root)?;
        entries.extend(python_package::run(&root, &binary, &threads).unwrap_or_default());
    }

    let mut reproduce_commands = Vec::new();
    if !cli.no_reproduce && wants("reproduce") {
        let binary = reproduce::build_decouple(&root)?;
        let scratch = std::env::temp_dir().join(format!("decouple-bench-{}", std::process::id()));
        let jobs = machine.cores;
        let mut scales: Vec<(&str, Vec<&str>)> = vec![("--quick", vec!["--quick"])];
        if cli.full {
            scales.push(("default scale", vec![]));
        }
        for (label, args) in scales {
            eprintln!("  reproduce ({label}, {jobs} jobs)...");
            let out = scratch.join(label.replace([' ', '-'], ""));
            let run = reproduce::run(&binary, &root, &args, &out)?;
            if !run.passed {
                eprintln!("  warning: `{}` exited with failure (a claim failed)", run.command);
            }
            entries.push(Entry::single("reproduce", jobs, &format!("s ({label})"), run.wall_s));
            let parts = reproduce::breakdown(&out);
            for (what, seconds) in [
                ("training", parts.train_s),
                ("history analysis", parts.history_s),
                ("evaluation", parts.evaluation_s),
                ("evaluation: probes", parts.probes_s),
                ("evaluation: decoupling", parts.decoupling_s),
            ] {
                entries.push(Entry::single("reproduce", jobs, &format!("s of {what}, summed over runs ({label})"), seconds));
            }
            let dominant: Vec<String> = parts.experiments.iter().take(4).map(|(id, s)| format!("{id} {s:.0} s")).collect();
            eprintln!(
                "  run time summed over runs: training {:.0} s, evaluation {:.0} s ({:.0} % of both; probes {:.0} s, decoupling {:.0} s); largest: {}",
                parts.train_s + parts.history_s,
                parts.evaluation_s,
                100.0 * parts.evaluation_s / (parts.train_s + parts.history_s + parts.evaluation_s).max(1e-9),
                parts.probes_s,
                parts.decoupling_s,
                dominant.join(", ")
            );
            if let Some(mib) = run.peak_rss_mib {
                entries.push(Entry::single("reproduce", jobs, &format!("MiB peak RSS ({label})"), mib));
            }
            reproduce_commands.push(format!("{} [{}]", run.command, if run.passed { "all claims passed" } else { "a claim FAILED" }));
        }
        let _ = std::fs::remove_dir_all(&scratch);
    }

    let mut profiles = Vec::new();
    if cli.profile {
        let workloads =
            [("step-default", workloads::default_config(), 200), ("step-large", large, 40), ("peer-epoch (one batch)", peer, 20)];
        for (name, config, repetitions) in workloads {
            for fraction in [0.0, 0.8] {
                let profile = workloads::profile(config.clone(), fraction, repetitions);
                println!(
                    "\nprofile of {name} after {:.0} % of its steps (1 thread, active fraction {:.3}):",
                    fraction * 100.0,
                    profile.active_fraction
                );
                let total: f64 = profile.phases.iter().map(|(_, ms)| ms).sum();
                for (phase, ms) in &profile.phases {
                    println!("  {phase:<10} {ms:8.3} ms  {:5.1} %", ms / total * 100.0);
                }
                println!("  {:<10} {total:8.3} ms (the SGD update and checks come on top)", "sum");
                profiles.push(ProfileRecord {
                    workload: name.into(),
                    trained_fraction: fraction,
                    active_fraction: profile.active_fraction,
                    phases_ms: profile.phases.iter().map(|(phase, ms)| ((*phase).to_string(), *ms)).collect(),
                });
            }
        }
    }

    print_table(&entries);
    if let Some(table) = scaling_table {
        println!(
            "\nscaling (1 thread, {} steps per point in blocks of {}; also {}/scaling.md and scaling.svg):\n\n{table}",
            scaling::STEPS,
            scaling::BLOCK,
            cli.out.display()
        );
    }
    let command = std::iter::once("decouple-bench".to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" ");
    let report = Report { command, machine, entries, reproduce_commands, profiles, pytorch, loss_check };
    std::fs::create_dir_all(&cli.out).with_context(|| format!("creating {}", cli.out.display()))?;
    let path = cli.out.join("bench.json");
    write_atomic(&path, &serde_json::to_string_pretty(&report)?)?;
    println!("\nwrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// Runs the PyTorch reference on the selected step workloads (and its loss
/// check), adds its entries and the ratios; `None` (with one line on stderr)
/// when torch is missing or the script fails: the bench goes on without it.
fn run_pytorch(
    cli: &Cli,
    root: &Path,
    threads: &[usize],
    wants: &dyn Fn(&str) -> bool,
    entries: &mut Vec<Entry>,
) -> Option<reference::Reference> {
    let workloads: Vec<&str> = ["step-default", "step-large"].into_iter().filter(|name| wants(name)).collect();
    let scaling: Vec<String> = if wants("scaling") { scaling::points().iter().map(|p| p.spec()).collect() } else { Vec::new() };
    if cli.no_pytorch || (workloads.is_empty() && scaling.is_empty() && !wants("loss-check")) {
        return None;
    }
    if let Err(why) = reference::torch_available() {
        eprintln!("  PyTorch reference skipped ({why}): `{}` to compare with it", reference::INSTALL_HINT);
        return None;
    }
    eprintln!("  PyTorch reference ({})...", reference::SCRIPT);
    let request = reference::Request { workloads: &workloads, threads, scaling: &scaling, loss_check: wants("loss-check") };
    let (torch_entries, reference) = match reference::run(root, &request) {
        Ok(result) => result,
        Err(error) => {
            eprintln!("  PyTorch reference failed, reporting decouple alone: {error:#}");
            return None;
        }
    };
    for torch in torch_entries.iter().filter(|t| !t.name.contains("scaling-")) {
        let name = torch.name.trim_start_matches(reference::PREFIX);
        if let Some(ours) = median_of(entries, name, torch.threads, "ms/step") {
            entries.push(Entry::single(name, torch.threads, "speed-up vs PyTorch", torch.median / ours));
        }
    }
    entries.extend(torch_entries);
    Some(reference)
}

/// decouple's side of the loss check, compared with PyTorch's.
fn loss_check(torch: &reference::ScriptLossCheck, entries: &mut Vec<Entry>) -> LossCheck {
    eprintln!("  loss-check: decouple, {LOSS_CHECK_SEEDS} seeds x {} steps...", workloads::LOSS_CHECK_STEPS);
    let values: Vec<f64> = (0..LOSS_CHECK_SEEDS).map(workloads::loss_statistic).collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let unit = "mean loss, steps 281-300, over seeds";
    entries.push(Entry::from_samples("loss-check", 1, unit, &values));
    entries.push(Entry::from_samples(&format!("{}loss-check", reference::PREFIX), 1, unit, &torch.values));
    let difference = torch.mean - mean;
    let agrees = difference.abs() <= LOSS_CHECK_TOLERANCE;
    eprintln!(
        "  loss-check: decouple {mean:.4}, PyTorch {:.4} (+- {:.4}), difference {difference:+.4}, tolerance {LOSS_CHECK_TOLERANCE}: {}",
        torch.mean,
        torch.standard_error,
        if agrees { "agree" } else { "DISAGREE" }
    );
    LossCheck {
        statistic: format!(
            "mean training loss over steps {}-{} of a {}-step run of the default setting, seeds 0-{}",
            workloads::LOSS_CHECK_STEPS - workloads::LOSS_CHECK_WINDOW + 1,
            workloads::LOSS_CHECK_STEPS,
            workloads::LOSS_CHECK_STEPS,
            LOSS_CHECK_SEEDS - 1
        ),
        decouple_values: values,
        decouple_mean: mean,
        pytorch_values: torch.values.clone(),
        pytorch_mean: torch.mean,
        difference,
        tolerance: LOSS_CHECK_TOLERANCE,
        agrees,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(workload) = &cli.child {
        return match child(workload) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        };
    }
    match run(&cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
