//! The SlotEpochRegistry (solcjs, revm) against the Rust definitions of the slot statement:
//! behind a stub verifier that accepts exactly one input — the accumulator, `r` = the
//! statement digest mod p and `c` = the combined shard values compressed at `r`, as Rust
//! computes them — the registry must rebuild the instrument table from its pinned rules and the
//! medians word for word, so any difference (a rule, a median, an amount, a total) is a
//! rejected proof. Prints the gas at the test venue and at V1 (200 markets × 5 tiers, 12
//! collateral assets; `--nocapture`, or `scripts/bench-evm.sh`).

use std::path::Path;

use alloy_primitives::{Address, FixedBytes, U256};
use alloy_sol_types::{sol, SolCall, SolInterface};
use zkmargin_core::config::Config;
use zkmargin_core::digest::Digest;
use zkmargin_core::statement::Statement;
use zkmargin_evm::aggregated::{compress, compression_point, ACCUMULATOR_WORDS};
use zkmargin_evm::local_chain::{ChainError, LocalChain};
use zkmargin_evm::slot_registry::SlotEpochRegistry::{self, SlotEpochRegistryErrors};
use zkmargin_evm::slot_registry::{
    compressed_values, rules_chunks, rules_words, submit_calldata, submit_values_calldata,
    SlotRegistryParams, SLOT_REGISTRY_CONTRACT, SLOT_REGISTRY_SOURCE,
};
use zkmargin_evm::solc::{compile, Optimizer};
use zkmargin_evm::EIP170_RUNTIME_LIMIT;
use zkmargin_fixtures::{generate_venue, VenueOptions};
use zkmargin_layout::encoding::instance_words;
use zkmargin_layout::slots::public::{oracle_hash, slot_statement_digest, slot_statement_values};
use zkmargin_prover::slots::prepare_slots;
use zkmargin_testkit::{scratch, venue_options};

sol! {
    contract Expect {
        constructor();
        function expect(bytes32 input) external;
    }
}

/// A verifier stand-in: accepts one input (by its Keccak-256), set with `expect`.
const EXPECT_SOURCE: &str = r#"
pragma solidity 0.8.19;
contract Expect {
    bytes32 internal want;
    function expect(bytes32 input) external { want = input; }
    fallback(bytes calldata input) external returns (bytes memory) {
        require(keccak256(input) == want, "not the expected input");
        return "";
    }
}
"#;

/// A fake aggregated proof: accumulator limbs, then some bytes.
fn fake_proof() -> Vec<u8> {
    let mut p: Vec<u8> = (0..ACCUMULATOR_WORDS as u64)
        .flat_map(|i| instance_words(&[zkmargin_layout::Fr::from(i + 1)]).concat())
        .collect();
    p.extend(b"the aggregated proof's bytes");
    p
}

/// What the aggregation verifier gets for `statement`, by the Rust definitions.
fn verifier_input(config: &Config, statement: &Statement, proof: &[u8]) -> Vec<u8> {
    let digest = slot_statement_digest(config, statement).unwrap();
    let r = compression_point(&digest);
    let c = compress(&compressed_values(config, statement).unwrap(), r);
    let (acc, rest) = proof.split_at(32 * ACCUMULATOR_WORDS);
    let mut out = acc.to_vec();
    out.extend(instance_words(&[r, c]).concat());
    out.extend_from_slice(rest);
    out
}

struct Deployment {
    chain: LocalChain,
    stub: Address,
    registry: Address,
    /// Gas of deploying the rules' data contracts, and their count.
    rules_gas: u64,
    chunks: usize,
    registry_gas: u64,
}

/// A chain with the stub, the rules of `rules_of` in data contracts and a registry of `params`.
fn deploy(params: &SlotRegistryParams, rules_of: &Config) -> Result<Deployment, ChainError> {
    let mut chain = LocalChain::mainnet();
    let stub = chain
        .deploy(compile(EXPECT_SOURCE, "Expect", Optimizer::On).unwrap())
        .unwrap()
        .address;
    let mut addresses = Vec::new();
    let mut rules_gas = 0;
    for code in rules_chunks(&rules_words(rules_of).unwrap()) {
        let d = chain.deploy(code).unwrap();
        assert!(d.runtime_bytes <= EIP170_RUNTIME_LIMIT);
        rules_gas += d.gas;
        addresses.push(d.address);
    }
    let mut code = compile(SLOT_REGISTRY_SOURCE, SLOT_REGISTRY_CONTRACT, Optimizer::On).unwrap();
    code.extend(params.constructor_args(stub, &addresses).unwrap());
    let registry = chain.deploy(code)?;
    Ok(Deployment {
        chain,
        stub,
        registry: registry.address,
        rules_gas,
        chunks: addresses.len(),
        registry_gas: registry.gas,
    })
}

