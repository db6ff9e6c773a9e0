//! The slot table (account table v2) under MockProver: an honest witness of a generated venue
//! states exactly the engine's totals, and each attack on it is rejected by the constraint
//! that guards against it (asserted by name).

mod common;

use common::failure_names;
use ethnum::I256;
use halo2_base::halo2_proofs::dev::MockProver;
use halo2_base::halo2_proofs::halo2curves::ff::PrimeField;
use zkmargin_circuits::slots::circuit::SlotCircuit;
use zkmargin_circuits::slots::witness::{Assigned, Slot, SlotWitness};
use zkmargin_core::bounds::Widths;
use zkmargin_core::engine::{evaluate, Outcome, Snapshot};
use zkmargin_core::holdings::Holdings;
use zkmargin_core::margin::MarkTable;
use zkmargin_core::totals::Totals;
use zkmargin_fixtures::{generate_venue, VenueOptions};
use zkmargin_layout::field::{fr_from_i256, pow2};
use zkmargin_layout::slots::SlotShape;
use zkmargin_layout::Fr;

const K: u32 = 12;
const SLOTS: usize = 8;

struct Venue {
    snapshot: Snapshot,
    prices: Vec<u64>,
    accounts: Vec<(Fr, Holdings)>,
}

/// A small generated venue (6 markets × 3 tiers, 3 collateral assets, 2 stress scenarios); the
/// accounts with at most `SLOTS` entries, ids 1, 2, … in file order.
fn venue() -> Venue {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("venue");
    let options = VenueOptions {
        markets: 6,
        collateral: 3,
        tiers: 3,
        scenarios: 2,
        sources: 3,
        max_positions: 64,
        ..VenueOptions::v1(60, 5)
    };
    generate_venue(&options, &out).unwrap();
    let snapshot = Snapshot::load(&out).unwrap();
    from_snapshot(snapshot)
}

fn from_snapshot(snapshot: Snapshot) -> Venue {
    let Outcome::Evaluated(eval) = evaluate(&snapshot, [0; 32]).unwrap() else {
        panic!("halted")
    };
    let accounts: Vec<(Fr, Holdings)> = snapshot
        .read_rows()
        .unwrap()
        .iter()
        .map(Holdings::of_row)
        .filter(|h| h.entries() <= SLOTS)
        .enumerate()
        .map(|(i, h)| (Fr::from(i as u64 + 1), h))
        .collect();
    Venue {
        prices: eval.prices,
        snapshot,
        accounts,
    }
}

impl Venue {
    fn shape(&self, accounts: usize) -> SlotShape {
        SlotShape::new(&self.snapshot.config, SLOTS, accounts, K).expect("a slot shape")
    }

    fn witness(&self) -> SlotWitness {
        let config = &self.snapshot.config;
        let scale = config.fine_scale().unwrap();
        let shape = self.shape(self.accounts.len().next_power_of_two());
        SlotWitness::honest(&shape, config, &scale, &self.prices, &self.accounts)
    }

    /// The engine's totals over the same accounts.
    fn engine_totals(&self) -> Totals {
        let config = &self.snapshot.config;
        let scale = config.fine_scale().unwrap();
        let underlying: Vec<usize> = config.markets.iter().map(|m| m.underlying).collect();
        let table = MarkTable::new(&scale, &underlying, &self.prices);
        let mut t = Totals::new(
            config.assets.len(),
            config.markets.len(),
            config.scenarios.len(),
        );
        for (_, h) in &self.accounts {
            t.add(h, &table.evaluate_holdings(h));
        }
        t
    }
}

fn run(assigned: &Assigned, instances: Vec<Fr>) -> Result<(), Vec<String>> {
    let circuit = SlotCircuit {
        assigned: assigned.clone(),
    };
    let prover = MockProver::run(K, &circuit, vec![instances])
        .map_err(|e| vec![format!("synthesis: {e:?}")])?;
    prover.verify().map_err(|errors| failure_names(&errors))
}

/// Runs against the witness's own public values: only an internal constraint can fail.
fn run_own(assigned: &Assigned) -> Result<(), Vec<String>> {
    run(assigned, assigned.public_values())
}

fn rejected(result: Result<(), Vec<String>>, what: &str, expected: &str) {
    let failed = result.expect_err(&format!("{what}: dishonest witness was accepted"));
    assert!(
        failed.iter().any(|name| name.contains(expected)),
        "{what}: rejected, but not by `{expected}`: {failed:?}"
    );
}

