//! The on-chain path for a bundle: the Solidity verifier of its circuit and the EpochRegistry
//! ([`export_verifier`]), an aggregated proof whose verifier fits mainnet ([`aggregate`]), and
//! the calldata that submits an epoch ([`calldata`]).

use std::fs;
use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::ProvingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkmargin_bundle::slots::SlotBundle;
use zkmargin_bundle::Bundle;
use zkmargin_circuits::keygen::KeygenParams;
use zkmargin_core::config::Config;
use zkmargin_evm::aggregated::{
    compress, compression_point, verifier_calldata as aggregated_calldata, AggregatedFile,
    ACCUMULATOR_WORDS,
};
use zkmargin_evm::registry::{
    direct_proof, submit_calldata, RegistryError, RegistryParams, REGISTRY_CONTRACT,
    REGISTRY_SOURCE,
};
use zkmargin_evm::slot_registry::{
    self, SlotRegistryParams, SLOT_REGISTRY_CONTRACT, SLOT_REGISTRY_SOURCE,
};
use zkmargin_evm::solc::Optimizer;
use zkmargin_evm::verifier_code::{
    aggregation_verifier, epoch_verifier, verifier_calldata, VERIFIER_CONTRACT,
};
use zkmargin_keys::cache::Origin;
use zkmargin_layout::slots::public::{additive_values, slot_statement_digest};
use zkmargin_srs::{self as srs, SrsKind};

use crate::aggregate;
use crate::pipeline::Setup;
use crate::report::{phase, Reporter};
use crate::slot_inclusion::SlotAccounts;
use crate::ErrorClass;

/// Why a slot-table bundle has no direct on-chain path.
const SLOTS_AGGREGATED_ONLY: &str =
    "a slot-table epoch goes on-chain aggregated only: run zkmargin aggregate, then pass \
     --aggregated";

/// The aggregated proof's file name in the contracts directory.
pub const AGGREGATED_FILE: &str = "aggregated.json";

