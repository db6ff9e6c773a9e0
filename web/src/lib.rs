//! The web verifier page's checks, compiled to WebAssembly: an account holder drops their
//! inclusion file into the page, which fetches the epoch's public files and runs
//! [`verify_page`] in the browser (no server-side verification, no upload).
//!
//! What the page checks, each reported (none short-circuits):
//! - the config is the one the statement names (its digest);
//! - the statement digest recomputes from the statement and config (it is the chain link
//!   between epochs and what the on-chain registry records, so the prices and totals shown are
//!   the ones the digest commits to);
//! - every readable field of the statement is what the config gives
//!   (`Statement::config_differences`);
//! - the SRS powers start at the generators and share one `τ`;
//! - the trusted setup: the development SRS is a warning (the verdict's `status` is then
//!   `warning`, shown amber: the proof proves nothing), an unknown SRS label a failure;
//! - for a dense-table epoch (inclusion format 2), every check of
//!   [`zkmargin_inclusion::verify::check_file`]: the file is for this statement,
//!   `H(identifier ‖ salt)` is the row's id, and the KZG opening of the shard's account data
//!   columns equals the account's values;
//! - for a slot-table epoch (inclusion format 3, manifest format 6), every check of
//!   [`zkmargin_inclusion::slots::check_slot_file`]: the same, over the holder's block of its
//!   class's shard, whose slots are exactly the entries the file lists (shown as balances and
//!   positions) and empty slots.
//!
//! What it takes from the publisher: that the manifest's data commitments are those of SNARKs
//! that verify (the SNARKs are checked by `zkmargin-verify` and on chain, not here), and that the
//! SRS powers are the ceremony's. The page says so next to its verdict.
//!
//! Every file is untrusted: the manifest's shape is admitted against the config
//! (`zkmargin_inclusion::verify::Epoch::new`, `zkmargin_inclusion::slots::SlotShard::new`)
//! before it sizes anything, so a hostile file is an
//! error or a failed check, never a panic (which would kill the WebAssembly instance).
//!
//! The wasm exports (`epoch_paths`, `srs_paths`, `verify`) exchange JSON strings; the native
//! functions behind them are what the tests call.
#![warn(missing_docs)]

use halo2curves::bn256::G1Affine;
use serde::Serialize;
use wasm_bindgen::prelude::wasm_bindgen;
use zkmargin_archive::published::{epoch_dir, srs_dir_name, G1_FILE, G2_FILE, SRS_DIR};
use zkmargin_core::amount::format_units;
use zkmargin_core::config::Config;
use zkmargin_core::policy::{self, PolicyCheck, Verdict};
use zkmargin_core::statement::Statement;
use zkmargin_inclusion::points::{decode_g1, decode_g2, same_tau};
use zkmargin_inclusion::slots::{
    check_slot_file, parse_slot_file, SlotInclusionFile, SlotShard, SLOT_INCLUSION_FORMAT,
};
use zkmargin_inclusion::verify::{check_file, parse_file, AccountStatus, Epoch, Powers};
use zkmargin_inclusion::{
    data_commitments, g1_from_transcript_hex, InclusionFile, INCLUSION_FORMAT,
};
use zkmargin_layout::encoding::statement_digest_under;
use zkmargin_layout::manifest::{
    format_version, Manifest, SlotManifest, CONFIG, MANIFEST, SLOT_FORMAT_VERSION,
};
use zkmargin_layout::slots::public::slot_statement_digest;
use zkmargin_layout::slots::CLASSES;

/// What the page trusts rather than checks (shown beside every verdict).
pub const TRUSTED: &str = "The page checks your account against the epoch's published \
    account-table commitments and statement. That those commitments belong to SNARK proofs \
    that verify is checked by `zkmargin-verify` and by the on-chain verifier, not in the \
    browser; and the SRS powers are trusted to be the ceremony's (label shown).";

/// An epoch's public files, as the page fetched them.
pub struct EpochFiles<'a> {
    /// `manifest.json`.
    pub manifest: &'a [u8],
    /// `config.toml`.
    pub config_toml: &'a str,
    /// `g1.bin` and `g2.bin` of the manifest's SRS label.
    pub g1: &'a [u8],
    /// `g2.bin` of that label.
    pub g2: &'a [u8],
}

