#!/usr/bin/env bash
# Times `zkmargin check` on a generated snapshot (default 10^6 accounts, 8 assets, 8 markets,
# 4 scenarios, 5 oracle sources, wide accounts.csv; with VENUE=v1 the bench venue V1 instead:
# 200 markets x 5 tiers, 12 collateral assets, 5 sources, long holdings.csv) and prints a table
# of runs plus the median wall time and peak RSS. Generation is not timed.
# Usage: [VENUE=v1] scripts/bench-check.sh [ACCOUNTS] [RUNS]
set -euo pipefail
ACCOUNTS=${1:-1000000}
RUNS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-$ROOT/target/bench-check}
BIN=$ROOT/target/release/zkmargin

cargo build --release -q -p zkmargin-cli --manifest-path "$ROOT/Cargo.toml"
VENUE=${VENUE:-}
if [[ -n $VENUE ]]; then
  SNAP=$WORK/$VENUE-$ACCOUNTS FILE=holdings.csv
  GEN=(--preset "$VENUE")
else
  SNAP=$WORK/snapshot-$ACCOUNTS FILE=accounts.csv
  GEN=(--assets 8 --markets 8 --scenarios 4 --sources 5)
fi
if [[ ! -f $SNAP/$FILE ]]; then
  echo "generating $ACCOUNTS accounts into $SNAP ..." >&2
  "$BIN" fixtures generate --accounts "$ACCOUNTS" --seed 42 "${GEN[@]}" --out "$SNAP"
fi
SIZE=$(du -m "$SNAP/$FILE" | cut -f1)

printf '%-6s %-10s %-10s %-12s %-14s\n' run accounts csv_MiB wall_s peak_RSS_MiB
walls=(); rss=()
for i in $(seq 1 "$RUNS"); do
  /usr/bin/time -f '%e %M' -o "$WORK/time.txt" "$BIN" check "$SNAP" --json > "$WORK/statement.json"
  read -r wall kb < "$WORK/time.txt"
  mib=$((kb / 1024))
  walls+=("$wall"); rss+=("$mib")
  printf '%-6s %-10s %-10s %-12s %-14s\n' "$i" "$ACCOUNTS" "$SIZE" "$wall" "$mib"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-6s %-10s %-10s %-12s %-14s\n' median "$ACCOUNTS" "$SIZE" "$(median "${walls[@]}")" "$(median "${rss[@]}")"
echo "(targets: <= 20 s wall, <= 1024 MiB peak RSS on 2 cores; V1: <= 10 s)"
