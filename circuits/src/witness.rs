//! The circuit's private inputs and hints, as raw field elements.
//!
//! Everything here is prover-chosen and untrusted: tests set any field to any element
//! (`p − 1` balances, wrong medians, flipped flags) and the constraints must reject it.
//! [`MarginWitness::honest`] builds the witness an honest prover uses, with hints taken from the
//! exact reference engine.

use ethnum::I256;
use rayon::prelude::*;
use zkmargin_core::account_id::{padding_id, AccountId};
use zkmargin_core::accounts::AccountRow;
use zkmargin_core::config::Config;
use zkmargin_core::margin::MarkTable;
use zkmargin_core::statement::Statement;

use zkmargin_layout::encoding::{encode_inputs, EncodingError, PublicInputs};
use zkmargin_layout::field::{fr_from_i128, fr_from_id};
use zkmargin_layout::shape::MarginShape;
use zkmargin_layout::Fr;

/// One table row: an account, or a zero account for padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowWitness {
    /// `H(identifier ‖ salt)` as a field element (0 for padding rows, which sort last).
    pub id: Fr,
    /// Per asset, base units.
    pub balances: Vec<Fr>,
    /// Per market: `|size|`.
    pub size_abs: Vec<Fr>,
    /// Per market: 1 if the position is short.
    pub size_negative: Vec<Fr>,
    /// Per market, signed cost basis (quote base units).
    pub costs: Vec<Fr>,
    /// Hint per case (base, then scenarios): 1 iff equity is negative.
    pub equity_negative: Vec<Fr>,
    /// Hint: 1 iff equity < maintenance requirement.
    pub under_margined: Fr,
}

/// Everything the margin circuit is synthesized from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarginWitness {
    /// The circuit shape the witness is for.
    pub shape: MarginShape,
    /// Public inputs (the circuit exposes them unchanged).
    pub inputs: PublicInputs<Fr>,
    /// Hint per asset: the claimed lower median.
    pub medians: Vec<Fr>,
    /// Exactly `shape.rows` rows, strictly increasing ids.
    pub rows: Vec<RowWitness>,
}

/// Why an honest witness cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    #[error(transparent)]
    /// The statement cannot be encoded under the shape.
    Encoding(#[from] EncodingError),
    #[error("{accounts} accounts do not fit a table of {rows} rows")]
    /// More accounts than the table has rows.
    TooManyAccounts {
        /// Accounts given.
        accounts: usize,
        /// Rows of the table.
        rows: usize,
    },
    #[error("account ids must be strictly increasing (row {0})")]
    /// Row `n`'s id is not above the previous row's.
    Unsorted(usize),
    #[error("statement has no median for asset {0}: the epoch halted")]
    /// The named asset has no median: the oracle halted.
    Halted(String),
}

impl RowWitness {
    /// The row of an account (or zero account) with honest hints.
    pub fn honest(id: &AccountId, row: &AccountRow, table: &MarkTable) -> Self {
        let margin = table.evaluate(row);
        let mut equity_negative = vec![Fr::from(u64::from(margin.equity() < 0))];
        equity_negative.extend(
            margin
                .stressed_equity
                .iter()
                .map(|e| Fr::from(u64::from(*e < I256::ZERO))),
        );
        RowWitness {
            id: fr_from_id(id),
            balances: row.balances.iter().map(|&b| Fr::from(b)).collect(),
            size_abs: row
                .sizes
                .iter()
                .map(|s| Fr::from(s.unsigned_abs()))
                .collect(),
            size_negative: row
                .sizes
                .iter()
                .map(|&s| Fr::from(u64::from(s < 0)))
                .collect(),
            costs: row.costs.iter().map(|&c| fr_from_i128(c)).collect(),
            equity_negative,
            under_margined: Fr::from(u64::from(margin.is_under_margined())),
        }
    }
}

impl MarginWitness {
    /// The honest witness for `accounts` (sorted by id, strictly) under `statement`; the table is
    /// padded with zero accounts at the top of the id range.
    pub fn honest(
        shape: &MarginShape,
        config: &Config,
        statement: &Statement,
        accounts: &[(AccountId, AccountRow)],
    ) -> Result<Self, WitnessError> {
        if accounts.len() > shape.rows {
            return Err(WitnessError::TooManyAccounts {
                accounts: accounts.len(),
                rows: shape.rows,
            });
        }
        if let Some(i) = accounts.windows(2).position(|w| w[0].0 >= w[1].0) {
            return Err(WitnessError::Unsorted(i + 1));
        }
        // Padding ids must sort after every real id (fails with probability ~rows / 2^240).
        if accounts
            .last()
            .is_some_and(|(id, _)| *id >= padding_id(shape.rows, accounts.len()))
        {
            return Err(WitnessError::Unsorted(accounts.len()));
        }
        let inputs = encode_inputs(shape, config, statement)?;
        let prices: Vec<u64> = statement
            .oracle
            .iter()
            .map(|o| {
                o.median
                    .ok_or_else(|| WitnessError::Halted(o.symbol.clone()))
            })
            .collect::<Result<_, _>>()?;
        let scale = config
            .fine_scale()
            .map_err(|e| EncodingError::Scale(e.reason))?;
        let table = MarkTable::new(&scale, &shape.underlying, &prices);
        let zero = AccountRow {
            identifier: String::new(),
            balances: vec![0; shape.assets()],
            sizes: vec![0; shape.markets()],
            costs: vec![0; shape.markets()],
        };
        let rows = (0..shape.rows)
            .into_par_iter()
            .map(|r| match accounts.get(r) {
                Some((id, row)) => RowWitness::honest(id, row, &table),
                None => RowWitness::honest(&padding_id(shape.rows, r), &zero, &table),
            })
            .collect();
        Ok(MarginWitness {
            shape: shape.clone(),
            inputs,
            medians: prices.iter().map(|&p| Fr::from(p)).collect(),
            rows,
        })
    }
}
