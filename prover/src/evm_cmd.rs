//! `zkmargin export-verifier` and `zkmargin calldata`: the on-chain path for a bundle.

use std::fs;
use std::path::Path;

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::ProvingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkmargin_bundle::srs::{self, SrsKind};
use zkmargin_bundle::Bundle;
use zkmargin_circuits::keys::CircuitLayout;
use zkmargin_core::config::Config;
use zkmargin_evm::aggregated::{
    verifier_calldata as aggregated_calldata, AggregatedFile, ACCUMULATOR_WORDS,
};
use zkmargin_evm::registry::{
    direct_proof, submit_calldata, RegistryError, RegistryParams, REGISTRY_CONTRACT,
    REGISTRY_SOURCE,
};
use zkmargin_evm::solc::Optimizer;
use zkmargin_evm::verifier_code::{
    aggregation_verifier, epoch_verifier, verifier_calldata, VERIFIER_CONTRACT,
};
use zkmargin_prover::aggregate;

use crate::cli::{AggregateArgs, CalldataArgs, ExportVerifierArgs};

/// The aggregated proof's file name in `zkmargin aggregate --out`.
const AGGREGATED_FILE: &str = "aggregated.json";
use crate::exit;
use zkmargin_prover::progress::phase;

/// A bundle opened for the on-chain commands.
struct OnchainBundle {
    bundle: Bundle,
    config: Config,
    kind: SrsKind,
    digest: [u8; 32],
}

/// Opens `path`; every failure is unusable input.
fn read_bundle(path: &Path) -> Result<OnchainBundle, String> {
    let bundle = Bundle::read(path).map_err(|e| e.to_string())?;
    bundle.admitted_shape().map_err(|e| e.to_string())?;
    let config = Config::parse(&bundle.config_toml)
        .map_err(|e| format!("{}: config.toml: {e}", path.display()))?;
    let kind = srs_kind(&bundle)?;
    let digest = bundle.manifest.statement_digest_bytes().ok_or_else(|| {
        format!(
            "{}: the statement digest is not 32 hex bytes",
            path.display()
        )
    })?;
    Ok(OnchainBundle {
        bundle,
        config,
        kind,
        digest,
    })
}

/// Opens `path` with the parameters of a registry for it (aggregated or direct proofs).
fn read_for_registry(
    path: &Path,
    aggregated: bool,
) -> Result<(OnchainBundle, RegistryParams), String> {
    let b = read_bundle(path)?;
    let params = if aggregated {
        RegistryParams::aggregated(&b.bundle, &b.config)
    } else {
        RegistryParams::direct(&b.bundle, &b.config)
    }
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((b, params))
}

fn unusable(e: impl std::fmt::Display) -> u8 {
    eprintln!("error: {e}");
    exit::INPUT
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), String> {
    fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes the verifier, the registry and its parameters to `out`, compiled too with `bin`.
fn write_contracts(
    out: &Path,
    verifier: &str,
    params: &RegistryParams,
    bin: bool,
) -> Result<(), String> {
    fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    write(&out.join(format!("{VERIFIER_CONTRACT}.sol")), verifier)?;
    write(
        &out.join(format!("{REGISTRY_CONTRACT}.sol")),
        REGISTRY_SOURCE,
    )?;
    let json = serde_json::to_string_pretty(params).expect("params serialize");
    write(&out.join("registry.json"), json + "\n")?;
    if bin {
        for (name, source, optimizer) in [
            (VERIFIER_CONTRACT, verifier, Optimizer::Off),
            (REGISTRY_CONTRACT, REGISTRY_SOURCE, Optimizer::On),
        ] {
            let code = phase(&format!("compiling {name}"), || {
                zkmargin_evm::solc::compile(source, name, optimizer)
            })
            .map_err(|e| e.to_string())?;
            eprintln!("{name}: {} bytes of creation code", code.len());
            write(&out.join(format!("{name}.bin")), hex::encode(code))?;
        }
    }
    eprintln!(
        "wrote {}: {VERIFIER_CONTRACT}.sol, {REGISTRY_CONTRACT}.sol, registry.json",
        out.display()
    );
    Ok(())
}

fn srs_kind(bundle: &Bundle) -> Result<SrsKind, String> {
    SrsKind::from_label(&bundle.manifest.srs.source)
        .ok_or_else(|| format!("unknown SRS {:?}", bundle.manifest.srs.source))
}

/// The epoch circuit's proving key for `bundle`'s shape (cached).
fn epoch_key(
    bundle: &Bundle,
    srs: &ParamsKZG<Bn256>,
    kind: SrsKind,
) -> Result<(ProvingKey<G1Affine>, CircuitLayout), String> {
    let (pk, layout, _) = phase("proving key", || {
        zkmargin_prover::keystore::load_or_generate(
            &zkmargin_prover::keystore::default_dir(),
            srs,
            kind.label(),
            &bundle.manifest.shape,
        )
    })
    .map_err(|e| format!("key generation: {e:?}"))?;
    Ok((pk, layout))
}

fn finish(result: Result<(), String>) -> u8 {
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("error: {e}");
            exit::FAILURE
        }
    }
}

