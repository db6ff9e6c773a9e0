//! The on-chain path end to end: the exported verifier and the EpochRegistry
//! (`zkmargin_prover::onchain`, compiled with solcjs), a local EVM (revm) deploys them, and the
//! registry accepts consecutive epochs and reverts on every tampering. Prints the gas figures
//! (run with `--nocapture`, or `scripts/bench-evm.sh`).

use std::fs;
use std::path::{Path, PathBuf};

use alloy_primitives::{Address, FixedBytes, U256};
use alloy_sol_types::{SolCall, SolError, SolInterface};
use zkmargin_bundle::Bundle;
use zkmargin_evm::local_chain::{ChainError, Deployed, LocalChain};
use zkmargin_evm::registry::EpochRegistry::{self, EpochRegistryErrors};
use zkmargin_evm::registry::{direct_proof, submit_calldata, table_commitment, RegistryParams};
use zkmargin_evm::verifier_code::verifier_calldata;
use zkmargin_evm::EIP170_RUNTIME_LIMIT;
use zkmargin_prover::epoch::Sharding;
use zkmargin_prover::onchain;
use zkmargin_prover::report::Silent;
use zkmargin_testkit::{prove_bundle, setup as dirs};

/// BN254 scalar field modulus.
const R: &str = "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";

struct Setup {
    _dir: tempfile::TempDir,
    first: Bundle,
    second: Bundle,
    contracts: PathBuf,
}

/// Two chained epochs of the insolvent fixture (epochs 2 and 3) and the exported contracts.
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/edge/insolvent");
    let next = dir.path().join("next");
    fs::create_dir_all(&next).unwrap();
    for f in ["accounts.csv", "quotes.csv"] {
        fs::copy(fixture.join(f), next.join(f)).unwrap();
    }
    let config = fs::read_to_string(fixture.join("config.toml")).unwrap();
    assert!(config.contains("\nepoch = 2\n"));
    fs::write(
        next.join("config.toml"),
        config.replace("\nepoch = 2\n", "\nepoch = 3\n"),
    )
    .unwrap();
    let (b1, b2, contracts) = (
        dir.path().join("b1"),
        dir.path().join("b2"),
        dir.path().join("contracts"),
    );
    let k12 = Sharding {
        k: Some(12),
        shard_rows: None,
    };
    let first = prove_bundle(&fixture, None, k12, &b1);
    let second = prove_bundle(&next, Some(&b1), k12, &b2);
    let exported = onchain::export_verifier(&b1, &dirs(), &Silent).unwrap();
    onchain::write_contracts(&contracts, &exported, true, &Silent).unwrap();
    Setup {
        first,
        second,
        contracts,
        _dir: dir,
    }
}

fn creation_code(contracts: &Path, name: &str) -> Vec<u8> {
    hex::decode(
        fs::read_to_string(contracts.join(format!("{name}.bin")))
            .unwrap()
            .trim(),
    )
    .unwrap()
}

/// A chain (code size limits lifted: the direct verifier exceeds EIP-170) with the verifier
/// and a registry made from `params` deployed.
fn deploy(setup: &Setup, params: &RegistryParams) -> (LocalChain, Deployed, Deployed) {
    let mut chain = LocalChain::with_code_limits(false);
    let verifier = chain
        .deploy(creation_code(&setup.contracts, "Halo2Verifier"))
        .unwrap();
    let mut code = creation_code(&setup.contracts, "EpochRegistry");
    code.extend(params.constructor_args(verifier.address).unwrap());
    let registry = chain.deploy(code).unwrap();
    (chain, verifier, registry)
}

fn exported_params(setup: &Setup) -> RegistryParams {
    serde_json::from_slice(&fs::read(setup.contracts.join("registry.json")).unwrap()).unwrap()
}

fn submit(chain: &mut LocalChain, registry: Address, b: &Bundle) -> Result<u64, ChainError> {
    let data = submit_calldata(
        &b.instances,
        &b.manifest.statement.declared_words(),
        &direct_proof(b).unwrap(),
    );
    chain.call(registry, data).map(|r| r.gas)
}

/// The registry's custom error behind a revert.
fn revert_reason<T: std::fmt::Debug>(result: Result<T, ChainError>) -> EpochRegistryErrors {
    match result {
        Err(ChainError::Reverted { output, .. }) => EpochRegistryErrors::abi_decode(&output)
            .unwrap_or_else(|_| panic!("not a registry error: 0x{}", hex::encode(output))),
        other => panic!("expected a revert, got {other:?}"),
    }
}

