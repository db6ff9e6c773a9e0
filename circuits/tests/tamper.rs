//! The circuit attacks of the threat model (docs/threat-model.md): each dishonest witness must
//! be rejected by `MockProver`, and by the constraint the attack targets (its name is
//! asserted). Unless stated otherwise the witness is run against the instances the circuit
//! computes from it, so only an internal constraint can reject it.
//!
//! Names: the account table's polynomials are named with their formula (`range of Gap, …`
//! for a lane's range check, `Short(1): f · (1 − f) = 0`, …); the oracle runs on halo2-base,
//! whose range checks fail as its lookup (`lookup 'lookup wo selector'`) and whose bit checks
//! fail in its one gate (`gate '1 column a + b * c = out'`); a public input or a link between
//! the oracle and the table fails as a `copy constraint`.

mod common;

use common::*;
use zkmargin_circuits::keygen::mock_circuit;
use zkmargin_fixtures::GeneratorOptions;
use zkmargin_layout::field::pow2;
use zkmargin_layout::Fr;

/// Halo2-base's range-check lookup (the oracle's comparisons and ranges).
const BASE_RANGE: &str = "lookup 'lookup wo selector'";
/// Halo2-base's one arithmetic gate (the oracle's bit checks).
const BASE_GATE: &str = "gate '1 column a + b * c = out'";
/// A public input or a cell linked across the circuit.
const COPY: &str = "copy constraint";

/// Asserts that `result` failed, and that one failed constraint's name contains `expected`.
fn rejected(result: Result<(), Vec<String>>, what: &str, expected: &str) {
    let failed = result.expect_err(&format!("{what}: dishonest witness was accepted"));
    assert!(
        failed.iter().any(|name| name.contains(expected)),
        "{what}: rejected, but not by `{expected}`: {failed:?}"
    );
}

/// First, middle and last row (the last is a padding zero account).
fn rows(case: &Case) -> [usize; 3] {
    [0, case.accounts.len() / 2, case.shape.rows - 1]
}

#[test]
fn honest_witness_is_accepted_by_both_harnesses() {
    let case = small_case();
    mock_own(&case.witness()).expect("own instances");
    mock(&case.witness(), case.instances()).expect("statement instances");
}

#[test]
fn field_negative_or_oversized_balance_is_rejected_in_any_row() {
    let case = small_case();
    for r in rows(&case) {
        for bad in [-Fr::one(), -Fr::from(1_000_000u64), pow2(64)] {
            let mut w = case.witness();
            w.rows[r].balances[1] = bad;
            rejected(
                mock_own(&w),
                &format!("balance {bad:?} in row {r}"),
                "range of Balance(1)",
            );
        }
    }
    // The largest in-range balance is fine (its equity is then positive in every case, so the
    // honest hints for that row change accordingly).
    let mut w = case.witness();
    w.rows[0].balances[0] = pow2(64) - Fr::one();
    w.rows[0].under_margined = Fr::zero();
    w.rows[0]
        .equity_negative
        .iter_mut()
        .for_each(|f| *f = Fr::zero());
    mock_own(&w).expect("2^64 − 1 is a valid balance");
}

#[test]
fn out_of_range_size_and_cost_are_rejected() {
    let case = small_case();
    for r in rows(&case) {
        let mut w = case.witness();
        w.rows[r].size_abs[0] = -Fr::one();
        rejected(mock_own(&w), "field-negative |size|", "Size(0)");
        let mut w = case.witness();
        // The circuit bound is |size| < 2^64 (the input format's 2^63 is stricter).
        w.rows[r].size_abs[2] = pow2(64);
        rejected(mock_own(&w), "|size| = 2^64", "Size(2)");
        let mut w = case.witness();
        w.rows[r].size_negative[1] = Fr::from(2u64);
        rejected(
            mock_own(&w),
            "non-boolean size sign",
            "Short(1): f · (1 − f) = 0",
        );
        let mut w = case.witness();
        w.rows[r].costs[3] = pow2(127);
        rejected(mock_own(&w), "cost = 2^127", "Cost(3)");
        let mut w = case.witness();
        w.rows[r].costs[0] = -pow2(127) - Fr::one();
        rejected(mock_own(&w), "cost = −2^127 − 1", "Cost(0)");
    }
}

