#!/usr/bin/env bash
# Alert delivery benchmark: alerts/s and COMMIT → responder latency (p50, p99) for
# `skytrap listen`, beside bare LISTEN/NOTIFY measured in the same run.
# Usage: tests/bench/alerts.sh   (after `make build install`)
set -euo pipefail
cd "$(dirname "$0")/../.."
port=54349
dir=target/bench-pgdata
cargo build --release -q -p skytrap-loader -p skytrap-tests --bin alerts-bench
skytrap=target/release/skytrap
[ -f "$dir/PG_VERSION" ] && "$skytrap" db down --dir "$dir" || true
rm -rf "$dir"
"$skytrap" db up --dir "$dir" --port "$port" 2>/dev/null
trap '"$skytrap" db down --dir "$dir"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
DATABASE_URL=$("$skytrap" db url --dir "$dir" --port "$port") target/release/alerts-bench
