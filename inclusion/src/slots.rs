//! Inclusion files of slot-table epochs (account table v2): the holder's block is `S` slot
//! rows of its class's shard, each row's holder-known cells
//! ([`zkmargin_layout::slots::SlotData`]: id, instrument, tier, empty, quantity, short, cost)
//! in seven committed columns. With `γ` from the statement digest and those columns'
//! commitments, `F = Σ_c γ^c · data_c` is opened on the block's `S` rows, exactly as for the
//! dense table ([`crate::check_account_opening`] over [`slot_rows`]).
//!
//! The holder rebuilds every cell from what the file lists — the entries as `holdings.csv`
//! writes them — and the epoch's public medians (a position's tier is the one its notional
//! falls in); empty slots are part of the opening, so the block holds these entries and no
//! others. The block's constraints then tie those cells to the account's equity and
//! requirement and to the shard's totals.

use ethnum::I256;
use halo2curves::bn256::{Fr, G1Affine};
use serde::{Deserialize, Serialize};
use zkmargin_core::account_id::{account_id, AccountId};
use zkmargin_core::config::Config;
use zkmargin_core::holdings::{Holdings, HoldingsLayout};
use zkmargin_core::margin::MarkTable;
use zkmargin_core::policy::PolicyCheck;
use zkmargin_core::statement::Statement;
use zkmargin_layout::field::fr_from_id;
use zkmargin_layout::slots::{SlotData, SlotShape, DATA_COLUMNS};

use crate::verify::{AccountStatus, Powers, MAX_OPENING_LEVELS};
use crate::{check_account_opening, combine, g1_from_hex, powers, BlockRows, OpeningLevel};

/// 3: a slot-table block (format 2 is the dense table's [`crate::InclusionFile`]).
pub const SLOT_INCLUSION_FORMAT: u32 = 3;

/// One entry as a `holdings.csv` row lists it (without the account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// An asset symbol (a balance) or a market symbol (a position).
    pub instrument: String,
    /// Balance, or signed size, in the instrument's decimals.
    pub amount: String,
    /// Signed cost basis in the quote currency; empty for a balance.
    #[serde(default)]
    pub cost: String,
}

/// An inclusion file of a slot-table epoch (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotInclusionFile {
    /// [`SLOT_INCLUSION_FORMAT`].
    pub format_version: u32,
    /// The epoch the file is for.
    pub epoch: u64,
    /// Hex Keccak-256 of the epoch's statement.
    pub statement_digest: String,
    /// The account's class (index into `zkmargin_layout::slots::CLASSES`; also its id's tag).
    pub class: usize,
    /// The class's shard whose table holds the account.
    pub shard: usize,
    /// The account's block in that shard.
    pub block: usize,
    /// Hex account id: `H(identifier ‖ salt)` with the class in its top bits.
    pub id: String,
    /// Hex, 32 bytes.
    pub salt: String,
    /// Every entry the account holds.
    pub entries: Vec<Entry>,
    /// Nested block ranges, outermost first, the last exactly `[block, block + 1)` (as in
    /// [`crate::InclusionFile::openings`]).
    pub openings: Vec<OpeningLevel>,
}

/// Where a shard of `shape` keeps its blocks' slot rows.
pub fn slot_rows(shape: &SlotShape) -> BlockRows {
    BlockRows {
        first: shape.slots_start(),
        stride: shape.slots,
        rows: shape.slots,
    }
}

/// `y_r = Σ_c γ^c · cell(c, r)` for every slot row `r` of a block.
pub fn block_values(block: &[SlotData<Fr>], gamma: Fr) -> Vec<Fr> {
    let w = powers(gamma, DATA_COLUMNS);
    block
        .iter()
        .map(|d| d.flatten().iter().zip(&w).map(|(c, w)| *c * w).sum())
        .collect()
}

/// The entries of `holdings` as a file lists them (balances by asset, then positions by
/// market).
pub fn entries_of(config: &Config, holdings: &Holdings) -> Vec<Entry> {
    use zkmargin_core::amount::format_units;
    let balances = holdings.balances.iter().map(|b| {
        let a = &config.assets[b.asset];
        Entry {
            instrument: a.symbol.clone(),
            amount: format_units(b.amount, a.decimals),
            cost: String::new(),
        }
    });
    let positions = holdings.positions.iter().map(|p| {
        let m = &config.markets[p.market];
        Entry {
            instrument: m.symbol.clone(),
            amount: format_units(p.size, m.size_decimals),
            cost: format_units(p.cost, config.quote.decimals),
        }
    });
    balances.chain(positions).collect()
}