/// Widths a small generated book fits: 48-bit balances and sizes, 64-bit costs, 32-bit prices.
const DECLARED: &str = "balance_bits = 48\nsize_bits = 48\ncost_bits = 64\nprice_bits = 32";

#[test]
fn declared_bounds_are_enforced_by_the_circuit_in_any_row() {
    let case = Case::with_bounds(
        GeneratorOptions {
            accounts: 12,
            seed: 77,
            ..Default::default()
        },
        16,
        DECLARED,
    );
    assert_eq!(case.shape.widths.balance_bits, 48);
    mock_own(&case.witness()).expect("honest witness under declared bounds");
    mock(&case.witness(), case.instances()).expect("statement instances");
    for r in rows(&case) {
        let mut w = case.witness();
        w.rows[r].balances[1] = pow2(48);
        rejected(mock_own(&w), "balance = 2^48", "Balance(1)");
        let mut w = case.witness();
        w.rows[r].size_abs[2] = pow2(48);
        rejected(mock_own(&w), "|size| = 2^48", "Size(2)");
        let mut w = case.witness();
        w.rows[r].costs[3] = pow2(63);
        rejected(mock_own(&w), "cost = 2^63", "Cost(3)");
    }
    let mut w = case.witness();
    w.inputs.assets[1].quotes[0].price = pow2(32);
    rejected(mock_own(&w), "price = 2^32", BASE_RANGE);
}

#[test]
fn wrong_equity_sign_hints_are_rejected() {
    let case = small_case();
    let witness = case.witness();
    // Flip every sign hint of a few rows, in the base case and in each scenario.
    for r in rows(&case) {
        for j in 0..case.shape.cases() {
            let mut w = witness.clone();
            let flag = &mut w.rows[r].equity_negative[j];
            *flag = Fr::one() - *flag;
            rejected(
                mock_own(&w),
                &format!("flipped equity sign, row {r}, case {j}"),
                &format!("Equity({j})"),
            );
        }
        let mut w = witness.clone();
        w.rows[r].under_margined = Fr::one() - w.rows[r].under_margined;
        rejected(
            mock_own(&w),
            &format!("flipped under-margined flag, row {r}"),
            "Surplus",
        );
    }
}

#[test]
fn one_unit_shortfall_must_be_counted() {
    let case = Case::fixture("edge/boundary", 16);
    mock(&case.witness(), case.instances()).expect("honest boundary case");
    let short = case
        .accounts
        .iter()
        .position(|(_, a)| a.identifier == "short-by-one")
        .unwrap();
    let exact = case
        .accounts
        .iter()
        .position(|(_, a)| a.identifier == "exactly-at")
        .unwrap();
    let mut w = case.witness();
    assert_eq!(w.rows[short].under_margined, Fr::one());
    w.rows[short].under_margined = Fr::zero();
    rejected(
        mock_own(&w),
        "one-fine-unit shortfall not flagged",
        "Surplus",
    );
    let mut w = case.witness();
    w.rows[exact].under_margined = Fr::one();
    rejected(
        mock_own(&w),
        "account exactly at its requirement flagged",
        "Surplus",
    );
}

#[test]
fn median_must_be_the_lower_median_of_valid_quotes() {
    let case = small_case();
    for a in 0..case.shape.assets() {
        let prices: Vec<Fr> = case.witness().inputs.assets[a]
            .quotes
            .iter()
            .map(|q| q.price)
            .collect();
        let honest = case.witness().medians[a];
        for other in prices.iter().filter(|&&p| p != honest) {
            let mut w = case.witness();
            w.medians[a] = *other;
            rejected(
                mock_own(&w),
                &format!("asset {a}: another quote claimed as median"),
                BASE_RANGE,
            );
        }
        let mut w = case.witness();
        w.medians[a] = honest + Fr::one();
        rejected(
            mock_own(&w),
            &format!("asset {a}: a price no source quoted"),
            BASE_RANGE,
        );
        let mut w = case.witness();
        w.medians[a] = -honest;
        rejected(
            mock_own(&w),
            &format!("asset {a}: field-negative median"),
            BASE_RANGE,
        );
    }
}

