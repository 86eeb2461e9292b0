#!/usr/bin/env bash
# Runs each cargo-fuzz target of fuzz/ for SECONDS (default 60) and fails if one crashes.
#
#   tests/fuzz/run.sh [SECONDS]
#
# cargo-fuzz needs nightly compiler flags (-Zsanitizer=address, sancov); with only the
# stable toolchain, RUSTC_BOOTSTRAP=1 lets stable rustc accept them. cargo-fuzz itself is
# installed from crates.io if missing. Seeds: the hostile corpus of
# tests/hostile/make_corpus.py (whole files for fits_file, their headers for header_wcs).
# Crashes are left in fuzz/artifacts/<target>/; reproduce one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>
# Builds and runs take the shared build lock when SKYTRAP_BUILD_LOCK names one.
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root/fuzz"
locked() {
    if [ -n "${SKYTRAP_BUILD_LOCK:-}" ]; then flock "$SKYTRAP_BUILD_LOCK" "$@"; else "$@"; fi
}
if ! cargo fuzz --version >/dev/null 2>&1; then
    locked cargo install cargo-fuzz --version 0.13.2 --locked
fi
export RUSTC_BOOTSTRAP=1

seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
python3 "$root/tests/hostile/make_corpus.py" "$seeds/files" >/dev/null
rm -f "$seeds/files/expected.tsv"
mkdir -p "$seeds/headers"
for f in "$seeds"/files/*.fits; do
    head -c 5760 "$f" > "$seeds/headers/$(basename "$f")"
done

locked cargo fuzz build --release
# The targets by name: a failed or empty `cargo fuzz list` must not fuzz nothing and pass,
# and a new target is added here.
targets="fits_file header_wcs"
listed=$(cargo fuzz list | sort | xargs)
if [ "$listed" != "$targets" ]; then
    echo "fuzz: cargo fuzz list gives '$listed', this script runs '$targets'" >&2
    exit 1
fi
for target in $targets; do
    case $target in
        fits_file) seed=$seeds/files; max_len=80000 ;;
        *) seed=$seeds/headers; max_len=8000 ;;
    esac
    mkdir -p "corpus/$target"
    echo "fuzz: $target for $seconds s"
    locked cargo fuzz run --release "$target" "corpus/$target" "$seed" -- \
        -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=4096 -timeout=10 \
        -print_final_stats=1 2>&1 | tail -n 25
done
echo "fuzz: $(echo "$targets" | wc -w) passed, 0 failed"
