//! Claims, verdicts, per-experiment `summary.json` and the regenerated `REPORT.md`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

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
}

/// One checked statement: a measured value against a documented threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// What is claimed, in words.
    pub name: String,
    /// The measured value (the worst case over seeds where stated).
    pub measured: f64,
    /// `>=`, `<=` or `<`.
    pub comparison: Comparison,
    /// The threshold.
    pub threshold: f64,
    /// Whether the claim holds.
    pub pass: bool,
    /// A claim of another paper tested on this model (not one decouple
    /// reproduces): when it does not hold, the verdict is `FINDING`, not `FAIL`.
    #[serde(default)]
    pub hypothesis: bool,
}

impl Claim {
    /// Evaluates `measured <comparison> threshold`.
    #[must_use]
    pub fn new(name: impl Into<String>, measured: f64, comparison: Comparison, threshold: f64) -> Self {
        let pass = match comparison {
            Comparison::AtLeast => measured >= threshold,
            Comparison::AtMost => measured <= threshold,
            Comparison::Below => measured < threshold,
        };
        Self { name: name.into(), measured, comparison, threshold, pass, hypothesis: false }
    }

    /// A claim of another paper tested at a setting fixed before running
    /// ([`Claim::hypothesis`]): measured, reported, and a `FINDING` when it does not hold.
    #[must_use]
    pub fn hypothesis(name: impl Into<String>, measured: f64, comparison: Comparison, threshold: f64) -> Self {
        Self { hypothesis: true, ..Self::new(name, measured, comparison, threshold) }
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
    /// reproduced claim does not, `FINDING` when there are none or only
    /// tested hypotheses fail.
    #[must_use]
    pub fn verdict_of(claims: &[Claim]) -> Verdict {
        if claims.is_empty() {
            Verdict::Finding
        } else if claims.iter().all(|claim| claim.pass) {
            Verdict::Pass
        } else if claims.iter().any(|claim| !claim.pass && !claim.hypothesis) {
            Verdict::Fail
        } else {
            Verdict::Finding
        }
    }

    /// Markdown table of the claims.
    #[must_use]
    pub fn claims_table(&self) -> String {
        let mut out = String::from("| claim | measured | threshold | result |\n|---|---|---|---|\n");
        for claim in &self.claims {
            let _ = writeln!(
                out,
                "| {} | {:.4} | {} {} | {} |",
                claim.name,
                claim.measured,
                claim.comparison.symbol(),
                claim.threshold,
                match (claim.pass, claim.hypothesis) {
                    (true, _) => "pass",
                    (false, false) => "**FAIL**",
                    (false, true) => "**does not hold** (finding)",
                }
            );
        }
        out
    }
}

fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Finding => "FINDING",
    }
}

/// Rewrites `out/REPORT.md` from every `out/*/summary.json`, in `order`.
///
/// # Errors
/// Unreadable summaries or an unwritable report.
pub fn write_report(out: &Path, order: &[&str], header: &str) -> anyhow::Result<()> {
    let mut summaries = Vec::new();
    for id in order {
        let path = out.join(id).join("summary.json");
        if path.exists() {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            summaries.push(serde_json::from_str::<Summary>(&text).with_context(|| format!("parsing {}", path.display()))?);
        }
    }
    let mut report = String::from("# decouple: reproduction report\n\n");
    report.push_str(header);
    report.push_str("\n\n| experiment | verdict | claims passed | wall time (s) |\n|---|---|---|---|\n");
    for summary in &summaries {
        let passed = summary.claims.iter().filter(|claim| claim.pass).count();
        let _ = writeln!(
            report,
            "| [{0}](#{0}) | {1} | {2} / {3} | {4:.1} |",
            summary.experiment,
            verdict_word(summary.verdict),
            passed,
            summary.claims.len(),
            summary.wall_s
        );
    }
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

#[cfg(test)]
mod tests {
    use super::{Claim, Comparison, Summary, Verdict};

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
        // Old summaries (without the field) read as reproduced claims.
        let old: Claim = serde_json::from_str(r#"{"name":"x","measured":1.0,"comparison":"AtLeast","threshold":0.5,"pass":true}"#).unwrap();
        assert!(!old.hypothesis);
    }
}
