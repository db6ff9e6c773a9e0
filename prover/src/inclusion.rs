//! Inclusion proofs (see `zkmargin_inclusion`): rebuilds the committed account data
//! columns of a bundle from `private/`, checks them against the proof, and opens
//! `F = Σ_c γ^c · data_c` on an account's data rows.
//!
//! Rebuilding: the prover proved with an RNG seeded from the epoch's master secret, so
//! `synthesize_witness` with the same seed reproduces every advice polynomial, blinding rows
//! included (the circuit has two phases, so halo2-axiom's single-phase
//! `create_proof_from_advice` does not apply; `synthesize_witness` runs the same phase-by-phase
//! synthesis, commitments and challenges as `create_proof`). The rebuilt data columns are
//! committed again and must equal the commitments in the proof before anything is opened.

use std::path::Path;

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::halo2curves::ff::PrimeField;
use halo2_proofs::plonk::synthesize_witness;
use halo2_proofs::poly::commitment::{Params, ParamsProver};
use halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_proofs::transcript::TranscriptWriterBuffer;
use snark_verifier_sdk::snark_verifier::loader::native::NativeLoader;
use snark_verifier_sdk::snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use zkmargin_bundle::{Bundle, PRIVATE, PRIVATE_SNAPSHOT};
use zkmargin_circuits::keygen::KeygenParams;
use zkmargin_circuits::keygen::{data_columns, prover_circuit};
use zkmargin_core::account_id::{derive_salt, AccountId};
use zkmargin_core::accounts::{read_all, AccountRow};
use zkmargin_core::amount::format_units;
use zkmargin_core::config::Config;
use zkmargin_inclusion::{
    account_values, combine, data_commitments, BlockRows, InclusionFile, OpeningLevel,
    INCLUSION_FORMAT,
};
use zkmargin_layout::table::TableLayout;
use zkmargin_srs::{self as srs, SrsKind};

use crate::epoch::salted_and_sorted;
use crate::opening::{combine_columns, Opener};
use crate::prove::proving_rng;
use crate::report::{phase, Reporter};

/// Blocks per outer chunk and per sub-chunk when proving every account (each level is one
/// MSM over the level above; see `zkmargin_inclusion`).
const CHUNK_BLOCKS: [usize; 2] = [1024, 32];

