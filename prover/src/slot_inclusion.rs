//! Inclusion proofs of slot-table bundles (see `zkmargin_inclusion::slots`): the epoch is
//! prepared again from `private/` (the same classes, ids and shard cuts), a shard's seven
//! holder data columns are rebuilt with its proving randomness, checked against the manifest's
//! data commitments, and `F = Σ_c γ^c · data_c` is opened on an account's block.

use std::path::Path;

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::synthesize_witness;
use halo2_proofs::poly::kzg::commitment::KZGCommitmentScheme;
use halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_proofs::transcript::TranscriptWriterBuffer;
use snark_verifier_sdk::snark_verifier::loader::native::NativeLoader;
use snark_verifier_sdk::snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use zkmargin_bundle::slots::SlotBundle;
use zkmargin_bundle::{PRIVATE, PRIVATE_SNAPSHOT};
use zkmargin_circuits::slots::circuit::{data_columns, keygen, SlotCircuit};
use zkmargin_core::account_id::derive_salt;
use zkmargin_core::margin::MarkTable;
use zkmargin_inclusion::slots::{
    block_values, entries_of, slot_rows, SlotInclusionFile, SLOT_INCLUSION_FORMAT,
};
use zkmargin_inclusion::{combine, g1_from_transcript_hex, powers, OpeningLevel};
use zkmargin_layout::field::fr_from_id;
use zkmargin_layout::slots::{SlotData, DATA_COLUMNS};
use zkmargin_srs::{self as srs, SrsKind};

use crate::inclusion::{write_file_json, InclusionError};
use crate::opening::{combine_columns, Opener};
use crate::prove::proving_rng;
use crate::report::{phase, Reporter};
use crate::slots::{prepare_slots, SlotEpoch};

/// Slot rows per outer chunk and per sub-chunk when proving every account: a chunk of a
/// class of `S` slots holds `4096 / S` blocks (at least one).
const CHUNK_ROWS: [usize; 2] = [4096, 128];

/// A slot bundle's accounts, prepared again from its `private/` and checked against it.
pub struct SlotAccounts {
    /// The bundle.
    pub bundle: SlotBundle,
    epoch: SlotEpoch,
}

impl SlotAccounts {
    /// Reads `bundle_dir` and prepares its private snapshot again under its master secret:
    /// the statement and every class's shape and shard count must be the bundle's.
    pub fn load(bundle_dir: &Path) -> Result<Self, InclusionError> {
        let bundle = SlotBundle::read(bundle_dir)?;
        let master = crate::epoch::master_secret(bundle_dir)
            .map_err(|e| InclusionError::Private(e.to_string()))?;
        let m = &bundle.manifest;
        let snapshot = bundle_dir.join(PRIVATE).join(PRIVATE_SNAPSHOT);
        let epoch = prepare_slots(&snapshot, m.statement.prev_digest, Some(master))
            .map_err(|e| InclusionError::Prepare(e.to_string()))?;
        let recorded = m.classes.iter().map(|e| (e.class, &e.shape, e.shards));
        if !epoch.reproduces(&m.statement, recorded) {
            return Err(InclusionError::Mismatch("statement or classes"));
        }
        Ok(SlotAccounts { bundle, epoch })
    }

    /// The epoch prepared again.
    pub fn epoch(&self) -> &SlotEpoch {
        &self.epoch
    }

    /// Number of real accounts.
    pub fn accounts(&self) -> usize {
        self.epoch.classes.iter().map(|c| c.accounts.len()).sum()
    }

