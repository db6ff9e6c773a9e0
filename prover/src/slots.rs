//! A slot-table epoch (account table v2): snapshot → reference engine → every account's
//! entries, its id tagged with its class → one class per entry count
//! ([`zkmargin_layout::slots::CLASSES`]), each cut into shards of its shape's capacity → one
//! proof per shard → a [`SlotBundle`].
//!
//! What is public per class: that it holds accounts, its shard shape (slots, `k`, and so its
//! padded capacity `shape.accounts`) and its shard count — so each class's account count is
//! revealed only up to its padded count, `shards × shape.accounts`. Per shard: the epoch's
//! instrument table, the shard's instrument totals and totals, and its first and last id
//! (padding ids continue the last real id).
//!
//! One id order across classes: an account's id is `H(identifier ‖ salt)` with its top two
//! bits replaced by its class ([`AccountId::tagged`]), so ids of class `c` all lie below those
//! of class `c + 1`, and the verifier requires every shard's first id to follow the previous
//! shard's last, across the whole epoch: no id appears twice, within a class or across two.

use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::{create_proof, ProvingKey};
use halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_proofs::transcript::TranscriptWriterBuffer;
use rayon::prelude::*;
use snark_verifier_sdk::snark_verifier::loader::native::NativeLoader;
use snark_verifier_sdk::snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use zkmargin_bundle::slots::SlotBundle;
use zkmargin_bundle::{leading_commitments, ShardProof, MASTER_SECRET, PRIVATE_SNAPSHOT};
use zkmargin_circuits::slots::circuit::{data_commitments, keygen, SlotCircuit};
use zkmargin_circuits::slots::witness::SlotWitness;
use zkmargin_core::account_id::{account_id, derive_salt, AccountId};
use zkmargin_core::config::Config;
use zkmargin_core::digest::Digest;
use zkmargin_core::engine::{evaluate_holdings, Outcome, Snapshot};
use zkmargin_core::fine::FineScale;
use zkmargin_core::holdings::Holdings;
use zkmargin_core::statement::Statement;
use zkmargin_core::InputError;
use zkmargin_layout::field::fr_from_id;
use zkmargin_layout::manifest::{ClassEntry, SlotManifest, SLOT_FORMAT_VERSION};
use zkmargin_layout::slots::public::{
    combine, instrument_table, slot_statement_digest, statement_totals, ShardValues,
};
use zkmargin_layout::slots::{class_of, SlotShape, CLASSES};

use crate::epoch::PrepareError;
use crate::pipeline::{EpochRequest, PipelineError, Setup};
use crate::prove::{proving_rng, ProveError};
use crate::report::{phase, Reporter};

/// One class of a prepared slot epoch.
pub struct SlotClass {
    /// Index into [`CLASSES`].
    pub class: usize,
    /// The shape of each of its shards.
    pub shape: SlotShape,
    /// Private: its accounts with their tagged ids, ascending.
    pub accounts: Vec<(AccountId, Holdings)>,
}

impl SlotClass {
    /// Its shards (at least one).
    pub fn shards(&self) -> usize {
        self.accounts.len().div_ceil(self.shape.accounts).max(1)
    }

    /// The accounts of shard `s`.
    pub fn shard_accounts(&self, s: usize) -> &[(AccountId, Holdings)] {
        crate::epoch::shard_slice(&self.accounts, self.shape.accounts, s)
    }
}

/// A slot epoch ready to prove.
pub struct SlotEpoch {
    /// The snapshot's config.
    pub config: Config,
    /// `config.toml` as read.
    pub config_toml: String,
    /// `quotes.csv` as read.
    pub quotes_csv: Vec<u8>,
    /// The engine's statement.
    pub statement: Statement,
    /// The fine scale of the statement.
    pub scale: FineScale,
    /// The medians, price units.
    pub prices: Vec<u64>,
    /// The salts' and the proving randomness' secret.
    pub master_secret: [u8; 32],
    /// The classes holding accounts, ascending (class 0 when there are no accounts).
    pub classes: Vec<SlotClass>,
    /// The snapshot's accounts file (either format), copied into the bundle's `private/`.
    pub accounts_file: PathBuf,
}

