//! Random declared shapes, as a hostile manifest or plan could carry them: admission never
//! panics and admits exactly the config-derived shape; a table plan of any shape is computed
//! or refused, never overflowed.

use proptest::prelude::*;
use zkmargin_core::config::Config;
use zkmargin_layout::shape::MarginShape;
use zkmargin_layout::table::TableLayout;

fn demo() -> Config {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/demo/config.toml");
    Config::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A number near a bound more often than uniformly.
fn wild() -> impl Strategy<Value = usize> {
    prop_oneof![
        0usize..64,
        Just(1 << 31),
        Just(usize::MAX),
        (0u32..64).prop_map(|b| 1usize.checked_shl(b).unwrap_or(usize::MAX)),
        any::<usize>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

    #[test]
    fn admission_takes_only_the_configs_shape(
        k in prop_oneof![0u32..40, any::<u32>()],
        rows in wild(),
        lookup_bits in wild(),
        scenarios in wild(),
        value_bits in wild(),
        sources in prop::collection::vec(wild(), 0..40),
        underlying in prop::collection::vec(wild(), 0..40),
    ) {
        let config = demo();
        let declared = MarginShape { k, lookup_bits, rows, sources, underlying, scenarios, value_bits, widths: Default::default() };
        let _ = TableLayout::new(&declared);
        if let Ok(shape) = MarginShape::admit(&config, &declared) {
            prop_assert_eq!(&shape, &declared);
            prop_assert_eq!(MarginShape::new(&config, rows, k).unwrap(), shape.clone());
            prop_assert!(TableLayout::new(&shape).is_some());
        }
    }

    #[test]
    fn the_honest_shape_with_one_field_changed_is_refused(
        rows_log2 in 4u32..14,
        field in 0usize..6,
        delta in 1usize..1000,
    ) {
        let config = demo();
        let honest = MarginShape::choose(&config, 1 << rows_log2).unwrap().unwrap();
        prop_assert!(MarginShape::admit(&config, &honest).is_ok());
        let mut s = honest.clone();
        match field {
            0 => s.lookup_bits = s.lookup_bits.wrapping_add(delta),
            1 => s.scenarios = s.scenarios.wrapping_add(delta),
            2 => s.value_bits = s.value_bits.wrapping_add(delta),
            3 => s.sources[0] = s.sources[0].wrapping_add(delta),
            4 => s.underlying[0] = s.underlying[0].wrapping_add(delta),
            // Odd: never a power of two (another power of two is another table size).
            _ => s.rows = s.rows.wrapping_add(delta) | 1,
        }
        prop_assert!(MarginShape::admit(&config, &s).is_err(), "{:?}", s);
    }
}
