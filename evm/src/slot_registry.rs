//! The `SlotEpochRegistry` contract (slot-table epochs, aggregated proofs only): source,
//! the data contracts holding its instrument rules, constructor parameters and calls.
//!
//! Calldata per epoch is the statement's values ([`slot_statement_values`]: header, one median
//! per asset, the instrument totals' amounts, the totals), never the instrument table: the
//! registry rebuilds the table from the pinned rules ([`instrument_rules`]) and the medians.

use alloy_primitives::{Address, FixedBytes, U256};
use alloy_sol_types::{sol, SolCall, SolConstructor};
use serde::{Deserialize, Serialize};
use zkmargin_core::config::Config;
use zkmargin_core::digest::{keccak256, Digest};
use zkmargin_core::statement::Statement;
use zkmargin_layout::encoding::instance_words;
use zkmargin_layout::slots::public::{
    instrument_rules, instrument_table, oracle_hash, slot_statement_values, statement_totals,
    PublicError,
};
use zkmargin_layout::Fr;

use crate::registry::{bytes32, words};
use crate::EIP170_RUNTIME_LIMIT;

/// The registry's Solidity source (pragma 0.8.19).
pub const SLOT_REGISTRY_SOURCE: &str = include_str!("../contracts/SlotEpochRegistry.sol");
/// The registry contract's name in its source.
pub const SLOT_REGISTRY_CONTRACT: &str = "SlotEpochRegistry";
/// Rule words per data contract: its runtime code is `0x00 ‖ words`, within EIP-170.
pub const RULES_CHUNK_WORDS: usize = (EIP170_RUNTIME_LIMIT - 1) / 32;

sol! {
    /// The registry's ABI (kept in step with `contracts/SlotEpochRegistry.sol`; the tests
    /// deploy the compiled source and call it through this interface).
    contract SlotEpochRegistry {
        struct EpochRecord {
            bytes32 digest;
            bytes32 oracleHash;
            uint256 timestamp;
            int256 totalEquity;
            int256 totalMaintenance;
            uint256 underMargined;
            int256 totalShortfall;
            int256 badDebt;
            int256 worstStressBadDebt;
            int256 insuranceFund;
        }

        error BadLength(string what);
        error NonCanonicalWord(uint256 index);
        error MedianOver64Bits(uint256 asset);
        error EpochOutOfOrder(uint256 expected, uint256 got);
        error DoesNotChain(bytes32 expected, bytes32 got);
        error ForeignConfig(bytes32 got);
        error ProofRejected();

        struct Params {
            bytes32 configDigest;
            bytes32 rulesHash;
            uint256 rulesWords;
            uint256 declaredWords;
            uint256 firstEpoch;
            bytes32 genesisDigest;
        }

        constructor(address verifier, Params p, address[] chunks);

        function submitEpoch(
            bytes32 oracleHash,
            uint256[] values,
            uint256[] declared,
            bytes proof
        ) external returns (bytes32 digest);
        function latestEpoch() external view returns (uint256 epoch, EpochRecord record);
        function epochRecord(uint256 epoch) external view returns (EpochRecord record);
        function nextEpoch() external view returns (uint256);
        function lastDigest() external view returns (bytes32);
    }
}

/// What a slot registry pins, and where its chain starts (`registry.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotRegistryParams {
    /// Hex.
    pub config_digest: String,
    /// Hex Keccak-256 of the instrument rules' words (32-byte big-endian each).
    pub rules_hash: String,
    /// Words of the instrument rules.
    pub rules_words: usize,
    /// Two per asset (presence, reserves).
    pub declared_words: usize,
    /// The epoch the registry starts at.
    pub first_epoch: u64,
    /// Hex: the `prev_digest` the first epoch must carry.
    pub genesis_digest: String,
}

/// The instrument rules of `config` as 32-byte words.
pub fn rules_words(config: &Config) -> Result<Vec<Digest>, PublicError> {
    Ok(instance_words(&instrument_rules(config)?))
}