/// The attacker's move once a lane's value is out of range: put an in-range value there
/// instead, so that only the equation tying the lane to the slot can reject it.
fn forge(mut assigned: Assigned, row: usize, lane: usize) -> Assigned {
    assigned.slots[row].values[lane] = Fr::zero();
    assigned.derive_totals_and_limbs();
    assigned
}

/// Slot value lanes, in `SlotShape::slot_values` order.
const QUANTITY: usize = 0;
const FLOOR: usize = 2;
const CAP: usize = 3;
const ORDER: usize = 4;

/// The first account with at least `n` live slots, and its block index.
fn account_with(w: &SlotWitness, n: usize, position: bool) -> usize {
    w.accounts
        .iter()
        .position(|a| {
            let live = a.slots.iter().filter(|s| s.empty == Fr::zero()).count();
            live >= n
                && (!position
                    || a.slots.iter().any(|s| {
                        s.empty == Fr::zero() && w.instruments[s.reads].tuple.kind == Fr::one()
                    }))
        })
        .expect("the venue has such an account")
}

#[test]
fn an_honest_venue_states_the_engines_totals() {
    let venue = venue();
    let w = venue.witness();
    let assigned = Assigned::new(&w);
    run_own(&assigned).expect("honest witness");
    let t = venue.engine_totals();
    let totals: Vec<Fr> = assigned
        .running_totals
        .iter()
        .map(|c| *c.last().unwrap())
        .collect();
    let mut expected = vec![
        fr_from_i256(t.equity),
        fr_from_i256(t.maintenance),
        Fr::from(t.under_margined),
        fr_from_i256(t.shortfall),
        fr_from_i256(t.bad_debt),
    ];
    expected.extend(t.stressed_bad_debt.iter().map(|&b| fr_from_i256(b)));
    assert_eq!(totals, expected);
    assert!(t.under_margined > 0 || t.bad_debt > I256::ZERO || t.maintenance > I256::ZERO);
    // Liabilities and open interest come out of the instrument totals' logUp.
    let config = &venue.snapshot.config;
    let collateral: Vec<usize> = (0..config.assets.len())
        .filter(|&a| config.assets[a].collateral)
        .collect();
    for (row, &a) in w.instrument_totals.iter().zip(&collateral) {
        assert_eq!(row[2], Fr::from_u128(t.liabilities[a]));
    }
    let markets = &w.instrument_totals[collateral.len()..];
    for (m, pair) in markets.chunks(2).enumerate() {
        assert_eq!(pair[0][2], Fr::from_u128(t.long_open_interest[m]));
        assert_eq!(pair[1][2], Fr::from_u128(t.short_open_interest[m]));
    }
}

#[test]
fn a_slot_cannot_read_another_instruments_coefficients() {
    let w = venue().witness();
    let a = account_with(&w, 1, false);
    let mut bad = w.clone();
    let slot = &mut bad.accounts[a].slots[0];
    slot.reads = (slot.reads + 1) % w.instruments.len();
    rejected(
        run_own(&Assigned::new(&bad)),
        "another row's coefficients",
        "lookup 'instrument table'",
    );
}

#[test]
fn an_instrument_cannot_appear_twice_in_one_account() {
    let w = venue().witness();
    let a = account_with(&w, 2, false);
    let mut bad = w.clone();
    let first = bad.accounts[a].slots[0].clone();
    bad.accounts[a].slots[1] = first;
    rejected(
        run_own(&Assigned::new(&bad)),
        "instrument twice",
        "range of Order",
    );
    rejected(
        run_own(&forge(Assigned::new(&bad), a * SLOTS, ORDER)),
        "instrument twice, order lane forged",
        "order: (1 − empty′) · (gap − (inst′ − inst − 1)) = 0",
    );
}

