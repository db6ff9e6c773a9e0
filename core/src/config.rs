//! `config.toml`: the epoch, the quote currency, assets with their oracles, markets, stress
//! scenarios, the insurance fund and optional declared reserves.
//!
//! Parsing is two-step: serde reads a [`RawConfig`] with source spans, then [`Config::parse`]
//! validates every field against the documented bounds (see [`crate::bounds`]) and resolves
//! symbols to indices. Every rejection is an [`InputError`] naming `config.toml`, the line and
//! the key path.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::amount::{self, AmountError};
use crate::bounds;

/// [`bounds::BPS`] as the config parser's integer type.
const BPS: i64 = bounds::BPS as i64;
use crate::error::InputError;

/// The config file's name in a snapshot.
pub const CONFIG_FILE: &str = "config.toml";

/// The currency all prices, costs, equity and the insurance fund are expressed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteCurrency {
    /// Its symbol, e.g. `USD`.
    pub symbol: String,
    /// Fraction digits of cost basis and insurance fund amounts (≤ [`bounds::MAX_DECIMALS`]).
    pub decimals: u32,
}

/// One oracle feed for an asset; quotes from a source with a key must carry a valid signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OracleSource {
    /// The source's name, as in `quotes.csv`.
    pub name: String,
    /// Ed25519 verifying key (32 bytes).
    pub public_key: Option<[u8; 32]>,
}

/// An asset and the oracle policy that prices it: a collateral asset (accounts hold balances
/// of it), or a price-only index (`index = true`: it only prices markets; no account holds it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Its symbol, as in `accounts.csv` and `quotes.csv`.
    pub symbol: String,
    /// Accounts may hold balances of it (`false` for a price-only index, whose haircut is 0).
    pub collateral: bool,
    /// Fraction digits of balances: one base unit is `10^-decimals` of the asset.
    pub decimals: u32,
    /// Fraction digits of prices: one price unit is `10^-price_decimals` quote per whole asset.
    pub price_decimals: u32,
    /// Collateral haircut in bps, `0..=10000`.
    pub haircut_bps: u32,
    /// Minimum number of valid, non-outlier quotes, `1..=sources.len()`.
    pub quorum: u32,
    /// Largest accepted distance from the median, in bps of the median, `0..=10000`.
    pub max_deviation_bps: u32,
    /// Quotes older than `timestamp - max_age_secs` are stale.
    pub max_age_secs: u64,
    /// Its oracle sources, in config order.
    pub sources: Vec<OracleSource>,
}

/// A perpetual or future marked at the median of its underlying asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Market {
    /// Its symbol; `accounts.csv` has `SYMBOL.size` and `SYMBOL.cost` columns.
    pub symbol: String,
    /// Index into [`Config::assets`].
    pub underlying: usize,
    /// Fraction digits of position sizes, in units of the underlying.
    pub size_decimals: u32,
    /// Risk-limit tiers, ordered by notional (a flat `mmr_bps` is one tier): at least one,
    /// at most [`bounds::MAX_TIERS`]; every tier but the last has an upper bound, strictly
    /// increasing; rates never decrease.
    pub tiers: Vec<Tier>,
}

/// One risk-limit tier: positions whose notional `n = |size| · price` (quote base units) is at
/// most `up_to` (and above the previous tier's `up_to`) require `n · mmr_bps / 10^4 − amount`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// Inclusive upper bound of the tier's notional, quote base units (`< 2^127`); `None` on
    /// the last tier (no bound).
    pub up_to: Option<u128>,
    /// Maintenance margin rate in bps of notional, `0..=10000`.
    pub mmr_bps: u32,
    /// The maintenance amount in quote base units times bps, fixed by continuity:
    /// `amount_0 = 0`, `amount_t = amount_(t−1) + up_to_(t−1) · (mmr_t − mmr_(t−1))`, so the
    /// requirements of tiers `t − 1` and `t` agree at `n = up_to_(t−1)`.
    pub amount: u128,
}

