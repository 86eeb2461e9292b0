#!/usr/bin/env bash
# Alert delivery benchmark: alerts/s and COMMIT → responder latency (p50, p99) for
# `skytrap listen`, beside bare LISTEN/NOTIFY measured in the same run (tests/bench/alerts.rs).
# Usage: tests/bench/alerts.sh   (after `make build install`: it uses the installed extension)
# The figures go to docs/benchmarks/alerts.md, docs/benchmarks.md and README.md
# (tests/bench/figures.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/figures.sh
bench_args="$*"
port=54349
dir=target/bench-pgdata
cargo build --release -q -p skytrap-loader -p skytrap-tests --bin alerts-bench
skytrap=target/release/skytrap
[ -f "$dir/PG_VERSION" ] && "$skytrap" db down --dir "$dir" || true
rm -rf "$dir"
"$skytrap" db up --dir "$dir" --port "$port" 2>/dev/null
trap '"$skytrap" db down --dir "$dir"' EXIT
echo "machine: $(machine)"
url=$("$skytrap" db url --dir "$dir" --port "$port")
out=$(DATABASE_URL=$url target/release/alerts-bench)
grep -v '^summary: ' <<<"$out"
# Which build of the extension the cluster loads.
so="$(/usr/lib/postgresql/15/bin/pg_config --pkglibdir)/skytrap.so"
build="neither target/release's nor target/debug's build"
cmp -s "$so" target/release/libskytrap.so && build="a release build"
cmp -s "$so" target/debug/libskytrap.so && build="a debug build"
{
    echo "Alerts delivered from COMMIT to the line \`skytrap listen\` prints (the extension $build):"
    echo
    grep '^|' <<<"$out"
} | publish_figures alerts "bare LISTEN/NOTIFY on PostgreSQL $(psql -qXAt "$url" -c "SHOW server_version" | cut -d' ' -f1)" \
    "$(sed -n 's/^summary: //p' <<<"$out")"
