#!/usr/bin/env bash
# Times `zkmargin check` on a generated snapshot (default 10^6 accounts, 8 assets, 8 markets,
# 4 scenarios, 5 oracle sources) and prints a table of runs plus the median wall time and
# peak RSS. Usage: scripts/bench-check.sh [ACCOUNTS] [RUNS]
set -euo pipefail
ACCOUNTS=${1:-1000000}
RUNS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-$ROOT/target/bench-check}
BIN=$ROOT/target/release/zkmargin

cargo build --release -q -p zkmargin-cli --manifest-path "$ROOT/Cargo.toml"
SNAP=$WORK/snapshot-$ACCOUNTS
if [[ ! -f $SNAP/accounts.csv ]]; then
  echo "generating $ACCOUNTS accounts into $SNAP ..." >&2
  "$BIN" fixtures generate --accounts "$ACCOUNTS" --seed 42 --assets 8 --markets 8 --scenarios 4 --sources 5 --out "$SNAP"
fi
SIZE=$(du -m "$SNAP/accounts.csv" | cut -f1)

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
echo "(targets: <= 20 s wall, <= 1024 MiB peak RSS on 2 cores)"