/// Parses a slot inclusion file, refusing other versions (`Err`: why it is unusable).
pub fn parse_slot_file(bytes: &[u8]) -> Result<SlotInclusionFile, String> {
    let file: SlotInclusionFile = serde_json::from_slice(bytes)
        .map_err(|e| format!("not a slot-table inclusion file: {e}"))?;
    if file.format_version != SLOT_INCLUSION_FORMAT {
        return Err(format!(
            "format version {} (expected {SLOT_INCLUSION_FORMAT})",
            file.format_version
        ));
    }
    Ok(file)
}

/// The entries a file lists, parsed as `holdings.csv` rows are (symbols, decimals, declared
/// bounds, no instrument twice); errors name `entries:N` (1-based).
fn parse_entries(
    file: &SlotInclusionFile,
    config: &Config,
    slots: usize,
) -> Result<Holdings, String> {
    let group: Vec<(u64, csv::ByteRecord)> = file
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let record = csv::ByteRecord::from(vec![
                "holder",
                e.instrument.as_str(),
                e.amount.as_str(),
                e.cost.as_str(),
            ]);
            (i as u64 + 1, record)
        })
        .collect();
    if group.is_empty() {
        return Ok(Holdings {
            identifier: String::new(),
            balances: Vec::new(),
            positions: Vec::new(),
        });
    }
    let holdings = HoldingsLayout::standard(config)
        .parse_in("entries", &group)
        .map_err(|e| e.to_string())?;
    // Counted after the entries parse, so a malformed entry is named before the count.
    if file.entries.len() > slots {
        return Err(format!(
            "entries: {} entries; the class holds {slots}",
            file.entries.len()
        ));
    }
    Ok(holdings)
}

/// The public data of one verified class shard that a slot inclusion file is checked
/// against. Built only by [`SlotShard::new`], which admits the declared shape first.
pub struct SlotShard<'a> {
    statement: &'a Statement,
    /// Hex Keccak-256 of the statement.
    statement_digest: &'a str,
    config: &'a Config,
    class: usize,
    shape: SlotShape,
    /// The seven data columns' commitments ([`SlotData::flatten`] order), from the proof.
    data_commitments: &'a [G1Affine],
}

impl<'a> SlotShard<'a> {
    /// Class `class`'s shard of `statement` under `config`, with the manifest's `declared`
    /// shape (refused unless `SlotShape::admit` accepts it) and its data commitments.
    pub fn new(
        statement: &'a Statement,
        statement_digest: &'a str,
        config: &'a Config,
        class: usize,
        declared: &SlotShape,
        data_commitments: &'a [G1Affine],
    ) -> Result<SlotShard<'a>, String> {
        let shape = SlotShape::admit(config, class, declared)
            .map_err(|e| format!("manifest class {class} shape: {e}"))?;
        if data_commitments.len() != DATA_COLUMNS {
            return Err(format!(
                "{} slot data commitments; a slot shard has {DATA_COLUMNS}",
                data_commitments.len()
            ));
        }
        Ok(SlotShard {
            statement,
            statement_digest,
            config,
            class,
            shape,
            data_commitments,
        })
    }
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    hex::decode(s).ok()?.try_into().ok()
}

