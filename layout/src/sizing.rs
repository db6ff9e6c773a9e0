//! Which circuit sizes a table fits, and the one gate for shapes read from files
//! ([`MarginShape::admit`]). Sizing needs the table's layout, so it lives here, above both
//! `shape` and `table`.

use zkmargin_core::config::Config;

use crate::shape::{MarginShape, ShapeError, MAX_K, MIN_K, MIN_ROWS_LOG2};
use crate::table::TableLayout;
use crate::widths::limb_bits;

impl MarginShape {
    /// Every circuit from [`MIN_K`] to [`MAX_K`] whose table of `rows` rows fits, in k order,
    /// with the cost model's figure (see [`MarginShape::choose`]). The config-derived fields
    /// are computed once.
    fn fitting(config: &Config, rows: usize) -> Result<Vec<(u128, MarginShape)>, ShapeError> {
        let base = MarginShape::new(config, rows, MIN_K)?;
        Ok((MIN_K..=MAX_K)
            .filter_map(|k| {
                let shape = MarginShape {
                    k,
                    lookup_bits: limb_bits(k),
                    ..base.clone()
                };
                let columns = TableLayout::new(&shape)?.committed_columns() + 6;
                let cost = ((columns << k) as u128) * (100 + columns as u128);
                Some((cost, shape))
            })
            .collect())
    }

    /// The cheapest of [`MarginShape::fitting`]'s shapes (the smallest k on a tie).
    fn cheapest(fitting: Vec<(u128, MarginShape)>) -> Option<MarginShape> {
        fitting
            .into_iter()
            .min_by_key(|(cost, shape)| (*cost, shape.k))
            .map(|(_, shape)| shape)
    }

    /// The circuit sizes a table of `rows` rows may be proved with under `config`: from the
    /// smallest k whose table fits to the k [`MarginShape::choose`] picks (a larger circuit
    /// only costs more, so nothing needs one; this bounds what a verifier rebuilds).
    pub fn k_range(
        config: &Config,
        rows: usize,
    ) -> Result<std::ops::RangeInclusive<u32>, ShapeError> {
        if !rows.is_power_of_two() || !(1 << MIN_ROWS_LOG2..=1 << MAX_K).contains(&rows) {
            return Err(ShapeError::Rows(rows as u64));
        }
        let fitting = Self::fitting(config, rows)?;
        let smallest = fitting.first().map(|(_, s)| s.k);
        match (smallest, Self::cheapest(fitting)) {
            (Some(min), Some(chosen)) => Ok(min..=chosen.k),
            _ => Err(ShapeError::NoCircuit { rows }),
        }
    }

    /// The one place a shape read from a file (a manifest, a plan) is accepted: `declared`
    /// must be exactly the shape `config` gives for its `rows` and `k`, with `rows` a power of
    /// two and `k` within [`MarginShape::k_range`]. Everything that sizes an allocation,
    /// indexes a slice or reaches halo2 uses the shape this returns, never an unchecked one.
    pub fn admit(config: &Config, declared: &MarginShape) -> Result<MarginShape, ShapeError> {
        let range = Self::k_range(config, declared.rows)?;
        if !range.contains(&declared.k) {
            return Err(ShapeError::K {
                k: declared.k,
                rows: declared.rows,
                min: *range.start(),
                max: *range.end(),
            });
        }
        let expected = MarginShape::new(config, declared.rows, declared.k)?;
        let list = |v: &[usize]| format!("{v:?}");
        let fields = [
            (
                "lookup_bits",
                declared.lookup_bits.to_string(),
                expected.lookup_bits.to_string(),
            ),
            ("sources", list(&declared.sources), list(&expected.sources)),
            (
                "underlying",
                list(&declared.underlying),
                list(&expected.underlying),
            ),
            (
                "scenarios",
                declared.scenarios.to_string(),
                expected.scenarios.to_string(),
            ),
            (
                "value_bits",
                declared.value_bits.to_string(),
                expected.value_bits.to_string(),
            ),
            (
                "widths",
                format!("{:?}", declared.widths),
                format!("{:?}", expected.widths),
            ),
        ];
        if let Some((field, declared, expected)) = fields.into_iter().find(|(_, d, e)| d != e) {
            return Err(ShapeError::Field {
                field,
                declared,
                expected,
            });
        }
        // Whatever field the list above misses is still compared.
        if &expected != declared {
            return Err(ShapeError::Field {
                field: "shape",
                declared: format!("{declared:?}"),
                expected: format!("{expected:?}"),
            });
        }
        Ok(expected)
    }

    /// The cheapest shape for `rows` table rows. The prover's cost is about (committed columns
    /// × 2^k): each column costs one MSM and a few FFTs of size 2^k. Each column also adds
    /// about 160 bytes to the proof and work to every verification, so the model charges
    /// `(1 + columns/100)` on top. (Measured at 2^16 demo-shaped accounts: k = 18 with 94
    /// columns proves in 149 s, 14.7 KB, 19 ms to verify; k = 19 with 46 columns in 193 s,
    /// 9.7 KB, 12 ms. The model picks k = 19.)
    /// `Ok(None)`: no circuit up to [`MAX_K`] holds the table.
    pub fn choose(config: &Config, rows: usize) -> Result<Option<Self>, ShapeError> {
        Ok(Self::cheapest(Self::fitting(config, rows)?))
    }
}
