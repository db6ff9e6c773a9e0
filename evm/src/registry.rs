//! The `EpochRegistry` contract: source, constructor parameters, and calls.

use alloy_primitives::{Address, FixedBytes, U256};
use alloy_sol_types::{sol, SolCall, SolConstructor};
use serde::{Deserialize, Serialize};
use zkmargin_bundle::Bundle;
use zkmargin_core::config::Config;
use zkmargin_core::digest::Digest;
use zkmargin_layout::encoding::{
    config_positions, encode_inputs, instance_words, EncodingError, ID_RANGE_WORDS,
};
use zkmargin_layout::Fr;

/// The registry's Solidity source (pragma 0.8.19).
pub const REGISTRY_SOURCE: &str = include_str!("../contracts/EpochRegistry.sol");
/// The registry contract's name in its source.
pub const REGISTRY_CONTRACT: &str = "EpochRegistry";

sol! {
    /// The registry's ABI (kept in step with `contracts/EpochRegistry.sol`; the tests deploy
    /// the compiled source and call it through this interface).
    contract EpochRegistry {
        struct EpochRecord {
            bytes32 digest;
            bytes32 tableCommitment;
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
        error EpochOutOfOrder(uint256 expected, uint256 got);
        error DoesNotChain(bytes32 expected, bytes32 got);
        error ForeignConfig(bytes32 got);
        error ForeignRules(bytes32 got);
        error ProofRejected();

        struct Params {
            uint256 proofPrefixWords;
            bool aggregated;
            uint256 tableColumns;
            uint256 statementWords;
            uint256 declaredWords;
            uint256 insuranceIndex;
            uint256 scenarios;
            bytes32 configDigest;
            uint256[4] configMask;
            bytes32 configWords;
            uint256 firstEpoch;
            bytes32 genesisDigest;
        }

        constructor(address verifier, Params p);

        function submitEpoch(uint256[] statement, uint256[] declared, bytes proof)
            external returns (bytes32 digest);
        function latestEpoch() external view returns (uint256 epoch, EpochRecord record);
        function epochRecord(uint256 epoch) external view returns (EpochRecord record);
        function nextEpoch() external view returns (uint256);
        function lastDigest() external view returns (bytes32);
    }
}

/// How a registry reads statements of one circuit shape, and where its chain starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryParams {
    /// Words the submitter puts before the SNARK bytes in `proof`: the accumulator's 12 limbs
    /// (aggregated) or the table's id range (direct).
    pub proof_prefix_words: usize,
    /// Whether `proof` carries an aggregated proof (else a direct one).
    pub aggregated: bool,
    /// Leading commitments of a direct proof hashed into the stored table commitment.
    pub table_columns: usize,
    /// Words of the statement (the epoch circuit's public instances).
    pub statement_words: usize,
    /// Two per asset (presence, reserves).
    pub declared_words: usize,
    /// Position of the insurance fund (the last public input).
    pub insurance_index: usize,
    /// Stress scenarios (each has a bad-debt word the registry compares with the insurance fund).
    pub scenarios: usize,
    /// Hex.
    pub config_digest: String,
    /// Statement positions of the words that depend on the config alone (see
    /// `zkmargin_layout::encoding::config_positions`), at most 1,024.
    pub config_positions: Vec<usize>,
    /// Hex Keccak-256 of those words, in order: the venue's rules as the circuit takes them.
    pub config_words: String,
    /// The epoch the registry starts at.
    pub first_epoch: u64,
    /// Hex: the `prev_digest` the first epoch must carry.
    pub genesis_digest: String,
}

/// Why a bundle cannot go on-chain.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    /// The bundle's statement cannot be encoded.
    Encoding(#[from] EncodingError),
    #[error(
        "an epoch of {0} shards has no single proof for the direct verifier: aggregate it \
         (zkmargin aggregate)"
    )]
    /// A sharded epoch has no single proof for the direct verifier.
    Sharded(usize),
}

/// The `proof` argument of a direct submission: the table's id range (two words, 32-byte
/// big-endian), then the proof's bytes. Only an epoch of one shard has a direct proof.
pub fn direct_proof(bundle: &Bundle) -> Result<Vec<u8>, RegistryError> {
    let shard = bundle
        .single_shard()
        .ok_or(RegistryError::Sharded(bundle.shards.len()))?;
    let ids = &shard.instances[bundle.instances.len()..];
    let mut proof: Vec<u8> = instance_words(ids).concat();
    proof.extend_from_slice(&shard.proof);
    Ok(proof)
}

impl RegistryParams {
    /// A registry for direct (not aggregated) proofs of `bundle`'s shape and config, starting
    /// at `bundle`'s epoch (an epoch of one shard).
    pub fn direct(bundle: &Bundle, config: &Config) -> Result<Self, RegistryError> {
        let m = &bundle.manifest;
        if m.shards.len() != 1 {
            return Err(RegistryError::Sharded(m.shards.len()));
        }
        Ok(RegistryParams {
            proof_prefix_words: ID_RANGE_WORDS,
            aggregated: false,
            table_columns: m.shards[0].account_table_commitment.len(),
            ..Self::common(bundle, config)?
        })
    }