pub fn export_verifier(args: &ExportVerifierArgs) -> u8 {
    let (b, params) = match read_for_registry(&args.bundle, false) {
        Ok(x) => x,
        Err(e) => return unusable(e),
    };
    let (bundle, kind) = (&b.bundle, b.kind);
    let out = &args.contracts;
    let srs_dir = out.srs_dir.clone().unwrap_or_else(srs::default_dir);
    finish((|| {
        let srs = srs::load(&srs_dir, kind, bundle.manifest.shape.k).map_err(|e| e.to_string())?;
        let (pk, _) = epoch_key(bundle, &srs, kind)?;
        let verifier = phase("verifier generation", || {
            epoch_verifier(&srs, pk.get_vk(), bundle.shards[0].instances.len())
        });
        write_contracts(&out.out, &verifier, &params, out.bin)
    })())
}

pub fn aggregate(args: &AggregateArgs) -> u8 {
    let (b, params) = match read_for_registry(&args.bundle, true) {
        Ok(x) => x,
        Err(e) => return unusable(e),
    };
    let prepared = zkmargin_prover::epoch::master_secret(&args.bundle)
        .and_then(|master| zkmargin_prover::epoch::reprepare(&args.bundle, &b.bundle, master));
    let epoch = match prepared {
        Ok(e) => e,
        Err(e) => return unusable(e),
    };
    let (bundle, kind, digest) = (&b.bundle, b.kind, b.digest);
    let out = &args.contracts;
    let srs_dir = out.srs_dir.clone().unwrap_or_else(srs::default_dir);
    finish((|| {
        let srs = srs::load(&srs_dir, kind, bundle.manifest.shape.k).map_err(|e| e.to_string())?;
        let (pk, layout) = epoch_key(bundle, &srs, kind)?;
        let snarks = phase("shard proofs (Poseidon transcript)", || {
            aggregate::shard_snarks(&srs, &pk, &layout, &epoch)
        })
        .map_err(|e| e.to_string())?;
        let shape = &bundle.manifest.shape;
        let agg_srs =
            srs::load(&srs_dir, kind, aggregate::AGGREGATION_K).map_err(|e| e.to_string())?;
        let key_dir = zkmargin_prover::keystore::default_dir();
        let mut key = |children: Vec<aggregate::Child>, root: bool| {
            let (pk, layout, cached) = phase("aggregation key", || {
                zkmargin_prover::keystore::load_or_generate_aggregation(
                    &key_dir,
                    &agg_srs,
                    kind.label(),
                    shape,
                    children,
                    root,
                )
            })?;
            eprintln!(
                "aggregation {} ({}): {:?}",
                if root { "root" } else { "node" },
                if cached {
                    "key cached"
                } else {
                    "key generated"
                },
                layout.params
            );
            Ok((pk, layout))
        };
        let (proof, agg_pk) = aggregate::fold(
            &agg_srs,
            shape,
            snarks,
            &digest,
            &mut key,
            rand::rngs::OsRng,
        )
        .map_err(|e| e.to_string())?;
        let r = aggregate::compression_point(&digest);
        if proof.instances[ACCUMULATOR_WORDS..] != [r, aggregate::compress(&bundle.instances, r)] {
            return Err("internal: the aggregated proof compresses another statement".into());
        }
        let file = AggregatedFile::new(&digest, proof.accumulator(), &proof.proof);
        let verifier = phase("verifier generation", || {
            aggregation_verifier(&agg_srs, agg_pk.get_vk(), proof.instances.len())
        });
        write_contracts(&out.out, &verifier, &params, out.bin)?;
        let json = serde_json::to_string_pretty(&file).expect("aggregated file serializes");
        write(&out.out.join(AGGREGATED_FILE), json + "\n")?;
        eprintln!(
            "aggregated proof: {} bytes, {} instances",
            proof.proof.len(),
            proof.instances.len()
        );
        Ok(())
    })())
}

/// Reads `aggregated.json` and checks it aggregates `bundle`'s statement.
/// Reads `aggregated.json` and checks it aggregates `bundle`'s statement.
fn read_aggregated(path: &Path, bundle: &Bundle) -> Result<AggregatedFile, String> {
    let bytes = fs::read(path).map_err(|e| e.to_string())?;
    let file = AggregatedFile::parse(&bytes).map_err(|e| e.to_string())?;
    if file.statement_digest != bundle.manifest.statement_digest {
        return Err("it aggregates another epoch's statement".into());
    }
    Ok(file)
}

pub fn calldata(args: &CalldataArgs) -> u8 {
    let b = match read_bundle(&args.bundle) {
        Ok(b) => b,
        Err(e) => return unusable(e),
    };
    let bundle = &b.bundle;
    let declared = bundle.manifest.statement.declared_words();
    let data = match &args.aggregated {
        None if args.verifier => bundle
            .single_shard()
            .map(|shard| verifier_calldata(&shard.instances, &shard.proof))
            .ok_or_else(|| RegistryError::Sharded(bundle.shards.len()).to_string()),
        None => direct_proof(bundle)
            .map(|proof| submit_calldata(&bundle.instances, &declared, &proof))
            .map_err(|e| e.to_string()),
        Some(path) => read_aggregated(path, bundle)
            .and_then(|file| {
                if args.verifier {
                    aggregated_calldata(&file, &bundle.instances, &b.digest)
                } else {
                    file.registry_proof()
                        .map(|proof| submit_calldata(&bundle.instances, &declared, &proof))
                }
                .map_err(|e| e.to_string())
            })
            .map_err(|e| format!("{}: {e}", path.display())),
    };
    match data {
        Ok(data) => {
            println!("0x{}", hex::encode(data));
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::INPUT
        }
    }
}
