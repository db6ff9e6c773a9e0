#!/usr/bin/env bash
# Scale benchmark. For each account count (default 2^14 2^16 2^18 2^20) generates a snapshot with
# 8 assets, 8 markets, 4 stress scenarios and 5 oracle sources, proves it with the development
# SRS in shards of 2^SHARD_K rows (default 15) on this machine (`zkmargin prove --shard-k`: one
# process, one shard after another, both cores per shard), verifies the bundle, and prints:
#   accounts, shards, k, prove_s (end to end: evaluate, salt, sort, plan, prove every shard,
#   assemble), accounts/s, peak RSS, proof bytes (all shards), verify ms (every shard's SNARK).
# Each dense size is proved twice: with the default bounds and with declared [bounds]
# (DECLARED, default 64-bit balances, 48-bit sizes, 64-bit costs, 32-bit prices), printing the
# limbs range-checked per account. Then the equal-work row (docs/semantics.md, "Per account"):
# liabilities only (no markets, no scenarios), 2^16 accounts x 4 assets, one shard. Then venue
# V1 (200 markets x 5 tiers, 12 collateral assets, 5 sources, 4 cases; V1_ACCOUNTS, default
# 10^6, generation not timed): `zkmargin check`; then V1_PROVE_ACCOUNTS (default 2^14) proved
# by the slot table, per class (k, capacity, columns, cells and limbs per account, prove s).
#   scripts/bench.sh [ACCOUNTS...]        env: SHARD_K, RUNS (median of n runs), BENCH_DIR
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-$ROOT/target/bench}
RUNS=${RUNS:-1}
SHARD_K=${SHARD_K:-15}
BIN=$ROOT/target/release
mkdir -p "$WORK"
cargo build --release -q -p zkmargin-cli --manifest-path "$ROOT/Cargo.toml"
SIZES=("$@")
[[ ${#SIZES[@]} -eq 0 ]] && SIZES=(16384 65536 262144 1048576)

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# row LABEL SNAPSHOT SHARD_K: proves, verifies and prints one table row.
row() {
  local label=$1 snap=$2 shard_k=$3 n b walls=() rss=()
  n=$(( $(wc -l < "$snap/accounts.csv") - 1 ))
  b=$WORK/bundle-$label
  for _ in $(seq 1 "$RUNS"); do
    rm -rf "$b"
    /usr/bin/time -f '%e %M' -o "$WORK/time.txt" \
      "$BIN/zkmargin" prove "$snap" --out "$b" --shard-k "$shard_k" 2> "$WORK/prove-$label.log"
    read -r wall kib < "$WORK/time.txt"
    walls+=("$wall"); rss+=("$(( kib / 1024 ))")
  done
  local k shards bytes verify wall limbs
  k=$(sed -n 's/^layout: k = \([0-9]*\),.*/\1/p' "$WORK/prove-$label.log")
  limbs=$(sed -n 's/^layout: .*, \([0-9]*\) limbs per account.*/\1/p' "$WORK/prove-$label.log")
  shards=$(ls "$b/shards" | wc -l)
  bytes=$(cat "$b"/shards/*/proof.bin | wc -c)
  verify=$("$BIN/zkmargin-verify" bundle "$b" --no-key-cache | sed -n 's/.*SNARKs checked in \([0-9.]*\) ms.*/\1/p')
  wall=$(median "${walls[@]}")
  printf '%-22s %-9s %-7s %-3s %-6s %-9s %-11s %-13s %-12s %-10s\n' "$label" "$n" "$shards" "$k" "$limbs" "$wall" \
    "$(awk -v n="$n" -v s="$wall" 'BEGIN {printf "%.0f", n / s}')" "$(median "${rss[@]}")" "$bytes" "$verify"
}

DECLARED=${DECLARED:-$'balance_bits = 64\nsize_bits = 48\ncost_bits = 64\nprice_bits = 32'}
printf '%-22s %-9s %-7s %-3s %-6s %-9s %-11s %-13s %-12s %-10s\n' config accounts shards k limbs prove_s accounts/s peak_RSS_MiB proof_bytes verify_ms
for N in "${SIZES[@]}"; do
  SNAP=$WORK/s$N
  [[ -f $SNAP/accounts.csv ]] || "$BIN/zkmargin" fixtures generate --accounts "$N" --seed 7 \
    --assets 8 --markets 8 --scenarios 4 --sources 5 --out "$SNAP" 2>/dev/null
  row "8x8x4x5-$N" "$SNAP" "$SHARD_K"
  BOUNDED=$WORK/s$N-bounds
  if [[ ! -f $BOUNDED/accounts.csv ]]; then
    rm -rf "$BOUNDED"; cp -r "$SNAP" "$BOUNDED"
    printf '\n[bounds]\n%s\n' "$DECLARED" >> "$BOUNDED/config.toml"
  fi
  row "8x8x4x5-bounds-$N" "$BOUNDED" "$SHARD_K"
done
LIAB=$WORK/liabilities-65536
[[ -f $LIAB/accounts.csv ]] || "$BIN/zkmargin" fixtures generate --accounts 65536 --seed 7 \
  --assets 4 --markets 0 --scenarios 0 --sources 3 --out "$LIAB" 2>/dev/null
row liabilities-only "$LIAB" 16
echo "(SHARD_K=$SHARD_K; the liabilities-only row is one shard of 2^16 rows: Summa v2 takes 122-136 s for it on this machine)"

V1_ACCOUNTS=${V1_ACCOUNTS:-1000000}
V1=$WORK/v1-$V1_ACCOUNTS
[[ -f $V1/holdings.csv ]] || "$BIN/zkmargin" fixtures generate --preset v1 --accounts "$V1_ACCOUNTS" --seed 7 --out "$V1" 2>/dev/null
walls=(); rss=()
for _ in $(seq 1 "$RUNS"); do
  /usr/bin/time -f '%e %M' -o "$WORK/time.txt" "$BIN/zkmargin" check "$V1" > /dev/null
  read -r wall kib < "$WORK/time.txt"; walls+=("$wall"); rss+=("$(( kib / 1024 ))")
done
echo
printf '%-22s %-9s %-9s %-9s %-13s\n' venue accounts entries check_s peak_RSS_MiB
printf '%-22s %-9s %-9s %-9s %-13s\n' V1 "$V1_ACCOUNTS" "$(( $(wc -l < "$V1/holdings.csv") - 1 ))" "$(median "${walls[@]}")" "$(median "${rss[@]}")"

# V1 proved end to end by the slot table (V1_PROVE_ACCOUNTS, default 2^14: 10^6 takes hours
# here), one row per class from the prover's log, then the totals and the verifier.
VP=${V1_PROVE_ACCOUNTS:-16384}
VS=$WORK/v1-$VP
[[ -f $VS/holdings.csv ]] || "$BIN/zkmargin" fixtures generate --preset v1 --accounts "$VP" --seed 7 --out "$VS" 2>/dev/null
rm -rf "$WORK/bundle-v1"
/usr/bin/time -f '%e %M' -o "$WORK/time.txt" "$BIN/zkmargin" prove "$VS" --out "$WORK/bundle-v1" 2> "$WORK/prove-v1.log"
read -r vwall vrss < "$WORK/time.txt"
printf '\n%-7s %-4s %-9s %-8s %-11s %-8s %-9s\n' class k capacity columns cells/acct limbs prove_s
awk '/^class of/ {s=$3; k=$7; gsub(",","",k); cap=$11; col=$13; cells=$16; limbs=$19}
     /^proving:/ && s {printf "%-7s %-4s %-9s %-8s %-11s %-8s %-9s\n", s, k, cap, col, cells, limbs, $2; s=""}' "$WORK/prove-v1.log"
/usr/bin/time -f '%e %M' -o "$WORK/time.txt" "$BIN/zkmargin-verify" bundle "$WORK/bundle-v1" > /dev/null
read -r twall trss < "$WORK/time.txt"
echo "V1 $VP accounts: prove ${vwall} s end to end, peak RSS $((vrss / 1024)) MiB; bundle $(du -sb "$WORK/bundle-v1" | cut -f1) B; verify ${twall} s, $((trss / 1024)) MiB"