/// The page's verdict on one inclusion file.
#[derive(Debug, Clone, Serialize)]
pub struct PageReport {
    /// Every check passed (possibly with warnings).
    pub verified: bool,
    /// `valid`, `warning` (every check passed, one with a warning: the development SRS) or
    /// `invalid`.
    pub status: Verdict,
    /// The epoch of the manifest.
    pub epoch: u64,
    /// Slot-table epochs: the slots of the account's class (`None`: a dense-table epoch).
    pub class_slots: Option<usize>,
    /// The shard the file names (within its class, for a slot-table epoch).
    pub shard: usize,
    /// The row (dense table) or block (slot table) within the shard.
    pub row: usize,
    /// The row's account id (hex).
    pub id: String,
    /// An identifier was given, so `H(identifier ‖ salt) = id` was checked (without one, the
    /// row is shown as committed but not bound to the holder).
    pub identifier_checked: bool,
    /// Every check, passed or not.
    pub checks: Vec<PolicyCheck>,
    /// The account at the epoch's prices (computed from the file's values).
    pub account: AccountStatus,
    /// The file's balances: per asset (dense table), or the balance entries it holds (slot
    /// table), as the holder should recognize them.
    pub balances: Vec<Amount>,
    /// The file's positions (signed size, short < 0): per market (dense table), or the position
    /// entries it holds, with their cost (slot table).
    pub positions: Vec<Amount>,
    /// The epoch's statement, for display.
    pub headline: Headline,
    /// The statement digest (hex), to compare with the on-chain registry.
    pub statement_digest: String,
    /// The SRS label the epoch was proved under.
    pub srs: String,
    /// What the page trusts rather than checks ([`TRUSTED`]).
    pub trusted: &'static str,
}

/// The epoch's headline statement, for display (amounts in the quote currency or the asset's
/// units, as decimal strings).
#[derive(Debug, Clone, Serialize)]
pub struct Headline {
    /// The epoch number.
    pub epoch: u64,
    /// Its timestamp (unix seconds).
    pub timestamp: u64,
    /// The quote currency's symbol.
    pub quote: String,
    /// Per asset: the median and its quorum.
    pub prices: Vec<PriceLine>,
    /// Σ equity.
    pub total_equity: String,
    /// Σ maintenance requirement.
    pub total_maintenance: String,
    /// Accounts below their requirement.
    pub under_margined_accounts: u64,
    /// Σ shortfall.
    pub total_shortfall: String,
    /// Σ bad debt.
    pub total_bad_debt: String,
    /// The insurance fund.
    pub insurance_fund: String,
    /// Bad debt per stress scenario.
    pub scenarios: Vec<ScenarioLine>,
    /// Liabilities per collateral asset.
    pub liabilities: Vec<Amount>,
}

#[derive(Debug, Clone, Serialize)]
/// One asset's price line.
pub struct PriceLine {
    /// The asset's symbol.
    pub symbol: String,
    /// `None`: no valid quote (the asset halted; the epoch could not have been proved).
    pub median: Option<String>,
    /// Quotes counted toward the quorum.
    pub counted: u32,
    /// Configured sources.
    pub sources: usize,
    /// Quotes the quorum needs.
    pub quorum: u32,
}

#[derive(Debug, Clone, Serialize)]
/// One stress scenario's line.
pub struct ScenarioLine {
    /// The scenario's name.
    pub name: String,
    /// Its bad debt, in the quote currency.
    pub bad_debt: String,
}

#[derive(Debug, Clone, Serialize)]
/// An amount with its symbol.
pub struct Amount {
    /// The asset's, market's or currency's symbol.
    pub symbol: String,
    /// The amount, as a decimal string.
    pub amount: String,
    /// A slot-table position's cost basis in the quote currency (decimal string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<String>,
}

/// Where an inclusion file's epoch files are, relative to the archive root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EpochPaths {
    /// The epoch number.
    pub epoch: u64,
    /// `public/NNNNNNNNNN/manifest.json`.
    pub manifest: String,
    /// `public/NNNNNNNNNN/config.toml`.
    pub config: String,
}