fn latest(chain: &mut LocalChain, registry: Address) -> (U256, EpochRegistry::EpochRecord) {
    let out = chain
        .call(registry, EpochRegistry::latestEpochCall {}.abi_encode())
        .unwrap()
        .output;
    let r = EpochRegistry::latestEpochCall::abi_decode_returns(&out).unwrap();
    (r.epoch, r.record)
}

/// The raw calldata of `submitEpoch` with the statement word `index` replaced by `value`.
fn with_word(b: &Bundle, index: usize, value: U256) -> Vec<u8> {
    let call = EpochRegistry::submitEpochCall::abi_decode(&submit_calldata(
        &b.instances,
        &b.manifest.statement.declared_words(),
        &direct_proof(b).unwrap(),
    ))
    .unwrap();
    let mut statement = call.statement;
    statement[index] = value;
    EpochRegistry::submitEpochCall { statement, ..call }.abi_encode()
}

#[test]
fn registry_accepts_a_chain_and_rejects_tampering() {
    let setup = setup();
    let params = exported_params(&setup);
    assert_eq!(
        params,
        RegistryParams::direct(
            &setup.first,
            &zkmargin_core::config::Config::parse(&setup.first.config_toml).unwrap()
        )
        .unwrap()
    );
    let (mut chain, verifier, registry) = deploy(&setup, &params);

    // The verifier alone accepts the proof (of the only shard) and rejects a flipped proof
    // byte, and an edited id range.
    let shard = setup.first.single_shard().unwrap();
    let call = chain
        .call(
            verifier.address,
            verifier_calldata(&shard.instances, &shard.proof),
        )
        .expect("the verifier accepts the bundle's proof");
    let mut flipped = shard.proof.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 1;
    assert!(chain
        .call(
            verifier.address,
            verifier_calldata(&shard.instances, &flipped)
        )
        .is_err());
    let mut ids = shard.instances.clone();
    *ids.last_mut().unwrap() += zkmargin_layout::Fr::one();
    assert!(chain
        .call(verifier.address, verifier_calldata(&ids, &shard.proof))
        .is_err());

    // Skipping the first epoch, then the first, replaying it, then the second.
    assert!(matches!(
        revert_reason(submit(&mut chain, registry.address, &setup.second)),
        EpochRegistryErrors::EpochOutOfOrder(_)
    ));
    let first_gas = submit(&mut chain, registry.address, &setup.first).expect("epoch 2 accepted");
    let (epoch, record) = latest(&mut chain, registry.address);
    assert_eq!(epoch, U256::from(2));
    assert_eq!(
        hex::encode(record.digest),
        setup.first.manifest.statement_digest,
        "the registry recomputes the off-chain statement digest"
    );
    assert_eq!(
        record.tableCommitment,
        FixedBytes(table_commitment(&setup.first).unwrap())
    );
    let s = &setup.first.manifest.statement;
    assert_eq!(record.underMargined, U256::from(s.under_margined_accounts));
    assert_eq!(record.badDebt.to_string(), s.total_bad_debt.to_string());
    assert_eq!(record.totalEquity.to_string(), s.total_equity.to_string());
    assert_eq!(
        record.insuranceFund.to_string(),
        s.insurance_fund.to_string()
    );
    let worst = s.scenarios.iter().map(|x| x.bad_debt).max().unwrap();
    assert_eq!(record.worstStressBadDebt.to_string(), worst.to_string());
    assert!(matches!(
        revert_reason(submit(&mut chain, registry.address, &setup.first)),
        EpochRegistryErrors::EpochOutOfOrder(_)
    ));
    let second_gas =
        submit(&mut chain, registry.address, &setup.second).expect("epoch 3 chains to epoch 2");
    let (epoch, record) = latest(&mut chain, registry.address);
    assert_eq!(epoch, U256::from(3));
    assert_eq!(
        hex::encode(record.digest),
        setup.second.manifest.statement_digest
    );

    println!("| step | gas | note |");
    println!("|---|---|---|");
    println!(
        "| deploy verifier | {} | runtime {} bytes (EIP-170 limit {EIP170_RUNTIME_LIMIT}) |",
        verifier.gas, verifier.runtime_bytes
    );
    println!(
        "| deploy registry | {} | runtime {} bytes |",
        registry.gas, registry.runtime_bytes
    );
    println!(
        "| verify (direct call) | {} | {} instances, {}-byte proof |",
        call.gas,
        shard.instances.len(),
        shard.proof.len()
    );
    println!("| submitEpoch (first) | {first_gas} | |");
    println!("| submitEpoch (chained) | {second_gas} | |");
}