/// Loads and evaluates `dir`, tags and sorts every account into its class, and fixes each
/// class's shard shape. `master_secret` defaults to fresh randomness.
pub fn prepare_slots(
    dir: &Path,
    prev_digest: Digest,
    master_secret: Option<[u8; 32]>,
) -> Result<SlotEpoch, PrepareError> {
    let snapshot = Snapshot::load(dir)?;
    let (_, accounts_file) = snapshot.accounts_file()?;
    let holdings = snapshot.read_holdings()?;
    let eval = match evaluate_holdings(&snapshot, &holdings, prev_digest)? {
        Outcome::Halted(h) => return Err(PrepareError::Halted(Box::new(h))),
        Outcome::Evaluated(e) => e,
    };
    let master_secret = master_secret.unwrap_or_else(crate::epoch::fresh_secret);
    let mut members: Vec<Vec<(AccountId, Holdings)>> = vec![Vec::new(); CLASSES.len()];
    let tagged: Vec<(usize, AccountId, Holdings)> = holdings
        .into_par_iter()
        .map(|h| {
            // The parsers refuse more than MAX_ENTRIES entries, the last class's slots.
            let class = class_of(h.entries()).ok_or_else(|| {
                InputError::file(
                    "holdings.csv",
                    format!(
                        "account `{}`: {} entries; the largest class holds {}",
                        h.identifier,
                        h.entries(),
                        CLASSES[CLASSES.len() - 1]
                    ),
                )
            })?;
            let salt = derive_salt(&master_secret, &h.identifier);
            Ok((class, account_id(&h.identifier, &salt).tagged(class), h))
        })
        .collect::<Result<_, InputError>>()?;
    for (class, id, h) in tagged {
        members[class].push((id, h));
    }
    let mut classes = Vec::new();
    for (class, mut accounts) in members.into_iter().enumerate() {
        if accounts.is_empty() && !(class == 0 && eval.accounts == 0) {
            continue;
        }
        accounts.par_sort_unstable_by_key(|a| a.0);
        let shape = SlotShape::for_class(&snapshot.config, class, accounts.len())?;
        classes.push(SlotClass {
            class,
            shape,
            accounts,
        });
    }
    Ok(SlotEpoch {
        config_toml: snapshot.config_text,
        quotes_csv: snapshot.quotes_csv,
        config: snapshot.config,
        statement: eval.statement,
        scale: eval.scale,
        prices: eval.prices,
        master_secret,
        classes,
        accounts_file,
    })
}

impl SlotEpoch {
    /// The witness of shard `s` of class index `c` (into [`SlotEpoch::classes`]), padded.
    pub fn shard_witness(&self, c: usize, s: usize) -> SlotWitness {
        let class = &self.classes[c];
        let accounts: Vec<(Fr, Holdings)> = class
            .shard_accounts(s)
            .iter()
            .map(|(id, h)| (fr_from_id(id), h.clone()))
            .collect();
        SlotWitness::honest(
            &class.shape,
            &self.config,
            &self.scale,
            &self.prices,
            &accounts,
        )
    }

    /// Whether this preparation is the one `statement` and `classes` (class, shape, shard
    /// count, in order) record: what a bundle's or plan's re-preparation must reproduce.
    pub fn reproduces<'c>(
        &self,
        statement: &Statement,
        classes: impl ExactSizeIterator<Item = (usize, &'c SlotShape, usize)>,
    ) -> bool {
        self.statement == *statement
            && classes.len() == self.classes.len()
            && classes
                .zip(&self.classes)
                .all(|((class, shape, shards), c)| {
                    c.class == class && c.shape == *shape && c.shards() == shards
                })
    }

    /// `(class index, shard)` of the epoch's shard `index` (class by class, as
    /// [`SlotEpoch::shard_offset`] counts).
    pub fn locate_shard(&self, index: usize) -> Option<(usize, usize)> {
        let mut rest = index;
        for (c, class) in self.classes.iter().enumerate() {
            if rest < class.shards() {
                return Some((c, rest));
            }
            rest -= class.shards();
        }
        None
    }

    /// Shards of every class before class index `c`: shard `s` of class `c` is the epoch's
    /// shard `offset(c) + s` (its proving randomness' index, so no two proofs share it).
    pub fn shard_offset(&self, c: usize) -> usize {
        self.classes[..c].iter().map(SlotClass::shards).sum()
    }

    /// The shards' public values combined must be the statement's, and every shard's
    /// instrument table the epoch's: the self-check before a bundle is written.
    fn check(&self, proofs: &[Vec<ShardProof>]) -> Result<(), ProveError> {
        let table = instrument_table(&self.config, &self.statement)
            .map_err(|_| ProveError::StatementMismatch)?;
        let (want_totals3, want_totals) = statement_totals(&self.config, &self.statement);
        let values: Vec<ShardValues> = self
            .classes
            .iter()
            .zip(proofs)
            .flat_map(|(class, shards)| {
                shards
                    .iter()
                    .map(|shard| ShardValues::split(&class.shape, &shard.instances))
            })
            .collect::<Option<_>>()
            .ok_or(ProveError::StatementMismatch)?;
        let sum = combine(&values).ok_or(ProveError::StatementMismatch)?;
        if sum.instruments != table
            || sum.instrument_totals != want_totals3
            || sum.totals != want_totals
        {
            return Err(ProveError::StatementMismatch);
        }
        Ok(())
    }
}