impl Market {
    /// The base rate: the first tier's (a flat-rate market's only) rate.
    pub fn base_mmr_bps(&self) -> u32 {
        self.tiers[0].mmr_bps
    }
}

/// A stress scenario: every asset's price is multiplied by `1 + shock/10000`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// The scenario's name.
    pub name: String,
    /// One shock per asset (index-aligned with [`Config::assets`]); unspecified assets are 0.
    /// Each lies in `MIN_SHOCK_BPS..=MAX_SHOCK_BPS`.
    pub shocks_bps: Vec<i32>,
}

/// A validated snapshot configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The epoch number (consecutive epochs chain).
    pub epoch: u64,
    /// Unix seconds; quotes are judged fresh relative to it.
    pub timestamp: u64,
    /// The quote currency.
    pub quote: QuoteCurrency,
    /// Collateral assets, in config order (every index into assets refers to this order).
    pub assets: Vec<Asset>,
    /// Markets, in config order.
    pub markets: Vec<Market>,
    /// Stress scenarios, in config order.
    pub scenarios: Vec<Scenario>,
    /// In quote base units (`10^-quote.decimals`), `< 2^127`.
    pub insurance_fund: u128,
    /// Declared reserves per asset in the asset's base units (`< 2^127`), index-aligned.
    pub reserves: Vec<Option<u128>>,
    /// The checked widths: the data model's bounds unless `[bounds]` declares tighter ones.
    pub bounds: bounds::Widths,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuote {
    symbol: Spanned<String>,
    decimals: Spanned<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Spanned<String>,
    public_key: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAsset {
    symbol: Spanned<String>,
    #[serde(default)]
    index: Option<Spanned<bool>>,
    decimals: Spanned<i64>,
    price_decimals: Spanned<i64>,
    haircut_bps: Option<Spanned<i64>>,
    quorum: Spanned<i64>,
    max_deviation_bps: Spanned<i64>,
    max_age_secs: Spanned<i64>,
    sources: Spanned<Vec<RawSource>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMarket {
    symbol: Spanned<String>,
    underlying: Spanned<String>,
    size_decimals: Spanned<i64>,
    mmr_bps: Option<Spanned<i64>>,
    tiers: Option<Spanned<Vec<RawTier>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    up_to: Option<Spanned<toml::Value>>,
    mmr_bps: Spanned<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Spanned<String>,
    #[serde(default)]
    shocks_bps: BTreeMap<String, Spanned<i64>>,
}

/// The serde image of `config.toml`, spans kept for error reporting.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    epoch: Spanned<i64>,
    timestamp: Spanned<i64>,
    insurance_fund: Spanned<toml::Value>,
    quote: RawQuote,
    assets: Spanned<Vec<RawAsset>>,
    #[serde(default)]
    markets: Vec<RawMarket>,
    #[serde(default)]
    scenarios: Vec<RawScenario>,
    #[serde(default)]
    reserves: BTreeMap<String, Spanned<toml::Value>>,
    bounds: Option<RawBounds>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBounds {
    balance_bits: Option<Spanned<i64>>,
    size_bits: Option<Spanned<i64>>,
    cost_bits: Option<Spanned<i64>>,
    price_bits: Option<Spanned<i64>>,
}

/// Locates byte offsets of the TOML source as 1-based lines.
struct Source<'a> {
    text: &'a str,
}

impl Source<'_> {
    fn line_of(&self, span: &Range<usize>) -> u64 {
        let end = span.start.min(self.text.len());
        1 + self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
    }

    fn error(
        &self,
        span: &Range<usize>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> InputError {
        InputError::at(CONFIG_FILE, self.line_of(span), field, reason)
    }

    /// An integer field in `lo..=hi`.
    fn int(&self, v: &Spanned<i64>, field: &str, lo: i64, hi: i64) -> Result<i64, InputError> {
        let x = *v.get_ref();
        if x < lo || x > hi {
            return Err(self.error(&v.span(), field, format!("{x} is out of range {lo}..={hi}")));
        }
        Ok(x)
    }

    /// A symbol or name: 1..=max bytes of `[A-Za-z0-9_-]` (plus the extra characters given).
    fn name(
        &self,
        v: &Spanned<String>,
        field: &str,
        max: usize,
        extra: &str,
    ) -> Result<String, InputError> {
        let s = v.get_ref();
        let ok = !s.is_empty()
            && s.len() <= max
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || extra.contains(c));
        if !ok {
            return Err(self.error(
                &v.span(),
                field,
                format!("`{s}` must be 1 to {max} characters of A-Z, a-z, 0-9, `_`, `-`{extra}"),
            ));
        }
        Ok(s.clone())
    }

    /// A money amount written as a TOML string (never a TOML float or integer).
    fn amount(
        &self,
        v: &Spanned<toml::Value>,
        field: &str,
        scale: u32,
        limit: u128,
    ) -> Result<u128, InputError> {
        let toml::Value::String(s) = v.get_ref() else {
            return Err(self.error(
                &v.span(),
                field,
                format!(
                    "amounts must be decimal strings such as \"1250.5\", found {}",
                    v.get_ref().type_str()
                ),
            ));
        };
        amount::parse_unsigned(s.as_bytes(), scale, limit)
            .map_err(|e: AmountError| self.error(&v.span(), field, e.to_string()))
    }
}

