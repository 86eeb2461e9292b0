#!/usr/bin/env bash
# Extraction benchmark: skytrap's source finder against PySE 0.7.1 (radio-pyse, TraP's
# finder; moments and fit modes, one thread) and sep, on the same simulated images with the
# same settings, in one run: 8 sigma detection, 3 sigma analysis, 50x50-pixel background
# boxes, 10-pixel margin. Prints seconds per image, the sources each finds, and the ratios.
# Usage: tests/bench/extract.sh [REPEATS]   (default 5: median of 5 runs for skytrap and sep,
#        of 3 for PySE's moments, one run of PySE's fit mode; about 6 min on 2
#        cores, half of it importing PySE and its first call)
#
# Images: `skytrap simulate --steady N` (LOFAR-like, 25x20 arcsec beam, 5 arcsec pixels,
# correlated noise of 1 mJy/beam, sources of 20 to 200 sigma at least 4 beams apart):
# 2048x2048 with 3000 sources and 4096x4096 with 6000, plus the default 512x512 image for
# the first calls (numba compiles PySE's functions on first use).
# Python packages go in a venv under target/ (radio-pyse and sep from PyPI, pinned).
# The figures go to docs/benchmarks/extract.md, docs/benchmarks.md and README.md
# (tests/bench/figures.sh).
# The script times, so nothing else should run meanwhile: in this repository,
#   flock /tmp/skytrap-build.lock tests/bench/extract.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/figures.sh
bench_args="$*"
repeats=${1:-5}
if ! [[ $repeats =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [REPEATS]" >&2
    exit 2
fi
work=target/bench-extract
venv=target/bench-extract-venv
sudo=$([ "$(id -u)" = 0 ] || echo sudo)

make -s deps build >/dev/null
skytrap=target/release/skytrap

# Debian's python3 needs python3-venv for `python3 -m venv` (ensurepip).
if ! python3 -c 'import ensurepip' 2>/dev/null; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
if ! "$venv/bin/python" -c 'import sourcefinder, sep' 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip
    "$venv/bin/pip" install -q radio-pyse==0.7.1 sep==1.4.1
fi

mkdir -p "$work"
"$skytrap" simulate "$work/512" --epochs 1 --seed 7 >/dev/null
"$skytrap" simulate "$work/2048" --epochs 1 --seed 7 --size 2048 --steady 3000 >/dev/null
"$skytrap" simulate "$work/4096" --epochs 1 --seed 7 --size 4096 --steady 6000 >/dev/null

# "radio-pyse 0.7.1 and sep 1.4.1 (numba ..., numpy ..., scipy ..., Python ...)"
peers=$("$venv/bin/pip" list 2>/dev/null | awk -v python="$("$venv/bin/python" --version)" '
    $1 == "radio-pyse" || $1 == "sep" { peer[$1] = $1 " " $2 }
    $1 == "numba" || $1 == "numpy" || $1 == "scipy" { lib = lib $1 " " $2 ", " }
    END { printf "%s and %s (%s%s)", peer["radio-pyse"], peer["sep"], lib, python }')
echo "machine: $(machine); skytrap $("$skytrap" --version | cut -d' ' -f2), $peers"
# PySE and sep on one thread: numba, OpenMP and BLAS pools of one.
export NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
"$venv/bin/python" tests/bench/extract.py --figures "$work/figures.md" "$work/summary.md" \
    "$skytrap" "$work/512/epoch_001.fits" "$repeats" "$work/2048/epoch_001.fits" "$work/4096/epoch_001.fits"
publish_figures extract "$peers" "$(cat "$work/summary.md")" < "$work/figures.md"
