#!/usr/bin/env bash
# Gas table of the on-chain path: the direct verifier (chains without EIP-170) and the slot
# registry at the test venue and at V1 (stub verifier); with --aggregated, the mainnet path
# through the aggregation circuit (2^21 rows: several minutes, about 11 GiB; needs the k = 21
# SRS, generated on first use) for a dense epoch and a slot-table epoch. Prints markdown
# tables and the slot registry's lines.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --prefix scripts/node --no-audit --no-fund >/dev/null
if [[ "${1:-}" == "--aggregated" ]]; then
  cargo test --release -p zkmargin-evm --test registry \
    aggregated_verifier_fits_mainnet_and_the_registry_accepts_it -- --exact --nocapture --ignored 2>&1 |
    grep -E '^\|'
  cargo test --release -p zkmargin-evm --test slot_registry \
    a_slot_epoch_aggregates_and_the_registry_accepts_it -- --exact --nocapture --ignored 2>&1 |
    grep -E '^\|'
else
  cargo test --release -p zkmargin-evm --test registry \
    registry_accepts_a_chain_and_rejects_tampering -- --exact --nocapture 2>&1 | grep -E '^\|'
  cargo test --release -p zkmargin-evm --test slot_registry -- --nocapture 2>&1 |
    grep -E '^slot registry'
fi