/// Where a manifest's SRS powers are, relative to the archive root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SrsPaths {
    /// The SRS label.
    pub label: String,
    /// `public/srs/<label>/g1.bin`.
    pub g1: String,
    /// `public/srs/<label>/g2.bin`.
    pub g2: String,
}

/// An inclusion file of either table, by its `format_version`.
enum Inclusion {
    Dense(InclusionFile),
    Slots(SlotInclusionFile),
}

impl Inclusion {
    fn parse(bytes: &[u8]) -> Result<Inclusion, String> {
        match format_version(bytes) {
            Some(SLOT_INCLUSION_FORMAT) => parse_slot_file(bytes).map(Inclusion::Slots),
            Some(INCLUSION_FORMAT) | None => parse_file(bytes).map(Inclusion::Dense),
            Some(v) => Err(format!(
                "format version {v}: not an inclusion file this page reads \
                 ({INCLUSION_FORMAT}: dense table, {SLOT_INCLUSION_FORMAT}: slot table)"
            )),
        }
    }

    fn epoch(&self) -> u64 {
        match self {
            Inclusion::Dense(f) => f.epoch,
            Inclusion::Slots(f) => f.epoch,
        }
    }
}

/// Where the epoch files of an inclusion file are (it names its epoch).
pub fn epoch_paths_of(inclusion: &[u8]) -> Result<EpochPaths, String> {
    let epoch = Inclusion::parse(inclusion)?.epoch();
    let dir = format!("public/{}", epoch_dir(epoch));
    Ok(EpochPaths {
        epoch,
        manifest: format!("{dir}/{MANIFEST}"),
        config: format!("{dir}/{CONFIG}"),
    })
}

fn parse_manifest(bytes: &[u8]) -> Result<Manifest, String> {
    Manifest::parse(bytes).map_err(|e| format!("not an epoch manifest: {e}"))
}

fn parse_slot_manifest(bytes: &[u8]) -> Result<SlotManifest, String> {
    SlotManifest::parse(bytes).map_err(|e| format!("not a slot-table epoch manifest: {e}"))
}

/// Where a manifest's SRS powers are (it names its SRS label).
pub fn srs_paths_of(manifest: &[u8]) -> Result<SrsPaths, String> {
    let label = match format_version(manifest) {
        Some(SLOT_FORMAT_VERSION) => parse_slot_manifest(manifest)?.srs,
        _ => parse_manifest(manifest)?.srs.source,
    };
    let dir = format!("public/{SRS_DIR}/{}", srs_dir_name(&label));
    Ok(SrsPaths {
        g1: format!("{dir}/{G1_FILE}"),
        g2: format!("{dir}/{G2_FILE}"),
        label,
    })
}

/// The shard's account data commitments, at the manifest's data-column positions.
fn shard_data_commitments(m: &Manifest, shard: usize) -> Result<Vec<G1Affine>, String> {
    let entry = m.shards.get(shard).ok_or_else(|| {
        format!(
            "shard {shard} is not in this epoch of {} shards",
            m.shards.len()
        )
    })?;
    data_commitments(entry, m.account_data_columns.iter().copied())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| "the manifest's account data commitments are malformed".into())
}

/// `values` paired with their symbols, in order.
fn labelled<'a>(symbols: impl Iterator<Item = &'a String>, values: &[String]) -> Vec<Amount> {
    symbols
        .zip(values)
        .map(|(symbol, amount)| Amount {
            symbol: symbol.clone(),
            amount: amount.clone(),
            cost: None,
        })
        .collect()
}

fn headline(s: &Statement, config: &Config) -> Headline {
    let money = |v| s.display_money(v);
    Headline {
        epoch: s.epoch,
        timestamp: s.timestamp,
        quote: s.quote_symbol.clone(),
        prices: s
            .oracle
            .iter()
            .map(|o| PriceLine {
                symbol: o.symbol.clone(),
                median: o
                    .median
                    .map(|m| format!("{} {}", format_units(m, o.price_decimals), s.quote_symbol)),
                counted: o.counted,
                sources: o.quotes.len(),
                quorum: o.quorum,
            })
            .collect(),
        total_equity: money(s.total_equity),
        total_maintenance: money(s.total_maintenance),
        under_margined_accounts: s.under_margined_accounts,
        total_shortfall: money(s.total_shortfall),
        total_bad_debt: money(s.total_bad_debt),
        insurance_fund: money(s.insurance_fund),
        scenarios: s
            .scenarios
            .iter()
            .map(|c| ScenarioLine {
                name: c.name.clone(),
                bad_debt: money(c.bad_debt),
            })
            .collect(),
        // Price-only index assets hold no balances.
        liabilities: s
            .assets
            .iter()
            .zip(&config.assets)
            .filter(|(_, asset)| asset.collateral)
            .map(|(a, _)| Amount {
                symbol: a.symbol.clone(),
                amount: format_units(a.liabilities, a.decimals),
                cost: None,
            })
            .collect(),
    }
}

