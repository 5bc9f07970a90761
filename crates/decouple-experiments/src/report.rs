//! Claims, verdicts, per-experiment `summary.json` and the regenerated `REPORT.md`.
//!
//! **The rule across seeds** (docs/claims.md, "How to read a verdict"): a
//! claim measured in each of `N` seeds *holds* when it holds in at least
//! `N - floor(N / 10)` of them (at least 90 %: every seed of 1 to 9, 9 of
//! 10, 18 of 20); it is *seed-dependent* when it holds in at least half of
//! the seeds but fewer than that, and it *fails* in fewer than half.
//! `measured` is the value that the required number of seeds reach (the
//! worst seed for `N < 10`), so `measured <comparison> threshold` is the rule.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Deserializer, Serialize};

/// How a measured value is compared with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Comparison {
    /// Pass when `measured >= threshold`.
    AtLeast,
    /// Pass when `measured <= threshold`.
    AtMost,
    /// Pass when `measured < threshold`.
    Below,
}

impl Comparison {
    fn symbol(self) -> &'static str {
        match self {
            Self::AtLeast => ">=",
            Self::AtMost => "<=",
            Self::Below => "<",
        }
    }

    /// Whether `value <self> threshold` (false for NaN: an undefined value fails).
    #[must_use]
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::AtLeast => value >= threshold,
            Self::AtMost => value <= threshold,
            Self::Below => value < threshold,
        }
    }

    /// Whether `a` is a worse value than `b` for this comparison (NaN is the worst).
    fn worse(self, a: f64, b: f64) -> bool {
        match (a.is_nan(), b.is_nan()) {
            (true, false) => true,
            (_, true) => false,
            _ => match self {
                Self::AtLeast => a < b,
                Self::AtMost | Self::Below => a > b,
            },
        }
    }
}

/// Seeds in which a claim over `n` seeds must hold: `n - floor(n / 10)`, at least 90 %.
#[must_use]
pub fn required_seeds(n: usize) -> usize {
    n - n / 10
}

/// Where a claim stands under the rule across seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Outcome {
    /// Holds in at least [`required_seeds`] of the seeds.
    Holds,
    /// Holds in at least half of the seeds, but fewer than required.
    SeedDependent,
    /// Holds in fewer than half of the seeds.
    Fails,
}

/// The statistic of one seed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeedValue {
    /// The seed.
    pub seed: u64,
    /// Its value (NaN, written as `null`, for a failed run or an undefined statistic).
    #[serde(deserialize_with = "null_as_nan")]
    pub value: f64,
}

/// Reads `null` (how serde_json writes NaN) as NaN.
fn null_as_nan<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

/// One checked statement: a measured value against a documented threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// What is claimed, in words.
    pub name: String,
    /// The value the rule compares: the `required_seeds(N)`-th best seed
    /// (the worst seed for `N < 10`), or the pooled statistic.
    #[serde(deserialize_with = "null_as_nan")]
    pub measured: f64,
    /// `>=`, `<=` or `<`.
    pub comparison: Comparison,
    /// The threshold.
    pub threshold: f64,
    /// Whether the claim holds by the rule across seeds.
    pub pass: bool,
    /// A claim of another paper tested on this model (not one decouple
    /// reproduces): when it does not hold, the verdict is `FINDING`, not `FAIL`.
    #[serde(default)]
    pub hypothesis: bool,
    /// Holds in at least half of the seeds but fewer than required: reported
    /// as seed-dependent with its rate, a `FINDING` (not `FAIL`).
    #[serde(default)]
    pub seed_dependent: bool,
    /// The statistic of every seed (empty for a pooled claim and in old summaries).
    #[serde(default)]
    pub per_seed: Vec<SeedValue>,
    /// For a statistic of the whole set of seeds (a rate over seeds, a
    /// maximum over pooled measurements): how many seeds it pools; else 0.
    #[serde(default)]
    pub pooled_seeds: usize,
}

