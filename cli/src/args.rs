//! The command-line surface of `zkmargin`: every command's arguments, and the option groups
//! several commands share ([`SrsDir`], [`SrsChoice`]) defined once.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "zkmargin",
    version,
    about = "Zero-knowledge margin adequacy proofs for derivatives venues"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Evaluate a snapshot with the exact engine and print its statement
    ///
    /// Reads config.toml, quotes.csv and accounts.csv, runs the oracle and the margin engine
    /// exactly (no proof), and prints the statement a proof would carry, or the oracle's halt
    /// report.
    ///
    /// Exit codes: 0 evaluated, 2 unusable input, 3 oracle halt.
    Check(CheckArgs),
    /// Prepare KZG parameters (import a ceremony, or make the development SRS)
    ///
    /// With --ptau FILE: imports a snarkjs / Perpetual Powers of Tau ceremony file (BN254);
    /// every point is checked and the powers are pairing-checked. Without it: the deterministic
    /// development SRS, INSECURE (its toxic waste is public), for tests. Both are cached by k.
    ///
    /// Exit codes: 0 ready, 1 failure, 2 unusable ceremony file.
    Setup(SetupArgs),
    /// Prove a snapshot and write an epoch bundle
    ///
    /// Evaluates the snapshot, salts and sorts the accounts, cuts the table into shards,
    /// proves every shard in this process and writes the bundle atomically.
    ///
    /// Exit codes: 0 bundle written, 1 failure, 2 unusable input, 3 oracle halt (the halt
    /// report is written to BUNDLE.halt.json; no bundle).
    Prove(ProveArgs),
    /// Write a plan directory for distributed proving
    ///
    /// Evaluates the snapshot, cuts the account table into shards and writes the plan
    /// directory with each shard's inputs. The plan holds the master secret: keep it private.
    ///
    /// Exit codes: 0 plan written, 1 failure, 2 unusable input, 3 oracle halt (halt report at
    /// PLAN.halt.json).
    Plan(PlanArgs),
    /// Prove one shard of a plan
    ///
    /// Stateless and idempotent: a shard already proved is left alone, and a job killed
    /// midway leaves nothing behind.
    ///
    /// Exit codes: 0 proved or already proved, 1 failure, 2 unusable plan or shard index.
    ProveShard(ProveShardArgs),
    /// Verify a plan's shard proofs and write the bundle
    ///
    /// Exit codes: 0 bundle written, 1 a shard is not proved yet or its proof does not verify,
    /// 2 unusable plan.
    Assemble(AssembleArgs),
    /// Write account holders' inclusion proofs for a bundle
    ///
    /// Needs the bundle's private/ directory.
    ///
    /// Exit codes: 0 written, 1 failure, 2 unusable input or unknown account.
    Inclusion(InclusionArgs),
    /// Write the Solidity verifier and EpochRegistry for a bundle
    ///
    /// The verifier checks the bundle's circuit (its verifying key, under its SRS); the
    /// registry's constructor parameters go to registry.json.
    ///
    /// Exit codes: 0 written, 1 failure, 2 unusable bundle.
    ExportVerifier(ExportVerifierArgs),
    /// Aggregate a bundle's proof for a verifier that fits mainnet
    ///
    /// Folds the bundle's shard proofs into one aggregated proof whose verifier fits EIP-170,
    /// and writes that verifier, the EpochRegistry and aggregated.json (needs private/).
    ///
    /// Exit codes: 0 written, 1 failure, 2 unusable bundle.
    Aggregate(AggregateArgs),
    /// Print a bundle's calldata as hex
    ///
    /// The registry's submitEpoch(statement, declared, proof) call, or with --verifier the
    /// verifier's own calldata (instances, then the proof).
    ///
    /// Exit codes: 0 printed, 2 unusable bundle or aggregated proof.
    Calldata(CalldataArgs),
    /// Prove and publish the next epoch of a source to an archive
    ///
    /// Proves the snapshot of SOURCE whose epoch follows ARCHIVE's last (with an empty archive,
    /// the lowest), chained to the archive's last epoch, with every account's inclusion proof,
    /// and publishes it atomically.
    ///
    /// Exit codes: 0 published or nothing new, 1 failure (the archive is left as it was),
    /// 2 unusable input, 3 oracle halt.
    Epoch(RunnerArgs),
    /// Publish every new epoch now, then at every tick
    ///
    /// `zkmargin epoch` in a loop: a failed step is reported and retried at the next tick.
    Run(RunArgs),
    /// Serve an archive over HTTP
    ///
    /// Epochs and statements, public bundle files, holder-only inclusion proofs (by access
    /// token), health; JSON logs on stderr (RUST_LOG filters).
    ///
    /// Exit codes: 1 failure, 2 unusable arguments.
    Serve(ServeArgs),
    /// Print an account holder's access token
    ///
    /// The token of the archive's inclusion-proof endpoint, for one account or every account
    /// of an accounts.csv.
    ///
    /// Exit codes: 0 printed, 1 failure, 2 unusable archive or csv.
    Token(TokenArgs),
    /// List or prune the cached proving keys
    ///
    /// Lists each key (size, last use); with --prune-unused-for, removes those not used for
    /// that long (keys of older code or shapes are never removed otherwise).
    Keys(KeysArgs),
    /// Generate synthetic snapshots
    Fixtures {
        #[command(subcommand)]
        command: FixturesCommand,
    },
}