#[test]
fn stale_or_future_quote_cannot_set_the_median() {
    // One stale quote on USDC (source 0): the honest median uses the other two.
    let case = Case::generated(
        GeneratorOptions {
            accounts: 6,
            seed: 3,
            stale_quotes: 1,
            ..Default::default()
        },
        16,
    );
    let w = case.witness();
    let mut all: Vec<Fr> = w.inputs.assets[0].quotes.iter().map(|q| q.price).collect();
    all.sort_by_key(|f| f.to_bytes().iter().rev().copied().collect::<Vec<u8>>());
    // If the stale quote counted, the lower median of all three would be the middle one.
    let if_counted = all[1];
    assert_ne!(
        if_counted, w.medians[0],
        "fixture must make the stale quote matter"
    );
    let mut cheat = w.clone();
    cheat.medians[0] = if_counted;
    rejected(
        mock_own(&cheat),
        "median computed with a stale quote",
        BASE_RANGE,
    );
    // A quote from the future: move one BTC quote past the epoch timestamp. The honest median
    // becomes the lower of the other two; keeping the old median must be rejected.
    let key = |f: &Fr| f.to_bytes().iter().rev().copied().collect::<Vec<u8>>();
    let mut found = false;
    for s in 0..3 {
        let mut moved = w.clone();
        moved.inputs.assets[1].quotes[s].timestamp = moved.inputs.timestamp + Fr::one();
        let honest_now = (0..3)
            .filter(|&o| o != s)
            .map(|o| w.inputs.assets[1].quotes[o].price)
            .min_by_key(key)
            .unwrap();
        if honest_now == w.medians[1] {
            continue;
        }
        found = true;
        rejected(
            mock_own(&moved),
            "median still counting a future quote",
            BASE_RANGE,
        );
        moved.medians[1] = honest_now;
        mock_own(&moved).expect("median of the remaining valid quotes");
    }
    assert!(
        found,
        "fixture must have a quote whose exclusion moves the median"
    );
}

#[test]
fn quorum_failures_admit_no_witness() {
    let case = small_case();
    // Quorum raised to all three sources while one quote is an outlier.
    let mut w = case.witness();
    w.inputs.assets[1].quorum = Fr::from(3u64);
    mock_own(&w).expect("quorum 3 holds while every quote is within the band");
    let p = w.inputs.assets[1].quotes[0].price;
    w.inputs.assets[1].quotes[0].price = p * Fr::from(11u64) * Fr::from(10u64).invert().unwrap();
    assert_eq!(
        w.inputs.assets[1].quotes[0].price * Fr::from(10u64),
        p * Fr::from(11u64),
        "price stays integral in this fixture"
    );
    rejected(
        mock_own(&w),
        "an outlier counted toward a quorum of 3",
        BASE_RANGE,
    );
    // Two of three quotes stale: quorum 2 cannot be met.
    let mut w = case.witness();
    for s in [0, 1] {
        w.inputs.assets[2].quotes[s].timestamp = Fr::from(1u64);
    }
    rejected(mock_own(&w), "quorum not met", BASE_RANGE);
    // A zero quorum is not a way out.
    let mut w = case.witness();
    w.inputs.assets[0].quorum = Fr::zero();
    rejected(mock_own(&w), "quorum 0", BASE_RANGE);
    // A present quote with price 0.
    let mut w = case.witness();
    w.inputs.assets[0].quotes[2].price = Fr::zero();
    rejected(mock_own(&w), "present quote with zero price", BASE_RANGE);
}

#[test]
fn ids_must_be_canonical_and_strictly_increasing() {
    let case = small_case();
    let n = case.accounts.len();
    let mut w = case.witness();
    w.rows[5].id = w.rows[4].id;
    rejected(mock_own(&w), "duplicate id", "range of Gap");
    let mut w = case.witness();
    w.rows.swap(3, 4);
    rejected(mock_own(&w), "unsorted rows", "range of Gap");
    let mut w = case.witness();
    let last = case.shape.rows - 1;
    w.rows[last].id = pow2(192);
    rejected(mock_own(&w), "id = 2^192 in the last row", "range of Gap");
    let mut w = case.witness();
    w.rows[last].id = pow2(192) - Fr::one();
    rejected(
        mock_own(&w),
        "the sentinel id in the last row",
        "range of Gap",
    );
    let mut w = case.witness();
    w.rows[5].id = pow2(192) + Fr::from(5u64);
    rejected(
        mock_own(&w),
        "an id above 2^192 in a middle row",
        "range of Gap",
    );
    let mut w = case.witness();
    w.rows[0].id = -Fr::one();
    rejected(mock_own(&w), "id = p − 1 in the first row", "range of Gap");
    // The first padding row must still sort after the last account.
    let mut w = case.witness();
    w.rows[n].id = w.rows[n - 1].id;
    rejected(
        mock_own(&w),
        "padding id equal to the last account's",
        "range of Gap",
    );
}