impl Claim {
    /// A single value against its threshold (no seeds recorded); prefer
    /// [`Claim::over_seeds`] or [`Claim::pooled`].
    #[must_use]
    pub fn new(name: impl Into<String>, measured: f64, comparison: Comparison, threshold: f64) -> Self {
        Self {
            name: name.into(),
            measured,
            comparison,
            threshold,
            pass: comparison.holds(measured, threshold),
            hypothesis: false,
            seed_dependent: false,
            per_seed: Vec::new(),
            pooled_seeds: 0,
        }
    }

    /// A claim measured in each seed, judged by the rule across seeds (module docs).
    #[must_use]
    pub fn over_seeds(name: impl Into<String>, per_seed: Vec<SeedValue>, comparison: Comparison, threshold: f64) -> Self {
        let n = per_seed.len();
        let mut sorted: Vec<f64> = per_seed.iter().map(|seed| seed.value).collect();
        // Best first, NaN last.
        sorted.sort_by(|a, b| {
            if comparison.worse(*a, *b) {
                std::cmp::Ordering::Greater
            } else if comparison.worse(*b, *a) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Equal
            }
        });
        let measured = if n == 0 { f64::NAN } else { sorted[required_seeds(n) - 1] };
        let held = sorted.iter().filter(|&&value| comparison.holds(value, threshold)).count();
        let pass = n > 0 && held >= required_seeds(n);
        let seed_dependent = !pass && n > 0 && 2 * held >= n;
        Self { measured, pass, seed_dependent, per_seed, ..Self::new(name, measured, comparison, threshold) }
    }

    /// A claim whose statistic is computed over all `seeds` at once (a rate
    /// over seeds, a maximum of pooled measurements): compared directly.
    #[must_use]
    pub fn pooled(name: impl Into<String>, measured: f64, comparison: Comparison, threshold: f64, seeds: usize) -> Self {
        Self { pooled_seeds: seeds, ..Self::new(name, measured, comparison, threshold) }
    }

    /// A claim of another paper tested at a setting fixed before running
    /// ([`Claim::hypothesis`]): measured, reported, and a `FINDING` when it does not hold.
    #[must_use]
    pub fn hypothesis(name: impl Into<String>, measured: f64, comparison: Comparison, threshold: f64) -> Self {
        Self::new(name, measured, comparison, threshold).of_another_paper()
    }

    /// Marks the claim as one of another paper (a `FINDING` when it does not hold).
    #[must_use]
    pub fn of_another_paper(self) -> Self {
        Self { hypothesis: true, ..self }
    }

    /// Where the claim stands under the rule.
    #[must_use]
    pub fn outcome(&self) -> Outcome {
        match (self.pass, self.seed_dependent) {
            (true, _) => Outcome::Holds,
            (false, true) => Outcome::SeedDependent,
            (false, false) => Outcome::Fails,
        }
    }

    /// Seeds in which the claim holds, of the seeds measured (`None` for a pooled or single-value claim).
    #[must_use]
    pub fn seeds_held(&self) -> Option<(usize, usize)> {
        (!self.per_seed.is_empty())
            .then(|| (self.per_seed.iter().filter(|seed| self.comparison.holds(seed.value, self.threshold)).count(), self.per_seed.len()))
    }

    /// The worst seed (NaN counts as worst; the first of equals).
    #[must_use]
    pub fn worst_seed(&self) -> Option<SeedValue> {
        self.per_seed.iter().copied().reduce(|worst, seed| if self.comparison.worse(seed.value, worst.value) { seed } else { worst })
    }

    /// Smallest and largest value over the seeds with a defined value.
    #[must_use]
    pub fn spread(&self) -> Option<(f64, f64)> {
        let values = self.per_seed.iter().map(|seed| seed.value).filter(|value| !value.is_nan());
        values.fold(None, |range, value| match range {
            None => Some((value, value)),
            Some((low, high)) => Some((f64::min(low, value), f64::max(high, value))),
        })
    }

    /// The seeds column of a claims table: `3 / 3`, `pooled over 5` or `–`.
    #[must_use]
    pub fn seeds_cell(&self) -> String {
        match (self.seeds_held(), self.pooled_seeds) {
            (Some((held, n)), _) => format!("{held} / {n}"),
            (None, 0) => "–".into(),
            (None, pooled) => format!("pooled over {pooled}"),
        }
    }

    /// The worst-seed column: `0.305 (seed 4)` or `–`.
    #[must_use]
    pub fn worst_cell(&self) -> String {
        self.worst_seed().map_or_else(|| "–".into(), |seed| format!("{:.4} (seed {})", seed.value, seed.seed))
    }

    /// The spread column: `0.025 .. 0.305` or `–`.
    #[must_use]
    pub fn spread_cell(&self) -> String {
        self.spread().map_or_else(|| "–".into(), |(low, high)| format!("{low:.4} .. {high:.4}"))
    }

    /// The result column.
    #[must_use]
    pub fn result_cell(&self) -> String {
        match (self.outcome(), self.hypothesis) {
            (Outcome::Holds, _) => "pass".into(),
            (Outcome::SeedDependent, _) => {
                let (held, n) = self.seeds_held().unwrap_or((0, 0));
                format!("**seed-dependent**: holds in {held} of {n} seeds (finding)")
            }
            (Outcome::Fails, false) => "**FAIL**".into(),
            (Outcome::Fails, true) => "**does not hold** (finding)".into(),
        }
    }
}