#[test]
fn an_empty_slot_carries_nothing() {
    let w = venue().witness();
    let a = w
        .accounts
        .iter()
        .position(|acc| acc.slots.iter().any(|s| s.empty == Fr::one()))
        .unwrap();
    let e = w.accounts[a]
        .slots
        .iter()
        .position(|s| s.empty == Fr::one())
        .unwrap();
    for (what, edit, name) in [
        (
            "quantity",
            (|s: &mut Slot| s.qty = Fr::from(5u64)) as fn(&mut Slot),
            "empty slot: empty · qty = 0",
        ),
        (
            "cost",
            |s: &mut Slot| s.cost = Fr::from(7u64),
            "empty slot: empty · cost = 0",
        ),
    ] {
        let mut bad = w.clone();
        edit(&mut bad.accounts[a].slots[e]);
        rejected(
            run_own(&Assigned::new(&bad)),
            &format!("empty slot with a {what}"),
            name,
        );
    }
    // An empty slot's amount (read from no row) is forced to 0 as well.
    let mut assigned = Assigned::new(&w);
    let row = a * SLOTS + e;
    assigned.slots[row].tuple.amount = Fr::from(9u64);
    rejected(
        run_own(&assigned),
        "empty slot with an amount",
        "empty slot: empty · amount = 0",
    );
    // Empties are last.
    let mut bad = w.clone();
    let a = account_with(&w, 1, false);
    let live = w.accounts[a]
        .slots
        .iter()
        .filter(|s| s.empty == Fr::zero())
        .count();
    assert!(live < SLOTS);
    bad.accounts[a].slots.swap(0, live);
    rejected(
        run_own(&Assigned::new(&bad)),
        "empty before a live slot",
        "empties last",
    );
}

#[test]
fn balances_have_no_short_side_and_no_cost() {
    let w = venue().witness();
    let a = account_with(&w, 1, false);
    let s = w.accounts[a]
        .slots
        .iter()
        .position(|s| s.empty == Fr::zero() && w.instruments[s.reads].tuple.kind == Fr::zero())
        .unwrap();
    let mut bad = w.clone();
    bad.accounts[a].slots[s].short = Fr::one();
    rejected(
        run_own(&Assigned::new(&bad)),
        "short balance",
        "balance: (1 − kind) · short = 0",
    );
    let mut bad = w.clone();
    bad.accounts[a].slots[s].cost = Fr::from(3u64);
    rejected(
        run_own(&Assigned::new(&bad)),
        "balance with a cost",
        "balance: (1 − kind) · cost = 0",
    );
}

#[test]
fn out_of_range_quantities_are_rejected_in_any_slot() {
    let w = venue().witness();
    for a in [0, w.accounts.len() / 2, w.accounts.len() - 1] {
        for (what, v) in [("−1", -Fr::one()), ("2^64", pow2(64))] {
            let mut bad = w.clone();
            bad.accounts[a].slots[0].qty = v;
            bad.accounts[a].slots[0].empty = Fr::zero();
            rejected(
                run_own(&Assigned::new(&bad)),
                &format!("quantity {what} in block {a}"),
                "range of Quantity",
            );
            rejected(
                run_own(&forge(Assigned::new(&bad), a * SLOTS, QUANTITY)),
                &format!("quantity {what} in block {a}, lane forged"),
                "quantity lane = qty − short",
            );
        }
    }
}

#[test]
fn a_wrong_sign_hint_is_rejected() {
    let w = venue().witness();
    let mut assigned = Assigned::new(&w);
    // Equity of case 0 sits in account lane 0, row 0 of each block.
    let f = assigned.slots[0].flags[0];
    assigned.slots[0].flags[0] = Fr::one() - f;
    assigned.derive_totals_and_limbs();
    rejected(
        run_own(&assigned),
        "flipped sign of E_0",
        "equity[0]: lane = E_j + negative_j · 2^B",
    );
}

#[test]
fn ids_strictly_increase_and_one_account_fills_a_block() {
    let w = venue().witness();
    let mut bad = w.clone();
    let id = bad.accounts[2].id;
    bad.accounts[3].id = id;
    rejected(
        run_own(&Assigned::new(&bad)),
        "repeated id",
        "range of IdGap",
    );
    // The attacker's next move: an in-range gap (0) in its place. The id gap is account value
    // `cases + 1`: lane 0, row `cases + 1` of the block (cases + 2 ≤ SLOTS).
    let cases = w.shape.cases;
    let mut forged = Assigned::new(&bad);
    forged.slots[3 * SLOTS + cases + 1].account[0] = Fr::zero();
    forged.derive_totals_and_limbs();
    rejected(
        run_own(&forged),
        "repeated id, gap forged",
        "chain: gap = id − id_prev − 1",
    );
    let mut assigned = Assigned::new(&w);
    assigned.slots[1].id += Fr::one();
    rejected(
        run_own(&assigned),
        "two ids in one block",
        "one account per block: id′ = id",
    );
}