impl Source<'_> {
    /// A market's tiers: `mmr_bps = r` (one tier) or `tiers = [{ up_to = "…", mmr_bps = r },
    /// …, { mmr_bps = r }]`, exactly one of the two; amounts derived by continuity.
    fn tiers(&self, m: &RawMarket, i: usize, quote_decimals: u32) -> Result<Vec<Tier>, InputError> {
        let path = |k: &str| format!("markets[{i}].{k}");
        let raw = match (&m.mmr_bps, &m.tiers) {
            (Some(r), None) => {
                let mmr_bps = self.int(r, &path("mmr_bps"), 0, BPS)? as u32;
                return Ok(vec![Tier {
                    up_to: None,
                    mmr_bps,
                    amount: 0,
                }]);
            }
            (None, Some(t)) => t,
            (Some(r), Some(_)) => {
                return Err(self.error(
                    &r.span(),
                    path("mmr_bps"),
                    "give either `mmr_bps` (one flat tier) or `tiers`, not both",
                ))
            }
            (None, None) => {
                return Err(self.error(
                    &m.symbol.span(),
                    path("mmr_bps"),
                    "missing: give `mmr_bps` (one flat tier) or `tiers`",
                ))
            }
        };
        let n = raw.get_ref().len();
        if n == 0 || n > bounds::MAX_TIERS {
            return Err(self.error(
                &raw.span(),
                path("tiers"),
                format!("{n} tiers; between 1 and {} required", bounds::MAX_TIERS),
            ));
        }
        let mut tiers: Vec<Tier> = Vec::with_capacity(n);
        for (t, tier) in raw.get_ref().iter().enumerate() {
            let field = |k: &str| format!("markets[{i}].tiers[{t}].{k}");
            let mmr_bps = self.int(&tier.mmr_bps, &field("mmr_bps"), 0, BPS)? as u32;
            let last = t + 1 == n;
            let up_to = match (&tier.up_to, last) {
                (Some(u), false) => {
                    Some(self.amount(u, &field("up_to"), quote_decimals, bounds::AMOUNT_LIMIT)?)
                }
                (None, false) => {
                    return Err(self.error(
                        &tier.mmr_bps.span(),
                        field("up_to"),
                        "missing: every tier but the last has an upper notional bound",
                    ))
                }
                (Some(u), true) => {
                    return Err(self.error(
                        &u.span(),
                        field("up_to"),
                        "the last tier has no upper bound (it takes every larger notional)",
                    ))
                }
                (None, true) => None,
            };
            let amount = match tiers.last() {
                None => 0,
                Some(prev) => {
                    let bound = prev.up_to.expect("only the last tier is unbounded");
                    if up_to.is_some_and(|u| u <= bound) {
                        return Err(self.error(
                            &tier.mmr_bps.span(),
                            field("up_to"),
                            "tier bounds must strictly increase",
                        ));
                    }
                    if mmr_bps < prev.mmr_bps {
                        return Err(self.error(
                            &tier.mmr_bps.span(),
                            field("mmr_bps"),
                            format!(
                                "{mmr_bps} is below the previous tier's {}: rates never decrease with notional",
                                prev.mmr_bps
                            ),
                        ));
                    }
                    // < 2^127 · 2^14 · 16 < 2^145: no overflow.
                    prev.amount + bound * u128::from(mmr_bps - prev.mmr_bps)
                }
            };
            tiers.push(Tier {
                up_to,
                mmr_bps,
                amount,
            });
        }
        Ok(tiers)
    }
}