/// `PASS`, `FAIL` or `FINDING` (exploratory, nothing claimed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum Verdict {
    /// Every claim holds.
    Pass,
    /// At least one claim fails.
    Fail,
    /// No claim: an honest description of what was measured.
    Finding,
}

/// The machine-readable result of one experiment (`summary.json`), also the
/// source of its section of `REPORT.md`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Experiment id.
    pub experiment: String,
    /// Overall verdict.
    pub verdict: Verdict,
    /// The claims checked.
    pub claims: Vec<Claim>,
    /// Wall time in seconds.
    pub wall_s: f64,
    /// Where the time of the runs it trained went (summed over them; they
    /// run `--jobs` at a time, so the sum can exceed the wall time; runs
    /// shared with an earlier experiment are counted there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<decouple_harness::training::RunTimes>,
    /// The paper's claim in words.
    pub claim: String,
    /// The setting in words (sizes, seeds, quick or default scale).
    pub setting: String,
    /// Markdown tables of results.
    pub tables: String,
    /// Plot file names, relative to the experiment folder.
    pub plots: Vec<String>,
    /// Explanations, caveats, findings.
    pub notes: String,
}

impl Summary {
    /// The verdict implied by `claims`: `PASS` when all hold, `FAIL` when a
    /// reproduced claim fails (holds in fewer than half of the seeds),
    /// `FINDING` when there are none, or when the only claims that do not
    /// hold are tested hypotheses or seed-dependent.
    #[must_use]
    pub fn verdict_of(claims: &[Claim]) -> Verdict {
        if claims.is_empty() {
            Verdict::Finding
        } else if claims.iter().all(|claim| claim.pass) {
            Verdict::Pass
        } else if claims.iter().any(|claim| claim.outcome() == Outcome::Fails && !claim.hypothesis) {
            Verdict::Fail
        } else {
            Verdict::Finding
        }
    }

    /// Markdown table of the claims: the rule's value, the seeds in which
    /// each holds, the worst seed and the spread over seeds.
    #[must_use]
    pub fn claims_table(&self) -> String {
        let mut out = String::from(
            "| claim | measured | threshold | seeds holding | worst seed | spread over seeds | result |\n|---|---|---|---|---|---|---|\n",
        );
        for claim in &self.claims {
            let _ = writeln!(
                out,
                "| {} | {:.4} | {} {} | {} | {} | {} | {} |",
                table_cell(&claim.name),
                claim.measured,
                claim.comparison.symbol(),
                claim.threshold,
                claim.seeds_cell(),
                claim.worst_cell(),
                claim.spread_cell(),
                claim.result_cell()
            );
        }
        out.push_str(RULE_NOTE);
        out
    }
}

