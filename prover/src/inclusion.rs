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

use halo2_proofs::arithmetic::{best_fft, best_multiexp};
use halo2_proofs::fft::recursive::FFTData;
use halo2_proofs::halo2curves::bn256::G2Affine;
use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::halo2curves::ff::{BatchInvert, PrimeField};
use halo2_proofs::halo2curves::group::Curve;
use halo2_proofs::plonk::synthesize_witness;
use halo2_proofs::poly::commitment::{Blind, Params, ParamsProver};
use halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_proofs::transcript::TranscriptWriterBuffer;
use rayon::prelude::*;
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
    account_values, check_account_opening, combine, data_commitments, data_points, divide_exact,
    g1_to_hex, interpolate, vanishing, InclusionFile, OpeningLevel, INCLUSION_FORMAT,
};
use zkmargin_layout::table::TableLayout;
use zkmargin_srs::{self as srs, SrsKind};

use crate::epoch::salted_and_sorted;
use crate::prove::proving_rng;
use crate::report::{phase, Reporter};
use std::sync::atomic::{AtomicU64, Ordering};

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
    params: ParamsKZG<Bn256>,
    g2_powers: Vec<G2Affine>,
    gamma: Fr,
    /// `F` in coefficient form.
    poly: Vec<Fr>,
    /// `C_F`, from the proof's commitments.
    commitment: G1Affine,
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
                // Self-check: the rebuilt columns are exactly the committed ones.
                for (&(index, _), c) in data.iter().zip(&committed) {
                    let again = params
                        .commit_lagrange(&advice.advice_values[index], Blind::default())
                        .to_affine();
                    if again != *c {
                        return Err(InclusionError::Mismatch(
                            "rebuilt data column differs from the proof's commitment",
                        ));
                    }
                }
                let mut poly = vec![Fr::zero(); n];
                for (w, &(index, _)) in weights.iter().zip(&data) {
                    for (acc, x) in poly.iter_mut().zip(advice.advice_polys[index].iter()) {
                        *acc += *w * x;
                    }
                }
                if let Err(e) = write_cache(&cache, &digest, &layout, &poly) {
                    reporter.warn(&format!("cannot cache F in {}: {e}", cache.display()));
                }
                poly
            }
        };
        Ok(InclusionProver {
            epoch,
            shard,
            plan,
            sorted: epoch.shard_accounts(shard),
            params,
            g2_powers,
            gamma: g,
            poly,
            commitment,
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

    /// The data points of `blocks` and the interpolation of `values` (theirs, in order) there.
    fn interpolation(&self, blocks: [usize; 2], values: &[Fr]) -> (Vec<Fr>, Vec<Fr>) {
        let points = data_points(&self.plan, self.params.k(), blocks);
        let i = interpolate(&points, values);
        (points, i)
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
        let levels: Option<Vec<(G1Affine, [usize; 2])>> = file
            .openings
            .iter()
            .map(|l| zkmargin_inclusion::g1_from_hex(&l.point).map(|p| (p, l.blocks)))
            .collect();
        levels.is_some_and(|levels| {
            check_account_opening(
                self.params.get_g(),
                &self.g2_powers,
                &self.plan,
                self.params.k(),
                &self.commitment,
                file.row,
                &self.values(file.row),
                &levels,
            )
        })
    }

    /// The proof for one account: one level, `W = [(F − I_A)/Z_A]` (one MSM of size 2^k).
    pub fn prove(&self, b: usize) -> Result<InclusionFile, InclusionError> {
        let (points, i) = self.interpolation([b, b + 1], &self.values(b));
        let mut num = self.poly.clone();
        for (a, c) in num.iter_mut().zip(&i) {
            *a -= c;
        }
        // F takes the account's values on its rows unless the cached F is not the committed one.
        let w = divide_exact(&num, &vanishing(&points)).ok_or(InclusionError::Mismatch(
            "the data polynomial does not take this account's values",
        ))?;
        let point = best_multiexp(&w, &self.params.get_g()[..w.len()]).to_affine();
        Ok(self.file(
            b,
            vec![OpeningLevel {
                blocks: [b, b + 1],
                point: g1_to_hex(&point),
            }],
        ))
    }

    /// Proofs for every account, with shared outer levels. `emit` receives each file.
    pub fn prove_all(
        &self,
        emit: impl Fn(InclusionFile) -> Result<(), InclusionError> + Sync,
        reporter: &dyn Reporter,
    ) -> Result<(), InclusionError> {
        let accounts = self.sorted.len();
        let per_block = self.plan.data_rows();
        // The largest set must fit the G2 powers.
        let outer = CHUNK_BLOCKS[0]
            .min((self.g2_powers.len() - 1) / per_block)
            .max(1);
        let inner = CHUNK_BLOCKS[1].min(outer);
        let k = self.params.k();
        let n = self.params.n() as usize;
        // F must be the committed polynomial before thousands of openings are derived from it.
        if best_multiexp(&self.poly, &self.params.get_g()[..n]).to_affine() != self.commitment {
            return Err(InclusionError::Mismatch(
                "the cached data polynomial is not the committed one",
            ));
        }
        let coset = CosetDivider::new(k, &self.poly);
        let chunks: Vec<usize> = (0..accounts).step_by(outer).collect();
        reporter.info(&format!(
            "{} accounts: {} chunks of {} blocks, sub-chunks of {}",
            accounts,
            chunks.len(),
            outer,
            inner
        ));
        let total = chunks.len() as u64;
        let done = AtomicU64::new(0);
        chunks
            .par_iter()
            .try_for_each(|&start| -> Result<(), InclusionError> {
                let end = (start + outer).min(accounts);
                // Each account's values once, sliced for every level.
                let per = self.plan.data_rows();
                let values: Vec<Fr> = (start..end).flat_map(|b| self.values(b)).collect();
                let of = |from: usize, to: usize| &values[(from - start) * per..(to - start) * per];
                let (outer_points, i_outer) = self.interpolation([start, end], &values);
                let w = coset.quotient(&i_outer, &vanishing(&outer_points));
                let w0 = best_multiexp(
                    &w[..n - outer_points.len()],
                    &self.params.get_g()[..n - outer_points.len()],
                )
                .to_affine();
                for sub in (start..end).step_by(inner) {
                    let sub_end = (sub + inner).min(end);
                    let (sub_points, i_sub) = self.interpolation([sub, sub_end], of(sub, sub_end));
                    let w1 = self.level(&i_outer, &i_sub, &sub_points);
                    for b in sub..sub_end {
                        let (own, i_own) = self.interpolation([b, b + 1], of(b, b + 1));
                        let w2 = self.level(&i_sub, &i_own, &own);
                        let file = self.file(
                            b,
                            vec![
                                OpeningLevel {
                                    blocks: [start, end],
                                    point: g1_to_hex(&w0),
                                },
                                OpeningLevel {
                                    blocks: [sub, sub_end],
                                    point: g1_to_hex(&w1),
                                },
                                OpeningLevel {
                                    blocks: [b, b + 1],
                                    point: g1_to_hex(&w2),
                                },
                            ],
                        );
                        // One full check per chunk (the outer vanishing polynomial is large).
                        if b == start && !self.self_check(&file) {
                            return Err(InclusionError::Mismatch(
                                "an opening failed its own check",
                            ));
                        }
                        emit(file)?;
                    }
                }
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                reporter.progress("inclusion proofs", finished, total);
                Ok(())
            })
    }

    /// `[(I_outer − I_inner)/Z_inner]`: an inner level (a small MSM).
    fn level(&self, outer: &[Fr], inner: &[Fr], inner_points: &[Fr]) -> G1Affine {
        let mut num = outer.to_vec();
        for (a, c) in num.iter_mut().zip(inner) {
            *a -= c;
        }
        // Both interpolations take the same values on the inner rows, so the division is exact.
        let q = divide_exact(&num, &vanishing(inner_points)).expect("nested interpolations agree");
        best_multiexp(&q, &self.params.get_g()[..q.len()]).to_affine()
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

/// Exact division of `F − I` by a vanishing polynomial, on a coset of the 2^k domain (where
/// no divisor vanishes): `F` is evaluated there once.
struct CosetDivider {
    k: u32,
    shift: Fr,
    data: FFTData<Fr>,
    omega: Fr,
    omega_inv: Fr,
    /// `F` on the coset.
    f: Vec<Fr>,
}

impl CosetDivider {
    fn new(k: u32, poly: &[Fr]) -> Self {
        let n = 1usize << k;
        let omega = zkmargin_inclusion::omega(k);
        let omega_inv = omega.invert().expect("non-zero");
        let data = FFTData::new(n, omega, omega_inv);
        let shift = Fr::MULTIPLICATIVE_GENERATOR;
        let mut d = CosetDivider {
            k,
            shift,
            data,
            omega,
            omega_inv,
            f: Vec::new(),
        };
        d.f = d.to_coset(poly);
        d
    }

    fn to_coset(&self, coeffs: &[Fr]) -> Vec<Fr> {
        let n = 1usize << self.k;
        let mut v = vec![Fr::zero(); n];
        let mut s = Fr::one();
        for (o, c) in v.iter_mut().zip(coeffs) {
            *o = *c * s;
            s *= self.shift;
        }
        best_fft(&mut v, self.omega, self.k, &self.data, false);
        v
    }

    /// `(F − i)/z` in coefficient form (degree `< n − deg z`).
    fn quotient(&self, i: &[Fr], z: &[Fr]) -> Vec<Fr> {
        let n = 1usize << self.k;
        let iv = self.to_coset(i);
        let mut zv = self.to_coset(z);
        zv.iter_mut().batch_invert();
        let mut q: Vec<Fr> = (0..n)
            .into_par_iter()
            .map(|j| (self.f[j] - iv[j]) * zv[j])
            .collect();
        best_fft(&mut q, self.omega_inv, self.k, &self.data, true);
        let n_inv = Fr::from(n as u64).invert().expect("non-zero");
        let shift_inv = self.shift.invert().expect("non-zero");
        let mut s = n_inv;
        for c in q.iter_mut() {
            *c *= s;
            s *= shift_inv;
        }
        q
    }
}

/// The SRS powers an epoch's light verifiers need ([`zkmargin_archive::published`]): the
/// first G1 powers and every G2 power the inclusion openings use, encoded for `public/srs/`.
pub fn page_powers(
    manifest: &zkmargin_layout::manifest::Manifest,
    srs_dir: &Path,
) -> Result<(Vec<u8>, Vec<u8>), InclusionError> {
    use zkmargin_archive::published::PAGE_G1_POWERS;
    use zkmargin_inclusion::points::encode_points;
    let kind = SrsKind::from_label(&manifest.srs.source).ok_or(InclusionError::Mismatch("SRS"))?;
    let params = srs::load(srs_dir, kind, manifest.shape.k)?;
    let g2 = srs::g2_powers(srs_dir, kind, &params)?;
    let g1 = &params.get_g()[..PAGE_G1_POWERS.min(params.n() as usize)];
    Ok((encode_points(g1), encode_points(&g2)))
}

/// Writes `file` as pretty JSON to `path` (through a temporary file and a rename).
pub fn write_file(path: &Path, file: &InclusionFile) -> Result<(), InclusionError> {
    let text = serde_json::to_vec_pretty(file).expect("inclusion file serializes");
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|source| InclusionError::Io {
            path: path.to_path_buf(),
            source,
        })
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
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InclusionError::Io { path, source }
    };
    let tmp = out.with_extension("tmp-all");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    for shard in 0..epoch.shards() {
        let prover = InclusionProver::open(epoch, shard, srs_dir, key_dir, reporter)?;
        prover.prove_all(
            |file| write_file(&tmp.join(format!("{}.json", file.id)), &file),
            reporter,
        )?;
    }
    std::fs::rename(&tmp, out).map_err(io(out))
}
