//! The default bit widths the circuit range-checks, derived from `zkmargin_core::bounds` (the
//! one definition of every bound), and the limb width of a circuit size. A shape's own widths
//! are `MarginShape::widths` (`zkmargin_core::bounds::Widths`, tighter where a config declares
//! `[bounds]`); these constants are its defaults.

use zkmargin_core::bounds;

/// Balances are checked as `< 2^BALANCE_BITS` (`zkmargin_core::bounds::BALANCE_BITS`).
pub const BALANCE_BITS: usize = bounds::BALANCE_BITS as usize;
/// `|size| − short < 2^(SIZE_BITS)` in the circuit, one bit wider than the input format's
/// `|size| < 2^bounds::SIZE_BITS`; every derived bound in `zkmargin_core::bounds` already
/// assumes quantities `≤ 2^64`.
pub const SIZE_BITS: usize = bounds::SIZE_BITS as usize + 1;
/// Costs are checked as `cost + 2^(COST_BITS − 1) ∈ [0, 2^COST_BITS)`, i.e.
/// `−2^bounds::COST_BITS ≤ cost < 2^bounds::COST_BITS`.
pub const COST_BITS: usize = bounds::COST_BITS as usize + 1;

/// Limb width for a circuit of 2^k rows: 16 bits when the table fits, else 8.
pub fn limb_bits(k: u32) -> usize {
    if k >= 17 {
        16
    } else {
        8
    }
}

const _: () = assert!(bounds::Widths::DEFAULT.balance_bits as usize == BALANCE_BITS);
const _: () = assert!(bounds::Widths::DEFAULT.size_bits as usize == SIZE_BITS);
const _: () = assert!(bounds::Widths::DEFAULT.cost_bits as usize == COST_BITS);