impl Deployment {
    fn expect(&mut self, input: &[u8]) {
        let want = zkmargin_core::digest::keccak256(input);
        self.chain
            .call(
                self.stub,
                Expect::expectCall {
                    input: FixedBytes(want),
                }
                .abi_encode(),
            )
            .unwrap();
    }

    fn submit(&mut self, data: Vec<u8>) -> Result<u64, ChainError> {
        self.chain.call(self.registry, data).map(|r| r.gas)
    }

    fn latest(&mut self) -> (U256, SlotEpochRegistry::EpochRecord) {
        let out = self
            .chain
            .call(
                self.registry,
                SlotEpochRegistry::latestEpochCall {}.abi_encode(),
            )
            .unwrap()
            .output;
        let r = SlotEpochRegistry::latestEpochCall::abi_decode_returns(&out).unwrap();
        (r.epoch, r.record)
    }
}

fn revert_reason<T: std::fmt::Debug>(result: Result<T, ChainError>) -> SlotEpochRegistryErrors {
    match result {
        Err(ChainError::Reverted { output, .. }) => SlotEpochRegistryErrors::abi_decode(&output)
            .unwrap_or_else(|_| panic!("not a registry error: 0x{}", hex::encode(output))),
        other => panic!("expected a revert, got {other:?}"),
    }
}

/// The config and statement of the venue snapshot `options` generates (no proof needed: the
/// stub stands in for the aggregation verifier).
fn epoch(dir: &Path, options: &VenueOptions, prev: Digest) -> (Config, Statement) {
    generate_venue(options, dir).unwrap();
    let e = prepare_slots(dir, prev, Some([7; 32])).unwrap();
    (e.config, e.statement)
}

/// `submitEpoch` words as the honest submitter has them.
struct Words {
    oracle: Digest,
    values: Vec<Digest>,
    declared: Vec<Digest>,
}

impl Words {
    fn of(config: &Config, statement: &Statement) -> Self {
        Words {
            oracle: oracle_hash(statement),
            values: instance_words(&slot_statement_values(config, statement).unwrap()),
            declared: statement.declared_words(),
        }
    }

    fn calldata(&self) -> Vec<u8> {
        submit_values_calldata(&self.oracle, &self.values, &self.declared, &fake_proof())
    }

    fn with_value(&self, index: usize, f: impl Fn(U256) -> U256) -> Vec<u8> {
        let mut values = self.values.clone();
        values[index] = f(U256::from_be_bytes(values[index])).to_be_bytes();
        submit_values_calldata(&self.oracle, &values, &self.declared, &fake_proof())
    }
}

