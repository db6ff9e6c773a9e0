//! Each gadget on its own, in a minimal circuit: the honest hint passes, the wrong one fails.

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::gates::circuit::CircuitBuilderStage;
use halo2_base::halo2_proofs::dev::MockProver;
use zkmargin_circuits::chips::oracle::{OracleChip, OracleInstructions};
use zkmargin_layout::encoding::{AssetInput, QuoteInput};
use zkmargin_layout::Fr;

const K: usize = 10;

/// Runs `f` in a fresh mock circuit; Ok iff all constraints hold.
fn run(f: impl FnOnce(&mut BaseCircuitBuilder<Fr>)) -> bool {
    let mut builder = BaseCircuitBuilder::from_stage(CircuitBuilderStage::Mock)
        .use_k(K)
        .use_lookup_bits(8);
    f(&mut builder);
    builder.calculate_params(Some(9));
    MockProver::run(K as u32, &builder, vec![])
        .unwrap()
        .verify()
        .is_ok()
}

/// One asset, three sources at `prices`/`ages` (seconds before T = 1000), max age 60, band
/// 1 %, the given quorum and claimed median.
fn oracle(prices: [u64; 3], ages: [u64; 3], quorum: u64, median: u64) -> bool {
    run(|b| {
        let range = b.range_chip();
        let ctx = b.main(0);
        let mut w = |v: u64| ctx.load_witness(Fr::from(v));
        let t = w(1000);
        let asset = AssetInput {
            quorum: w(quorum),
            max_deviation_bps: w(100),
            max_age_secs: w(60),
            collateral_weights: vec![],
            quotes: prices
                .iter()
                .zip(ages)
                .map(|(&p, age)| QuoteInput {
                    present: w(1),
                    signature_ok: w(1),
                    price: w(p),
                    timestamp: w(1000 - age),
                })
                .collect(),
        };
        OracleChip {
            range: &range,
            price_bits: 64,
        }
        .assign_asset(ctx, t, &asset, Fr::from(median));
    })
}

#[test]
fn oracle_chip_enforces_lower_median_age_band_and_quorum() {
    assert!(oracle([100, 101, 99], [0, 0, 0], 3, 100));
    assert!(
        !oracle([100, 101, 99], [0, 0, 0], 3, 101),
        "upper quote is not the median"
    );
    assert!(
        !oracle([100, 101, 99], [0, 0, 0], 3, 99),
        "lowest quote is not the median"
    );
    // Two valid quotes (one stale): the lower one is the median.
    assert!(oracle([100, 101, 50], [0, 0, 61], 2, 100));
    assert!(
        !oracle([100, 101, 50], [0, 0, 61], 2, 50),
        "stale quote as median"
    );
    assert!(
        oracle([100, 101, 50], [0, 0, 60], 2, 100),
        "age 60 is still fresh; 50 is an outlier"
    );
    // Quorum: an outlier does not count.
    assert!(
        !oracle([100, 101, 103], [0, 0, 0], 3, 101),
        "103 is 2 % off: quorum 3 fails"
    );
    assert!(oracle([100, 101, 103], [0, 0, 0], 2, 101));
    assert!(
        !oracle([100, 101, 103], [0, 0, 0], 0, 101),
        "quorum 0 is not allowed"
    );
}
