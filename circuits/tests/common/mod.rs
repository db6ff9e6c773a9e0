//! Shared set-up for circuit tests: small snapshots evaluated by the reference engine, turned
//! into honest witnesses, run through `MockProver`.

#![allow(dead_code)]

use std::path::Path;

use halo2_base::halo2_proofs::dev::{MockProver, VerifyFailure};
use zkmargin_circuits::keygen::mock_circuit;
use zkmargin_circuits::witness::MarginWitness;
use zkmargin_core::account_id::{account_id, derive_salt, AccountId};
use zkmargin_core::accounts::AccountRow;
use zkmargin_core::config::Config;
use zkmargin_core::engine::{evaluate, Outcome, Snapshot};
use zkmargin_core::statement::Statement;
use zkmargin_fixtures::{generate, GeneratorOptions};
use zkmargin_layout::encoding::encode;
use zkmargin_layout::shape::MarginShape;
use zkmargin_layout::Fr;

pub const K: u32 = 12;

pub struct Case {
    pub shape: MarginShape,
    pub config: Config,
    pub statement: Statement,
    pub accounts: Vec<(AccountId, AccountRow)>,
}

impl Case {
    pub fn from_dir(dir: &Path, rows: usize) -> Case {
        let snapshot = Snapshot::load(dir).expect("snapshot");
        let Outcome::Evaluated(eval) = evaluate(&snapshot, [3; 32]).expect("evaluates") else {
            panic!("halted")
        };
        let rows_data = snapshot.read_rows().unwrap();
        let mut accounts: Vec<(AccountId, AccountRow)> = rows_data
            .into_iter()
            .map(|r| {
                (
                    account_id(&r.identifier, &derive_salt(&[9; 32], &r.identifier)),
                    r,
                )
            })
            .collect();
        accounts.sort_by_key(|a| a.0);
        Case {
            shape: MarginShape::new(&snapshot.config, rows, K).unwrap(),
            config: snapshot.config,
            statement: eval.statement,
            accounts,
        }
    }

    pub fn generated(options: GeneratorOptions, rows: usize) -> Case {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("snap");
        generate(&options, &out).unwrap();
        Case::from_dir(&out, rows)
    }

    /// A generated snapshot whose config declares `[bounds]` (`bounds` is the table's body).
    pub fn with_bounds(options: GeneratorOptions, rows: usize, bounds: &str) -> Case {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("snap");
        generate(&options, &out).unwrap();
        let config = out.join("config.toml");
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(&config, format!("{text}\n[bounds]\n{bounds}\n")).unwrap();
        Case::from_dir(&out, rows)
    }

    pub fn fixture(name: &str, rows: usize) -> Case {
        Case::from_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../fixtures")
                .join(name),
            rows,
        )
    }

    pub fn witness(&self) -> MarginWitness {
        MarginWitness::honest(&self.shape, &self.config, &self.statement, &self.accounts)
            .expect("honest witness")
    }

    /// The statement's instances followed by the table's id range (one shard: the epoch).
    pub fn instances(&self) -> Vec<Fr> {
        let mut v = encode(&self.shape, &self.config, &self.statement).expect("encodes");
        let w = self.witness();
        v.extend([w.rows[0].id, w.rows[self.shape.rows - 1].id]);
        v
    }
}

/// The name of each distinct unsatisfied constraint, sorted: a named polynomial of our gates
/// by its name, an unnamed one (halo2-base's gate) as `gate '<name>'`, a failed lookup as
/// `lookup '<name>'`, a broken copy constraint as `copy constraint`.
pub fn failure_names(failures: &[VerifyFailure]) -> Vec<String> {
    let mut names: Vec<String> = failures
        .iter()
        .map(|f| match f {
            VerifyFailure::ConstraintNotSatisfied { constraint, .. }
            | VerifyFailure::ConstraintPoisoned { constraint } => {
                // "Constraint i ('name') in gate g ('gate')" or "Constraint i in gate g ('gate')"
                let text = constraint.to_string();
                let quoted: Vec<&str> = text.split('\'').skip(1).step_by(2).collect();
                match quoted.as_slice() {
                    [name, _gate] => name.to_string(),
                    [gate] => format!("gate '{gate}'"),
                    _ => text,
                }
            }
            VerifyFailure::Lookup { name, .. } => format!("lookup '{name}'"),
            VerifyFailure::Permutation { .. } => "copy constraint".to_string(),
            other => other.to_string(),
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Runs `witness` through MockProver against `instances`: `Ok` iff every constraint holds,
/// else the names of the failed constraints ([`failure_names`]).
pub fn mock(witness: &MarginWitness, instances: Vec<Fr>) -> Result<(), Vec<String>> {
    let (circuit, _) = mock_circuit(witness);
    let prover = MockProver::run(witness.shape.k, &circuit, vec![instances])
        .map_err(|e| vec![format!("synthesis: {e:?}")])?;
    prover.verify().map_err(|errors| failure_names(&errors))
}

/// A small snapshot shaped like the demo: 4 assets, 4 markets, 3 sources, 2 scenarios.
pub fn small_case() -> Case {
    Case::generated(
        GeneratorOptions {
            accounts: 12,
            seed: 77,
            under_margined_bps: 2000,
            bad_debt_bps: 1000,
            ..Default::default()
        },
        16,
    )
}

/// Runs `witness` against the instances the circuit itself computes from it, so a failure can
/// only come from an internal constraint (not from a mismatch with the statement).
pub fn mock_own(witness: &MarginWitness) -> Result<(), Vec<String>> {
    let (circuit, instances) = mock_circuit(witness);
    let prover = MockProver::run(witness.shape.k, &circuit, vec![instances])
        .map_err(|e| vec![format!("synthesis: {e:?}")])?;
    prover.verify().map_err(|errors| failure_names(&errors))
}