impl SlotRegistryParams {
    /// A registry of `config`'s slot-table epochs starting at `statement`'s epoch.
    pub fn new(config: &Config, statement: &Statement) -> Result<Self, PublicError> {
        let rules = rules_words(config)?;
        Ok(SlotRegistryParams {
            config_digest: hex::encode(statement.config_digest),
            rules_hash: hex::encode(keccak256(&rules.concat())),
            rules_words: rules.len(),
            declared_words: statement.declared_words().len(),
            first_epoch: statement.epoch,
            genesis_digest: hex::encode(statement.prev_digest),
        })
    }

    /// ABI-encoded constructor arguments (appended to the creation code); `chunks` are the
    /// deployed data contracts of [`rules_chunks`], in order.
    pub fn constructor_args(
        &self,
        verifier: Address,
        chunks: &[Address],
    ) -> Result<Vec<u8>, hex::FromHexError> {
        let p = SlotEpochRegistry::Params {
            configDigest: bytes32(&self.config_digest)?,
            rulesHash: bytes32(&self.rules_hash)?,
            rulesWords: U256::from(self.rules_words),
            declaredWords: U256::from(self.declared_words),
            firstEpoch: U256::from(self.first_epoch),
            genesisDigest: bytes32(&self.genesis_digest)?,
        };
        Ok(SlotEpochRegistry::constructorCall {
            verifier,
            p,
            chunks: chunks.to_vec(),
        }
        .abi_encode())
    }
}

/// Creation code of the data contracts holding `rules` ([`RULES_CHUNK_WORDS`] words each):
/// each returns `0x00 ‖ words` as its runtime code (the leading STOP makes a call a no-op).
pub fn rules_chunks(rules: &[Digest]) -> Vec<Vec<u8>> {
    rules
        .chunks(RULES_CHUNK_WORDS)
        .map(|chunk| {
            let runtime_len = 1 + 32 * chunk.len();
            let len = u16::try_from(runtime_len).expect("a chunk is within EIP-170");
            // PUSH2 len, DUP1, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN: copies the
            // runtime (after these 12 bytes) to memory 0 and returns it.
            let mut code = vec![0x61];
            code.extend(len.to_be_bytes());
            code.extend([0x80, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3, 0x00]);
            code.extend(chunk.concat());
            code
        })
        .collect()
}

/// The words the aggregation root compresses for a slot-table epoch: the instrument table,
/// the instrument totals `(inst, side, amount)` and the totals (its shards' values combined,
/// without the id range).
pub fn compressed_values(config: &Config, statement: &Statement) -> Result<Vec<Fr>, PublicError> {
    let mut v = instrument_table(config, statement)?;
    let (instrument_totals, totals) = statement_totals(config, statement);
    v.extend(instrument_totals.iter().flatten());
    v.extend(totals);
    Ok(v)
}

/// `submitEpoch(oracleHash, values, declared, proof)` calldata for `statement`; `proof` is the
/// accumulator's 12 limbs (32 bytes each), then the aggregated proof's bytes.
pub fn submit_calldata(
    config: &Config,
    statement: &Statement,
    proof: &[u8],
) -> Result<Vec<u8>, PublicError> {
    let values = slot_statement_values(config, statement)?;
    Ok(submit_values_calldata(
        &oracle_hash(statement),
        &instance_words(&values),
        &statement.declared_words(),
        proof,
    ))
}

/// `submitEpoch` calldata from its words as given (tests tamper with them).
pub fn submit_values_calldata(
    oracle_hash: &Digest,
    values: &[Digest],
    declared: &[Digest],
    proof: &[u8],
) -> Vec<u8> {
    SlotEpochRegistry::submitEpochCall {
        oracleHash: FixedBytes(*oracle_hash),
        values: words(values),
        declared: words(declared),
        proof: proof.to_vec().into(),
    }
    .abi_encode()
}