#[test]
fn nonzero_padding_row_breaks_the_statement() {
    let case = small_case();
    let mut w = case.witness();
    let last = case.shape.rows - 1;
    w.rows[last].balances[0] = Fr::from(5u64);
    rejected(
        mock(&w, case.instances()),
        "hidden balance in a padding row",
        COPY,
    );
    let mut w = case.witness();
    w.rows[last].size_abs[0] = Fr::from(5u64);
    w.rows[last].size_negative[0] = Fr::one();
    rejected(
        mock(&w, case.instances()),
        "hidden short position in a padding row",
        COPY,
    );
}

#[test]
fn edited_statement_is_rejected() {
    let case = small_case();
    let honest = case.instances();
    // Every public value matters: change each one in turn.
    for i in 0..honest.len() {
        let mut edited = honest.clone();
        edited[i] += Fr::one();
        rejected(
            mock(&case.witness(), edited),
            &format!("instance {i} edited"),
            COPY,
        );
    }
}

#[test]
fn liabilities_only_shape_cannot_claim_bad_debt_or_under_margined_accounts() {
    // Without markets equity is a sum of range-checked balances times non-negative weights:
    // the table has no flags at all, and its requirement, under-margined count, shortfall and
    // bad debt totals are constrained to stay zero.
    let case = Case::fixture("edge/liabilities-only", 16);
    let honest = case.instances();
    mock(&case.witness(), honest.clone()).expect("honest liabilities-only case");
    let mut w = case.witness();
    w.rows[0].equity_negative[0] = Fr::one();
    w.rows[1].under_margined = Fr::one();
    let (_, computed) = mock_circuit(&w);
    assert_eq!(computed, honest, "hints cannot move any public output");
    let n = honest.len();
    let cases = case.shape.cases();
    // Outputs end with: total equity, requirement, under-margined, shortfall, bad debt per case.
    for i in n - cases - 3..n {
        let mut claimed = honest.clone();
        claimed[i] = Fr::one();
        rejected(
            mock(&case.witness(), claimed),
            &format!("output {i} claimed non-zero"),
            COPY,
        );
    }
}

#[test]
fn oracle_inputs_must_be_flags_and_within_their_ranges() {
    // These are public inputs the verifier encodes from the config and quotes; the circuit
    // still refuses values outside their documented domains.
    let case = small_case();
    type Edit = fn(&mut zkmargin_circuits::witness::MarginWitness);
    let edits: [(&str, &str, Edit); 8] = [
        ("present = 2", BASE_GATE, |w| {
            w.inputs.assets[0].quotes[0].present = Fr::from(2u64)
        }),
        ("signature_ok = 2", BASE_GATE, |w| {
            w.inputs.assets[1].quotes[2].signature_ok = Fr::from(2u64)
        }),
        ("price = 2^64", BASE_RANGE, |w| {
            w.inputs.assets[2].quotes[1].price = pow2(64)
        }),
        ("quote timestamp = 2^63", BASE_RANGE, |w| {
            w.inputs.assets[3].quotes[0].timestamp = pow2(63)
        }),
        ("epoch timestamp = 2^63", BASE_RANGE, |w| {
            w.inputs.timestamp = pow2(63)
        }),
        ("max age = 2^63", BASE_RANGE, |w| {
            w.inputs.assets[0].max_age_secs = pow2(63)
        }),
        ("max deviation = 2^14", BASE_RANGE, |w| {
            w.inputs.assets[1].max_deviation_bps = pow2(14)
        }),
        ("quorum = 2^8 + 1", BASE_RANGE, |w| {
            w.inputs.assets[2].quorum = pow2(8) + Fr::one()
        }),
    ];
    for (what, expected, edit) in edits {
        let mut w = case.witness();
        edit(&mut w);
        rejected(mock_own(&w), what, expected);
    }
}