/// Where this machine keeps KZG parameters (shared by every command that loads them).
#[derive(Args, Clone)]
pub struct SrsDir {
    /// SRS directory (default: $ZKMARGIN_HOME/srs or ~/.cache/zkmargin/srs).
    #[arg(long = "srs-dir", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

impl SrsDir {
    /// The directory, or the default.
    pub fn path(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(zkmargin_srs::default_dir)
    }
}

/// Which SRS a proof is made under (shared by every command that proves).
#[derive(Args, Clone, Copy)]
pub struct SrsChoice {
    /// Prove under the imported ceremony SRS (`zkmargin setup --ptau FILE`) instead of the
    /// insecure development one.
    #[arg(long)]
    pub ceremony: bool,
}

impl SrsChoice {
    /// The SRS kind chosen.
    pub fn kind(self) -> zkmargin_srs::SrsKind {
        if self.ceremony {
            zkmargin_srs::SrsKind::Ptau
        } else {
            zkmargin_srs::SrsKind::Dev
        }
    }
}

#[derive(Args)]
pub struct CheckArgs {
    /// Snapshot directory holding config.toml, quotes.csv and accounts.csv.
    pub snapshot: PathBuf,
    /// Print the statement (or halt report) as JSON.
    #[arg(long)]
    pub json: bool,
    /// Digest of the previous epoch's statement (64 hex digits); zero when omitted.
    #[arg(long, value_name = "HEX")]
    pub prev_digest: Option<String>,
    /// Also apply the strict policy (zero under-margined accounts) in the policy section.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Subcommand)]
pub enum FixturesCommand {
    /// Generate a deterministic synthetic snapshot.
    Generate(GenerateArgs),
}

#[derive(Args)]
pub struct GenerateArgs {
    #[arg(long, default_value_t = 1000)]
    pub accounts: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 1)]
    pub epoch: u64,
    /// Number of collateral assets (1-8; the first is the USDC stablecoin).
    #[arg(long, default_value_t = 4)]
    pub assets: usize,
    /// Number of markets (0-9, on the volatile assets present).
    #[arg(long, default_value_t = 4)]
    pub markets: usize,
    /// Number of stress scenarios (0-4).
    #[arg(long, default_value_t = 2)]
    pub scenarios: usize,
    /// Oracle sources per asset (1-8); quorum is a majority.
    #[arg(long, default_value_t = 3)]
    pub sources: usize,
    /// Percentage of accounts made under-margined (but solvent), e.g. 2.5.
    #[arg(long, default_value = "2")]
    pub under_margined: String,
    /// Percentage of accounts made insolvent, e.g. 0.5.
    #[arg(long, default_value = "0.5")]
    pub bad_debt: String,
    /// Number of stale quotes (spread over assets, then sources).
    #[arg(long, default_value_t = 0)]
    pub stale: usize,
    /// Number of outlier quotes (+10 %), placed after the stale ones.
    #[arg(long, default_value_t = 0)]
    pub outliers: usize,
    /// Give oracle sources Ed25519 keys and sign every quote.
    #[arg(long)]
    pub signed: bool,
    /// `wide`: the catalogue venue in accounts.csv (up to 8 assets, 9 markets). `long`: a
    /// venue-scale snapshot in holdings.csv: up to 1,024 markets each on its own price-only
    /// index, `--assets` collateral assets, `--tiers` risk-limit tiers, real-venue holdings.
    #[arg(long, value_enum, default_value_t = Format::Wide)]
    pub format: Format,
    /// Risk-limit tiers per market (long format; 1 = a flat rate).
    #[arg(long, default_value_t = 1)]
    pub tiers: usize,
    /// Most positions of one whale account (long format, 64..=248).
    #[arg(long, default_value_t = 120)]
    pub max_positions: usize,
    /// A named venue (long format), overriding the shape flags: `v1` = 200 markets with 5
    /// tiers, 12 collateral assets, 5 sources, 3 stress scenarios (4 cases).
    #[arg(long)]
    pub preset: Option<Preset>,
}

