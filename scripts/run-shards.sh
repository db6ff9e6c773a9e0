#!/usr/bin/env bash
# Proves every shard of a plan on this machine: `zkmargin prove-shard` per shard, JOBS at a
# time (xargs -P), each job a separate stateless process. Shards already proved are skipped,
# and a failed or killed shard is retried (up to ATTEMPTS rounds), so rerunning after a crash
# resumes. Then `zkmargin assemble PLAN --out BUNDLE` writes the bundle.
#
#   scripts/run-shards.sh PLAN [JOBS]        (JOBS defaults to 1: each job is multi-threaded)
#
# Environment: ZKMARGIN (the binary, default `zkmargin` on PATH), ATTEMPTS (default 3),
# ZKMARGIN_SRS_DIR (passed as --srs-dir when set).
set -euo pipefail

plan=${1:?usage: scripts/run-shards.sh PLAN [JOBS]}
jobs=${2:-1}
zkmargin=${ZKMARGIN:-zkmargin}
attempts=${ATTEMPTS:-3}
srs_args=()
if [[ -n "${ZKMARGIN_SRS_DIR:-}" ]]; then
    srs_args=(--srs-dir "$ZKMARGIN_SRS_DIR")
fi

shards=$(sed -n 's/^  "shards": \([0-9][0-9]*\),\{0,1\}$/\1/p' "$plan/plan.json")
if [[ -z "$shards" ]]; then
    echo "error: $plan/plan.json names no shard count" >&2
    exit 2
fi

for ((attempt = 1; attempt <= attempts; attempt++)); do
    if seq 0 $((shards - 1)) |
        xargs -P "$jobs" -I{} "$zkmargin" prove-shard "$plan" --shard {} "${srs_args[@]}"; then
        echo "all $shards shards of $plan proved" >&2
        exit 0
    fi
    echo "some shards failed (round $attempt of $attempts)" >&2
done
exit 1