    /// Every account's identifier and id (hex), in table order.
    pub fn holders(&self) -> impl Iterator<Item = (&str, String)> + '_ {
        self.epoch
            .classes
            .iter()
            .flat_map(|c| &c.accounts)
            .map(|(id, h)| (h.identifier.as_str(), id.to_hex()))
    }

    /// `(class index into the epoch's classes, shard, block)` of `identifier`.
    pub fn locate(&self, identifier: &str) -> Result<(usize, usize, usize), InclusionError> {
        self.epoch
            .classes
            .iter()
            .enumerate()
            .find_map(|(c, class)| {
                let p = class
                    .accounts
                    .iter()
                    .position(|(_, h)| h.identifier == identifier)?;
                Some((c, p / class.shape.accounts, p % class.shape.accounts))
            })
            .ok_or_else(|| InclusionError::UnknownAccount(identifier.to_string()))
    }

    /// Every `(class index, shard)` of the epoch.
    pub fn shards(&self) -> Vec<(usize, usize)> {
        self.epoch
            .classes
            .iter()
            .enumerate()
            .flat_map(|(c, class)| (0..class.shards()).map(move |s| (c, s)))
            .collect()
    }
}

/// One class shard of a slot bundle opened for inclusion proofs.
pub struct SlotInclusionProver<'a> {
    accounts: &'a SlotAccounts,
    /// Index into the epoch's classes.
    c: usize,
    shard: usize,
    table: MarkTable,
    gamma: Fr,
    opener: Opener,
}

impl<'a> SlotInclusionProver<'a> {
    /// Opens shard `shard` of class index `c`: its witness and every advice column rebuilt
    /// with its proving randomness, the holder data columns checked against the manifest's
    /// data commitments, `F` combined.
    pub fn open(
        accounts: &'a SlotAccounts,
        c: usize,
        shard: usize,
        srs_dir: &Path,
        reporter: &dyn Reporter,
    ) -> Result<SlotInclusionProver<'a>, InclusionError> {
        let epoch = &accounts.epoch;
        let m = &accounts.bundle.manifest;
        let class = epoch
            .classes
            .get(c)
            .filter(|class| shard < class.shards())
            .ok_or(InclusionError::Mismatch("no such shard"))?;
        let shape = &class.shape;
        let proof = &accounts.bundle.shards[c][shard];
        let digest = m
            .statement_digest_bytes()
            .ok_or(InclusionError::Mismatch("statement digest"))?;
        let kind = SrsKind::from_label(&m.srs).ok_or(InclusionError::Mismatch("SRS"))?;
        let params = srs::load(srs_dir, kind, shape.k)?;
        let g2_powers = srs::g2_powers(srs_dir, kind, &params)?;

        let columns = data_columns(shape);
        // The manifest's commitments: what holders open against (`zkmargin-verify` checks
        // they are the proof's; the rebuilt columns are checked against them below).
        let committed: Vec<G1Affine> = m
            .classes
            .get(c)
            .filter(|e| e.class == class.class)
            .and_then(|e| e.data_commitments.get(shard))
            .and_then(|hexes| hexes.iter().map(|h| g1_from_transcript_hex(h)).collect())
            .ok_or(InclusionError::Mismatch("the manifest's data commitments"))?;
        let (gamma, commitment) = combine(&digest, &committed);