/// Proves one shard of `shape` (deterministic in the master secret and the epoch's shard
/// index `index`: see [`proving_rng`]).
pub fn prove_slot_shard(
    srs: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    witness: &SlotWitness,
    master_secret: &[u8; 32],
    index: usize,
) -> Result<ShardProof, ProveError> {
    let circuit = SlotCircuit::new(witness);
    let instances = circuit.assigned.public_values();
    let mut transcript =
        EvmTranscript::<G1Affine, NativeLoader, Vec<u8>, Vec<u8>>::init(Vec::new());
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
        srs,
        pk,
        &[circuit],
        &[&[&instances]],
        proving_rng(master_secret, index),
        &mut transcript,
    )
    .map_err(ProveError::Prove)?;
    Ok(ShardProof {
        proof: transcript.finalize(),
        instances,
    })
}

/// Proves every shard of every class of `epoch` (one key per class, under `load_srs(k)`) and
/// assembles the bundle ([`slot_bundle`]).
pub fn prove_slot_epoch<E: From<ProveError>>(
    epoch: &SlotEpoch,
    srs_label: &str,
    load_srs: &dyn Fn(u32) -> Result<ParamsKZG<Bn256>, E>,
    reporter: &dyn Reporter,
) -> Result<SlotBundle, E> {
    let mut proofs = Vec::new();
    for (c, class) in epoch.classes.iter().enumerate() {
        let shape = &class.shape;
        let srs = load_srs(shape.k)?;
        let pk = phase(reporter, "key generation", || keygen(&srs, shape))
            .map_err(ProveError::Keygen)?;
        reporter.info(&format!(
            "class of {} slots: k = {}, {} shard(s) of {} accounts, {} committed columns, \
             {} cells and {} limbs per account",
            shape.slots,
            shape.k,
            class.shards(),
            shape.accounts,
            shape.committed_columns(),
            shape.cells_per_account(),
            shape.limbs_per_account()
        ));
        let mut shards = Vec::new();
        for s in 0..class.shards() {
            let witness = phase(reporter, "witness generation", || epoch.shard_witness(c, s));
            let proof = phase(reporter, "proving", || {
                prove_slot_shard(
                    &srs,
                    &pk,
                    &witness,
                    &epoch.master_secret,
                    epoch.shard_offset(c) + s,
                )
            })?;
            shards.push(proof);
        }
        proofs.push(shards);
    }
    Ok(slot_bundle(epoch, srs_label, proofs)?)
}

/// The bundle of `epoch` from every class's shard proofs (however they were proved),
/// self-checked against the engine's statement, with each shard's data commitments read
/// from its proof.
pub fn slot_bundle(
    epoch: &SlotEpoch,
    srs_label: &str,
    proofs: Vec<Vec<ShardProof>>,
) -> Result<SlotBundle, ProveError> {
    epoch.check(&proofs)?;
    let digest = slot_statement_digest(&epoch.config, &epoch.statement)
        .map_err(|_| ProveError::StatementMismatch)?;
    let classes = epoch
        .classes
        .iter()
        .zip(&proofs)
        .map(|(c, shards)| {
            let data_commitments = shards
                .iter()
                .map(|p| {
                    leading_commitments(&p.proof, c.shape.first_phase_columns())
                        .and_then(|leading| data_commitments(&c.shape, &leading))
                        .ok_or(ProveError::Transcript)
                })
                .collect::<Result<_, _>>()?;
            Ok(ClassEntry {
                class: c.class,
                shape: c.shape.clone(),
                shards: c.shards(),
                data_commitments,
            })
        })
        .collect::<Result<_, ProveError>>()?;
    Ok(SlotBundle {
        manifest: SlotManifest {
            format_version: SLOT_FORMAT_VERSION,
            srs: srs_label.to_string(),
            statement_digest: hex::encode(digest),
            classes,
            statement: epoch.statement.clone(),
        },
        shards: proofs,
        config_toml: epoch.config_toml.clone(),
        quotes_csv: epoch.quotes_csv.clone(),
    })
}

/// Which account table proves a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// A column per asset and market in every block (`zkmargin_layout::shape`).
    Dense,
    /// One row per entry held, shard classes by entry count (this module).
    Slots,
}

