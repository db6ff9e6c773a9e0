//! Human-readable rendering of statements and halt reports. Amounts are rounded to the quote
//! decimals for display only; the JSON form carries the exact fine-unit integers.

use std::fmt::Write as _;

use crate::amount::format_units;
use crate::oracle::{AssetOracle, HaltReport, SourceQuote};
use crate::policy::PolicyCheck;
use crate::statement::Statement;

fn quote_line(t: &mut String, o: &AssetOracle, q: &SourceQuote) {
    let price = q
        .price
        .map(|p| format_units(p, o.price_decimals))
        .unwrap_or_else(|| "-".into());
    let ts = q
        .timestamp
        .map(|t| t.to_string())
        .unwrap_or_else(|| "-".into());
    let _ = writeln!(
        t,
        "      {:<12} {:>22}  at {:<12} {:?}",
        q.source, price, ts, q.status
    );
}

/// The statement as an auditor reads it.
/// `digest` is the statement digest as shown (computing it needs the config: it hashes the
/// statement's public instances).
pub fn statement(s: &Statement, digest: &str) -> String {
    let mut t = String::new();
    let money = |v| s.display_money(v);
    let _ = writeln!(
        t,
        "epoch {} at unix time {} (statement v{})",
        s.epoch, s.timestamp, s.version
    );
    let _ = writeln!(t, "  statement digest  {}", digest);
    let _ = writeln!(t, "  previous digest   {}", hex::encode(s.prev_digest));
    let _ = writeln!(t, "  config digest     {}", hex::encode(s.config_digest));
    let _ = writeln!(
        t,
        "  fine unit         10^-{} {}",
        s.fine_exponent, s.quote_symbol
    );
    let _ = writeln!(t, "\noracle (price = lower median of valid quotes)");
    for o in &s.oracle {
        let median = o
            .median
            .map(|m| format_units(m, o.price_decimals))
            .unwrap_or_else(|| "none".into());
        let _ = writeln!(
            t,
            "  {:<8} {} {}   {}/{} counted, quorum {}",
            o.symbol,
            median,
            s.quote_symbol,
            o.counted,
            o.quotes.len(),
            o.quorum
        );
        for q in &o.quotes {
            quote_line(&mut t, o, q);
        }
    }
    let _ = writeln!(t, "\ncollateral liabilities");
    for a in &s.assets {
        let reserves = a
            .reserves
            .map(|r| format!("   reserves {}", format_units(r, a.decimals)))
            .unwrap_or_default();
        let _ = writeln!(
            t,
            "  {:<8} {:>28}{}",
            a.symbol,
            format_units(a.liabilities, a.decimals),
            reserves
        );
    }
    if !s.markets.is_empty() {
        let _ = writeln!(t, "\nopen interest              long                short");
        for m in &s.markets {
            let _ = writeln!(
                t,
                "  {:<12} {:>20} {:>20}",
                m.symbol,
                format_units(m.long_open_interest, m.size_decimals),
                format_units(m.short_open_interest, m.size_decimals)
            );
        }
    }
    let _ = writeln!(t, "\ntotals");
    let _ = writeln!(t, "  equity                   {}", money(s.total_equity));
    let _ = writeln!(
        t,
        "  maintenance requirement  {}",
        money(s.total_maintenance)
    );
    let _ = writeln!(
        t,
        "  under-margined accounts  {}",
        s.under_margined_accounts
    );
    let _ = writeln!(t, "  shortfall                {}", money(s.total_shortfall));
    let _ = writeln!(t, "  bad debt                 {}", money(s.total_bad_debt));
    let _ = writeln!(t, "  insurance fund           {}", money(s.insurance_fund));
    if !s.scenarios.is_empty() {
        let _ = writeln!(t, "\nstress scenarios");
        for sc in &s.scenarios {
            let shocks: Vec<String> = s
                .assets
                .iter()
                .zip(&sc.shocks_bps)
                .filter(|(_, &b)| b != 0)
                .map(|(a, b)| format!("{} {:+}%", a.symbol, format_units(*b, 2)))
                .collect();
            // A venue of hundreds of assets: the first shocks, then how many more.
            const SHOWN: usize = 8;
            let mut listed = shocks[..shocks.len().min(SHOWN)].join(", ");
            if shocks.len() > SHOWN {
                listed.push_str(&format!(", … {} more", shocks.len() - SHOWN));
            }
            let _ = writeln!(
                t,
                "  {:<16} bad debt {:>24}   ({listed})",
                sc.name,
                money(sc.bad_debt),
            );
        }
    }
    t
}

/// The policy checks, one line each.
pub fn policy(checks: &[PolicyCheck]) -> String {
    checks_under("policy", checks)
}

/// Named checks under a heading, one line each.
pub fn checks_under(heading: &str, checks: &[PolicyCheck]) -> String {
    let mut t = format!("\n{heading}\n");
    for c in checks {
        let _ = writeln!(t, "  [{}] {} — {}", c.mark(), c.name, c.detail);
    }
    t
}

/// Why an epoch halted: each halted asset with all its quotes.
pub fn halt(h: &HaltReport) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "HALTED: epoch {} at unix time {}: oracle quorum not met; no statement is produced",
        h.epoch, h.timestamp
    );
    for o in &h.halted {
        let _ = writeln!(
            t,
            "  {}: {} of {} quotes counted, quorum {}",
            o.symbol,
            o.counted,
            o.quotes.len(),
            o.quorum
        );
        for q in &o.quotes {
            quote_line(&mut t, o, q);
        }
    }
    t
}
