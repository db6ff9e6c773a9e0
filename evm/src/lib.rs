//! The on-chain path: Solidity verifiers generated from a verifying key with snark-verifier,
//! the `EpochRegistry` contract, their calldata, and a local EVM (revm) that runs them.
//!
//! - [`solc`]: compiles Solidity through a `solc --bin` command (solcjs 0.8.19 by default).
//! - [`verifier_code`]: the verifier contracts (epoch circuit, aggregation circuit).
//! - [`registry`]: the registry's source, constructor parameters and `submitEpoch` calldata.
//! - [`slot_registry`]: the same for slot-table epochs (`SlotEpochRegistry`, its rules' data
//!   contracts).
//! - [`local_chain`]: deploy and call contracts in an in-memory EVM, with gas figures.
#![warn(missing_docs)]

pub mod aggregated;
pub mod local_chain;
pub mod registry;
pub mod slot_registry;
pub mod solc;
pub mod verifier_code;

/// EIP-170: the largest runtime code a contract may have on Ethereum mainnet.
pub const EIP170_RUNTIME_LIMIT: usize = 24_576;