        let pk = phase(reporter, "proving key", || keygen(&params, shape))
            .map_err(InclusionError::Halo2)?;
        let witness = epoch.shard_witness(c, shard);
        let circuit = SlotCircuit::new(&witness);
        let instances = circuit.assigned.public_values();
        if instances != proof.instances {
            return Err(InclusionError::Mismatch("public instances"));
        }
        let advice = phase(reporter, "rebuilding the committed columns", || {
            let mut transcript =
                EvmTranscript::<G1Affine, NativeLoader, Vec<u8>, Vec<u8>>::init(Vec::new());
            synthesize_witness::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
                &params,
                &pk,
                &[circuit],
                &[&[&instances]],
                proving_rng(&epoch.master_secret, epoch.shard_offset(c) + shard),
                &mut transcript,
            )
        })
        .map_err(InclusionError::Halo2)?
        .1
        .remove(0);
        let indexed: Vec<(usize, G1Affine)> =
            columns.iter().map(|&(i, _)| i).zip(committed).collect();
        let poly = combine_columns(&params, &advice, &indexed, &powers(gamma, DATA_COLUMNS))?;
        let underlying: Vec<usize> = epoch.config.markets.iter().map(|m| m.underlying).collect();
        Ok(SlotInclusionProver {
            accounts,
            c,
            shard,
            table: MarkTable::new(&epoch.scale, &underlying, &epoch.prices),
            gamma,
            opener: Opener {
                params,
                g2_powers,
                rows: slot_rows(shape),
                poly,
                commitment,
            },
        })
    }

    fn class(&self) -> &crate::slots::SlotClass {
        &self.accounts.epoch.classes[self.c]
    }

    /// Real accounts of the shard.
    pub fn accounts(&self) -> usize {
        self.class().shard_accounts(self.shard).len()
    }

    /// `y_r` of block `b`'s slot rows.
    fn values(&self, b: usize) -> Vec<Fr> {
        let class = self.class();
        let (id, h) = &class.shard_accounts(self.shard)[b];
        let cells = SlotData::block(
            &self.accounts.epoch.config,
            &self.table,
            fr_from_id(id),
            h,
            class.shape.slots,
        )
        .expect("prepared accounts fit their class");
        block_values(&cells, self.gamma)
    }

    fn file(&self, b: usize, openings: Vec<OpeningLevel>) -> SlotInclusionFile {
        let class = self.class();
        let (id, h) = &class.shard_accounts(self.shard)[b];
        let epoch = &self.accounts.epoch;
        let m = &self.accounts.bundle.manifest;
        SlotInclusionFile {
            format_version: SLOT_INCLUSION_FORMAT,
            epoch: m.statement.epoch,
            statement_digest: m.statement_digest.clone(),
            class: class.class,
            shard: self.shard,
            block: b,
            id: id.to_hex(),
            salt: hex::encode(derive_salt(&epoch.master_secret, &h.identifier)),
            entries: entries_of(&epoch.config, h),
            openings,
        }
    }

    /// Checks `file`'s opening as a verifier would.
    pub fn self_check(&self, file: &SlotInclusionFile) -> bool {
        file.block < self.accounts()
            && self
                .opener
                .check(file.block, &self.values(file.block), &file.openings)
    }

    /// The proof for the account in block `b` (one level).
    pub fn prove(&self, b: usize) -> Result<SlotInclusionFile, InclusionError> {
        let openings = self.opener.prove(b, &self.values(b))?;
        Ok(self.file(b, openings))
    }

    /// Proofs for every account of the shard, with shared outer levels.
    pub fn prove_all(
        &self,
        emit: impl Fn(SlotInclusionFile) -> Result<(), InclusionError> + Sync,
        reporter: &dyn Reporter,
    ) -> Result<(), InclusionError> {
        let slots = self.class().shape.slots;
        self.opener.prove_all(
            self.accounts(),
            CHUNK_ROWS.map(|r| (r / slots).max(1)),
            |b| self.values(b),
            |b, openings| emit(self.file(b, openings)),
            reporter,
        )
    }
}

/// Writes `file` as pretty JSON to `path` (through a temporary file and a rename).
pub fn write_slot_file(path: &Path, file: &SlotInclusionFile) -> Result<(), InclusionError> {
    write_file_json(path, file)
}

/// Writes every account's slot inclusion file, `<id>.json`, into the new directory `out`
/// (complete or absent).
pub fn write_all_slots(
    accounts: &SlotAccounts,
    out: &Path,
    srs_dir: &Path,
    reporter: &dyn Reporter,
) -> Result<(), InclusionError> {
    crate::inclusion::write_directory(out, |tmp| {
        for (c, s) in accounts.shards() {
            let prover = SlotInclusionProver::open(accounts, c, s, srs_dir, reporter)?;
            prover.prove_all(
                |file| write_file_json(&tmp.join(format!("{}.json", file.id)), &file),
                reporter,
            )?;
        }
        Ok(())
    })
}