#[test]
fn registry_rejects_forged_statements_and_foreign_chains() {
    let setup = setup();
    let params = exported_params(&setup);
    let (mut chain, _, registry) = deploy(&setup, &params);
    let b = &setup.first;
    let n = b.instances.len();

    // An edited headline total (the last word: the worst scenario's bad debt): the proof fails.
    let edited = with_word(b, n - 1, U256::ZERO);
    let reason = revert_reason(chain.call(registry.address, edited));
    assert!(matches!(reason, EpochRegistryErrors::ProofRejected(_)));

    // The same word plus the field modulus: the verifier would read the same value, so the
    // registry must refuse it before it changes the digest.
    let word = U256::from_be_bytes(zkmargin_layout::encoding::instance_words(&b.instances)[n - 1]);
    let aliased = with_word(b, n - 1, word + U256::from_str_radix(R, 16).unwrap());
    let reason = revert_reason(chain.call(registry.address, aliased));
    assert!(matches!(reason, EpochRegistryErrors::NonCanonicalWord(_)));

    // A statement one word short, and a digest half over 128 bits (below p, so only the
    // registry's own check can refuse the aliasing of (hi, lo) pairs).
    let short = submit_calldata(
        &b.instances[..n - 1],
        &b.manifest.statement.declared_words(),
        &direct_proof(b).unwrap(),
    );
    assert!(matches!(
        revert_reason(chain.call(registry.address, short)),
        EpochRegistryErrors::BadLength(_)
    ));
    let wide_half = with_word(b, 3, U256::from(1) << 128);
    match chain.call(registry.address, wide_half) {
        Err(ChainError::Reverted { output, .. }) => {
            let reason = alloy_sol_types::Revert::abi_decode(&output).unwrap();
            assert_eq!(reason.reason, "digest half over 128 bits");
        }
        other => panic!("{other:?}"),
    }

    // No epoch yet.
    assert!(chain
        .call(
            registry.address,
            EpochRegistry::latestEpochCall {}.abi_encode()
        )
        .is_err());

    // A flipped proof byte.
    let mut flipped = b.clone();
    let at = flipped.shards[0].proof.len() - 40;
    flipped.shards[0].proof[at] ^= 0x01;
    assert!(matches!(
        revert_reason(submit(&mut chain, registry.address, &flipped)),
        EpochRegistryErrors::ProofRejected(_)
    ));

    // A registry whose chain starts elsewhere, and one pinned to another config.
    let mut elsewhere = params.clone();
    elsewhere.genesis_digest = "11".repeat(32);
    let (mut chain2, _, registry2) = deploy(&setup, &elsewhere);
    assert!(matches!(
        revert_reason(submit(&mut chain2, registry2.address, b)),
        EpochRegistryErrors::DoesNotChain(_)
    ));
    let mut foreign = params.clone();
    foreign.config_digest = "22".repeat(32);
    let (mut chain3, _, registry3) = deploy(&setup, &foreign);
    assert!(matches!(
        revert_reason(submit(&mut chain3, registry3.address, b)),
        EpochRegistryErrors::ForeignConfig(_)
    ));

    // A registry pinned to other rules (as if the weights in the statement were not the
    // config's: the circuit takes them as given, only the registry can refuse them).
    let mut rules = params.clone();
    rules.config_words = "33".repeat(32);
    let (mut chain4, _, registry4) = deploy(&setup, &rules);
    assert!(matches!(
        revert_reason(submit(&mut chain4, registry4.address, b)),
        EpochRegistryErrors::ForeignRules(_)
    ));

    // Wrong declared values length, and the honest submission still goes through afterwards.
    let short = submit_calldata(&b.instances, &[], &direct_proof(b).unwrap());
    let reason = revert_reason(chain.call(registry.address, short));
    assert!(matches!(reason, EpochRegistryErrors::BadLength(_)));
    submit(&mut chain, registry.address, b).expect("the honest epoch is still accepted");
}

#[test]
fn the_direct_verifier_does_not_fit_mainnet() {
    // Documented limit: the direct verifier is for chains without EIP-170; mainnet needs the
    // aggregated verifier. If this starts passing deployment, the README's claim is stale.
    let setup = setup();
    let mut chain = LocalChain::mainnet();
    assert!(chain
        .deploy(creation_code(&setup.contracts, "Halo2Verifier"))
        .is_err());
}

