#!/usr/bin/env bash
# Proving benchmark: for each account count (default 2^10 2^14 2^16), generates a snapshot
# (4 assets, 4 markets, 3 sources, 2 scenarios), proves it with the development SRS, verifies
# it, and prints: accounts, k, columns, keygen s, prove s, peak RSS, proof bytes, verify ms,
# and the efficiency figure prove_s / (committed columns x one MSM of 2^k).
# Usage: scripts/bench-prove.sh [ACCOUNTS...]    (env RUNS=n repeats each proof, median kept)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-$ROOT/target/bench-prove}
RUNS=${RUNS:-1}
BIN=$ROOT/target/release
mkdir -p "$WORK"
cargo build --release -q -p zkmargin-cli --manifest-path "$ROOT/Cargo.toml"
cargo build --release -q -p zkmargin-prover --example msm --manifest-path "$ROOT/Cargo.toml"
SIZES=("$@")
[[ ${#SIZES[@]} -eq 0 ]] && SIZES=(1024 16384 65536)

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-9s %-3s %-8s %-9s %-9s %-11s %-11s %-10s %-11s %-10s\n' accounts k columns keygen_s prove_s peak_RSS_MiB proof_bytes verify_ms vk_rebuild_s efficiency
for N in "${SIZES[@]}"; do
  SNAP=$WORK/s$N
  [[ -f $SNAP/accounts.csv ]] || "$BIN/zkmargin" fixtures generate --accounts "$N" --seed 7 --assets 4 --markets 4 --sources 3 --scenarios 2 --out "$SNAP" 2>/dev/null
  proves=(); keygens=(); rss=()
  for r in $(seq 1 "$RUNS"); do
    rm -rf "$WORK/b$N"
    /usr/bin/time -f '%M' -o "$WORK/rss.txt" "$BIN/zkmargin" prove "$SNAP" --out "$WORK/b$N" 2> "$WORK/prove$N.log"
    proves+=("$(sed -n 's/^proving: \([0-9.]*\) s$/\1/p' "$WORK/prove$N.log")")
    keygens+=("$(sed -n 's/^key generation: \([0-9.]*\) s$/\1/p' "$WORK/prove$N.log")")
    rss+=("$(( $(cat "$WORK/rss.txt") / 1024 ))")
  done
  layout=$(grep '^layout:' "$WORK/prove$N.log")
  K=$(sed -n 's/.*k = \([0-9]*\),.*/\1/p' <<< "$layout")
  COLS=$(sed -n 's/.*, \([0-9]*\) committed columns.*/\1/p' <<< "$layout")
  BYTES=$(stat -c %s "$WORK/b$N/shards/0000/proof.bin")
  detail=$("$BIN/zkmargin-verify" bundle "$WORK/b$N" --no-key-cache | grep 'SNARK verifies')
  VMS=$(sed -n 's/.*SNARKs checked in \([0-9.]*\) ms.*/\1/p' <<< "$detail")
  VK=$(sed -n 's/.*key rebuilt in \([0-9.]*\) s.*/\1/p' <<< "$detail")
  MSM=$("$ROOT/target/release/examples/msm" "$K" 3)
  PROVE=$(median "${proves[@]}")
  EFF=$(awk -v p="$PROVE" -v c="$COLS" -v m="$MSM" 'BEGIN {printf "%.1f", p * 1000 / (c * m)}')
  printf '%-9s %-3s %-8s %-9s %-9s %-11s %-11s %-10s %-11s %-10s\n' "$N" "$K" "$COLS" "$(median "${keygens[@]}")" "$PROVE" "$(median "${rss[@]}")" "$BYTES" "$VMS" "$VK" "$EFF"
done
echo "(efficiency = prove time / (committed columns x one MSM of 2^k); 1.0 would mean proving costs only its commitments)"
