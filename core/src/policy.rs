//! Verifier policy on a statement (SPEC §6, the checks beyond the SNARK): the insurance fund
//! covers bad debt now and in every stress scenario; declared reserves cover liabilities; in
//! strict mode no account is under-margined.

use serde::{Deserialize, Serialize};

use crate::statement::Statement;

/// One policy check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyCheck {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

impl PolicyCheck {
    pub fn new(name: impl Into<String>, passed: bool, detail: impl Into<String>) -> PolicyCheck {
        PolicyCheck {
            name: name.into(),
            passed,
            detail: detail.into(),
        }
    }
}

/// Evaluates every policy check; all of them, not just the first failure.
pub fn evaluate(statement: &Statement, strict: bool) -> Vec<PolicyCheck> {
    let money = |v| statement.display_money(v);
    let fund = statement.insurance_fund;
    let mut checks = vec![PolicyCheck {
        name: "insurance fund covers bad debt".into(),
        passed: fund >= statement.total_bad_debt,
        detail: format!(
            "fund {} vs bad debt {}",
            money(fund),
            money(statement.total_bad_debt)
        ),
    }];
    for s in &statement.scenarios {
        checks.push(PolicyCheck {
            name: format!("insurance fund covers bad debt in scenario `{}`", s.name),
            passed: fund >= s.bad_debt,
            detail: format!("fund {} vs bad debt {}", money(fund), money(s.bad_debt)),
        });
    }
    for a in &statement.assets {
        if let Some(reserves) = a.reserves {
            checks.push(PolicyCheck {
                name: format!("reserves cover liabilities in {}", a.symbol),
                passed: reserves >= a.liabilities,
                detail: format!(
                    "reserves {} vs liabilities {}",
                    crate::amount::format_units(reserves, a.decimals),
                    crate::amount::format_units(a.liabilities, a.decimals)
                ),
            });
        }
    }
    if strict {
        checks.push(PolicyCheck {
            name: "no under-margined accounts (strict)".into(),
            passed: statement.under_margined_accounts == 0,
            detail: format!("{} under-margined", statement.under_margined_accounts),
        });
    }
    checks
}