/// Every check of `file` against `shard` (all reported), and the account's status at the
/// epoch's prices. `Err`: the file is unusable (malformed values or entries).
pub fn check_slot_file(
    file: &SlotInclusionFile,
    shard: &SlotShard<'_>,
    identifier: Option<&str>,
    powers_of_tau: &Powers<'_>,
) -> Result<(Vec<PolicyCheck>, AccountStatus), String> {
    let id = AccountId::from_hex(&file.id).map_err(|e| format!("id: {e}"))?;
    let salt = hex32(&file.salt).ok_or("salt: not 32 hex bytes")?;
    if file.class != shard.class {
        return Err(format!(
            "class: the file names class {}, checked against class {}",
            file.class, shard.class
        ));
    }
    if file.openings.len() > MAX_OPENING_LEVELS {
        return Err(format!(
            "openings: {} levels, at most {MAX_OPENING_LEVELS}",
            file.openings.len()
        ));
    }
    let shape = &shard.shape;
    let slots = shape.slots;
    if powers_of_tau.g1.len() < slots {
        return Err(format!(
            "SRS: {} G1 powers; an opening needs {slots}",
            powers_of_tau.g1.len()
        ));
    }
    let levels: Vec<(G1Affine, [usize; 2])> = file
        .openings
        .iter()
        .map(|l| g1_from_hex(&l.point).map(|p| (p, l.blocks)))
        .collect::<Option<_>>()
        .ok_or("openings: a point is not a compressed G1 point")?;
    let holdings = parse_entries(file, shard.config, slots)?;
    let s = shard.statement;
    let blocks = shape.accounts;

    let mut checks = vec![
        PolicyCheck::new(
            "the file is for this epoch's statement",
            file.statement_digest == shard.statement_digest && file.epoch == s.epoch,
            format!(
                "file: epoch {} digest {}",
                file.epoch, file.statement_digest
            ),
        ),
        PolicyCheck::new(
            "the block is an account block of the class's shard",
            file.block < blocks,
            format!(
                "block {} of {blocks} in a shard of {slots} slots",
                file.block
            ),
        ),
        PolicyCheck::new(
            "the id carries the class tag",
            id.class_tag() == file.class,
            format!("tag {}, class {}", id.class_tag(), file.class),
        ),
    ];
    let nested = file.openings.last().map(|l| l.blocks)
        == file.block.checked_add(1).map(|e| [file.block, e])
        && file
            .openings
            .windows(2)
            .all(|w| w[0].blocks[0] <= w[1].blocks[0] && w[1].blocks[1] <= w[0].blocks[1])
        && file.openings.iter().all(|l| {
            l.blocks[0] < l.blocks[1]
                && l.blocks[1] <= blocks
                && (l.blocks[1] - l.blocks[0]) * slots < powers_of_tau.g2.len()
        });
    checks.push(PolicyCheck::new(
        "opening sets are nested block ranges ending at the block",
        nested,
        format!("{} levels", file.openings.len()),
    ));
    checks.push(match identifier {
        Some(identifier) => {
            let derived = account_id(identifier, &salt).tagged(file.class);
            PolicyCheck::new(
                "H(identifier ‖ salt), tagged with the class, is the block's id",
                derived == id,
                format!("derived {}", derived.to_hex()),
            )
        }
        None => PolicyCheck::new(
            "H(identifier ‖ salt), tagged with the class, is the block's id",
            true,
            "not checked: pass the identifier to bind the block to it",
        ),
    });

    // Per configured asset (a statement that lists others fails its config check).
    let prices: Vec<u64> = (0..shard.config.assets.len())
        .map(|a| s.oracle.get(a).and_then(|o| o.median).unwrap_or(0))
        .collect();
    let scale = shard.config.fine_scale().map_err(|e| e.reason)?;
    let underlying: Vec<usize> = shard.config.markets.iter().map(|m| m.underlying).collect();
    let table = MarkTable::new(&scale, &underlying, &prices);
    let cells = SlotData::block(shard.config, &table, fr_from_id(&id), &holdings, slots)
        .ok_or("entries: more than the class's slots")?;
    let opening_ok = nested
        && file.block < blocks
        && hex32(shard.statement_digest).is_some_and(|digest| {
            let (g, combined) = combine(&digest, shard.data_commitments);
            check_account_opening(
                powers_of_tau.g1,
                powers_of_tau.g2,
                &slot_rows(shape),
                shape.k,
                &combined,
                file.block,
                &block_values(&cells, g),
                &levels,
            )
        });
    checks.push(PolicyCheck::new(
        "the KZG opening of the slot data columns equals this account's entries",
        opening_ok,
        if opening_ok {
            format!(
                "id and {} entries (instrument, tier, quantity, side, cost), empty slots after, \
                 are the block's committed values",
                file.entries.len()
            )
        } else {
            "the opening does not match these entries".to_string()
        },
    ));

    let margin = table.evaluate_holdings(&holdings);
    let money = |v: I256| s.display_money(v);
    Ok((
        checks,
        AccountStatus {
            equity: money(margin.equity()),
            maintenance_requirement: money(margin.maintenance),
            under_margined: margin.is_under_margined(),
            shortfall: money(margin.shortfall()),
            bad_debt: money(margin.bad_debt()),
        },
    ))
}