/// The accounts file format a generated snapshot has.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `accounts.csv`, a column per asset and two per market.
    Wide,
    /// `holdings.csv`, a row per entry.
    Long,
}

/// A named venue shape.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// Venue V1 of scripts/bench.sh.
    V1,
}

#[derive(Args)]
pub struct SetupArgs {
    /// Circuit size: parameters for 2^k points.
    #[arg(long)]
    pub k: u32,
    /// A snarkjs / Perpetual Powers of Tau `.ptau` file (BN254) with at least 2^k powers.
    #[arg(long, value_name = "FILE")]
    pub ptau: Option<PathBuf>,
    #[command(flatten)]
    pub srs_dir: SrsDir,
}

/// How a snapshot is cut into shards and under which setup they are proved.
#[derive(Args)]
pub struct EpochArgs {
    /// Snapshot directory.
    pub snapshot: PathBuf,
    /// The previous epoch's bundle: its statement digest becomes this statement's prev_digest.
    #[arg(long)]
    pub prev: Option<PathBuf>,
    /// Shards of 2^K account rows (4 ≤ K ≤ 24; default: one shard holding every account).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(4..=24))]
    pub shard_k: Option<u32>,
    /// Circuit size override (default: chosen from the shard's rows).
    #[arg(long)]
    pub k: Option<u32>,
    #[command(flatten)]
    pub srs: SrsChoice,
    #[command(flatten)]
    pub srs_dir: SrsDir,
}

/// The epoch runner's source, archive and proving options.
#[derive(Args)]
pub struct RunnerArgs {
    /// Directory of snapshot directories (any names; each holds config.toml, quotes.csv and
    /// accounts.csv, and config.toml's epoch orders them).
    pub source: PathBuf,
    /// Archive directory (created on first use).
    pub archive: PathBuf,
    /// Shards of 2^K account rows (default: one shard holding every account).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(4..=24))]
    pub shard_k: Option<u32>,
    #[command(flatten)]
    pub srs: SrsChoice,
    #[command(flatten)]
    pub srs_dir: SrsDir,
}

#[derive(Args)]
pub struct RunArgs {
    /// Interval between ticks, e.g. 1h, 15m, 30s.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub every: std::time::Duration,
    #[command(flatten)]
    pub runner: RunnerArgs,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Archive directory (from `zkmargin epoch`).
    pub archive: PathBuf,
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// Directory of the web verifier page (`scripts/build-web.sh` output) to serve at /
    /// (default: the archive's `web/`, if it holds an index.html).
    #[arg(long)]
    pub web: Option<PathBuf>,
    /// Requests per second allowed to one client address.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate: u32,
    /// Burst size allowed to one client address.
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..))]
    pub burst: u32,
}

#[derive(Args)]
pub struct KeysArgs {
    /// The cache directory (default `$ZKMARGIN_HOME/keys`; the verifier's is
    /// `$ZKMARGIN_HOME/vk`).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Remove the entries not read or written for this long, e.g. 30d, 12h.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub prune_unused_for: Option<std::time::Duration>,
}