/// One line under every claims table: the rule across seeds.
pub const RULE_NOTE: &str = "\nmeasured: the value reached by the seeds the rule requires (the worst seed for fewer than 10 seeds); \
     a claim holds in at least N - floor(N/10) of N seeds (90 %), is seed-dependent (a finding) in at least half, fails in fewer \
     (docs/claims.md, \"How to read a verdict\").\n";

/// `text` for a markdown table cell: its `|` escaped (claim names such as `max |MC - closed form|`).
fn table_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Finding => "FINDING",
    }
}

/// Every `out/ID/summary.json` that exists, for the ids of `order`, in that order.
///
/// # Errors
/// An unreadable or unparsable summary.
pub fn read_summaries(out: &Path, order: &[&str]) -> anyhow::Result<Vec<Summary>> {
    let mut summaries = Vec::new();
    for id in order {
        let path = out.join(id).join("summary.json");
        if path.exists() {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            summaries.push(serde_json::from_str::<Summary>(&text).with_context(|| format!("parsing {}", path.display()))?);
        }
    }
    Ok(summaries)
}

/// Rewrites `out/REPORT.md` from every `out/*/summary.json`, in `order`.
///
/// # Errors
/// Unreadable summaries or an unwritable report.
pub fn write_report(out: &Path, order: &[&str], header: &str) -> anyhow::Result<()> {
    let summaries = read_summaries(out, order)?;
    let mut report = String::from("# decouple: reproduction report\n\n");
    report.push_str(header);
    report.push_str(
        "\n\n| experiment | verdict | claims passed | wall time (s) | runs trained | training (s) | evaluation (s): probes, decoupling, other |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for summary in &summaries {
        let passed = summary.claims.iter().filter(|claim| claim.pass).count();
        let time = summary.time.filter(|time| time.runs > 0).map_or_else(
            || "- | - | -".to_string(),
            |time| {
                let e = &time.evaluation;
                format!(
                    "{} | {:.1} (+ {:.1} history) | {:.1}: {:.1}, {:.1}, {:.1}",
                    time.runs,
                    time.train_s,
                    time.history_s,
                    e.total_s,
                    e.probes_s,
                    e.decoupling_s,
                    e.other_s()
                )
            },
        );
        let _ = writeln!(
            report,
            "| [{0}](#{0}) | {1} | {2} / {3} | {4:.1} | {time} |",
            summary.experiment,
            verdict_word(summary.verdict),
            passed,
            summary.claims.len(),
            summary.wall_s
        );
    }
    report.push_str(
        "\nRun times are summed over the runs an experiment trained (they run `--jobs` at a time, so sums can exceed the wall \
         time; a run shared with an earlier experiment is counted there).\n",
    );
    for summary in &summaries {
        let _ = write!(
            report,
            "\n## {}\n\n**Verdict: {}**\n\n**Claim.** {}\n\n**Setting.** {}\n\n",
            summary.experiment,
            verdict_word(summary.verdict),
            summary.claim,
            summary.setting
        );
        if !summary.claims.is_empty() {
            report.push_str(&summary.claims_table());
            report.push('\n');
        }
        report.push_str(&summary.tables);
        report.push('\n');
        for plot in &summary.plots {
            let _ = writeln!(report, "![{plot}]({}/{plot})\n", summary.experiment);
        }
        if !summary.notes.is_empty() {
            let _ = writeln!(report, "{}\n", summary.notes);
        }
    }
    decouple_harness::write_atomic(&out.join("REPORT.md"), &report)?;
    Ok(())
}

/// First line of the robustness section of docs/experiments.md.
pub const ROBUSTNESS_BEGIN: &str = "<!-- robustness: begin (written by `decouple publish-docs --robustness DIR`) -->";
/// Last line of the robustness section.
pub const ROBUSTNESS_END: &str = "<!-- robustness: end -->";