/// `zkmargin aggregate BUNDLE_DIR`'s library step, then on a mainnet-rules chain: the
/// aggregated verifier deploys, the registry accepts the epoch, and rejects a tampered
/// accumulator limb and a tampered statement word. Prints the gas table.
fn aggregate_and_submit(bundle_dir: &Path) {
    let b = &Bundle::read(bundle_dir).unwrap();
    let agg = bundle_dir.with_extension("aggregated");
    let _ = fs::remove_dir_all(&agg);
    let aggregated = onchain::aggregate(bundle_dir, &dirs(), &Silent).unwrap();
    onchain::write_aggregated(&agg, &aggregated, true, &Silent).unwrap();
    let file = zkmargin_evm::aggregated::AggregatedFile::parse(
        &fs::read(agg.join("aggregated.json")).unwrap(),
    )
    .unwrap();
    let params: RegistryParams =
        serde_json::from_slice(&fs::read(agg.join("registry.json")).unwrap()).unwrap();
    assert_eq!(params.proof_prefix_words, 12);
    assert!(params.aggregated);

    let mut chain = LocalChain::mainnet();
    let verifier = chain
        .deploy(creation_code(&agg, "Halo2Verifier"))
        .expect("the aggregated verifier fits EIP-170");
    let mut code = creation_code(&agg, "EpochRegistry");
    code.extend(params.constructor_args(verifier.address).unwrap());
    let registry = chain.deploy(code).unwrap();

    let proof = file.registry_proof().unwrap();
    let digest = b.manifest.statement_digest_bytes().unwrap();
    let direct = zkmargin_evm::aggregated::verifier_calldata(&file, &b.instances, &digest).unwrap();
    let call = chain
        .call(verifier.address, direct)
        .expect("the verifier accepts the aggregated proof");

    let declared = b.manifest.statement.declared_words();
    let submit = |chain: &mut LocalChain, statement: &[zkmargin_layout::Fr], proof: &[u8]| {
        chain
            .call(
                registry.address,
                submit_calldata(statement, &declared, proof),
            )
            .map(|r| r.gas)
    };
    // A tampered accumulator limb and a tampered statement word are rejected.
    let mut bad_acc = proof.clone();
    bad_acc[31] ^= 1;
    assert!(matches!(
        revert_reason(submit(&mut chain, &b.instances, &bad_acc)),
        EpochRegistryErrors::ProofRejected(_)
    ));
    let mut edited = b.instances.clone();
    let last = edited.len() - 1;
    edited[last] += zkmargin_layout::Fr::one();
    assert!(matches!(
        revert_reason(submit(&mut chain, &edited, &proof)),
        EpochRegistryErrors::ProofRejected(_)
    ));
    let submit_gas =
        submit(&mut chain, &b.instances, &proof).expect("the aggregated epoch is accepted");
    let (epoch, record) = latest(&mut chain, registry.address);
    assert_eq!(epoch, U256::from(b.manifest.statement.epoch));
    assert_eq!(hex::encode(record.digest), b.manifest.statement_digest);

    println!(
        "| step (aggregated, {} shard(s)) | gas | note |",
        b.shards.len()
    );
    println!("|---|---|---|");
    println!(
        "| deploy verifier | {} | runtime {} bytes (EIP-170 limit {EIP170_RUNTIME_LIMIT}) |",
        verifier.gas, verifier.runtime_bytes
    );
    println!(
        "| verify (direct call) | {} | {} instances, {}-byte proof |",
        call.gas,
        zkmargin_evm::aggregated::AGGREGATED_INSTANCES,
        proof.len() - 32 * 12
    );
    println!("| submitEpoch | {submit_gas} | |");
}

/// The mainnet path: `zkmargin aggregate` (an aggregation circuit of 2^21 rows: minutes and
/// several GiB, hence ignored by default; `scripts/bench-evm.sh` runs it).
#[test]
#[ignore]
fn aggregated_verifier_fits_mainnet_and_the_registry_accepts_it() {
    let setup = setup();
    aggregate_and_submit(&setup.contracts.parent().unwrap().join("b1"));
}

/// A sharded epoch on-chain: 20 accounts in two shards of 16 rows, folded by one aggregation
/// circuit that combines them (ignored: as above, a few minutes more per shard).
#[test]
#[ignore]
fn sharded_epoch_aggregates_and_the_registry_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot");
    let options = zkmargin_fixtures::GeneratorOptions {
        accounts: 20,
        seed: 3,
        assets: 2,
        markets: 1,
        scenarios: 1,
        ..Default::default()
    };
    zkmargin_fixtures::generate(&options, &snapshot).unwrap();
    let bundle = dir.path().join("sharded");
    let sharding = Sharding {
        k: Some(12),
        shard_rows: Some(16),
    };
    assert_eq!(
        prove_bundle(&snapshot, None, sharding, &bundle)
            .shards
            .len(),
        2
    );
    aggregate_and_submit(&bundle);
}
