#!/usr/bin/env bash
# The main job on the bundled demo snapshot: prove epoch 1 of fixtures/demo into out/demo-epoch,
# then verify the bundle with the independent verifier. Uses the development SRS (INSECURE,
# generated once and cached under $ZKMARGIN_HOME or ~/.cache/zkmargin).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
cargo build --release -q -p zkmargin-cli
rm -rf out/demo-epoch
./target/release/zkmargin prove fixtures/demo --out out/demo-epoch
./target/release/zkmargin-verify bundle out/demo-epoch
# One account holder's view: an inclusion proof for the first account, checked against the bundle.
ACCOUNT=$(sed -n 2p fixtures/demo/accounts.csv | cut -d, -f1)
./target/release/zkmargin inclusion out/demo-epoch --account "$ACCOUNT" --out out/demo-inclusion.json
./target/release/zkmargin-verify inclusion out/demo-epoch out/demo-inclusion.json --identifier "$ACCOUNT"
