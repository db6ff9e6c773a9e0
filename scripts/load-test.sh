#!/usr/bin/env bash
# Bounded load test of `zkmargin serve` on loopback: publishes a generated snapshot into a
# fresh archive (unless ARCHIVE exists), starts the server with the per-address limit raised
# (all load comes from one address), then POSTs inclusion requests with every holder's token
# from CONNECTIONS keep-alive clients for SECONDS, sampling the server's resident memory every
# second. Prints the load generator's line and the server's RSS at start, after warm-up and at
# the end.
#   scripts/load-test.sh [ACCOUNTS] [SECONDS] [CONNECTIONS]     env: LOAD_DIR
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ACCOUNTS=${1:-1000}
SECONDS_=${2:-30}
CONN=${3:-32}
WORK=${LOAD_DIR:-$ROOT/target/load}
BIN=$ROOT/target/release
cargo build --release -q -p zkmargin-cli --manifest-path "$ROOT/Cargo.toml"
cargo build --release -q -p zkmargin-serve --example load --manifest-path "$ROOT/Cargo.toml"
mkdir -p "$WORK"
SRC=$WORK/source-$ACCOUNTS
ARCHIVE=$WORK/archive-$ACCOUNTS
if [[ ! -d $ARCHIVE ]]; then
  "$BIN/zkmargin" fixtures generate --accounts "$ACCOUNTS" --seed 9 --out "$SRC/snap-1" >/dev/null
  "$BIN/zkmargin" epoch "$SRC" "$ARCHIVE"
fi
"$BIN/zkmargin" token "$ARCHIVE" --csv "$SRC/snap-1/accounts.csv" | cut -d, -f2 > "$WORK/tokens.txt"
"$BIN/zkmargin" serve "$ARCHIVE" --addr 127.0.0.1:0 --rate 1000000 --burst 1000000 \
  2> "$WORK/serve.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$WORK/serve.log" && break
  sleep 0.1
done
URL=$(sed -n 's/^listening on //p' "$WORK/serve.log")
rss() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status"; }
: > "$WORK/rss.txt"
( while kill -0 "$SERVER" 2>/dev/null; do rss >> "$WORK/rss.txt"; sleep 1; done ) &
SAMPLER=$!
START_RSS=$(rss)
"$ROOT/target/release/examples/load" --url "$URL" --tokens "$WORK/tokens.txt" \
  --seconds "$SECONDS_" --connections "$CONN"
kill "$SAMPLER" 2>/dev/null || true
awk -v start="$START_RSS" '
  { v[NR] = $1; if ($1 > max) max = $1 }
  END {
    warm = (NR >= 5) ? v[5] : v[NR];
    printf "server RSS: %.1f MiB before load, %.1f MiB after 5 s, %.1f MiB at the end, max %.1f MiB (%d samples)\n",
      start / 1024, warm / 1024, v[NR] / 1024, max / 1024, NR
  }' "$WORK/rss.txt"