/// The robustness section (between [`ROBUSTNESS_BEGIN`] and [`ROBUSTNESS_END`]):
/// for every claim of `summaries`, the seeds in which it holds, the seeds the
/// rule requires, the worst seed and the spread; `provenance` says which run it is.
#[must_use]
pub fn robustness_section(summaries: &[Summary], provenance: &str) -> String {
    let mut out = format!("{ROBUSTNESS_BEGIN}\n\n## Robustness\n\n");
    let _ = write!(
        out,
        "{provenance}\n\nEvery claim of every experiment, over all the seeds of that run (not part of CI; regenerated by \
         `decouple reproduce --seeds 10 --out results-10` then `decouple publish-docs --robustness results-10`). A claim holds \
         when it holds in at least N - floor(N/10) of N seeds, is seed-dependent (a finding) when it holds in at least half, \
         and fails otherwise (docs/claims.md, \"How to read a verdict\"); pooled claims are one statistic of all the seeds.\n\n\
         | experiment | claim | threshold | seeds holding | rule needs | fraction | worst seed | spread over seeds | result |\n\
         |---|---|---|---|---|---|---|---|---|\n"
    );
    let mut counts = [0usize; 3];
    for summary in summaries {
        for claim in &summary.claims {
            let (needs, fraction) = match claim.seeds_held() {
                Some((held, n)) => (format!("{} / {n}", required_seeds(n)), format!("{:.2}", held as f64 / n as f64)),
                None => ("–".into(), "–".into()),
            };
            counts[match claim.outcome() {
                Outcome::Holds => 0,
                Outcome::SeedDependent => 1,
                Outcome::Fails => 2,
            }] += 1;
            let _ = writeln!(
                out,
                "| {} | {} | {} {} | {} | {needs} | {fraction} | {} | {} | {} |",
                summary.experiment,
                table_cell(&claim.name),
                claim.comparison.symbol(),
                claim.threshold,
                claim.seeds_cell(),
                claim.worst_cell(),
                claim.spread_cell(),
                claim.result_cell()
            );
        }
    }
    let _ = write!(
        out,
        "\n{} claims hold, {} are seed-dependent, {} do not hold (failures of reproduced claims and tested hypotheses together).\n\n{ROBUSTNESS_END}\n",
        counts[0], counts[1], counts[2]
    );
    out
}

/// `document` with its robustness section replaced by `section` (appended when it has none).
#[must_use]
pub fn with_robustness_section(document: &str, section: &str) -> String {
    match (document.find(ROBUSTNESS_BEGIN), document.find(ROBUSTNESS_END)) {
        (Some(begin), Some(end)) if end > begin => {
            let after = &document[end + ROBUSTNESS_END.len()..];
            format!("{}{}{}", &document[..begin], section.trim_end_matches('\n'), after)
        }
        _ => format!("{}\n{section}", document.trim_end_matches('\n').to_string() + "\n"),
    }
}

/// The robustness section of `document`, if it has one (kept when the rest is regenerated).
#[must_use]
pub fn robustness_section_of(document: &str) -> Option<&str> {
    let begin = document.find(ROBUSTNESS_BEGIN)?;
    let end = document[begin..].find(ROBUSTNESS_END)? + begin + ROBUSTNESS_END.len();
    Some(&document[begin..end])
}

#[cfg(test)]
mod tests {
    use super::{Claim, Comparison, Outcome, SeedValue, Summary, Verdict, required_seeds};

    fn seeds(values: &[f64]) -> Vec<SeedValue> {
        values.iter().enumerate().map(|(seed, &value)| SeedValue { seed: seed as u64, value }).collect()
    }