/// The table `zkmargin prove` uses by default for the snapshot in `dir`: the dense table
/// where it proves the config (`zkmargin_layout::shape::dense_support`), the slot table
/// otherwise (tiers, index assets, more than 32 assets or markets).
pub fn default_table(dir: &Path) -> Result<Table, PrepareError> {
    let path = dir.join(zkmargin_layout::manifest::CONFIG);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        InputError::file(
            "config.toml",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let config = Config::parse(&text)?;
    Ok(match zkmargin_layout::shape::dense_support(&config) {
        Ok(()) => Table::Dense,
        Err(_) => Table::Slots,
    })
}

/// A slot bundle written, or the oracle's halt.
#[derive(Debug)]
pub enum SlotProved {
    /// The bundle at the requested path.
    Bundle(Box<SlotBundle>),
    /// The oracle circuit breaker halted the epoch: nothing was written.
    Halted(Box<zkmargin_core::oracle::HaltReport>),
}

/// What `prove` and `plan` do first with the slot table: `out` must not exist, `request`'s
/// predecessor is verified, and the snapshot prepared under a fresh master secret
/// ([`prepare_slots`]); `Ok(Err(_))` is the oracle's halt.
pub(crate) fn prepare_request(
    request: &EpochRequest<'_>,
    setup: &Setup<'_>,
    out: &Path,
    reporter: &dyn Reporter,
) -> Result<Result<SlotEpoch, Box<zkmargin_core::oracle::HaltReport>>, PipelineError> {
    if out.exists() {
        return Err(PipelineError::Exists(out.to_path_buf()));
    }
    let previous = crate::pipeline::previous_epoch(request, setup)?;
    let prev_digest = previous.as_ref().map_or([0; 32], |p| p.digest);
    match phase(reporter, "evaluation", || {
        prepare_slots(request.snapshot, prev_digest, None)
    }) {
        Ok(e) => Ok(Ok(e)),
        Err(PrepareError::Halted(h)) => Ok(Err(h)),
        Err(e) => Err(PipelineError::Prepare(e)),
    }
}

/// `zkmargin prove` with the slot table: `request`'s predecessor verified, the snapshot
/// prepared ([`prepare_slots`]), every class proved ([`prove_slot_epoch`]) and the bundle
/// written to `out`. `request.sharding` is the dense table's and must be empty.
pub fn prove_snapshot_slots(
    request: &EpochRequest<'_>,
    setup: &Setup<'_>,
    out: &Path,
    reporter: &dyn Reporter,
) -> Result<SlotProved, PipelineError> {
    let epoch = match prepare_request(request, setup, out, reporter)? {
        Ok(epoch) => epoch,
        Err(halt) => return Ok(SlotProved::Halted(halt)),
    };
    let load = |k: u32| -> Result<ParamsKZG<Bn256>, PipelineError> {
        Ok(zkmargin_srs::load(setup.srs_dir, request.srs, k)?)
    };
    let bundle = prove_slot_epoch(&epoch, request.srs.label(), &load, reporter)?;
    write_slot_bundle(&bundle, &epoch, request.snapshot, out)
        .map_err(|e| PipelineError::Plan(crate::plan::PlanError::Bundle(e)))?;
    Ok(SlotProved::Bundle(Box::new(bundle)))
}

/// Where `epoch`'s private snapshot files go (`private/snapshot/…`) and where they are read
/// from: `config.toml` and `quotes.csv` of `snapshot`, and the accounts file the epoch read.
pub(crate) fn snapshot_copies(epoch: &SlotEpoch, snapshot: &Path) -> Vec<(String, PathBuf)> {
    let name = epoch
        .accounts_file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("holdings.csv");
    vec![
        (
            format!("{PRIVATE_SNAPSHOT}/config.toml"),
            snapshot.join("config.toml"),
        ),
        (
            format!("{PRIVATE_SNAPSHOT}/quotes.csv"),
            snapshot.join("quotes.csv"),
        ),
        (
            format!("{PRIVATE_SNAPSHOT}/{name}"),
            epoch.accounts_file.clone(),
        ),
    ]
}

/// Writes `bundle` to `out` with the epoch's private files: the master secret and the
/// snapshot (config, quotes, accounts file) from `snapshot`.
pub fn write_slot_bundle(
    bundle: &SlotBundle,
    epoch: &SlotEpoch,
    snapshot: &Path,
    out: &Path,
) -> Result<(), zkmargin_bundle::BundleError> {
    let secret = hex::encode(epoch.master_secret).into_bytes();
    let copies = snapshot_copies(epoch, snapshot);
    let copies: Vec<(&str, &Path)> = copies
        .iter()
        .map(|(to, from)| (to.as_str(), from.as_path()))
        .collect();
    bundle.write(out, &[(MASTER_SECRET, secret)], &copies)
}
