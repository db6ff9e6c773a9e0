//! Gas of a bundle's on-chain path, from the contracts `zkmargin export-verifier --bin` or
//! `zkmargin aggregate --bin` wrote:
//!
//!     cargo run --release -p zkmargin-evm --example evm_gas -- BUNDLE CONTRACTS_DIR
//!
//! Deploys the verifier and the registry in a local EVM (mainnet rules; the code size limit is
//! lifted only for a direct verifier, which exceeds it), verifies, submits the epoch, and prints
//! a markdown table. With `aggregated.json` in CONTRACTS_DIR the aggregated proof is used.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use zkmargin_bundle::Bundle;
use zkmargin_evm::aggregated::{verifier_calldata as aggregated_calldata, AggregatedFile};
use zkmargin_evm::local_chain::LocalChain;
use zkmargin_evm::registry::{direct_proof, submit_calldata, RegistryParams};
use zkmargin_evm::verifier_code::verifier_calldata;
use zkmargin_evm::EIP170_RUNTIME_LIMIT;

fn code(dir: &Path, name: &str) -> Result<Vec<u8>> {
    let path = dir.join(format!("{name}.bin"));
    let text = fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    hex::decode(text.trim()).with_context(|| format!("{}: not hex", path.display()))
}

fn main() -> Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [bundle_dir, dir] = args.as_slice() else {
        bail!("usage: evm_gas BUNDLE CONTRACTS_DIR");
    };
    let bundle = Bundle::read(bundle_dir)?;
    let params: RegistryParams = serde_json::from_slice(&fs::read(dir.join("registry.json"))?)?;
    let aggregated = match fs::read(dir.join("aggregated.json")) {
        Ok(bytes) => Some(AggregatedFile::parse(&bytes)?),
        Err(_) => None,
    };
    let mut chain = LocalChain::with_code_limits(aggregated.is_some());
    let verifier = chain
        .deploy(code(dir, "Halo2Verifier")?)
        .context("deploying the verifier")?;
    let mut registry_code = code(dir, "EpochRegistry")?;
    registry_code.extend(params.constructor_args(verifier.address)?);
    let registry = chain
        .deploy(registry_code)
        .context("deploying the registry")?;
    let declared = bundle.manifest.statement.declared_words();
    let (verify_data, proof) = match &aggregated {
        Some(file) => {
            if file.statement_digest != bundle.manifest.statement_digest {
                bail!("aggregated.json aggregates another epoch");
            }
            let digest = bundle
                .manifest
                .statement_digest_bytes()
                .context("the manifest's statement digest is not 32 bytes")?;
            (
                aggregated_calldata(file, &bundle.instances, &digest)?,
                file.registry_proof()?,
            )
        }
        None => {
            let shard = bundle
                .single_shard()
                .context("a direct proof needs an epoch of one shard")?;
            (
                verifier_calldata(&shard.instances, &shard.proof),
                direct_proof(&bundle)?,
            )
        }
    };
    let verify = chain
        .call(verifier.address, verify_data)
        .context("verifying")?;
    let submit = chain
        .call(
            registry.address,
            submit_calldata(&bundle.instances, &declared, &proof),
        )
        .context("submitting the epoch")?;
    let path = if aggregated.is_some() {
        "aggregated"
    } else {
        "direct"
    };
    println!("| {path} | gas | note |");
    println!("|---|---|---|");
    println!(
        "| deploy verifier | {} | runtime {} B (EIP-170: {EIP170_RUNTIME_LIMIT} B) |",
        verifier.gas, verifier.runtime_bytes
    );
    println!(
        "| deploy registry | {} | runtime {} B |",
        registry.gas, registry.runtime_bytes
    );
    println!(
        "| verify | {} | statement of {} words, {}-byte proof |",
        verify.gas,
        bundle.instances.len(),
        proof.len()
    );
    println!("| submitEpoch | {} | |", submit.gas);
    Ok(())
}