#[test]
fn the_instrument_totals_are_the_sums_of_the_slots() {
    let w = venue().witness();
    let mut bad = w.clone();
    bad.instrument_totals[0][2] += Fr::one();
    rejected(
        run_own(&Assigned::new(&bad)),
        "liability + 1",
        "instrument totals: w = 0 at the end",
    );
    let mut bad = w.clone();
    let n = bad.instrument_totals.len();
    bad.instrument_totals[n - 1][2] -= Fr::one();
    rejected(
        run_own(&Assigned::new(&bad)),
        "short open interest − 1",
        "instrument totals: w = 0 at the end",
    );
}

#[test]
fn a_tier_table_edited_after_the_oracle_side_breaks_the_link() {
    let w = venue().witness();
    let honest = Assigned::new(&w).public_values();
    let mut bad = w.clone();
    let r = bad
        .instruments
        .iter()
        .position(|r| r.tuple.kind == Fr::one())
        .unwrap();
    bad.instruments[r].tuple.rate += Fr::one();
    rejected(
        run(&Assigned::new(&bad), honest),
        "edited rate",
        "copy constraint",
    );
}

/// A venue with one tiered market (BTC-PERP: ≤ 75,000 at 0.5 %, ≤ 150,000 at 1 %, then 2 %)
/// and one account per `(size, claimed tier)`.
fn tiered(sizes: &[&str]) -> Venue {
    let dir = tempfile::tempdir().unwrap();
    let config = r#"epoch = 3
timestamp = 1000
insurance_fund = "5000"

[quote]
symbol = "USD"
decimals = 2

[[assets]]
symbol = "USDC"
decimals = 2
price_decimals = 4
haircut_bps = 0
quorum = 1
max_deviation_bps = 100
max_age_secs = 60
sources = [{ name = "a" }]

[[assets]]
symbol = "BTCI"
index = true
decimals = 0
price_decimals = 2
quorum = 1
max_deviation_bps = 100
max_age_secs = 60
sources = [{ name = "a" }]

[[markets]]
symbol = "BTC-PERP"
underlying = "BTCI"
size_decimals = 3
tiers = [
  { up_to = "75000", mmr_bps = 50 },
  { up_to = "150000", mmr_bps = 100 },
  { mmr_bps = 200 },
]

[[scenarios]]
name = "crash"
shocks_bps = { BTCI = -3000 }
"#;
    std::fs::write(dir.path().join("config.toml"), config).unwrap();
    std::fs::write(
        dir.path().join("quotes.csv"),
        "asset,source,price,timestamp\nUSDC,a,1.0000,1000\nBTCI,a,50000.00,1000\n",
    )
    .unwrap();
    let mut holdings = String::from("account,instrument,amount,cost\n");
    for (i, size) in sizes.iter().enumerate() {
        holdings.push_str(&format!(
            "a{i:02},USDC,100000,\na{i:02},BTC-PERP,{size},0\n"
        ));
    }
    std::fs::write(dir.path().join("holdings.csv"), holdings).unwrap();
    from_snapshot(Snapshot::load(dir.path()).unwrap())
}

#[test]
fn a_position_cannot_claim_another_tier_at_or_past_a_boundary() {
    // 75,000 is on the first bound (first tier), 75,050 one size unit past it (middle tier),
    // 150,000 on the second bound (middle), 150,050 past it (last tier).
    let venue = tiered(&["0.001", "1.5", "1.501", "3", "3.001", "10"]);
    let w = venue.witness();
    let assigned = Assigned::new(&w);
    run_own(&assigned).expect("the engine's tiers are accepted");
    let t = venue.engine_totals();
    assert_eq!(
        *assigned.running_totals[1].last().unwrap(),
        fr_from_i256(t.maintenance)
    );
    let tiers = [0, 0, 1, 1, 2, 2];
    for (a, &honest) in tiers.iter().enumerate() {
        for claim in [honest as i64 - 1, honest as i64 + 1] {
            if !(0..3).contains(&claim) {
                continue;
            }
            let mut bad = w.clone();
            let slot = &mut bad.accounts[a].slots[1];
            let row = slot.reads as i64 + claim - honest as i64;
            slot.tier = Fr::from(claim as u64);
            slot.reads = row as usize;
            let (range, lane, equation) = if claim < honest as i64 {
                ("range of TierCap", CAP, "tier cap lane = hi − x")
            } else {
                ("range of TierFloor", FLOOR, "tier floor lane = x − lo")
            };
            let what = format!("account {a} in tier {claim} instead of {honest}");
            rejected(run_own(&Assigned::new(&bad)), &what, range);
            rejected(
                run_own(&forge(Assigned::new(&bad), a * SLOTS + 1, lane)),
                &format!("{what}, lane forged"),
                equation,
            );
        }
    }
}

