//! Verifier policy on a statement (docs/threat-model.md, "Verifier policy": the checks beyond the SNARK): the insurance fund
//! covers bad debt now and in every stress scenario; declared reserves cover liabilities; in
//! strict mode no account is under-margined.

use serde::{Deserialize, Serialize};

use crate::statement::Statement;

/// One check and its outcome: passed, passed with a warning, or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyCheck {
    /// What was checked, as a sentence (reports and tests name checks by it).
    pub name: String,
    /// False: the check failed (the verdict is invalid).
    pub passed: bool,
    /// The check passed, but what it found leaves the verdict weaker than it reads (the
    /// development SRS: the proof proves nothing). Never set on a failed check.
    #[serde(default)]
    pub warning: bool,
    /// What was found (numbers, the failing values).
    pub detail: String,
}

/// What a set of checks amounts to; serialized `"valid"`, `"warning"` or `"invalid"` (the JSON
/// reports' `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every check passed without a warning.
    Valid,
    /// Every check passed, at least one with a warning.
    Warning,
    /// At least one check failed.
    Invalid,
}

impl Verdict {
    /// The verdict on `checks`: any failure makes it invalid, else any warning a warning.
    pub fn of(checks: &[PolicyCheck]) -> Verdict {
        if checks.iter().any(|c| !c.passed) {
            Verdict::Invalid
        } else if checks.iter().any(|c| c.warning) {
            Verdict::Warning
        } else {
            Verdict::Valid
        }
    }
}

impl PolicyCheck {
    /// A check named `name` that `passed`, with `detail`.
    pub fn new(name: impl Into<String>, passed: bool, detail: impl Into<String>) -> PolicyCheck {
        PolicyCheck {
            name: name.into(),
            passed,
            warning: false,
            detail: detail.into(),
        }
    }

    /// A check that passed with a warning.
    pub fn warning(name: impl Into<String>, detail: impl Into<String>) -> PolicyCheck {
        PolicyCheck {
            warning: true,
            ..PolicyCheck::new(name, true, detail)
        }
    }

    /// `ok`, `warn` or `FAIL`, as the text reports mark it.
    pub fn mark(&self) -> &'static str {
        match (self.passed, self.warning) {
            (false, _) => "FAIL",
            (true, true) => "warn",
            (true, false) => "ok",
        }
    }
}

/// The label of the development SRS in manifests.
pub const DEV_SRS_LABEL: &str = "dev-insecure";
/// The label of an imported powers-of-tau ceremony SRS in manifests.
pub const CEREMONY_SRS_LABEL: &str = "ptau";

/// The trusted-setup check every verifier reports: a ceremony SRS passes; the development
/// SRS (public toxic waste: anyone can forge proofs under it) is a warning, and a failure
/// with `strict`; any other label is no setup a verifier knows, and fails.
pub fn trusted_setup(srs_label: &str, strict: bool) -> PolicyCheck {
    const NAME: &str = "trusted setup (a real ceremony is required with --strict)";
    const INSECURE: &str = "INSECURE development parameters: this proof proves nothing";
    match srs_label {
        CEREMONY_SRS_LABEL => PolicyCheck::new(NAME, true, CEREMONY_SRS_LABEL),
        DEV_SRS_LABEL if strict => PolicyCheck::new(NAME, false, INSECURE),
        DEV_SRS_LABEL => PolicyCheck::warning(NAME, INSECURE),
        other => PolicyCheck::new(NAME, false, format!("unknown SRS label {other:?}")),
    }
}

/// The check that every readable field of a published statement is what its config gives
/// ([`Statement::config_differences`]); every verifier (bundle, statement, page) runs it.
pub fn statement_agrees(s: &Statement, config: &crate::config::Config) -> PolicyCheck {
    let differences = s.config_differences(config);
    PolicyCheck::new(
        "statement agrees with the config",
        differences.is_empty(),
        if differences.is_empty() {
            "every field is the config's or follows from the proved values".to_string()
        } else {
            format!("differs in: {}", differences.join(", "))
        },
    )
}

/// Evaluates every policy check; all of them, not just the first failure.
pub fn evaluate(statement: &Statement, strict: bool) -> Vec<PolicyCheck> {
    let money = |v| statement.display_money(v);
    let fund = statement.insurance_fund;
    let mut checks = vec![PolicyCheck::new(
        "insurance fund covers bad debt",
        fund >= statement.total_bad_debt,
        format!(
            "fund {} vs bad debt {}",
            money(fund),
            money(statement.total_bad_debt)
        ),
    )];
    for s in &statement.scenarios {
        checks.push(PolicyCheck::new(
            format!("insurance fund covers bad debt in scenario `{}`", s.name),
            fund >= s.bad_debt,
            format!("fund {} vs bad debt {}", money(fund), money(s.bad_debt)),
        ));
    }
    for a in &statement.assets {
        if let Some(reserves) = a.reserves {
            checks.push(PolicyCheck::new(
                format!("reserves cover liabilities in {}", a.symbol),
                reserves >= a.liabilities,
                format!(
                    "reserves {} vs liabilities {}",
                    crate::amount::format_units(reserves, a.decimals),
                    crate::amount::format_units(a.liabilities, a.decimals)
                ),
            ));
        }
    }
    if strict {
        checks.push(PolicyCheck::new(
            "no under-margined accounts (strict)",
            statement.under_margined_accounts == 0,
            format!("{} under-margined", statement.under_margined_accounts),
        ));
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_srs_is_a_warning_and_an_unknown_label_a_failure() {
        let dev = trusted_setup(DEV_SRS_LABEL, false);
        assert!(dev.passed && dev.warning && dev.mark() == "warn");
        assert!(dev.detail.contains("INSECURE"));
        let strict = trusted_setup(DEV_SRS_LABEL, true);
        assert!(!strict.passed && strict.mark() == "FAIL");
        let ceremony = trusted_setup(CEREMONY_SRS_LABEL, true);
        assert!(ceremony.passed && !ceremony.warning && ceremony.mark() == "ok");
        for label in ["dev-insecur0", "", "ptau:x", "DEV-INSECURE"] {
            assert!(!trusted_setup(label, false).passed, "{label:?}");
        }
    }

    #[test]
    fn a_failure_outweighs_a_warning_and_a_warning_a_pass() {
        let ok = PolicyCheck::new("a", true, "");
        let warn = PolicyCheck::warning("b", "");
        let fail = PolicyCheck::new("c", false, "");
        assert_eq!(Verdict::of(&[]), Verdict::Valid);
        assert_eq!(Verdict::of(std::slice::from_ref(&ok)), Verdict::Valid);
        assert_eq!(Verdict::of(&[ok.clone(), warn.clone()]), Verdict::Warning);
        assert_eq!(Verdict::of(&[warn, fail, ok]), Verdict::Invalid);
        assert_eq!(serde_json::to_value(Verdict::Warning).unwrap(), "warning");
    }
}