/// The checks every epoch's page runs before the account's: the config is the statement's,
/// the statement digest recomputes (`recomputed`: from the statement under its table's
/// encoding), the SRS powers share one `τ`, the statement agrees with the config, and the
/// trusted setup.
fn epoch_checks(
    config: &Config,
    s: &Statement,
    listed_digest: &str,
    recomputed: Result<String, String>,
    srs: &str,
    powers: &Powers<'_>,
) -> Vec<PolicyCheck> {
    let config_digest = config.digest();
    let recomputed = recomputed.unwrap_or_else(|e| format!("(not computable: {e})"));
    vec![
        PolicyCheck::new(
            "the config is the statement's",
            config_digest == s.config_digest,
            format!("config digest {}", hex::encode(config_digest)),
        ),
        PolicyCheck::new(
            "the statement digest recomputes from the statement",
            recomputed == listed_digest,
            format!("recomputed {recomputed}"),
        ),
        PolicyCheck::new(
            "the SRS powers start at the generators and share one τ",
            same_tau(powers.g1, powers.g2),
            format!(
                "{} G1 and {} G2 powers of {srs:?}",
                powers.g1.len(),
                powers.g2.len()
            ),
        ),
        policy::statement_agrees(s, config),
        policy::trusted_setup(srs, false),
    ]
}

/// What differs between the tables' reports.
struct Checked {
    checks: Vec<PolicyCheck>,
    account: AccountStatus,
    class_slots: Option<usize>,
    shard: usize,
    row: usize,
    id: String,
    balances: Vec<Amount>,
    positions: Vec<Amount>,
    statement: Statement,
    statement_digest: String,
    srs: String,
}

fn check_dense(
    file: InclusionFile,
    identifier: Option<&str>,
    manifest: &[u8],
    config: &Config,
    powers: &Powers<'_>,
) -> Result<Checked, String> {
    let m = parse_manifest(manifest)?;
    let commitments = shard_data_commitments(&m, file.shard)?;
    let s = &m.statement;
    let recomputed = statement_digest_under(config, s)
        .map(hex::encode)
        .map_err(|e| e.to_string());
    let mut checks = epoch_checks(
        config,
        s,
        &m.statement_digest,
        recomputed,
        &m.srs.source,
        powers,
    );
    let epoch = Epoch::new(s, &m.statement_digest, config, &m.shape, &commitments)?;
    let (account_checks, account) = check_file(&file, &epoch, identifier, powers)?;
    checks.extend(account_checks);
    Ok(Checked {
        checks,
        account,
        class_slots: None,
        shard: file.shard,
        row: file.row,
        balances: labelled(config.assets.iter().map(|a| &a.symbol), &file.balances),
        positions: labelled(config.markets.iter().map(|m| &m.symbol), &file.sizes),
        id: file.id,
        statement: m.statement,
        statement_digest: m.statement_digest,
        srs: m.srs.source,
    })
}

