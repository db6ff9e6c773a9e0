//! The oracle's lower median against its order-statistic definition.

use proptest::prelude::*;
use zkmargin_core::oracle::{is_outlier, lower_median};

proptest! {
    /// m is the lower median iff fewer than k+1 values are below it and at least k+1 are at
    /// or below it, with k = ⌊(n−1)/2⌋; and it is one of the inputs.
    #[test]
    fn lower_median_is_the_order_statistic(values in prop::collection::vec(any::<u64>(), 1..17)) {
        let k = (values.len() - 1) / 2;
        let m = lower_median(&mut values.clone()).unwrap();
        prop_assert!(values.contains(&m));
        prop_assert!(values.iter().filter(|&&x| x < m).count() <= k);
        prop_assert!(values.iter().filter(|&&x| x <= m).count() > k);
    }

    /// Outlier test is exact at the band edge and symmetric.
    #[test]
    fn outlier_band_is_exact(median in 1u64..u64::MAX / 2, bps in 0u32..=10_000, up in any::<bool>()) {
        let edge = (u128::from(median) * u128::from(bps) / 10_000) as u64;
        let at = if up { median + edge } else { median - edge };
        prop_assert!(!is_outlier(at, median, bps));
        let past = if up { median + edge + 1 } else { median.saturating_sub(edge + 1) };
        if past != at {
            prop_assert_eq!(is_outlier(past, median, bps), u128::from(past.abs_diff(median)) * 10_000 > u128::from(bps) * u128::from(median));
        }
    }
}