    /// The parameters every registry of `bundle`'s shape and config shares.
    fn common(bundle: &Bundle, config: &Config) -> Result<Self, RegistryError> {
        let m = &bundle.manifest;
        let s = &m.statement;
        let inputs = encode_inputs(&m.shape, config, s)?.flatten().len();
        let positions = config_positions(&m.shape);
        Ok(RegistryParams {
            proof_prefix_words: 0,
            aggregated: false,
            table_columns: 0,
            statement_words: bundle.instances.len(),
            declared_words: s.declared_words().len(),
            insurance_index: inputs - 1,
            scenarios: m.shape.scenarios,
            config_digest: hex::encode(s.config_digest),
            config_words: hex::encode(config_words(&bundle.instances, &positions)),
            config_positions: positions,
            first_epoch: s.epoch,
            genesis_digest: hex::encode(s.prev_digest),
        })
    }
}

impl RegistryParams {
    /// A registry for aggregated proofs (of any number of shards): the accumulator's 12 limbs
    /// come first in the proof, and the shard proofs' commitments stay inside the aggregation
    /// (no table commitment).
    pub fn aggregated(bundle: &Bundle, config: &Config) -> Result<Self, RegistryError> {
        Ok(RegistryParams {
            proof_prefix_words: crate::aggregated::ACCUMULATOR_WORDS,
            aggregated: true,
            ..Self::common(bundle, config)?
        })
    }
}

/// The table commitment a registry stores for a direct proof: Keccak-256 of the manifest's
/// account-table commitments (`x ‖ y` each) of the only shard, the bytes that open its proof.
pub fn table_commitment(bundle: &Bundle) -> Option<Digest> {
    let [shard] = bundle.manifest.shards.as_slice() else {
        return None;
    };
    let mut bytes = Vec::new();
    for c in &shard.account_table_commitment {
        bytes.extend(hex::decode(c).ok()?);
    }
    Some(zkmargin_core::digest::keccak256(&bytes))
}

/// Keccak-256 of the words of `instances` at `positions` (as the registry hashes them).
pub fn config_words(instances: &[Fr], positions: &[usize]) -> Digest {
    let words = instance_words(instances);
    let picked: Vec<u8> = positions
        .iter()
        .filter_map(|&p| words.get(p))
        .flatten()
        .copied()
        .collect();
    zkmargin_core::digest::keccak256(&picked)
}

/// Bit `i` of word `i / 256` set for each position `i` (positions past 1,023 are dropped; the
/// registry refuses statements that long).
fn mask(positions: &[usize]) -> [U256; 4] {
    let mut m = [U256::ZERO; 4];
    for &p in positions.iter().filter(|&&p| p < 1024) {
        m[p / 256] |= U256::from(1) << (p % 256);
    }
    m
}

fn word(v: usize) -> U256 {
    U256::from(v)
}

/// A hex digest (optionally `0x`-prefixed) as an ABI `bytes32`.
pub(crate) fn bytes32(hex_str: &str) -> Result<FixedBytes<32>, hex::FromHexError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_str.trim_start_matches("0x"), &mut out)?;
    Ok(FixedBytes(out))
}

impl RegistryParams {
    /// ABI-encoded constructor arguments (appended to the creation code).
    pub fn constructor_args(&self, verifier: Address) -> Result<Vec<u8>, hex::FromHexError> {
        let p = EpochRegistry::Params {
            proofPrefixWords: word(self.proof_prefix_words),
            aggregated: self.aggregated,
            tableColumns: word(self.table_columns),
            statementWords: word(self.statement_words),
            declaredWords: word(self.declared_words),
            insuranceIndex: word(self.insurance_index),
            scenarios: word(self.scenarios),
            configDigest: bytes32(&self.config_digest)?,
            configMask: mask(&self.config_positions),
            configWords: bytes32(&self.config_words)?,
            firstEpoch: U256::from(self.first_epoch),
            genesisDigest: bytes32(&self.genesis_digest)?,
        };
        Ok(EpochRegistry::constructorCall { verifier, p }.abi_encode())
    }
}

/// 32-byte big-endian words as ABI `uint256`s.
pub(crate) fn words(ws: &[Digest]) -> Vec<U256> {
    ws.iter().map(|w| U256::from_be_bytes(*w)).collect()
}

/// `submitEpoch(statement, declared, proof)` calldata. `proof` starts with the prefix words
/// (32 bytes each): the accumulator limbs or the id range ([`direct_proof`]).
pub fn submit_calldata(statement: &[Fr], declared: &[Digest], proof: &[u8]) -> Vec<u8> {
    EpochRegistry::submitEpochCall {
        statement: words(&instance_words(statement)),
        declared: words(declared),
        proof: proof.to_vec().into(),
    }
    .abi_encode()
}