#[test]
fn the_registry_rebuilds_the_instrument_table_and_rejects_every_edit() {
    let root = scratch("slot-registry");
    let options = venue_options(60, 11);
    let (config, first) = epoch(&root.join("e1"), &options, [0; 32]);
    let params = SlotRegistryParams::new(&config, &first).unwrap();
    let mut d = deploy(&params, &config).unwrap();
    let proof = fake_proof();
    d.expect(&verifier_input(&config, &first, &proof));
    let honest = Words::of(&config, &first);
    assert_eq!(
        honest.calldata(),
        submit_calldata(&config, &first, &proof).unwrap()
    );

    // Every edit of a proved word changes r or c: the verifier sees another input.
    let assets = config.assets.len();
    let median = 7;
    let amount = 7 + assets;
    let total = honest.values.len() - 1;
    for (what, index) in [
        ("a median", median),
        ("an instrument total", amount),
        ("the last bad debt", total),
        ("the insurance fund", 6),
        ("the timestamp", 1),
    ] {
        let edited = honest.with_value(index, |v| v + U256::from(1));
        assert!(
            matches!(
                revert_reason(d.submit(edited)),
                SlotEpochRegistryErrors::ProofRejected(_)
            ),
            "{what}"
        );
    }
    let mut other_oracle = Words::of(&config, &first);
    other_oracle.oracle[0] ^= 1;
    assert!(matches!(
        revert_reason(d.submit(other_oracle.calldata())),
        SlotEpochRegistryErrors::ProofRejected(_)
    ));
    // Words the registry refuses before the proof.
    assert!(matches!(
        revert_reason(d.submit(honest.with_value(median, |_| U256::from(1) << 64))),
        SlotEpochRegistryErrors::MedianOver64Bits(_)
    ));
    let r = U256::from_str_radix(
        "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001",
        16,
    )
    .unwrap();
    assert!(matches!(
        revert_reason(d.submit(honest.with_value(amount, |v| v + r))),
        SlotEpochRegistryErrors::NonCanonicalWord(_)
    ));
    assert!(matches!(
        revert_reason(d.submit(honest.with_value(0, |v| v + U256::from(1)))),
        SlotEpochRegistryErrors::EpochOutOfOrder(_)
    ));
    assert!(matches!(
        revert_reason(d.submit(honest.with_value(3, |v| v ^ U256::from(1)))),
        SlotEpochRegistryErrors::DoesNotChain(_)
    ));
    assert!(matches!(
        revert_reason(d.submit(honest.with_value(5, |v| v ^ U256::from(1)))),
        SlotEpochRegistryErrors::ForeignConfig(_)
    ));
    let mut short = Words::of(&config, &first);
    short.values.pop();
    assert!(matches!(
        revert_reason(d.submit(short.calldata())),
        SlotEpochRegistryErrors::BadLength(_)
    ));

    // The honest words: accepted, and the record is the statement's.
    let gas = d.submit(honest.calldata()).unwrap();
    let (at, record) = d.latest();
    assert_eq!(at, U256::from(first.epoch));
    let digest = slot_statement_digest(&config, &first).unwrap();
    assert_eq!(record.digest, FixedBytes(digest));
    assert_eq!(
        record.underMargined,
        U256::from(first.under_margined_accounts)
    );
    assert_eq!(record.badDebt.to_string(), first.total_bad_debt.to_string());
    assert_eq!(
        record.totalEquity.to_string(),
        first.total_equity.to_string()
    );
    // Replayed: out of order.
    assert!(matches!(
        revert_reason(d.submit(honest.calldata())),
        SlotEpochRegistryErrors::EpochOutOfOrder(_)
    ));

    // The next epoch chains to it.
    let next_options = VenueOptions {
        epoch: options.epoch + 1,
        ..options
    };
    let (config2, second) = epoch(&root.join("e2"), &next_options, digest);
    assert_eq!(second.config_digest, first.config_digest);
    d.expect(&verifier_input(&config2, &second, &proof));
    let gas2 = d.submit(Words::of(&config2, &second).calldata()).unwrap();
    assert_eq!(d.latest().0, U256::from(second.epoch));
    println!(
        "slot registry, test venue ({} markets): rules {} words in {} chunk(s), deploy {} gas \
         (+ registry {}); submitEpoch {gas} / {gas2} gas",
        config.markets.len(),
        params.rules_words,
        d.chunks,
        d.rules_gas,
        d.registry_gas
    );
}

#[test]
fn rules_other_than_the_pinned_ones_are_refused() {
    let root = scratch("slot-registry-rules");
    let options = venue_options(40, 12);
    let (config, statement) = epoch(&root.join("e1"), &options, [0; 32]);
    let params = SlotRegistryParams::new(&config, &statement).unwrap();
    // A tier's maintenance rate edited in the rules the data contracts hold.
    let mut edited = config.clone();
    let tier = edited.markets[0].tiers.last_mut().expect("a tier");
    tier.mmr_bps += 1;
    assert_ne!(rules_words(&edited).unwrap(), rules_words(&config).unwrap());
    assert!(matches!(
        deploy(&params, &edited),
        Err(ChainError::Reverted { .. })
    ));
    // Pinned to the edited rules, the registry compresses another table: the proof of the
    // epoch's own table is rejected.
    let foreign = SlotRegistryParams::new(&edited, &statement).unwrap();
    let mut d = deploy(&foreign, &edited).unwrap();
    d.expect(&verifier_input(&config, &statement, &fake_proof()));
    assert!(matches!(
        revert_reason(d.submit(Words::of(&config, &statement).calldata())),
        SlotEpochRegistryErrors::ProofRejected(_)
    ));
}

#[test]
fn v1_gas_does_not_follow_the_instrument_table() {
    let root = scratch("slot-registry-v1");
    let options = VenueOptions::v1(300, 3);
    let (config, statement) = epoch(&root.join("e1"), &options, [0; 32]);
    let params = SlotRegistryParams::new(&config, &statement).unwrap();
    let mut d = deploy(&params, &config).unwrap();
    d.expect(&verifier_input(&config, &statement, &fake_proof()));
    let words = Words::of(&config, &statement);
    let calldata = words.calldata();
    let gas = d.submit(calldata.clone()).unwrap();
    let table = compressed_values(&config, &statement).unwrap().len();
    println!(
        "slot registry, V1 ({} markets, {} assets): instrument table + totals {table} words \
         rebuilt on-chain from {} calldata words ({} bytes of calldata); rules {} words in {} \
         data contracts, deploy {} gas (+ registry {}); submitEpoch {gas} gas (stub verifier)",
        config.markets.len(),
        config.assets.len(),
        words.values.len() + words.declared.len() + 1,
        calldata.len(),
        params.rules_words,
        d.chunks,
        d.rules_gas,
        d.registry_gas
    );
    assert!(
        calldata.len() < 128 * 1024,
        "calldata over a transaction's size"
    );
}