fn check_slots(
    file: SlotInclusionFile,
    identifier: Option<&str>,
    manifest: &[u8],
    config: &Config,
    powers: &Powers<'_>,
) -> Result<Checked, String> {
    let m = parse_slot_manifest(manifest)?;
    let s = &m.statement;
    let recomputed = slot_statement_digest(config, s)
        .map(hex::encode)
        .map_err(|e| e.to_string());
    let mut checks = epoch_checks(config, s, &m.statement_digest, recomputed, &m.srs, powers);
    let entry = m
        .classes
        .iter()
        .find(|c| c.class == file.class)
        .ok_or_else(|| format!("class: the epoch has no class {}", file.class))?;
    let commitments: Vec<G1Affine> = entry
        .data_commitments
        .get(file.shard)
        .ok_or_else(|| {
            format!(
                "shard: class {} has {} shard(s), not {}",
                file.class,
                entry.shards,
                file.shard + 1
            )
        })?
        .iter()
        .map(|h| g1_from_transcript_hex(h))
        .collect::<Option<_>>()
        .ok_or("the manifest's slot data commitments are malformed")?;
    let shard = SlotShard::new(
        s,
        &m.statement_digest,
        config,
        file.class,
        &entry.shape,
        &commitments,
    )?;
    let (account_checks, account) = check_slot_file(&file, &shard, identifier, powers)?;
    checks.extend(account_checks);
    let is_asset = |symbol: &str| config.assets.iter().any(|a| a.symbol == symbol);
    let (balances, positions): (Vec<_>, Vec<_>) = file
        .entries
        .iter()
        .map(|e| Amount {
            symbol: e.instrument.clone(),
            amount: e.amount.clone(),
            cost: Some(e.cost.clone()).filter(|_| !is_asset(&e.instrument)),
        })
        .partition(|a| a.cost.is_none());
    Ok(Checked {
        checks,
        account,
        class_slots: CLASSES.get(file.class).copied(),
        shard: file.shard,
        row: file.block,
        id: file.id,
        balances,
        positions,
        statement: m.statement,
        statement_digest: m.statement_digest,
        srs: m.srs,
    })
}

/// Checks inclusion file `inclusion` (with the holder's `identifier`, if given) against an
/// epoch's public files, dense- or slot-table by the file's format. `Err`: a file is unusable
/// (malformed, another format, wrong epoch layout); a well-formed file that fails a check is a
/// report with `verified: false`.
pub fn verify_page(
    inclusion: &[u8],
    identifier: Option<&str>,
    files: &EpochFiles<'_>,
) -> Result<PageReport, String> {
    let file = Inclusion::parse(inclusion)?;
    let config = Config::parse(files.config_toml).map_err(|e| format!("config.toml: {e}"))?;
    let g1 = decode_g1(files.g1)?;
    let g2 = decode_g2(files.g2)?;
    let powers = Powers { g1: &g1, g2: &g2 };
    let epoch = file.epoch();
    let c = match file {
        Inclusion::Dense(f) => check_dense(f, identifier, files.manifest, &config, &powers)?,
        Inclusion::Slots(f) => check_slots(f, identifier, files.manifest, &config, &powers)?,
    };
    let status = Verdict::of(&c.checks);
    Ok(PageReport {
        verified: status != Verdict::Invalid,
        status,
        epoch,
        class_slots: c.class_slots,
        shard: c.shard,
        row: c.row,
        id: c.id,
        identifier_checked: identifier.is_some(),
        checks: c.checks,
        account: c.account,
        balances: c.balances,
        positions: c.positions,
        headline: headline(&c.statement, &config),
        statement_digest: c.statement_digest,
        srs: c.srs,
        trusted: TRUSTED,
    })
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("page values serialize")
}

/// wasm: [`EpochPaths`] of an inclusion file, as JSON.
#[wasm_bindgen]
pub fn epoch_paths(inclusion: &str) -> Result<String, String> {
    epoch_paths_of(inclusion.as_bytes()).map(|p| to_json(&p))
}

/// wasm: [`SrsPaths`] of a manifest, as JSON.
#[wasm_bindgen]
pub fn srs_paths(manifest: &[u8]) -> Result<String, String> {
    srs_paths_of(manifest).map(|p| to_json(&p))
}

/// wasm: [`verify_page`]'s report as JSON (an empty identifier is not checked).
#[wasm_bindgen]
pub fn verify(
    inclusion: &str,
    identifier: &str,
    manifest: &[u8],
    config_toml: &str,
    g1: &[u8],
    g2: &[u8],
) -> Result<String, String> {
    let identifier = Some(identifier.trim()).filter(|i| !i.is_empty());
    verify_page(
        inclusion.as_bytes(),
        identifier,
        &EpochFiles {
            manifest,
            config_toml,
            g1,
            g2,
        },
    )
    .map(|r| to_json(&r))
}