/// Extracts the key written on the offending line of a serde/TOML error, for the field name.
fn key_on_line(text: &str, line: u64) -> String {
    let Some(src) = text.lines().nth(line.saturating_sub(1) as usize) else {
        return "config".to_string();
    };
    let trimmed = src.trim();
    if let Some((key, _)) = trimmed.split_once('=') {
        return key.trim().to_string();
    }
    if trimmed.starts_with('[') {
        return trimmed.trim_matches(|c| c == '[' || c == ']').to_string();
    }
    "config".to_string()
}

impl Config {
    /// Reads and validates `config.toml` from `text`.
    pub fn parse(text: &str) -> Result<Config, InputError> {
        let src = Source { text };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| src.line_of(&s)).unwrap_or(1);
            InputError::at(
                CONFIG_FILE,
                line,
                key_on_line(text, line),
                match e.message().trim() {
                    // toml gives no message for some lexical errors (a NUL in a comment).
                    "" => "not valid TOML here (a control character or broken syntax)".to_string(),
                    m => m.replace('\n', "; "),
                },
            )
        })?;

        let epoch = src.int(&raw.epoch, "epoch", 0, i64::MAX)? as u64;
        let timestamp = src.int(&raw.timestamp, "timestamp", 0, i64::MAX)? as u64;
        let max_dec = bounds::MAX_DECIMALS as i64;
        let quote = QuoteCurrency {
            symbol: src.name(
                &raw.quote.symbol,
                "quote.symbol",
                bounds::MAX_SYMBOL_LEN,
                "",
            )?,
            decimals: src.int(&raw.quote.decimals, "quote.decimals", 0, max_dec)? as u32,
        };

        let n_assets = raw.assets.get_ref().len();
        if n_assets == 0 || n_assets > bounds::MAX_ASSETS {
            return Err(src.error(
                &raw.assets.span(),
                "assets",
                format!(
                    "{n_assets} assets configured; between 1 and {} required",
                    bounds::MAX_ASSETS
                ),
            ));
        }
        let mut symbols = HashSet::new();
        let mut assets = Vec::with_capacity(n_assets);
        for (i, a) in raw.assets.get_ref().iter().enumerate() {
            let path = |k: &str| format!("assets[{i}].{k}");
            let symbol = src.name(&a.symbol, &path("symbol"), bounds::MAX_SYMBOL_LEN, "")?;
            if !symbols.insert(symbol.clone()) {
                return Err(src.error(
                    &a.symbol.span(),
                    path("symbol"),
                    format!("duplicate symbol `{symbol}`"),
                ));
            }
            let n_sources = a.sources.get_ref().len();
            if n_sources == 0 || n_sources > bounds::MAX_SOURCES {
                return Err(src.error(
                    &a.sources.span(),
                    path("sources"),
                    format!(
                        "{n_sources} sources; between 1 and {} required",
                        bounds::MAX_SOURCES
                    ),
                ));
            }
            let mut names = HashSet::new();
            let mut sources = Vec::with_capacity(n_sources);
            for (k, s) in a.sources.get_ref().iter().enumerate() {
                let field = format!("assets[{i}].sources[{k}]");
                let name = src.name(
                    &s.name,
                    &format!("{field}.name"),
                    bounds::MAX_SYMBOL_LEN * 2,
                    ".",
                )?;
                if !names.insert(name.clone()) {
                    return Err(src.error(
                        &s.name.span(),
                        format!("{field}.name"),
                        format!("duplicate source `{name}`"),
                    ));
                }
                let public_key = match &s.public_key {
                    None => None,
                    Some(pk) => Some(
                        parse_public_key(pk.get_ref())
                            .map_err(|r| src.error(&pk.span(), format!("{field}.public_key"), r))?,
                    ),
                };
                sources.push(OracleSource { name, public_key });
            }
            let collateral = !a.index.as_ref().is_some_and(|i| *i.get_ref());
            let haircut_bps =
                match (&a.haircut_bps, collateral) {
                    (Some(h), true) => src.int(h, &path("haircut_bps"), 0, BPS)? as u32,
                    (None, true) => {
                        return Err(src.error(
                            &a.symbol.span(),
                            path("haircut_bps"),
                            "missing: a collateral asset needs a haircut (or `index = true`)",
                        ))
                    }
                    (Some(h), false) => return Err(src.error(
                        &h.span(),
                        path("haircut_bps"),
                        "a price-only index (`index = true`) is not collateral and has no haircut",
                    )),
                    (None, false) => 0,
                };
            assets.push(Asset {
                symbol,
                collateral,
                decimals: src.int(&a.decimals, &path("decimals"), 0, max_dec)? as u32,
                price_decimals: src.int(&a.price_decimals, &path("price_decimals"), 0, max_dec)?
                    as u32,
                haircut_bps,
                quorum: src.int(&a.quorum, &path("quorum"), 1, n_sources as i64)? as u32,
                max_deviation_bps: src.int(
                    &a.max_deviation_bps,
                    &path("max_deviation_bps"),
                    0,
                    BPS,
                )? as u32,
                max_age_secs: src.int(
                    &a.max_age_secs,
                    &path("max_age_secs"),
                    1,
                    bounds::MAX_AGE_SECS as i64,
                )? as u64,
                sources,
            });
        }
        let asset_index = |s: &str| assets.iter().position(|a| a.symbol == s);

        if raw.markets.len() > bounds::MAX_MARKETS {
            return Err(InputError::at(
                CONFIG_FILE,
                src.line_of(&raw.markets[bounds::MAX_MARKETS].symbol.span()),
                "markets",
                format!(
                    "{} markets configured; at most {}",
                    raw.markets.len(),
                    bounds::MAX_MARKETS
                ),
            ));
        }
        let mut markets = Vec::with_capacity(raw.markets.len());
        for (i, m) in raw.markets.iter().enumerate() {
            let path = |k: &str| format!("markets[{i}].{k}");
            let symbol = src.name(&m.symbol, &path("symbol"), bounds::MAX_SYMBOL_LEN, "")?;
            if !symbols.insert(symbol.clone()) {
                return Err(src.error(
                    &m.symbol.span(),
                    path("symbol"),
                    format!("duplicate symbol `{symbol}`"),
                ));
            }
            let underlying = asset_index(m.underlying.get_ref()).ok_or_else(|| {
                src.error(
                    &m.underlying.span(),
                    path("underlying"),
                    format!("unknown asset `{}`", m.underlying.get_ref()),
                )
            })?;
            let tiers = src.tiers(m, i, quote.decimals)?;
            markets.push(Market {
                symbol,
                underlying,
                size_decimals: src.int(&m.size_decimals, &path("size_decimals"), 0, max_dec)?
                    as u32,
                tiers,
            });
        }

        if raw.scenarios.len() > bounds::MAX_SCENARIOS {
            return Err(InputError::at(
                CONFIG_FILE,
                src.line_of(&raw.scenarios[bounds::MAX_SCENARIOS].name.span()),
                "scenarios",
                format!(
                    "{} scenarios configured; at most {}",
                    raw.scenarios.len(),
                    bounds::MAX_SCENARIOS
                ),
            ));
        }
        let mut scenario_names = HashSet::new();
        let mut scenarios = Vec::with_capacity(raw.scenarios.len());
        for (i, s) in raw.scenarios.iter().enumerate() {
            let name = src.name(
                &s.name,
                &format!("scenarios[{i}].name"),
                bounds::MAX_SYMBOL_LEN * 2,
                ". ",
            )?;
            if !scenario_names.insert(name.clone()) {
                return Err(src.error(
                    &s.name.span(),
                    format!("scenarios[{i}].name"),
                    format!("duplicate scenario `{name}`"),
                ));
            }
            let mut shocks_bps = vec![0i32; assets.len()];
            for (symbol, shock) in &s.shocks_bps {
                let field = format!("scenarios[{i}].shocks_bps.{symbol}");
                let a = asset_index(symbol).ok_or_else(|| {
                    src.error(&shock.span(), &field, format!("unknown asset `{symbol}`"))
                })?;
                shocks_bps[a] = src.int(
                    shock,
                    &field,
                    bounds::MIN_SHOCK_BPS as i64,
                    bounds::MAX_SHOCK_BPS as i64,
                )? as i32;
            }
            scenarios.push(Scenario { name, shocks_bps });
        }

        let insurance_fund = src.amount(
            &raw.insurance_fund,
            "insurance_fund",
            quote.decimals,
            bounds::AMOUNT_LIMIT,
        )?;
        let mut reserves = vec![None; assets.len()];
        for (symbol, v) in &raw.reserves {
            let field = format!("reserves.{symbol}");
            let a = asset_index(symbol)
                .ok_or_else(|| src.error(&v.span(), &field, format!("unknown asset `{symbol}`")))?;
            if !assets[a].collateral {
                return Err(src.error(
                    &v.span(),
                    &field,
                    format!("`{symbol}` is a price-only index: no account holds it, so it has no reserves"),
                ));
            }
            reserves[a] = Some(src.amount(v, &field, assets[a].decimals, bounds::AMOUNT_LIMIT)?);
        }

        let mut widths = bounds::Widths::DEFAULT;
        if let Some(b) = &raw.bounds {
            for (raw, width, key) in [
                (&b.balance_bits, &mut widths.balance_bits, "balance_bits"),
                (&b.size_bits, &mut widths.size_bits, "size_bits"),
                (&b.cost_bits, &mut widths.cost_bits, "cost_bits"),
                (&b.price_bits, &mut widths.price_bits, "price_bits"),
            ] {
                let Some(v) = raw else { continue };
                let field = format!("bounds.{key}");
                let x = src.int(v, &field, 16, i64::from(*width))?;
                if x % 16 != 0 {
                    return Err(src.error(
                        &v.span(),
                        field,
                        format!("{x} is not a multiple of 16 (the circuit's limb width)"),
                    ));
                }
                *width = x as u32;
            }
        }
        let config = Config {
            bounds: widths,
            epoch,
            timestamp,
            quote,
            assets,
            markets,
            scenarios,
            insurance_fund,
            reserves,
        };
        // The fine unit must keep every per-asset weight under its bound; report on the
        // asset's decimals line when it does not.
        if let Err(e) = config.fine_scale() {
            let (span, field) = match e.asset {
                Some(a) => (
                    raw.assets.get_ref()[a].decimals.span(),
                    format!("assets[{a}].decimals"),
                ),
                None => (raw.quote.decimals.span(), "quote.decimals".to_string()),
            };
            return Err(src.error(&span, field, e.reason));
        }
        Ok(config)
    }

    /// Index of the asset with this symbol.
    pub fn asset_index(&self, symbol: &str) -> Option<usize> {
        self.assets.iter().position(|a| a.symbol == symbol)
    }

    /// Number of price scenarios evaluated per account: the base case plus each stress scenario.
    pub fn scenario_count(&self) -> usize {
        1 + self.scenarios.len()
    }
}

