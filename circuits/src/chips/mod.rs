//! The oracle gadget in instructions → chip style, on top of halo2-base's `RangeChip`.

pub mod oracle;
