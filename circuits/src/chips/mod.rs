//! Gadgets in instructions → chip style, each on top of halo2-base's `RangeChip`.

pub mod account;
pub mod oracle;
pub mod sign;
