//! `aggregated.json`: an aggregated proof of one epoch, as `zkmargin aggregate` writes it.

use halo2_base::halo2_proofs::halo2curves::ff::FromUniformBytes;
use serde::{Deserialize, Serialize};
use zkmargin_layout::encoding::instance_words;
use zkmargin_layout::Fr;

/// The `format` of an aggregated proof file.
pub const AGGREGATED_FORMAT: &str = "zkmargin-aggregated/1";
/// The KZG accumulator's limbs that open an aggregated proof's instances (then `r` and `c`).
pub const ACCUMULATOR_WORDS: usize = 12;
/// Instances of an aggregated proof.
pub const AGGREGATED_INSTANCES: usize = ACCUMULATOR_WORDS + 2;

/// `r`: the statement digest as a field element (big-endian, reduced mod p), the point at
/// which an aggregated proof's statement is compressed.
pub fn compression_point(digest: &[u8; 32]) -> Fr {
    let mut wide = [0u8; 64];
    for (i, b) in digest.iter().rev().enumerate() {
        wide[i] = *b;
    }
    Fr::from_uniform_bytes(&wide)
}

/// `c = Σ_i s_i·r^(n−1−i)` (Horner), the compressed statement the aggregation circuit exposes
/// and the registry recomputes.
pub fn compress(statement: &[Fr], r: Fr) -> Fr {
    statement.iter().fold(Fr::zero(), |acc, s| acc * r + s)
}

/// The aggregation verifier's calldata: accumulator, `r`, `c`, then the proof.
pub fn verifier_calldata(
    file: &AggregatedFile,
    statement: &[Fr],
    digest: &[u8; 32],
) -> Result<Vec<u8>, AggregatedError> {
    let proof = file.registry_proof()?;
    let (acc, rest) = proof.split_at(32 * ACCUMULATOR_WORDS);
    let r = compression_point(digest);
    let mut out = acc.to_vec();
    out.extend(instance_words(&[r, compress(statement, r)]).concat());
    out.extend_from_slice(rest);
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
/// `aggregated.json`: an aggregated proof of one epoch, as `zkmargin aggregate` writes it.
pub struct AggregatedFile {
    /// [`AGGREGATED_FORMAT`].
    pub format: String,
    /// Hex: the statement digest of the epoch it aggregates.
    pub statement_digest: String,
    /// Hex 32-byte big-endian words: the accumulator's 12 limbs.
    pub accumulator: Vec<String>,
    /// Hex: the aggregation circuit's proof (Keccak transcript).
    pub proof: String,
}

#[derive(Debug, thiserror::Error)]
/// Why an aggregated proof file cannot be read.
pub enum AggregatedError {
    #[error("not a {AGGREGATED_FORMAT} file: {0}")]
    /// Not JSON of the format, or of another format.
    Malformed(String),
}

impl AggregatedFile {
    /// The file for the aggregated proof of the epoch whose statement digest is `statement_digest`.
    pub fn new(statement_digest: &[u8; 32], accumulator: &[Fr], proof: &[u8]) -> Self {
        AggregatedFile {
            format: AGGREGATED_FORMAT.into(),
            statement_digest: hex::encode(statement_digest),
            accumulator: instance_words(accumulator)
                .iter()
                .map(hex::encode)
                .collect(),
            proof: hex::encode(proof),
        }
    }

    /// Parses and checks the format; the contents are checked where they are used.
    pub fn parse(bytes: &[u8]) -> Result<Self, AggregatedError> {
        let f: AggregatedFile =
            serde_json::from_slice(bytes).map_err(|e| AggregatedError::Malformed(e.to_string()))?;
        if f.format != AGGREGATED_FORMAT {
            return Err(AggregatedError::Malformed(format!("format {:?}", f.format)));
        }
        if f.accumulator.len() != ACCUMULATOR_WORDS {
            return Err(AggregatedError::Malformed(format!(
                "{} accumulator words, expected {ACCUMULATOR_WORDS}",
                f.accumulator.len()
            )));
        }
        f.registry_proof()?;
        Ok(f)
    }

    /// The registry's `proof` argument: the accumulator words, then the proof.
    pub fn registry_proof(&self) -> Result<Vec<u8>, AggregatedError> {
        let mut out = Vec::new();
        for w in &self.accumulator {
            let word = hex::decode(w)
                .ok()
                .filter(|b| b.len() == 32)
                .ok_or_else(|| AggregatedError::Malformed(format!("accumulator word {w:?}")))?;
            out.extend(word);
        }
        out.extend(
            hex::decode(&self.proof)
                .map_err(|e| AggregatedError::Malformed(format!("proof: {e}")))?,
        );
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AggregatedFile {
        let acc: Vec<Fr> = (0..ACCUMULATOR_WORDS as u64).map(Fr::from).collect();
        AggregatedFile::new(&[7; 32], &acc, &[1, 2, 3])
    }

    #[test]
    fn round_trips_and_lays_out_the_registry_proof() {
        let f = sample();
        let parsed = AggregatedFile::parse(&serde_json::to_vec(&f).unwrap()).unwrap();
        assert_eq!(parsed, f);
        let proof = parsed.registry_proof().unwrap();
        assert_eq!(proof.len(), 32 * ACCUMULATOR_WORDS + 3);
        assert_eq!(proof[31], 0);
        assert_eq!(proof[63], 1, "accumulator words are big-endian");
        assert_eq!(&proof[32 * ACCUMULATOR_WORDS..], &[1, 2, 3]);
    }

    #[test]
    fn malformed_files_are_refused() {
        let good = serde_json::to_value(sample()).unwrap();
        let mut cases = vec![b"not json".to_vec(), b"{}".to_vec()];
        for (field, value) in [
            ("format", serde_json::json!("zkmargin-aggregated/0")),
            ("accumulator", serde_json::json!(vec!["00".repeat(32); 11])),
            ("accumulator", serde_json::json!(vec!["zz".repeat(32); 12])),
            ("accumulator", serde_json::json!(vec!["00"; 12])),
            ("proof", serde_json::json!("0x12")),
        ] {
            let mut v = good.clone();
            v[field] = value;
            cases.push(serde_json::to_vec(&v).unwrap());
        }
        for bytes in cases {
            assert!(
                AggregatedFile::parse(&bytes).is_err(),
                "accepted {}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }

    #[test]
    fn compression_is_horner_at_the_digest() {
        let r = compression_point(&[0xff; 32]);
        // 2^256 − 1 reduced mod p.
        let expected = Fr::from_uniform_bytes(&{
            let mut w = [0u8; 64];
            w[..32].fill(0xff);
            w
        });
        assert_eq!(r, expected);
        let s = [Fr::from(3), Fr::from(5), Fr::from(7)];
        assert_eq!(
            compress(&s, r),
            Fr::from(3) * r * r + Fr::from(5) * r + Fr::from(7)
        );
        assert_ne!(
            compress(&s, r),
            compress(&[Fr::from(5), Fr::from(3), Fr::from(7)], r)
        );
    }
}