#[derive(Args)]
pub struct TokenArgs {
    /// Archive directory.
    pub archive: PathBuf,
    /// The account identifier (as in accounts.csv).
    #[arg(long, required_unless_present = "csv", conflicts_with = "csv")]
    pub account: Option<String>,
    /// Every account of this accounts.csv: prints `identifier,token` lines (for distributing
    /// tokens to holders).
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

#[derive(Args)]
pub struct ProveArgs {
    #[command(flatten)]
    pub epoch: EpochArgs,
    /// Bundle directory to create (must not exist).
    #[arg(long)]
    pub out: PathBuf,
    /// Account table: `dense` (a column per asset and market), `slots` (one row per entry
    /// held, shard classes of 4/16/64/256 entries, each class's circuit chosen by its
    /// accounts), or `auto`: dense where it proves the config, slots otherwise.
    #[arg(long, value_enum, default_value_t = TableChoice::Auto)]
    pub table: TableChoice,
}

/// `zkmargin prove --table`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TableChoice {
    /// Dense where it proves the config, slots otherwise.
    Auto,
    /// The dense account table.
    Dense,
    /// The slot table (account table v2).
    Slots,
}

#[derive(Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub epoch: EpochArgs,
    /// Plan directory to create (must not exist); shard jobs read and write it.
    #[arg(long)]
    pub out: PathBuf,
    /// Account table, as for `zkmargin prove`: a slot plan's shards are every class's, numbered
    /// class by class.
    #[arg(long, value_enum, default_value_t = TableChoice::Auto)]
    pub table: TableChoice,
}

#[derive(Args)]
pub struct ProveShardArgs {
    /// Plan directory (from `zkmargin plan`).
    pub plan: PathBuf,
    /// Shard index (0-based), e.g. a Kubernetes Indexed Job's completion index.
    #[arg(long)]
    pub shard: usize,
    #[command(flatten)]
    pub srs_dir: SrsDir,
}

#[derive(Args)]
pub struct AssembleArgs {
    /// Plan directory whose shards are all proved.
    pub plan: PathBuf,
    /// Bundle directory to create (must not exist).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub srs_dir: SrsDir,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["account", "all"])))]
pub struct InclusionArgs {
    /// Epoch bundle directory, with its private/ directory.
    pub bundle: PathBuf,
    /// The account identifier (as in accounts.csv) to prove.
    #[arg(long)]
    pub account: Option<String>,
    /// Prove every account: one file per account in the --out directory, named by account id.
    #[arg(long)]
    pub all: bool,
    /// Output file (--account) or directory (--all, must not exist).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub srs_dir: SrsDir,
}

/// Where and how the on-chain commands write the contracts.
#[derive(Args)]
pub struct ContractsOut {
    /// Directory to write Halo2Verifier.sol, EpochRegistry.sol and registry.json into (and
    /// aggregated.json for `aggregate`).
    #[arg(long)]
    pub out: PathBuf,
    /// Also compile both contracts (solc 0.8.19, see scripts/solc) into `<Name>.bin` hex files.
    #[arg(long)]
    pub bin: bool,
    #[command(flatten)]
    pub srs_dir: SrsDir,
}

#[derive(Args)]
pub struct ExportVerifierArgs {
    /// An epoch bundle of the circuit shape to verify (its first epoch starts the registry).
    pub bundle: PathBuf,
    #[command(flatten)]
    pub contracts: ContractsOut,
}

#[derive(Args)]
pub struct AggregateArgs {
    /// An epoch bundle with its private/ directory.
    pub bundle: PathBuf,
    #[command(flatten)]
    pub contracts: ContractsOut,
}

#[derive(Args)]
pub struct CalldataArgs {
    /// An epoch bundle.
    pub bundle: PathBuf,
    /// Submit this aggregated proof (`aggregated.json` from `zkmargin aggregate`) instead of
    /// the bundle's own proof.
    #[arg(long, value_name = "FILE")]
    pub aggregated: Option<PathBuf>,
    /// The verifier's calldata instead of the registry's `submitEpoch` call.
    #[arg(long)]
    pub verifier: bool,
}