fn creation_code(dir: &Path, file: &str) -> Vec<u8> {
    hex::decode(std::fs::read_to_string(dir.join(file)).unwrap().trim()).unwrap()
}

/// The slot-table mainnet path with real proofs: a venue of two shard classes proved, its
/// shards folded (`zkmargin aggregate`'s library step: an aggregation node over the two class
/// shards, then the root, circuits of 2^21 rows: minutes and about 11 GiB, hence ignored;
/// `scripts/bench-evm.sh` runs it), the aggregation verifier, the rules' data contracts and
/// the registry deployed under mainnet rules; the registry accepts the epoch from
/// `zkmargin calldata`'s words and rejects an edited amount and an edited accumulator limb.
#[test]
#[ignore]
fn a_slot_epoch_aggregates_and_the_registry_accepts_it() {
    use zkmargin_prover::onchain::{self, rules_file, Target};
    use zkmargin_prover::report::Silent;
    let root = scratch("slot-registry-aggregated");
    let snapshot = root.join("venue");
    generate_venue(&venue_options(120, 5), &snapshot).unwrap();
    let bundle_dir = root.join("bundle");
    let bundle = zkmargin_testkit::prove_slot_bundle(&snapshot, None, &bundle_dir);
    let shards: usize = bundle.shards.iter().map(Vec::len).sum();
    let contracts = root.join("contracts");
    let aggregated = onchain::aggregate(&bundle_dir, &zkmargin_testkit::setup(), &Silent).unwrap();
    onchain::write_aggregated(&contracts, &aggregated, true, &Silent).unwrap();
    let params: SlotRegistryParams =
        serde_json::from_slice(&std::fs::read(contracts.join("registry.json")).unwrap()).unwrap();

    let mut chain = LocalChain::mainnet();
    let verifier = chain
        .deploy(creation_code(&contracts, "Halo2Verifier.bin"))
        .expect("the aggregation verifier fits EIP-170");
    let mut chunks = Vec::new();
    for n in 0.. {
        let path = contracts.join(rules_file(n));
        if !path.exists() {
            break;
        }
        chunks.push(
            chain
                .deploy(creation_code(&contracts, &rules_file(n)))
                .unwrap()
                .address,
        );
    }
    let mut code = creation_code(&contracts, "SlotEpochRegistry.bin");
    code.extend(params.constructor_args(verifier.address, &chunks).unwrap());
    let registry = chain.deploy(code).unwrap();

    let direct = onchain::calldata(
        &bundle_dir,
        Some(&contracts.join("aggregated.json")),
        Target::Verifier,
    )
    .unwrap();
    let verify = chain
        .call(verifier.address, direct)
        .expect("the verifier accepts the aggregated proof");
    let data = onchain::calldata(
        &bundle_dir,
        Some(&contracts.join("aggregated.json")),
        Target::Registry,
    )
    .unwrap();
    let call = SlotEpochRegistry::submitEpochCall::abi_decode(&data).unwrap();
    let statement = &bundle.manifest.statement;
    let config = Config::parse(&bundle.config_toml).unwrap();
    assert_eq!(
        data,
        submit_calldata(&config, statement, &call.proof).unwrap()
    );
    // An edited amount (the first instrument total) and an edited accumulator limb.
    let mut values = call.values.clone();
    values[7 + config.assets.len()] += U256::from(1);
    let edited = SlotEpochRegistry::submitEpochCall {
        values,
        ..call.clone()
    };
    assert!(matches!(
        revert_reason(chain.call(registry.address, edited.abi_encode())),
        SlotEpochRegistryErrors::ProofRejected(_)
    ));
    let mut proof = call.proof.to_vec();
    proof[31] ^= 1;
    let edited = SlotEpochRegistry::submitEpochCall {
        proof: proof.into(),
        ..call.clone()
    };
    assert!(matches!(
        revert_reason(chain.call(registry.address, edited.abi_encode())),
        SlotEpochRegistryErrors::ProofRejected(_)
    ));
    let gas = chain
        .call(registry.address, data)
        .expect("the epoch is accepted")
        .gas;
    let out = chain
        .call(
            registry.address,
            SlotEpochRegistry::latestEpochCall {}.abi_encode(),
        )
        .unwrap()
        .output;
    let record = SlotEpochRegistry::latestEpochCall::abi_decode_returns(&out)
        .unwrap()
        .record;
    assert_eq!(hex::encode(record.digest), bundle.manifest.statement_digest);
    println!("| step (slot epoch, {shards} class shards, aggregated) | gas | note |");
    println!("|---|---|---|");
    println!(
        "| deploy verifier | {} | runtime {} bytes |",
        verifier.gas, verifier.runtime_bytes
    );
    println!("| verify (direct call) | {} | |", verify.gas);
    println!(
        "| submitEpoch | {gas} | {} rule words |",
        params.rules_words
    );
}