    /// A failing reproduced claim fails the experiment; a failing tested
    /// hypothesis makes it a finding; a failing claim of either kind wins over passes.
    #[test]
    fn verdicts_distinguish_reproduced_claims_from_hypotheses() {
        let holds = Claim::new("a", 1.0, Comparison::AtLeast, 0.5);
        let fails = Claim::new("b", 0.1, Comparison::AtLeast, 0.5);
        let hypothesis_holds = Claim::hypothesis("c", 0.1, Comparison::AtMost, 0.5);
        let hypothesis_fails = Claim::hypothesis("d", 0.9, Comparison::AtMost, 0.5);
        assert!(hypothesis_holds.pass && hypothesis_holds.hypothesis && !hypothesis_fails.pass);
        assert_eq!(Summary::verdict_of(&[]), Verdict::Finding);
        assert_eq!(Summary::verdict_of(&[holds.clone(), hypothesis_holds.clone()]), Verdict::Pass);
        assert_eq!(Summary::verdict_of(&[holds.clone(), hypothesis_fails.clone()]), Verdict::Finding);
        assert_eq!(Summary::verdict_of(&[fails.clone(), hypothesis_fails.clone()]), Verdict::Fail);
        assert_eq!(Summary::verdict_of(&[fails, holds]), Verdict::Fail);
        // Old summaries (without the fields) read as reproduced single-value claims.
        let old: Claim = serde_json::from_str(r#"{"name":"x","measured":1.0,"comparison":"AtLeast","threshold":0.5,"pass":true}"#).unwrap();
        assert!(!old.hypothesis && !old.seed_dependent && old.per_seed.is_empty() && old.pooled_seeds == 0);
        assert_eq!((old.outcome(), old.seeds_cell(), old.worst_cell()), (Outcome::Holds, "–".to_string(), "–".to_string()));
    }

    /// The number of seeds the rule requires: every seed below 10, then 90 %.
    #[test]
    fn the_rule_requires_ninety_percent_of_the_seeds() {
        let required: Vec<usize> = [1, 2, 3, 6, 9, 10, 11, 19, 20, 100].map(required_seeds).to_vec();
        assert_eq!(required, vec![1, 2, 3, 6, 9, 9, 10, 18, 18, 90]);
        for n in 1..200 {
            let needed = required_seeds(n);
            assert!(needed as f64 >= 0.9 * n as f64 - 1e-12 && (needed as f64) < 0.9 * n as f64 + 1.0, "n = {n}");
        }
    }

    /// One bad seed of 3 or 6 does not hold; one of 10 does, and `measured`
    /// is then the second worst; a majority is seed-dependent, a minority fails.
    #[test]
    fn claims_over_seeds_follow_the_rule() {
        let three = Claim::over_seeds("x", seeds(&[0.03, 0.3, 0.02]), Comparison::AtMost, 0.2);
        assert_eq!((three.outcome(), three.measured, three.seeds_held()), (Outcome::SeedDependent, 0.3, Some((2, 3))));
        assert_eq!(three.worst_seed(), Some(SeedValue { seed: 1, value: 0.3 }));
        assert_eq!(three.spread(), Some((0.02, 0.3)));
        assert_eq!(Summary::verdict_of(std::slice::from_ref(&three)), Verdict::Finding);
        let mut ten = vec![0.05; 10];
        ten[4] = 0.31;
        ten[7] = 0.1;
        let ten = Claim::over_seeds("x", seeds(&ten), Comparison::AtMost, 0.2);
        assert_eq!((ten.outcome(), ten.measured, ten.seeds_held()), (Outcome::Holds, 0.1, Some((9, 10))));
        assert_eq!(ten.worst_cell(), "0.3100 (seed 4)");
        let mostly_bad = Claim::over_seeds("x", seeds(&[0.5, 0.6, 0.1]), Comparison::AtMost, 0.2);
        assert_eq!(mostly_bad.outcome(), Outcome::Fails);
        assert_eq!(Summary::verdict_of(&[mostly_bad.clone(), three.clone()]), Verdict::Fail);
        assert_eq!(Summary::verdict_of(&[mostly_bad.of_another_paper()]), Verdict::Finding);
        // `>=` and `<` read the other way round; NaN (a failed run) never holds and is the worst seed.
        let at_least = Claim::over_seeds("y", seeds(&[0.9, f64::NAN, 0.95]), Comparison::AtLeast, 0.5);
        assert!(at_least.measured.is_nan() && at_least.outcome() == Outcome::SeedDependent);
        assert_eq!(at_least.worst_seed().map(|seed| seed.seed), Some(1));
        assert_eq!(at_least.spread(), Some((0.9, 0.95)));
        let below = Claim::over_seeds("z", seeds(&[0.55, 0.59, 0.6]), Comparison::Below, 0.6);
        assert_eq!((below.outcome(), below.measured), (Outcome::SeedDependent, 0.6));
        assert!(Claim::over_seeds("none", Vec::new(), Comparison::AtLeast, 0.0).outcome() == Outcome::Fails);
    }

    /// Per-seed values (NaN written as null) and pooled claims survive a
    /// round trip through summary.json.
    #[test]
    fn claims_round_trip_through_json() {
        let claim = Claim::over_seeds("x", seeds(&[0.1, f64::NAN]), Comparison::AtMost, 0.2).of_another_paper();
        let text = serde_json::to_string(&claim).unwrap();
        let back: Claim = serde_json::from_str(&text).unwrap();
        assert!(back.measured.is_nan() && back.per_seed[1].value.is_nan() && back.hypothesis && back.seed_dependent);
        assert_eq!(back.seeds_held(), Some((1, 2)));
        let pooled = Claim::pooled("rate", 0.8, Comparison::AtLeast, 0.8, 5);
        assert_eq!((pooled.outcome(), pooled.seeds_cell()), (Outcome::Holds, "pooled over 5".to_string()));
    }

    /// The robustness section lists every claim and replaces itself in a document.
    #[test]
    fn the_robustness_section_lists_every_claim_and_replaces_itself() {
        let summary = |claims: Vec<Claim>| Summary {
            experiment: "controls".into(),
            verdict: Summary::verdict_of(&claims),
            claims,
            wall_s: 1.0,
            time: None,
            claim: String::new(),
            setting: String::new(),
            tables: String::new(),
            plots: Vec::new(),
            notes: String::new(),
        };
        let first = summary(vec![
            Claim::over_seeds("(a) energy", seeds(&[0.03, 0.31, 0.02, 0.03, 0.04, 0.03, 0.02, 0.03, 0.05, 0.03]), Comparison::AtMost, 0.2),
            Claim::pooled("rate", 0.6, Comparison::AtLeast, 0.8, 10),
        ]);
        let section = super::robustness_section(&[first], "From a 10-seed run.");
        assert!(
            section.contains("| controls | (a) energy | <= 0.2 | 9 / 10 | 9 / 10 | 0.90 | 0.3100 (seed 1) | 0.0200 .. 0.3100 | pass |")
        );
        assert!(section.contains("| controls | rate | >= 0.8 | pooled over 10 | – | – | – | – | **FAIL** |"));
        assert!(section.contains("1 claims hold, 0 are seed-dependent, 1 do not hold"));
        let piped = summary(vec![Claim::pooled("max |a - b|", 0.0, Comparison::AtMost, 1.0, 3)]);
        assert!(super::robustness_section(std::slice::from_ref(&piped), "").contains("| controls | max \\|a - b\\| | <= 1 |"));
        assert!(piped.claims_table().contains("| max \\|a - b\\| | 0.0000 |"));
        let document = "# report\n\ntext\n";
        let once = super::with_robustness_section(document, &section);
        assert!(once.starts_with(document) && once.ends_with(&section));
        assert_eq!(super::robustness_section_of(&once), Some(section.trim_end()));
        let other = super::robustness_section(&[], "Another run.");
        let twice = super::with_robustness_section(&once, &other);
        assert!(twice.contains("Another run.") && !twice.contains("From a 10-seed run.") && twice.starts_with(document));
        assert_eq!(twice.matches("## Robustness").count(), 1);
    }
}