fn parse_public_key(hex_key: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(hex_key).map_err(|e| format!("not hex: {e}"))?;
    let key: [u8; 32] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("an Ed25519 public key is 32 bytes, found {}", b.len()))?;
    ed25519_dalek::VerifyingKey::from_bytes(&key)
        .map_err(|_| "not a valid Ed25519 public key".to_string())?;
    Ok(key)
}

impl Config {
    /// What the fine unit depends on ([`crate::fine::ScaleInputs`]).
    pub fn scale_inputs(&self) -> crate::fine::ScaleInputs {
        crate::fine::ScaleInputs {
            quote_decimals: self.quote.decimals,
            assets: self
                .assets
                .iter()
                .map(|a| {
                    (
                        a.symbol.clone(),
                        a.decimals,
                        a.price_decimals,
                        a.haircut_bps,
                    )
                })
                .collect(),
            markets: self
                .markets
                .iter()
                .map(|m| crate::fine::MarketScaleInputs {
                    symbol: m.symbol.clone(),
                    underlying: m.underlying,
                    size_decimals: m.size_decimals,
                    tiers: m
                        .tiers
                        .iter()
                        .map(|t| (t.up_to, t.mmr_bps, t.amount))
                        .collect(),
                })
                .collect(),
            shocks_bps: self
                .scenarios
                .iter()
                .map(|s| s.shocks_bps.clone())
                .collect(),
        }
    }