#[test]
fn a_notional_below_qty_times_price_cannot_lower_the_tier() {
    let venue = tiered(&["10"]);
    let w = venue.witness();
    let mut bad = w.clone();
    let slot = &mut bad.accounts[0].slots[1];
    slot.reads -= 2;
    slot.tier = Fr::zero();
    let mut assigned = Assigned::new(&bad);
    let row = &mut assigned.slots[1];
    let hi = row.tuple.hi;
    row.notional = Fr::zero();
    row.values[FLOOR] = Fr::zero();
    row.values[CAP] = hi;
    assigned.derive_totals_and_limbs();
    rejected(
        run_own(&assigned),
        "notional forged to 0",
        "notional: x = qty · price",
    );
}

#[test]
fn the_running_totals_cannot_skip_an_account() {
    let w = venue().witness();
    for t in 0..Assigned::new(&w).running_totals.len() {
        let mut assigned = Assigned::new(&w);
        let column = &mut assigned.running_totals[t];
        let last = column.len() - 1;
        column[last] += Fr::one();
        rejected(
            run_own(&assigned),
            &format!("total {t} + 1"),
            "total′ = total + term",
        );
    }
}

#[test]
fn an_account_value_must_be_its_blocks_sums() {
    let w = venue().witness();
    let mut assigned = Assigned::new(&w);
    let cases = w.shape.cases;
    // The last slot's E_0 one above its sum, and the account values that read it with it, so
    // that only the accumulation can notice.
    assigned.slots[SLOTS - 1].acc[0] += Fr::one();
    assigned.slots[0].account[0] += Fr::one();
    assigned.slots[cases].account[0] += Fr::one();
    assigned.derive_totals_and_limbs();
    rejected(
        run_own(&assigned),
        "E_0 accumulator + 1",
        "E[0]: acc = acc_prev + slot term",
    );
}

#[test]
fn a_block_cannot_start_from_a_nonzero_sum() {
    let w = venue().witness();
    let mut assigned = Assigned::new(&w);
    let cases = w.shape.cases;
    // Shift block 0's E_0 by one everywhere, and the account values that read it, so that
    // only the first slot's equation can notice.
    for row in &mut assigned.slots[..SLOTS] {
        row.acc[0] += Fr::one();
    }
    assigned.slots[0].account[0] += Fr::one();
    assigned.slots[cases].account[0] += Fr::one();
    assigned.derive_totals_and_limbs();
    rejected(
        run_own(&assigned),
        "block 0 starting at 1",
        "E[0]: acc = slot term at a block's first slot",
    );
}

#[test]
fn the_layouts_column_count_is_the_constraint_systems() {
    use halo2_base::halo2_proofs::plonk::{Circuit, ConstraintSystem};
    for (slots, cases) in [(4, 4), (8, 3), (16, 1), (64, 5)] {
        let shape = SlotShape {
            k: 17,
            slots,
            accounts: 4,
            cases,
            value_bits: 208,
            instruments: 3,
            instrument_totals: 3,
            widths: Widths::DEFAULT,
        };
        let mut cs = ConstraintSystem::<Fr>::default();
        let _ = SlotCircuit::configure_with_params(&mut cs, shape.clone());
        assert_eq!(
            cs.num_advice_columns(),
            shape.committed_columns(),
            "{shape:?}"
        );
        // Degree 5 (a 4× extended domain), as the dense table.
        assert!(cs.degree() <= 5, "degree {} for {shape:?}", cs.degree());
    }
}

#[test]
fn the_public_value_count_is_the_layouts() {
    let w = venue().witness();
    assert_eq!(
        Assigned::new(&w).public_values().len(),
        w.shape.public_values()
    );
}