#[derive(Debug, thiserror::Error)]
/// Why inclusion proofs cannot be made.
pub enum InclusionError {
    #[error(transparent)]
    /// The bundle is unusable.
    Bundle(#[from] zkmargin_bundle::BundleError),
    #[error("{0}")]
    /// `private/` is missing or unreadable.
    Private(String),
    #[error(transparent)]
    /// The SRS is missing.
    Srs(#[from] srs::SrsError),
    #[error("rebuilding the witness: {0}")]
    /// The private snapshot cannot be prepared again.
    Prepare(String),
    #[error("the rebuilt epoch does not match the bundle: {0}")]
    /// A self-check failed: what was rebuilt or cached is not what the proof committed to.
    Mismatch(&'static str),
    #[error("halo2: {0:?}")]
    /// halo2 failed (key generation or witness synthesis).
    Halo2(halo2_proofs::plonk::Error),
    #[error("no account {0:?} in this epoch")]
    /// No account of this identifier is in the epoch.
    UnknownAccount(String),
    #[error("{path}: {source}")]
    /// A file could not be written.
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// A bundle's accounts in table order, from its private snapshot and master secret: what every
/// shard's inclusion prover reads.
pub struct EpochAccounts {
    /// The bundle, with its private data read.
    pub bundle: Bundle,
    bundle_dir: std::path::PathBuf,
    config: Config,
    master: [u8; 32],
    /// Every account, in table order (shard `s`, block `b` holds `sorted[s·rows + b]`).
    sorted: Vec<(AccountId, AccountRow)>,
    /// See [`EpochAccounts::prepared`].
    prepared: std::sync::OnceLock<crate::epoch::PreparedEpoch>,
}

impl EpochAccounts {
    /// Reads `bundle_dir` and its `private/`, re-deriving every account's salt and id.
    pub fn load(bundle_dir: &Path) -> Result<Self, InclusionError> {
        let bundle = Bundle::read(bundle_dir)?;
        bundle.admitted_shape()?;
        let master = crate::epoch::master_secret(bundle_dir)
            .map_err(|e| InclusionError::Private(e.to_string()))?;
        let config = Config::parse(&bundle.config_toml)
            .map_err(|e| InclusionError::Prepare(e.to_string()))?;
        let snapshot = bundle_dir.join(PRIVATE).join(PRIVATE_SNAPSHOT);
        let rows = read_all(&snapshot.join("accounts.csv"), &config)
            .map_err(|e| InclusionError::Prepare(e.to_string()))?;
        let sorted = salted_and_sorted(rows, &master);
        let m = &bundle.manifest;
        if crate::epoch::shard_count(sorted.len(), m.shape.rows) != m.shards.len() {
            return Err(InclusionError::Mismatch("number of shards"));
        }
        Ok(EpochAccounts {
            bundle,
            bundle_dir: bundle_dir.to_path_buf(),
            config,
            master,
            sorted,
            prepared: std::sync::OnceLock::new(),
        })
    }

    /// Number of real accounts.
    pub fn accounts(&self) -> usize {
        self.sorted.len()
    }

    /// Every account's identifier and id (hex, as its inclusion file's `id`), in table order.
    pub fn holders(&self) -> impl Iterator<Item = (&str, String)> + '_ {
        self.sorted
            .iter()
            .map(|(id, row)| (row.identifier.as_str(), id.to_hex()))
    }

    /// The bundle's shards.
    pub fn shards(&self) -> usize {
        self.bundle.manifest.shards.len()
    }

    /// The shard and block of `identifier`.
    pub fn locate(&self, identifier: &str) -> Result<(usize, usize), InclusionError> {
        let rows = self.bundle.manifest.shape.rows;
        self.sorted
            .iter()
            .position(|(_, row)| row.identifier == identifier)
            .map(|p| (p / rows, p % rows))
            .ok_or_else(|| InclusionError::UnknownAccount(identifier.to_string()))
    }

    fn shard_accounts(&self, shard: usize) -> &[(AccountId, AccountRow)] {
        crate::epoch::shard_slice(&self.sorted, self.bundle.manifest.shape.rows, shard)
    }

    /// The epoch prepared again from `private/` (engine, salts, witness inputs): once for all
    /// shards whose cached polynomial is missing.
    fn prepared(&self) -> Result<&crate::epoch::PreparedEpoch, InclusionError> {
        if let Some(p) = self.prepared.get() {
            return Ok(p);
        }
        let epoch =
            crate::epoch::reprepare(&self.bundle_dir, &self.bundle, self.master).map_err(|e| {
                match e {
                    crate::epoch::ReprepareError::Mismatch(what) => InclusionError::Mismatch(what),
                    other => InclusionError::Prepare(other.to_string()),
                }
            })?;
        Ok(self.prepared.get_or_init(|| epoch))
    }
}

/// One shard of a bundle opened for inclusion proofs: the combined data polynomial and its
/// commitment.
pub struct InclusionProver<'a> {
    epoch: &'a EpochAccounts,
    shard: usize,
    /// The shard's table layout.
    pub plan: TableLayout,
    /// The shard's accounts in table order (block `b` holds `sorted[b]`).
    sorted: &'a [(AccountId, AccountRow)],
    gamma: Fr,
    /// `F`, `C_F` (from the proof's commitments) and the SRS.
    opener: Opener,
}

/// `private/inclusion-cache-NNNN.bin` (per shard): the statement digest (32 bytes), the circuit layout (u32
/// length + JSON) and `F`'s coefficients (32-byte little-endian each). Rebuilt when missing
/// or stale; its contents are never trusted blindly: every opening is checked against the
/// proof's own commitments before it is handed out.
fn cache_file(shard: usize) -> String {
    format!("inclusion-cache-{shard:04}.bin")
}

fn write_cache(
    path: &Path,
    digest: &[u8; 32],
    layout: &KeygenParams,
    poly: &[Fr],
) -> std::io::Result<()> {
    let layout = serde_json::to_vec(layout).expect("layout serializes");
    let mut bytes = Vec::with_capacity(36 + layout.len() + poly.len() * 32);
    bytes.extend_from_slice(digest);
    bytes.extend_from_slice(&(layout.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&layout);
    for c in poly {
        bytes.extend_from_slice(c.to_repr().as_ref());
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(tmp, path)
}

fn read_cache(path: &Path, digest: &[u8; 32], n: usize) -> Option<(KeygenParams, Vec<Fr>)> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.get(..32)? != digest {
        return None;
    }
    let len = u32::from_le_bytes(bytes.get(32..36)?.try_into().ok()?) as usize;
    let layout = serde_json::from_slice(bytes.get(36..36 + len)?).ok()?;
    let rest = bytes.get(36 + len..)?;
    if rest.len() != n * 32 {
        return None;
    }
    let poly = rest
        .chunks(32)
        .map(|c| Option::from(Fr::from_repr(c.try_into().ok()?)))
        .collect::<Option<Vec<Fr>>>()?;
    Some((layout, poly))
}

impl<'a> InclusionProver<'a> {
    /// Opens shard `shard` of `epoch` for inclusion proofs: `F` from the private cache, or
    /// rebuilt from `private/` (witness, `synthesize_witness`, self-check against the proof)
    /// and cached.
    pub fn open(
        epoch: &'a EpochAccounts,
        shard: usize,
        srs_dir: &Path,
        key_dir: &Path,
        reporter: &dyn Reporter,
    ) -> Result<InclusionProver<'a>, InclusionError> {
        let bundle = &epoch.bundle;
        let m = &bundle.manifest;
        let entry = m
            .shards
            .get(shard)
            .ok_or(InclusionError::Mismatch("no such shard"))?;
        let digest = m
            .statement_digest_bytes()
            .ok_or(InclusionError::Mismatch("statement digest"))?;
        let plan = TableLayout::new(&m.shape).ok_or(InclusionError::Mismatch("table plan"))?;
        let kind = SrsKind::from_label(&m.srs.source).ok_or(InclusionError::Mismatch("SRS"))?;
        let params = srs::load(srs_dir, kind, m.shape.k)?;
        let g2_powers = srs::g2_powers(srs_dir, kind, &params)?;

        let cache = epoch.bundle_dir.join(PRIVATE).join(cache_file(shard));
        let n = params.n() as usize;
        let (layout, columns) = match read_cache(&cache, &digest, n) {
            Some((layout, poly)) => (layout, ColumnsOrF::F(poly)),
            None => {
                let r = rebuild(epoch, shard, &params, kind, key_dir, reporter)?;
                (r.layout, ColumnsOrF::Columns(r.advice))
            }
        };
        let data =
            data_columns(&layout, &m.shape).ok_or(InclusionError::Mismatch("data columns"))?;
        let committed = data_commitments(entry, data.iter().map(|&(_, p)| p))
            .ok_or(InclusionError::Mismatch("account-table commitment"))?;
        let (g, commitment) = combine(&digest, &committed);
        let weights = zkmargin_inclusion::powers(g, data.len());
        let poly = match columns {
            ColumnsOrF::F(poly) => poly,
            ColumnsOrF::Columns(advice) => {
                let columns: Vec<(usize, G1Affine)> = data
                    .iter()
                    .map(|&(index, _)| index)
                    .zip(committed)
                    .collect();
                let poly = combine_columns(&params, &advice, &columns, &weights)?;
                if let Err(e) = write_cache(&cache, &digest, &layout, &poly) {
                    reporter.warn(&format!("cannot cache F in {}: {e}", cache.display()));
                }
                poly
            }
        };
        Ok(InclusionProver {
            epoch,
            shard,
            sorted: epoch.shard_accounts(shard),
            gamma: g,
            opener: Opener {
                params,
                g2_powers,
                rows: BlockRows::of_table(&plan),
                poly,
                commitment,
            },
            plan,
        })
    }

    /// Number of the shard's account rows (real accounts; padding rows have no holder).
    pub fn accounts(&self) -> usize {
        self.sorted.len()
    }

    /// `y_o` of block `b` (its own rows).
    fn values(&self, b: usize) -> Vec<Fr> {
        let (id, row) = &self.sorted[b];
        account_values(&self.plan, id, row, self.gamma)
    }

    /// The inclusion file of the account in block `b` with the given opening levels.
    fn file(&self, b: usize, openings: Vec<OpeningLevel>) -> InclusionFile {
        let (id, row) = &self.sorted[b];
        let c = &self.epoch.config;
        let m = &self.epoch.bundle.manifest;
        InclusionFile {
            format_version: INCLUSION_FORMAT,
            epoch: m.statement.epoch,
            statement_digest: m.statement_digest.clone(),
            shard: self.shard,
            row: b,
            id: id.to_hex(),
            salt: hex::encode(derive_salt(&self.epoch.master, &row.identifier)),
            balances: row
                .balances
                .iter()
                .zip(&c.assets)
                .map(|(v, a)| format_units(v, a.decimals))
                .collect(),
            sizes: row
                .sizes
                .iter()
                .zip(&c.markets)
                .map(|(v, m)| format_units(v, m.size_decimals))
                .collect(),
            costs: row
                .costs
                .iter()
                .map(|v| format_units(v, c.quote.decimals))
                .collect(),
            openings,
        }
    }

    /// Checks `file`'s opening as a verifier would (the prover's own check before handing a
    /// proof out).
    pub fn self_check(&self, file: &InclusionFile) -> bool {
        self.opener
            .check(file.row, &self.values(file.row), &file.openings)
    }

    /// The proof for one account: one level, `W = [(F − I_A)/Z_A]` (one MSM of size 2^k).
    pub fn prove(&self, b: usize) -> Result<InclusionFile, InclusionError> {
        let openings = self.opener.prove(b, &self.values(b))?;
        Ok(self.file(b, openings))
    }

    /// Proofs for every account, with shared outer levels. `emit` receives each file.
    pub fn prove_all(
        &self,
        emit: impl Fn(InclusionFile) -> Result<(), InclusionError> + Sync,
        reporter: &dyn Reporter,
    ) -> Result<(), InclusionError> {
        self.opener.prove_all(
            self.sorted.len(),
            CHUNK_BLOCKS,
            |b| self.values(b),
            |b, openings| emit(self.file(b, openings)),
            reporter,
        )
    }
}

enum ColumnsOrF {
    Columns(halo2_proofs::plonk::AdviceSingle<G1Affine>),
    F(Vec<Fr>),
}

/// A rebuilt shard: its layout and every advice column.
struct Rebuilt {
    layout: KeygenParams,
    advice: halo2_proofs::plonk::AdviceSingle<G1Affine>,
}

/// Rebuilds shard `shard` from `private/snapshot` and re-derives every advice column with its
/// proving RNG (seeded from the master secret).
fn rebuild(
    accounts: &EpochAccounts,
    shard: usize,
    params: &ParamsKZG<Bn256>,
    kind: SrsKind,
    key_dir: &Path,
    reporter: &dyn Reporter,
) -> Result<Rebuilt, InclusionError> {
    let bundle = &accounts.bundle;
    let m = &bundle.manifest;
    let master = accounts.master;
    let epoch = accounts.prepared()?;
    let (pk, layout, _) = phase(reporter, "proving key", || {
        zkmargin_keys::proving::load_or_generate(key_dir, params, kind.label(), &m.shape)
    })
    .map_err(InclusionError::Halo2)?;
    let witness = epoch
        .shard_witness(shard)
        .map_err(|e| InclusionError::Prepare(e.to_string()))?;
    let (circuit, instances) = prover_circuit(&layout, &witness);
    if instances != bundle.shards[shard].instances {
        return Err(InclusionError::Mismatch("public instances"));
    }
    let advice = phase(reporter, "rebuilding the committed columns", || {
        let mut transcript =
            EvmTranscript::<G1Affine, NativeLoader, Vec<u8>, Vec<u8>>::init(Vec::new());
        synthesize_witness::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
            params,
            &pk,
            &[circuit],
            &[&[&instances]],
            proving_rng(&master, shard),
            &mut transcript,
        )
    })
    .map_err(InclusionError::Halo2)?
    .1
    .remove(0);
    Ok(Rebuilt { layout, advice })
}

/// The SRS powers light verifiers of an epoch proved under SRS `label` at circuit size `k`
/// need ([`zkmargin_archive::published`]): the first
/// [`LIGHT_G1_POWERS`](zkmargin_inclusion::LIGHT_G1_POWERS) G1 powers and every G2 power the
/// inclusion openings use, encoded for `public/srs/`. The same bytes for every epoch of one
/// label, dense or slot table.
pub fn page_powers(
    label: &str,
    k: u32,
    srs_dir: &Path,
) -> Result<(Vec<u8>, Vec<u8>), InclusionError> {
    use zkmargin_inclusion::points::encode_points;
    use zkmargin_inclusion::LIGHT_G1_POWERS;
    let kind = SrsKind::from_label(label).ok_or(InclusionError::Mismatch("SRS"))?;
    let params = srs::load(srs_dir, kind, k)?;
    let g2 = srs::g2_powers(srs_dir, kind, &params)?;
    let g1 = &params.get_g()[..LIGHT_G1_POWERS.min(params.n() as usize)];
    Ok((encode_points(g1), encode_points(&g2)))
}

/// Writes `file` as pretty JSON to `path` (through a temporary file and a rename).
pub fn write_file(path: &Path, file: &InclusionFile) -> Result<(), InclusionError> {
    write_file_json(path, file)
}

/// Writes any inclusion file as pretty JSON to `path` (through a temporary file and a rename).
pub(crate) fn write_file_json<T: serde::Serialize>(
    path: &Path,
    file: &T,
) -> Result<(), InclusionError> {
    let text = serde_json::to_vec_pretty(file).expect("inclusion file serializes");
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|source| InclusionError::Io {
            path: path.to_path_buf(),
            source,
        })
}

/// Fills the new directory `out` with `fill` (given the directory to write into): built
/// beside it and renamed into place, so `out` is complete or absent.
pub(crate) fn write_directory(
    out: &Path,
    fill: impl FnOnce(&Path) -> Result<(), InclusionError>,
) -> Result<(), InclusionError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InclusionError::Io { path, source }
    };
    let tmp = out.with_extension("tmp-all");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    fill(&tmp)?;
    std::fs::rename(&tmp, out).map_err(io(out))
}

/// Writes every account's inclusion file, `<id>.json`, into the new directory `out` (built
/// beside it and renamed into place, so `out` is complete or absent).
pub fn write_all(
    epoch: &EpochAccounts,
    out: &Path,
    srs_dir: &Path,
    key_dir: &Path,
    reporter: &dyn Reporter,
) -> Result<(), InclusionError> {
    write_directory(out, |tmp| {
        for shard in 0..epoch.shards() {
            let prover = InclusionProver::open(epoch, shard, srs_dir, key_dir, reporter)?;
            prover.prove_all(
                |file| write_file(&tmp.join(format!("{}.json", file.id)), &file),
                reporter,
            )?;
        }
        Ok(())
    })
}
