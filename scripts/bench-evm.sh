#!/usr/bin/env bash
# Gas table of the on-chain path: the direct verifier (chains without EIP-170) and, with
# --aggregated, the mainnet path through the aggregation circuit (2^21 rows: several minutes,
# about 6 GiB; needs the k = 21 SRS, generated on first use). Prints markdown tables.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --prefix scripts/node --no-audit --no-fund >/dev/null
filter=registry_accepts_a_chain_and_rejects_tampering
extra=()
if [[ "${1:-}" == "--aggregated" ]]; then
  filter=aggregated_verifier_fits_mainnet_and_the_registry_accepts_it
  extra=(--ignored)
fi
cargo test --release -p zkmargin-evm --test registry "$filter" -- --exact --nocapture "${extra[@]}" 2>&1 |
  grep -E '^\|'