/// Why an on-chain step failed.
#[derive(Debug, thiserror::Error)]
pub enum OnchainError {
    /// The bundle (or an aggregated proof file) is unusable.
    #[error("{}: {reason}", path.display())]
    Unusable {
        /// The file or directory at fault.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Generating keys, proofs, contracts or compiling them failed.
    #[error("{0}")]
    Failed(String),
    /// A file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl OnchainError {
    /// Unusable input (exit 2) or a failed run (exit 1).
    pub fn class(&self) -> ErrorClass {
        match self {
            OnchainError::Unusable { .. } => ErrorClass::Input,
            _ => ErrorClass::Runtime,
        }
    }
}

fn unusable(path: &Path, reason: impl ToString) -> OnchainError {
    OnchainError::Unusable {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn failed(e: impl ToString) -> OnchainError {
    OnchainError::Failed(e.to_string())
}

/// A bundle opened for the on-chain steps: its shape admitted, its config parsed.
struct OnchainBundle {
    bundle: Bundle,
    config: Config,
    kind: SrsKind,
    digest: [u8; 32],
}

fn read_bundle(path: &Path) -> Result<OnchainBundle, OnchainError> {
    let bundle = Bundle::read(path).map_err(|e| unusable(path, e))?;
    bundle.admitted_shape().map_err(|e| unusable(path, e))?;
    let config = Config::parse(&bundle.config_toml)
        .map_err(|e| unusable(path, format!("config.toml: {e}")))?;
    let label = &bundle.manifest.srs.source;
    let kind = SrsKind::from_label(label)
        .ok_or_else(|| unusable(path, format!("unknown SRS {label:?}")))?;
    let digest = bundle
        .manifest
        .statement_digest_bytes()
        .ok_or_else(|| unusable(path, "the statement digest is not 32 hex bytes"))?;
    Ok(OnchainBundle {
        bundle,
        config,
        kind,
        digest,
    })
}

fn read_for_registry(
    path: &Path,
    aggregated: bool,
) -> Result<(OnchainBundle, RegistryParams), OnchainError> {
    let b = read_bundle(path)?;
    let params = if aggregated {
        RegistryParams::aggregated(&b.bundle, &b.config)
    } else {
        RegistryParams::direct(&b.bundle, &b.config)
    }
    .map_err(|e| unusable(path, e))?;
    Ok((b, params))
}

/// The registry a bundle's epochs go to, by its parameters (`registry.json`).
pub enum Registry {
    /// `EpochRegistry` ([`REGISTRY_SOURCE`]): dense-table epochs.
    Epoch(RegistryParams),
    /// `SlotEpochRegistry` ([`SLOT_REGISTRY_SOURCE`]): slot-table epochs, aggregated, with the
    /// creation code of the data contracts holding its instrument rules, in order.
    Slots(SlotRegistryParams, Vec<Vec<u8>>),
}

impl Registry {
    /// The registry contract's name and source.
    pub fn contract(&self) -> (&'static str, &'static str) {
        match self {
            Registry::Epoch(_) => (REGISTRY_CONTRACT, REGISTRY_SOURCE),
            Registry::Slots(..) => (SLOT_REGISTRY_CONTRACT, SLOT_REGISTRY_SOURCE),
        }
    }
}

/// The contracts of one circuit: the verifier's Solidity, and the registry's constructor
/// parameters.
pub struct Contracts {
    /// `Halo2Verifier.sol`.
    pub verifier: String,
    /// The registry: `<Registry>.sol`, `registry.json` (and the rules' data contracts).
    pub registry: Registry,
}

/// What [`write_contracts`] wrote, for the operator.
#[derive(Debug, Default)]
pub struct Written {
    /// The files written, by name.
    pub files: Vec<String>,
    /// `(contract, bytes of creation code)` for each compiled contract.
    pub compiled: Vec<(&'static str, usize)>,
}

/// The file name of the `n`th data contract holding a slot registry's rules (hex creation
/// code; deploy them in order and pass their addresses to the registry's constructor).
pub fn rules_file(n: usize) -> String {
    format!("SlotEpochRules-{n}.bin")
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), OnchainError> {
    fs::write(path, bytes).map_err(|source| OnchainError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes the verifier, the registry and its parameters (and a slot registry's rules' data
/// contracts) into `out` (created if needed), and with `bin` both contracts compiled (solc
/// 0.8.19) as `<Name>.bin` hex files.
pub fn write_contracts(
    out: &Path,
    contracts: &Contracts,
    bin: bool,
    reporter: &dyn Reporter,
) -> Result<Written, OnchainError> {
    fs::create_dir_all(out).map_err(|source| OnchainError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let mut written = Written::default();
    let mut put = |name: String, bytes: &[u8]| -> Result<(), OnchainError> {
        write(&out.join(&name), bytes)?;
        written.files.push(name);
        Ok(())
    };
    let (registry, registry_source) = contracts.registry.contract();
    put(
        format!("{VERIFIER_CONTRACT}.sol"),
        contracts.verifier.as_bytes(),
    )?;
    put(format!("{registry}.sol"), registry_source.as_bytes())?;
    let json = match &contracts.registry {
        Registry::Epoch(p) => serde_json::to_string_pretty(p),
        Registry::Slots(p, _) => serde_json::to_string_pretty(p),
    }
    .expect("params serialize");
    put("registry.json".into(), (json + "\n").as_bytes())?;
    if let Registry::Slots(_, chunks) = &contracts.registry {
        for (n, code) in chunks.iter().enumerate() {
            put(rules_file(n), hex::encode(code).as_bytes())?;
        }
    }
    if bin {
        for (name, source, optimizer) in [
            (
                VERIFIER_CONTRACT,
                contracts.verifier.as_str(),
                Optimizer::Off,
            ),
            (registry, registry_source, Optimizer::On),
        ] {
            let code = phase(reporter, &format!("compiling {name}"), || {
                zkmargin_evm::solc::compile(source, name, optimizer)
            })
            .map_err(failed)?;
            written.compiled.push((name, code.len()));
            write(&out.join(format!("{name}.bin")), hex::encode(code))?;
            written.files.push(format!("{name}.bin"));
        }
    }
    Ok(written)
}

/// The epoch circuit's proving key for `bundle`'s shape (cached in `setup.key_dir`).
fn epoch_key(
    bundle: &Bundle,
    srs: &ParamsKZG<Bn256>,
    kind: SrsKind,
    setup: &Setup<'_>,
    reporter: &dyn Reporter,
) -> Result<(ProvingKey<G1Affine>, KeygenParams), OnchainError> {
    let (pk, layout, origin) = phase(reporter, "proving key", || {
        zkmargin_keys::proving::load_or_generate(
            setup.key_dir,
            srs,
            kind.label(),
            &bundle.manifest.shape,
        )
    })
    .map_err(|e| failed(format!("key generation: {e:?}")))?;
    if let Origin::NotStored(e) = origin {
        reporter.warn(&format!(
            "cannot cache the key in {}: {e}",
            setup.key_dir.display()
        ));
    }
    Ok((pk, layout))
}

/// The direct verifier of the bundle in `bundle_dir`'s circuit (its verifying key, under its
/// SRS) and the registry's parameters.
pub fn export_verifier(
    bundle_dir: &Path,
    setup: &Setup<'_>,
    reporter: &dyn Reporter,
) -> Result<Contracts, OnchainError> {
    if SlotBundle::is_slot_bundle(bundle_dir) {
        return Err(unusable(bundle_dir, SLOTS_AGGREGATED_ONLY));
    }
    let (b, registry) = read_for_registry(bundle_dir, false)?;
    let bundle = &b.bundle;
    let srs = srs::load(setup.srs_dir, b.kind, bundle.manifest.shape.k).map_err(failed)?;
    let (pk, _) = epoch_key(bundle, &srs, b.kind, setup, reporter)?;
    let verifier = phase(reporter, "verifier generation", || {
        epoch_verifier(&srs, pk.get_vk(), bundle.shards[0].instances.len())
    });
    Ok(Contracts {
        verifier,
        registry: Registry::Epoch(registry),
    })
}

/// An aggregated proof of a bundle and the contracts that verify it.
pub struct Aggregated {
    /// The aggregation verifier and the registry's parameters.
    pub contracts: Contracts,
    /// `aggregated.json`.
    pub file: AggregatedFile,
    /// The proof's size in bytes.
    pub proof_bytes: usize,
    /// Its public instances.
    pub instances: usize,
}

/// Folds the bundle in `bundle_dir` (with its `private/`) into one aggregated proof whose
/// verifier fits EIP-170, checked to compress the bundle's own statement. A slot-table bundle
/// folds its shards of every class, in id order, for the `SlotEpochRegistry`.
pub fn aggregate(
    bundle_dir: &Path,
    setup: &Setup<'_>,
    reporter: &dyn Reporter,
) -> Result<Aggregated, OnchainError> {
    if SlotBundle::is_slot_bundle(bundle_dir) {
        return aggregate_slots(bundle_dir, setup, reporter);
    }
    let (b, registry) = read_for_registry(bundle_dir, true)?;
    let epoch = crate::epoch::master_secret(bundle_dir)
        .and_then(|master| crate::epoch::reprepare(bundle_dir, &b.bundle, master))
        .map_err(|e| unusable(bundle_dir, e))?;
    let (bundle, kind, digest) = (&b.bundle, b.kind, b.digest);
    let srs = srs::load(setup.srs_dir, kind, bundle.manifest.shape.k).map_err(failed)?;
    let (pk, layout) = epoch_key(bundle, &srs, kind, setup, reporter)?;
    let snarks = phase(reporter, "shard proofs (Poseidon transcript)", || {
        aggregate::shard_snarks(&srs, &pk, &layout, &epoch)
    })
    .map_err(failed)?;
    let additive = zkmargin_layout::encoding::additive_words(&bundle.manifest.shape);
    let folded = fold(
        setup,
        kind,
        &additive,
        (snarks, false),
        &digest,
        &bundle.instances,
        reporter,
    )?;
    Ok(folded.into_aggregated(Registry::Epoch(registry)))
}

/// [`aggregate`] for a slot-table bundle: its private snapshot prepared again (it must
/// reproduce the statement and every class), each class's shards proved with a Poseidon
/// transcript under the class's key, folded in id order (class by class).
fn aggregate_slots(
    bundle_dir: &Path,
    setup: &Setup<'_>,
    reporter: &dyn Reporter,
) -> Result<Aggregated, OnchainError> {
    let accounts = SlotAccounts::load(bundle_dir).map_err(|e| unusable(bundle_dir, e))?;
    let (bundle, epoch) = (&accounts.bundle, accounts.epoch());
    let m = &bundle.manifest;
    let kind = SrsKind::from_label(&m.srs)
        .ok_or_else(|| unusable(bundle_dir, format!("unknown SRS {:?}", m.srs)))?;
    let digest = m
        .statement_digest_bytes()
        .ok_or_else(|| unusable(bundle_dir, "the statement digest is not 32 hex bytes"))?;
    let config = &epoch.config;
    let registry =
        SlotRegistryParams::new(config, &m.statement).map_err(|e| unusable(bundle_dir, e))?;
    let rules = slot_registry::rules_words(config).map_err(|e| unusable(bundle_dir, e))?;
    let compressed = slot_registry::compressed_values(config, &m.statement)
        .map_err(|e| unusable(bundle_dir, e))?;
    let mut snarks = Vec::new();
    for (c, class) in epoch.classes.iter().enumerate() {
        let srs = srs::load(setup.srs_dir, kind, class.shape.k).map_err(failed)?;
        let pk = phase(reporter, "proving key", || {
            zkmargin_circuits::slots::circuit::keygen(&srs, &class.shape)
        })
        .map_err(|e| failed(format!("key generation: {e:?}")))?;
        for s in 0..class.shards() {
            snarks.push(
                phase(reporter, "shard proof (Poseidon transcript)", || {
                    aggregate::slot_shard_snark(&srs, &pk, epoch, c, s)
                })
                .map_err(failed)?,
            );
        }
    }
    let shape = &epoch.classes[0].shape;
    let additive = additive_values(shape);
    let folded = fold(
        setup,
        kind,
        &additive,
        (snarks, true),
        &digest,
        &compressed,
        reporter,
    )?;
    Ok(folded.into_aggregated(Registry::Slots(
        registry,
        slot_registry::rules_chunks(&rules),
    )))
}

/// A root proof and its verifier.
struct Folded {
    file: AggregatedFile,
    verifier: String,
    proof_bytes: usize,
    instances: usize,
}

impl Folded {
    fn into_aggregated(self, registry: Registry) -> Aggregated {
        Aggregated {
            contracts: Contracts {
                verifier: self.verifier,
                registry,
            },
            file: self.file,
            proof_bytes: self.proof_bytes,
            instances: self.instances,
        }
    }
}

/// Folds `snarks` (in id order, combined by `additive`; with `.1` the root over a node, see
/// [`aggregate::fold`]) into a root proof compressing `statement` at the point of `digest` —
/// checked — and generates its verifier.
fn fold(
    setup: &Setup<'_>,
    kind: SrsKind,
    additive: &[bool],
    (snarks, root_over_node): (Vec<snark_verifier_sdk::Snark>, bool),
    digest: &[u8; 32],
    statement: &[zkmargin_layout::Fr],
    reporter: &dyn Reporter,
) -> Result<Folded, OnchainError> {
    let agg_srs = srs::load(setup.srs_dir, kind, aggregate::AGGREGATION_K).map_err(failed)?;
    let mut key = |children: Vec<aggregate::Child>, root: bool| {
        let (pk, layout, origin) = phase(reporter, "aggregation key", || {
            aggregate::load_or_generate_aggregation(
                setup.key_dir,
                &agg_srs,
                kind.label(),
                additive,
                children,
                root,
            )
        })?;
        let whence = match origin {
            Origin::Cache => "key cached".to_string(),
            Origin::Made => "key generated".to_string(),
            Origin::NotStored(e) => format!("key generated, not cached: {e}"),
        };
        reporter.info(&format!(
            "aggregation {} ({whence}): {:?}",
            if root { "root" } else { "node" },
            layout.params
        ));
        Ok((pk, layout))
    };
    let (proof, agg_pk) = aggregate::fold(
        &agg_srs,
        additive,
        snarks,
        digest,
        root_over_node,
        &mut key,
        rand::rngs::OsRng,
        reporter,
    )
    .map_err(failed)?;
    let r = compression_point(digest);
    if proof.instances[ACCUMULATOR_WORDS..] != [r, compress(statement, r)] {
        return Err(failed(
            "internal: the aggregated proof compresses another statement",
        ));
    }
    let verifier = phase(reporter, "verifier generation", || {
        aggregation_verifier(&agg_srs, agg_pk.get_vk(), proof.instances.len())
    });
    Ok(Folded {
        file: AggregatedFile::new(digest, proof.accumulator(), &proof.proof),
        verifier,
        proof_bytes: proof.proof.len(),
        instances: proof.instances.len(),
    })
}

/// Writes `aggregated` into `out`: its contracts ([`write_contracts`]) and [`AGGREGATED_FILE`].
pub fn write_aggregated(
    out: &Path,
    aggregated: &Aggregated,
    bin: bool,
    reporter: &dyn Reporter,
) -> Result<Written, OnchainError> {
    let written = write_contracts(out, &aggregated.contracts, bin, reporter)?;
    let json = serde_json::to_string_pretty(&aggregated.file).expect("aggregated file serializes");
    write(&out.join(AGGREGATED_FILE), json + "\n")?;
    Ok(written)
}

/// Reads `aggregated.json` and checks it aggregates the statement of digest `digest` (hex).
fn read_aggregated(path: &Path, digest: &str) -> Result<AggregatedFile, OnchainError> {
    let bytes = fs::read(path).map_err(|e| unusable(path, e))?;
    let file = AggregatedFile::parse(&bytes).map_err(|e| unusable(path, e))?;
    if file.statement_digest != digest {
        return Err(unusable(path, "it aggregates another epoch's statement"));
    }
    Ok(file)
}

/// Whose calldata [`calldata`] builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The registry's `submitEpoch(statement, declared, proof)`.
    Registry,
    /// The verifier's own calldata (instances, then the proof).
    Verifier,
}

/// The calldata that submits the bundle in `bundle_dir`: its own proof, or with `aggregated`
/// that aggregated proof (`aggregated.json`). Every failure is unusable input.
pub fn calldata(
    bundle_dir: &Path,
    aggregated: Option<&Path>,
    target: Target,
) -> Result<Vec<u8>, OnchainError> {
    if SlotBundle::is_slot_bundle(bundle_dir) {
        return slot_calldata(bundle_dir, aggregated, target);
    }
    let b = read_bundle(bundle_dir)?;
    let bundle = &b.bundle;
    let declared = bundle.manifest.statement.declared_words();
    match aggregated {
        None if target == Target::Verifier => bundle
            .single_shard()
            .map(|shard| verifier_calldata(&shard.instances, &shard.proof))
            .ok_or_else(|| unusable(bundle_dir, RegistryError::Sharded(bundle.shards.len()))),
        None => direct_proof(bundle)
            .map(|proof| submit_calldata(&bundle.instances, &declared, &proof))
            .map_err(|e| unusable(bundle_dir, e)),
        Some(path) => {
            let file = read_aggregated(path, &bundle.manifest.statement_digest)?;
            match target {
                Target::Verifier => aggregated_calldata(&file, &bundle.instances, &b.digest),
                Target::Registry => file
                    .registry_proof()
                    .map(|proof| submit_calldata(&bundle.instances, &declared, &proof)),
            }
            .map_err(|e| unusable(path, e))
        }
    }
}

/// [`calldata`] for a slot-table bundle: only aggregated (`SlotEpochRegistry.submitEpoch`, or
/// the aggregation verifier's own input).
fn slot_calldata(
    bundle_dir: &Path,
    aggregated: Option<&Path>,
    target: Target,
) -> Result<Vec<u8>, OnchainError> {
    let bundle = SlotBundle::read(bundle_dir).map_err(|e| unusable(bundle_dir, e))?;
    let config = Config::parse(&bundle.config_toml)
        .map_err(|e| unusable(bundle_dir, format!("config.toml: {e}")))?;
    let m = &bundle.manifest;
    let path = aggregated.ok_or_else(|| unusable(bundle_dir, SLOTS_AGGREGATED_ONLY))?;
    let file = read_aggregated(path, &m.statement_digest)?;
    let proof = file.registry_proof().map_err(|e| unusable(path, e))?;
    match target {
        Target::Registry => slot_registry::submit_calldata(&config, &m.statement, &proof),
        Target::Verifier => {
            let digest = slot_statement_digest(&config, &m.statement)
                .map_err(|e| unusable(bundle_dir, e))?;
            let values = slot_registry::compressed_values(&config, &m.statement)
                .map_err(|e| unusable(bundle_dir, e))?;
            return aggregated_calldata(&file, &values, &digest).map_err(|e| unusable(path, e));
        }
    }
    .map_err(|e| unusable(bundle_dir, e))
}