    /// The fine unit and weights of this config (every parsed config has one: [`Config::parse`]
    /// refuses a config whose weights would reach `2^64`).
    pub fn fine_scale(&self) -> Result<crate::fine::FineScale, crate::fine::FineScaleError> {
        crate::fine::FineScale::derive(&self.scale_inputs())
    }

    /// Stable digest of the market structure: quote currency, assets with their oracle policy
    /// and keys, markets and scenarios. Per-epoch values (epoch, timestamp, insurance fund,
    /// reserves) are excluded, so the digest stays fixed while the venue's rules do.
    /// Encoding: [`crate::digest::WordHasher`], fields in declaration order, under
    /// `zkmargin/config/v1` when every asset is collateral and every market has one tier (the
    /// first release's configs keep their digest) and the bounds are the defaults, else under
    /// `zkmargin/config/v2`, which adds each asset's collateral flag, each market's tier list
    /// after its base rate, and the four widths of [`bounds::Widths`] at the end.
    pub fn digest(&self) -> crate::digest::Digest {
        let v2 = self.assets.iter().any(|a| !a.collateral)
            || self.markets.iter().any(|m| m.tiers.len() > 1)
            || !self.bounds.is_default();
        let mut h = crate::digest::WordHasher::new(if v2 {
            "zkmargin/config/v2"
        } else {
            "zkmargin/config/v1"
        });
        h.string(&self.quote.symbol)
            .uint(self.quote.decimals.into());
        h.uint(self.assets.len() as u128);
        for a in &self.assets {
            h.string(&a.symbol)
                .uint(a.decimals.into())
                .uint(a.price_decimals.into())
                .uint(a.haircut_bps.into())
                .uint(a.quorum.into())
                .uint(a.max_deviation_bps.into())
                .uint(a.max_age_secs.into());
            if v2 {
                h.uint(u128::from(a.collateral));
            }
            h.uint(a.sources.len() as u128);
            for s in &a.sources {
                h.string(&s.name)
                    .uint(u128::from(s.public_key.is_some()))
                    .bytes32(&s.public_key.unwrap_or([0; 32]));
            }
        }
        h.uint(self.markets.len() as u128);
        for m in &self.markets {
            h.string(&m.symbol)
                .uint(m.underlying as u128)
                .uint(m.size_decimals.into())
                .uint(m.base_mmr_bps().into());
            if v2 {
                h.uint(m.tiers.len() as u128);
                for t in &m.tiers {
                    h.uint(u128::from(t.up_to.is_some()))
                        .uint(t.up_to.unwrap_or(0))
                        .uint(t.mmr_bps.into());
                }
            }
        }
        h.uint(self.scenarios.len() as u128);
        for s in &self.scenarios {
            h.string(&s.name);
            for &shock in &s.shocks_bps {
                h.int(shock.into());
            }
        }
        if v2 {
            let w = &self.bounds;
            h.uint(w.balance_bits.into())
                .uint(w.size_bits.into())
                .uint(w.cost_bits.into())
                .uint(w.price_bits.into());
        }
        h.finish()
    }
}
