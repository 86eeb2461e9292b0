#!/usr/bin/env bash
# Association benchmark: the time of one skytrap.associate_image call, for images of 1e3
# and 1e4 sources, as a survey's running catalogue grows from 1e4 to MAX_CATALOGUE sources,
# beside TraP's association in set-based SQL (tests/bench/trap_associate.sql) as TraP wrote
# it and with a good btree, on the same data in the same run.
# Usage: tests/bench/associate.sh [MAX_CATALOGUE]   (default 1000000; a multiple of 10000;
#        set SKYTRAP_BENCH_NO_BUILD=1 to use the installed extension and built CLI as they are,
#        SKYTRAP_BENCH_RUNS to time each call that many times, default 5)
#        tests/bench/associate.sh --epochs N [--image SOURCES] [CATALOGUE]
#                                  (default SOURCES 10000, CATALOGUE 100000)
#
# With --epochs the catalogue stays at CATALOGUE and its lightcurves grow instead: epoch k
# is a visit of the first tile on day k with an image of SOURCES sources, associated by
# skytrap and committed, so before it the image's lightcurves have k points. At epochs 1,
# 2, 5, 10, 20, 30, 50, 100, 200, 500, 1000 (and N) each method is timed on that epoch's
# image as below, before the commit. Every epoch's committed call is timed too (one run,
# inside the server); those times go to target/bench/associate-epochs.csv (epoch, ms) with
# the least-squares line through them (ms = a + b k), whose slope b is the cost of one more
# point per lightcurve, and the ratio of epoch N's median to epoch 10's is printed.
#
# The survey (tests/bench/associate_catalogue.sql): tiles of 25 square degrees with 1e4
# sources each (400 per square degree, none closer than 2.25 arcmin) around (180, 30), one
# earlier image per tile; each catalogue source a one-point lightcurve. Catalogue sizes are
# 1e4, 1e5, ... up to MAX (and MAX itself). The image associated at every size is a later
# visit of the first tile: 90 % of its sources within 0.3 arcsec of catalogue sources (1 %
# of those three times brighter), 10 % new; blind detections only (no forced fits). Search
# radius 3 x 10 arcsec. The first tile has 100 earlier visits (images that saw nothing
# new, hourly in the days before), so the statements that read a field's images are timed
# at a survey's depth and each new source's alert packet carries 100 upper limits. One
# more image, timed for skytrap alone (trap_associate.sql has no null detections), is the
# 1e4-source image as the loader delivers it: every hundredth matched source seen as two
# (a fork), and a forced fit at each of the tile's 1e4 lightcurves, which association
# drops where a blind detection extends the lightcurve.
#
# A timed call is `BEGIN; <call>; <count what it wrote>; ROLLBACK;` with \timing on the call
# alone (the image's sources are loaded once, outside the timing), median of 5 runs, the
# tables vacuumed before each run (autovacuum is off). The call's work counted: links,
# running catalogue and flux rows, sky-region links, varmetric, newsource and the alerts
# its trigger raises. TraP's function does the same work (see its header) and must write
# the same number of one-to-one links, new lightcurves, new sources and alerts.
#
# Each method runs with only its own indexes on runningcatalog besides the primary and
# xtrsrc keys:
#   skytrap      skytrap's schema: the pixel index of xmatch.sql
#   trap         TraP's schema: one btree each on dataset, zone, wm_ra, wm_decl,
#                wm_uncertainty_ew, wm_uncertainty_ns, x, y, z; its query as written
#                (`zone BETWEEN`), which scans whole 1-degree zones
#   trap_idx     one btree on (zone, wm_ra, wm_decl), the zones named (`zone = ANY`), so each
#                source reads one short RA range per zone; (zone, wm_decl, wm_ra) reads the
#                whole declination strip of the zone and is slower; plus a partial index on
#                runningcatalog (id) WHERE inactive for TraP's clean-up statements; the
#                candidates' flux rows looked up by key (TraP's join hashes the whole flux
#                table once the planner misjudges the number of candidates, as at 1e7)
#   trap_step    a TraP 4 timestep: trap_idx, then TraP's varmetric step, which deleted and
#                recomputed the varmetric rows of the whole dataset after every timestep
#                (trap.store_varmetric; reference 3.8, tkp issue #544). trap and trap_idx
#                instead update the rows of the lightcurves the image touched, as skytrap
#                does: an improvement TraP never had, given to it for the comparison.
# JIT and parallel query are off for every method; random_page_cost is 1.1 (all in memory:
# with the default 4 the planner reads whole tables by hash joins in some of the statements
# of both skytrap and TraP). pg_stat_statements is loaded for the breakdown at the end.
#
# The figures go to docs/benchmarks/associate.md (with --epochs: associate-epochs.md),
# docs/benchmarks.md and README.md (tests/bench/figures.sh), when every method wrote the
# same rows.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/figures.sh
bench_args="$*"
start=$(date +%s)
epochs=""
image_sources=10000
if [ "${1:-}" = --epochs ]; then
    epochs=${2:-}
    shift 2 || true
    if [ "${1:-}" = --image ]; then
        image_sources=${2:-}
        shift 2 || true
    fi
    max=${1:-100000}
    if ! [[ $epochs =~ ^[0-9]+$ ]] || [ "$epochs" -lt 1 ] || ! [[ $image_sources =~ ^[0-9]+$ ]] ||
        [ "$image_sources" -lt 1 ] || [ "$image_sources" -gt 10000 ]; then
        echo "usage: $0 --epochs N [--image SOURCES] [CATALOGUE]   (N at least 1, SOURCES 1 to 10000)" >&2
        exit 2
    fi
else
    max=${1:-1000000}
fi
if ! [[ $max =~ ^[0-9]+$ ]] || [ "$max" -lt 10000 ] || [ $((max % 10000)) -ne 0 ]; then
    echo "usage: $0 [MAX_CATALOGUE] | --epochs N [CATALOGUE]   (a multiple of 10000, at least 10000)" >&2
    exit 2
fi
port=54371
dir=target/bench-assoc-pgdata
timeout=120
# Repeats of each timing; the median is reported. This machine's neighbours make single
# runs vary by half, so three runs are not enough to see a 1.3x growth.
runs=${SKYTRAP_BENCH_RUNS:-5}
if ! [[ $runs =~ ^[0-9]+$ ]] || [ "$runs" -lt 1 ]; then
    echo "SKYTRAP_BENCH_RUNS must be a whole number of runs, at least 1 (got '$runs')" >&2
    exit 2
fi
if [ -z "${SKYTRAP_BENCH_NO_BUILD:-}" ]; then
    make -s deps install-release build >/dev/null
fi
skytrap=target/release/skytrap
if [ -f "$dir/PG_VERSION" ]; then "$skytrap" db down --dir "$dir" || true; fi
rm -rf "$dir"
"$skytrap" db up --dir "$dir" --port "$port" 2>/dev/null
url=$("$skytrap" db url --dir "$dir" --port "$port")
psql -qX "$url" -c "ALTER SYSTEM SET shared_buffers = '2GB'" -c "ALTER SYSTEM SET jit = off" \
     -c "ALTER SYSTEM SET max_parallel_workers_per_gather = 0" -c "ALTER SYSTEM SET autovacuum = off" \
     -c "ALTER SYSTEM SET work_mem = '32MB'" -c "ALTER SYSTEM SET maintenance_work_mem = '512MB'" \
     -c "ALTER SYSTEM SET max_wal_size = '8GB'" -c "ALTER SYSTEM SET synchronous_commit = off" \
     -c "ALTER SYSTEM SET random_page_cost = 1.1" \
     -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
"$skytrap" db down --dir "$dir" && "$skytrap" db up --dir "$dir" --port "$port" 2>/dev/null
trap '"$skytrap" db down --dir "$dir"' EXIT
q() { psql -qXAt -v ON_ERROR_STOP=1 "$url" "$@"; }
# Wall time of one command in seconds.
secs() { local t0; t0=$(date +%s.%N); "$@" >/dev/null; awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

sizes=()
for ((s = 10000; s <= max; s *= 10)); do sizes+=("$s"); done
if [ "${sizes[-1]}" -ne "$max" ]; then sizes+=("$max"); fi
images="1000 10000"
methods="skytrap trap trap_idx trap_step"

q -c "CREATE EXTENSION pg_stat_statements"
q -f tests/bench/associate_catalogue.sql >/dev/null
q -f tests/bench/trap_associate.sql >/dev/null
q -c "SELECT bench.grow(1)" -c "SELECT trap.sync_varmetric()" >/dev/null
# The first tile has been observed 100 times before the benchmark's images.
q -c "SELECT bench.visits(100)" >/dev/null
declare -A img
if [ -z "$epochs" ]; then
    for n in $images; do
        img[$n]=$(q -c "SELECT bench.make_image($n, 'bench-$n')")
    done
    # skytrap alone: trap_associate.sql has no null detections.
    img[loaded]=$(q -c "SELECT bench.make_loaded_image(10000, 'bench-loaded')")
fi

# skytrap's own indexes on runningcatalog, to drop while TraP runs and to put back.
skytrap_indexes=$(q -c "SELECT string_agg(pg_get_indexdef(indexrelid), ';') FROM pg_index
                        WHERE indrelid = 'skytrap.runningcatalog'::regclass
                          AND NOT indisunique AND NOT indisprimary")
skytrap_index_names=$(q -c "SELECT string_agg(indexrelid::regclass::text, ',') FROM pg_index
                            WHERE indrelid = 'skytrap.runningcatalog'::regclass
                              AND NOT indisunique AND NOT indisprimary")
indexes_up() {
    case $1 in
        skytrap) ;;
        trap) q -c "DROP INDEX $skytrap_index_names" -c "$(for c in dataset zone wm_ra wm_decl wm_uncertainty_ew wm_uncertainty_ns x y z; do
                        printf 'CREATE INDEX trap_rc_%s ON skytrap.runningcatalog (%s);' "$c" "$c"; done)" ;;
        trap_idx | trap_step) q -c "DROP INDEX $skytrap_index_names" \
                    -c "CREATE INDEX trap_rc_zone_ra_decl ON skytrap.runningcatalog (zone, wm_ra, wm_decl);
                        CREATE INDEX trap_rc_inactive ON skytrap.runningcatalog (id) WHERE inactive" ;;
    esac
    q -c "ANALYZE skytrap.runningcatalog"
}
indexes_down() {
    case $1 in
        skytrap) ;;
        trap) q -c "DROP INDEX $(for c in dataset zone wm_ra wm_decl wm_uncertainty_ew wm_uncertainty_ns x y z; do
                                 printf 'skytrap.trap_rc_%s,' "$c"; done | sed 's/,$//')" -c "$skytrap_indexes" ;;
        trap_idx | trap_step) q -c "DROP INDEX skytrap.trap_rc_zone_ra_decl, skytrap.trap_rc_inactive" -c "$skytrap_indexes" ;;
    esac
}
call() {
    case $1 in
        skytrap) echo "SELECT 'call', * FROM skytrap.associate_image($2)" ;;
        trap) echo "SELECT 'call', * FROM trap.associate_image($2, false)" ;;
        trap_idx) echo "SELECT 'call', * FROM trap.associate_image($2, true)" ;;
        trap_step) echo "SELECT 'call', * FROM trap.timestep($2)" ;;
    esac
}
# What the call wrote, counted before the rollback: type 3, type 4 and fork (2, 6) links,
# new runningcatalog rows, flux rows of the touched lightcurves, sky-region links of the new
# ones, their varmetric rows, newsource rows, alerts; and checksums of the touched
# lightcurves' positions, counts and flux sums, of their varmetric values and of the
# links' previous points. skytrap's varmetric is a view, TraP's a table (trap.varmetric).
counts() {
    local varmetric=trap.varmetric
    if [ "$2" = skytrap ]; then varmetric=skytrap.varmetric; fi
    cat <<SQL
WITH x AS (SELECT id FROM skytrap.extractedsource WHERE image = $1),
     a AS (SELECT a.* FROM skytrap.assocxtrsource a JOIN x ON x.id = a.xtrsrc),
     touched AS (SELECT DISTINCT runcat FROM a)
SELECT 'rows',
       (SELECT count(*) FROM a WHERE type = 3), (SELECT count(*) FROM a WHERE type = 4),
       (SELECT count(*) FROM a WHERE type IN (2, 6)),
       (SELECT count(*) FROM skytrap.runningcatalog r JOIN x ON x.id = r.xtrsrc),
       (SELECT count(*) FROM skytrap.runningcatalog_flux f JOIN touched t ON t.runcat = f.runcat),
       (SELECT count(*) FROM skytrap.assocskyrgn s JOIN skytrap.runningcatalog r ON r.id = s.runcat
                                                   JOIN x ON x.id = r.xtrsrc),
       (SELECT count(*) FROM $varmetric v JOIN touched t ON t.runcat = v.runcat),
       (SELECT count(*) FROM skytrap.newsource n JOIN x ON x.id = n.trigger_xtrsrc),
       (SELECT count(*) FROM skytrap.alert WHERE image = $1),
       (SELECT round(sum(r.wm_decl)::numeric, 6) || '/' || round(sum(r.wm_ra)::numeric, 6) || '/'
               || sum(r.datapoints) || '/' || round(sum(f.sum_f_int)::numeric, 8)
        FROM touched t JOIN skytrap.runningcatalog r ON r.id = t.runcat
                       JOIN skytrap.runningcatalog_flux f ON f.runcat = t.runcat)
       || '/' || (SELECT round(sum(v.v_int + v.eta_int + v.lightcurve_max + v.lightcurve_avg
                                   + v.lightcurve_median + v.datapoints)::numeric, 4)
                  FROM touched t JOIN $varmetric v ON v.runcat = t.runcat)
       || '/' || (SELECT coalesce(sum(prev_xtrsrc), 0) FROM a)
SQL
}
# One timed run: "ms|matched|new_runcat|new_sources|rows..." or "timeout".
run_once() {
    q -c "VACUUM skytrap.runningcatalog, skytrap.runningcatalog_flux, skytrap.assocxtrsource,
          skytrap.assocskyrgn, trap.varmetric, skytrap.newsource, skytrap.alert, skytrap.image,
          skytrap.extractedsource, trap.temprunningcatalog"
    { psql -qXAt -v ON_ERROR_STOP=1 "$url" 2>&1 <<SQL || true
SET statement_timeout = '${timeout}s';
BEGIN;
\timing on
$(call "$1" "$2");
\timing off
$(counts "$2" "$1");
ROLLBACK;
SQL
    } | awk -F'|' '/^call\|/ {c = $2 "|" $3 "|" $4}
                   /^Time:/ {split($0, w, " "); ms = w[2]}
                   /^rows\|/ {r = substr($0, 6)}
                   /statement timeout/ {to = 1}
                   /ERROR/ && !/statement timeout/ {print > "/dev/stderr"; err = 1}
                   END {if (to) print "timeout"; else if (err || ms == "") print "error"; else print ms "|" c "|" r}'
}

declare -A ms rows calls
declare -A skip
# Methods that failed or wrote other rows than skytrap: the run then exits non-zero.
failures=()
report_failures() {
    if [ ${#failures[@]} -gt 0 ]; then
        printf 'FAILED: %s\n' "${failures[@]}" >&2
        exit 1
    fi
    exit 0
}
printf 'machine: %s cores, %s\n' "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
# Which build of the extension the cluster loads: a debug build makes skytrap's Rust slow.
so="$(/usr/lib/postgresql/15/bin/pg_config --pkglibdir)/skytrap.so"
if cmp -s "$so" target/release/libskytrap.so; then
    extension_build="a release build"
    echo "extension: release build (target/release/libskytrap.so)"
elif cmp -s "$so" target/debug/libskytrap.so; then
    extension_build="a DEBUG build: skytrap's times are not representative"
    echo "extension: DEBUG build (target/debug/libskytrap.so): skytrap's times are not representative"
else
    extension_build="neither target/release's nor target/debug's build"
    echo "extension: $so is neither target/release's nor target/debug's build"
fi
if [ -z "$epochs" ]; then
    printf 'catalogue sizes: %s; images of %s sources\n\n' "${sizes[*]}" "$images"
fi
# a / b; a method that hit the time limit gives a lower bound.
ratio() {
    awk -v a="$1" -v b="$2" -v limit="$((timeout * 1000))" 'BEGIN {
        if ((a == "timeout" || a ~ /^>/) && b + 0 > 0) printf "> %.0f×", limit / b
        else if (a + 0 > 0 && b + 0 > 0) printf "%.1f×", a / b
        else print "-" }'
}
# The median of column $1 of the lines on standard input (the lower middle of an even count).
median_of() { awk -v i="$1" '{print $i}' | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# A time for the figures: a method stopped at the time limit gives a lower bound.
cell() { case $1 in timeout | '>'*) echo "> $(figure $((timeout * 1000)))" ;; *) figure "$1" ;; esac; }
# Times method $2 on image $3 into ms, calls and rows [$1,$2]: median of $runs, once above 10 s.
time_method() {
    local key=$1 m=$2 image=$3 out rest run times=()
    if [ -n "${skip[$m,${key#*,}]:-}" ]; then
        ms[$key,$m]=">${timeout}s"
        return
    fi
    for ((run = 0; run < runs; run++)); do
        out=$(run_once "$m" "$image")
        if [ "$out" = timeout ] || [ "$out" = error ]; then
            times=("$out")
            break
        fi
        times+=("${out%%|*}")
        rest=${out#*|}
        calls[$key,$m]=$(cut -d'|' -f1-3 <<<"$rest")
        rows[$key,$m]=$(cut -d'|' -f4- <<<"$rest")
        # A slow method is timed once.
        awk -v t="${times[0]}" 'BEGIN { exit !(t > 10000) }' && break
    done
    if [ "${times[0]}" = timeout ]; then
        ms[$key,$m]=timeout
        skip[$m,${key#*,}]=1
    elif [ "${times[0]}" = error ]; then
        ms[$key,$m]=error
        failures+=("$m failed on $key")
    else
        ms[$key,$m]=$(printf '%s\n' "${times[@]}" | median_of 1)
    fi
    printf '%s ms (runs: %s)\n' "${ms[$key,$m]}" "${times[*]}"
}

# Every statement one skytrap call on image $1 runs, nested ones included (trigger,
# foreign-key checks, alert bodies), as "ms calls statement", rolled back.
profile_call() {
    q -c "VACUUM skytrap.runningcatalog, skytrap.runningcatalog_flux, skytrap.assocxtrsource,
          skytrap.assocskyrgn, trap.varmetric, skytrap.newsource, skytrap.alert, skytrap.image" \
      -c "SELECT pg_stat_statements_reset()" >/dev/null
    psql -qXAt -v ON_ERROR_STOP=1 "$url" >/dev/null <<SQL
SET pg_stat_statements.track = 'all';
BEGIN;
$(call skytrap "$1");
ROLLBACK;
SQL
    q -c "SELECT to_char(total_exec_time, '99990.0') || to_char(calls, '9999999') || '  '
                 || left(regexp_replace(query, '\s+', ' ', 'g'), 100)
          FROM pg_stat_statements
          WHERE query !~* '^(BEGIN|ROLLBACK|SET)' AND total_exec_time >= 1
          ORDER BY total_exec_time DESC"
}

if [ -n "$epochs" ]; then
    n=$image_sources
    t=$(secs q -c "SELECT bench.grow($((max / 10000)))" -c "SELECT trap.sync_varmetric()")
    echo "catalogue $max: built in ${t} s; $epochs epochs of a $n-source image of its first tile"
    sampled=" $(printf '%s\n' 1 2 5 10 20 30 50 100 200 500 1000 "$epochs" | awk -v n="$epochs" '$1 <= n && !seen[$1]++' | xargs) "
    csv=target/bench/associate-epochs.csv
    profiles=""
    # The epoch later ones are compared with (and profiled beside the last).
    first=10
    if [ "$epochs" -lt 10 ]; then first=1; fi
    mkdir -p target/bench
    echo "epoch,skytrap_ms" >"$csv"
    for ((k = 1; k <= epochs; k++)); do
        image=$(q -c "SELECT bench.make_image($n, 'epoch-$k')")
        q -c "UPDATE skytrap.image SET taustart_ts = timestamp '2025-06-01' + $k * interval '1 day'
              WHERE id = $image" -c "VACUUM ANALYZE"
        if [[ $sampled == *" $k "* ]]; then
            echo "epoch $k (the image's lightcurves have $k points before it):"
            for m in skytrap trap_idx trap_step; do
                indexes_up "$m"
                printf '  %-9s ' "$m"
                time_method "e$k,$n" "$m" "$image"
                indexes_down "$m"
            done
            if [ "$k" -eq "$first" ] || [ "$k" -eq "$epochs" ]; then
                profiles+="
skytrap's call at epoch $k: the statements it runs (ms, calls)
$(profile_call "$image")
"
            fi
        fi
        echo "$k,$(q -c "SELECT bench.timed_associate($image)")" >>"$csv"
    done
    # The least-squares line through every epoch's committed call.
    read -r intercept slope < <(awk -F, 'NR > 1 { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 }
        END { b = (n * sxy - sx * sy) / (n * sxx - sx * sx); printf "%.1f %.2f\n", (sy - b * sx) / n, b }' "$csv")
    echo
    echo "Time of one association call as lightcurves grow (ms; catalogue $max, image of $n sources):"
    printf '%6s %9s %10s %10s %7s %7s  %s\n' epoch skytrap trap_idx trap_step "idx/" "step/" "rows (all methods must agree)"
    for k in $sampled; do
        s=${ms[e$k,$n,skytrap]}; b=${ms[e$k,$n,trap_idx]}; c=${ms[e$k,$n,trap_step]}
        agree=same
        for m in trap_idx trap_step; do
            if [ "${rows[e$k,$n,$m]:-}" != "${rows[e$k,$n,skytrap]:-}" ]; then
                agree="$m DIFFERS"
                failures+=("$m differs from skytrap at epoch $k")
            fi
        done
        printf '%6s %9s %10s %10s %7s %7s  %s\n' "$k" "$s" "$b" "$c" "$(ratio "$b" "$s")" "$(ratio "$c" "$s")" "$agree"
    done
    growth=$(ratio "${ms[e$epochs,$n,skytrap]}" "${ms[e$first,$n,skytrap]}")
    echo "skytrap at epoch $epochs over epoch $first: $growth (goal: at most 1.25x); every epoch's committed call (${csv}): intercept $intercept ms, slope $slope ms per epoch"
    echo "$profiles"
    if [ ${#failures[@]} -eq 0 ]; then
        {
            echo "Time of one association call in ms (median of $runs; the extension $extension_build) as the"
            echo "image's lightcurves grow:"
            echo "a $(power_of_ten "$max")-source catalogue, a $(power_of_ten "$n")-source image whose lightcurves have k points before"
            echo "epoch k; each TraP method's time over skytrap's in the last two columns:"
            echo
            echo "| epoch | skytrap | TraP, btree | TraP 4 timestep | btree / skytrap | timestep / skytrap |"
            echo "|---|---|---|---|---|---|"
            for k in $sampled; do
                s=${ms[e$k,$n,skytrap]}; b=${ms[e$k,$n,trap_idx]}; c=${ms[e$k,$n,trap_step]}
                printf '| %s | %s | %s | %s | %s | %s |\n' "$k" "$(cell "$s")" "$(cell "$b")" "$(cell "$c")" \
                    "$(ratio "$b" "$s")" "$(ratio "$c" "$s")"
            done
            echo
            echo "skytrap at epoch $epochs over epoch $first: $growth (the goal: at most 1.25×). The least-squares line through every epoch's"
            echo "committed call (one run each, timed in the server; \`$csv\`): intercept $intercept ms, slope $slope ms"
            echo "per epoch."
        } | publish_figures associate-epochs "TraP's association in SQL (tests/bench/trap_associate.sql) on PostgreSQL $(q -c "SHOW server_version" | cut -d' ' -f1)"
    fi
    elapsed=$(($(date +%s) - start))
    printf '\ntotal run time: %d min %02d s\n' $((elapsed / 60)) $((elapsed % 60))
    report_failures
fi

for size in "${sizes[@]}"; do
    t=$(secs q -c "SELECT bench.grow($((size / 10000)))" -c "SELECT trap.sync_varmetric()")
    v=$(secs q -c "VACUUM ANALYZE")
    q -c "CHECKPOINT"
    echo "catalogue $size: built in ${t} s (+${v} s VACUUM ANALYZE)"
    for m in $methods; do
        indexes_up "$m"
        for n in $images; do
            printf '  %-9s image %5s: ' "$m" "$n"
            time_method "$size,$n" "$m" "${img[$n]}"
        done
        if [ "$m" = skytrap ]; then
            printf '  %-9s image %5s: ' "$m" loaded
            time_method "$size,loaded" "$m" "${img[loaded]}"
        fi
        indexes_down "$m"
    done
done

echo
echo "Time of one association call (ms, median of $runs; the call's COMMIT-free work, rolled back):"
printf '%-10s %6s %9s %10s %10s %10s %7s %7s %7s\n' catalogue image skytrap trap trap_idx trap_step \
    "trap/" "idx/" "step/"
for size in "${sizes[@]}"; do
    for n in $images; do
        s=${ms[$size,$n,skytrap]}; a=${ms[$size,$n,trap]}; b=${ms[$size,$n,trap_idx]}; c=${ms[$size,$n,trap_step]}
        printf '%-10s %6s %9s %10s %10s %10s %7s %7s %7s\n' "$size" "$n" "$s" "$a" "$b" "$c" \
            "$(ratio "$a" "$s")" "$(ratio "$b" "$s")" "$(ratio "$c" "$s")"
    done
done
echo "(the ratios are each TraP method's time over skytrap's)"
echo
echo "The 1e4-source image as the loader delivers it (90 forks; a forced fit at each of the tile's"
echo "1e4 lightcurves, 9 000 of them redundant), skytrap alone (ms, median of $runs); the tile"
echo "observed 100 times before:"
for size in "${sizes[@]}"; do
    printf '  catalogue %8s: %s ms  (rows: %s)\n' "$size" "${ms[$size,loaded,skytrap]}" \
        "$(cut -d'|' -f1-9 <<<"${rows[$size,loaded,skytrap]:-}" | tr '|' ' ')"
done
printf '  growth from %s to %s: %s\n' "${sizes[0]}" "${sizes[-1]}" \
    "$(ratio "${ms[${sizes[-1]},loaded,skytrap]}" "${ms[${sizes[0]},loaded,skytrap]}")"
echo
echo "Growth of skytrap's time from the smallest to the largest catalogue (goal: at most 1.2x):"
for n in $images; do
    printf '  image %5s: %s ms -> %s ms = %s\n' "$n" "${ms[${sizes[0]},$n,skytrap]}" "${ms[${sizes[-1]},$n,skytrap]}" \
        "$(ratio "${ms[${sizes[-1]},$n,skytrap]}" "${ms[${sizes[0]},$n,skytrap]}")"
done
for size in 1000000 10000000; do
    if [ -n "${ms[$size,10000,skytrap]:-}" ]; then
        echo "At catalogue $size: skytrap ${ms[$size,10000,skytrap]} ms with the 1e4 image (goal: at most 300 ms),"\
             "${ms[$size,1000,skytrap]} ms with the 1e3 image (goal: at most 40 ms)"
    fi
done
echo "TraP well indexed / skytrap at ${sizes[-1]}: $(ratio "${ms[${sizes[-1]},1000,trap_idx]}" "${ms[${sizes[-1]},1000,skytrap]}") (1e3 image),"\
     "$(ratio "${ms[${sizes[-1]},10000,trap_idx]}" "${ms[${sizes[-1]},10000,skytrap]}") (1e4 image)"
echo "TraP 4 timestep (well indexed, with its whole-dataset varmetric step) / skytrap at ${sizes[-1]}:"\
     "$(ratio "${ms[${sizes[-1]},1000,trap_step]}" "${ms[${sizes[-1]},1000,skytrap]}") (1e3 image),"\
     "$(ratio "${ms[${sizes[-1]},10000,trap_step]}" "${ms[${sizes[-1]},10000,skytrap]}") (1e4 image)"
echo
echo "Rows written by skytrap's call: links type 3 / type 4 / fork, new runcat, flux rows of"
echo "touched lightcurves, sky-region links, varmetric, newsource, alerts (all methods must agree):"
printf '%-10s %6s %-9s %s\n' catalogue image method "matched|new_runcat|new_sources returned; rows written; checksum"
for size in "${sizes[@]}"; do
    for n in $images; do
        for m in $methods; do
            r=${rows[$size,$n,$m]:-}
            [ -z "$r" ] && continue
            flag=""
            if [ "$m" != skytrap ] && [ "$r" != "${rows[$size,$n,skytrap]:-}" ]; then
                flag="  <-- DIFFERS from skytrap"
                failures+=("$m differs from skytrap at catalogue $size, image $n")
            fi
            printf '%-10s %6s %-9s %s; %s%s\n' "$size" "$n" "$m" "${calls[$size,$n,$m]}" "$(cut -d'|' -f1-9 <<<"$r" | tr '|' ' ')" "$flag"
            if [ -n "$flag" ]; then
                printf '%27s checksum %s vs skytrap %s\n' "" "$(cut -d'|' -f10 <<<"$r")" \
                    "$(cut -d'|' -f10 <<<"${rows[$size,$n,skytrap]:-}")"
            fi
        done
    done
done
# The floor under any association in SQL on these tables: bare statements that write only
# the one-to-one rows of the 1e4 image (its sources within 1 arcsec of a catalogue source,
# paired before the timing) into the largest catalogue, with no decisions, no new
# lightcurves and no alerts: the links (with their previous points),
# the moved positions and the flux rows (sums, last point, extremes), which is all the
# layout keeps per point. Median of $runs, rolled back.
# With $2 = bare, the same statements on the tables stripped, inside the rolled-back
# transaction, of every index and foreign key (session_replication_role = replica fires no
# foreign-key triggers) but the keys the updates find their rows by:
# what the writes cost before anything keeps them consistent or findable.
floor_once() {
    local strip=""
    if [ "${2:-}" = bare ]; then
        strip="SET session_replication_role = replica;
ALTER TABLE skytrap.assocxtrsource DROP CONSTRAINT assocxtrsource_pkey,
    DROP CONSTRAINT assocxtrsource_runcat_taustart_ts_xtrsrc_key;
DROP INDEX skytrap.assocxtrsource_xtrsrc_idx, skytrap.runningcatalog_pixel;
ALTER TABLE skytrap.runningcatalog DROP CONSTRAINT runningcatalog_xtrsrc_key;"
    fi
    psql -qXAt -v ON_ERROR_STOP=1 "$url" <<SQL | awk '/^Time:/ {printf "%s ", $2} END {print ""}'
BEGIN;
CREATE TEMP TABLE pair AS
SELECT DISTINCT ON (x.id) x.id AS xtrsrc, r.id AS runcat, x.f_int, x.f_int_err
FROM skytrap.extractedsource x
JOIN skytrap.runningcatalog r ON skytrap.xmatch(r.wm_ra, r.wm_decl, x.ra, x.decl, 1 / 3600.0)
WHERE x.image = $1
ORDER BY x.id, r.id;
ANALYZE pair;
$strip
\\timing on
INSERT INTO skytrap.assocxtrsource (runcat, xtrsrc, type, distance_arcsec, r, v_int, eta_int, f_datapoints,
                                    prev_xtrsrc, taustart_ts)
SELECT runcat, xtrsrc, 3, 0.1, 0.1, 0, 0, 2, xtrsrc - 1, timestamp '2025-06-01' FROM pair;
UPDATE skytrap.runningcatalog r SET datapoints = datapoints + 1, wm_ra = wm_ra + 1e-7,
       wm_decl = wm_decl + 1e-7, sum_weight_ra = sum_weight_ra * 2, sum_weight_decl = sum_weight_decl * 2
FROM pair p WHERE r.id = p.runcat;
UPDATE skytrap.runningcatalog_flux f SET f_datapoints = f_datapoints + 1,
       sum_f_int = sum_f_int + p.f_int, sum_f_int_sq = sum_f_int_sq + p.f_int ^ 2,
       sum_f_peak = sum_f_peak + p.f_int, sum_f_peak_sq = sum_f_peak_sq + p.f_int ^ 2,
       last_ts = last_ts + interval '1 day', last_prev_xtrsrc = last_xtrsrc,
       last_xtrsrc = p.xtrsrc, last_f_int = p.f_int, max_f_int = greatest(max_f_int, p.f_int)
FROM pair p WHERE f.runcat = p.runcat;
\\timing off
ROLLBACK;
SQL
}
echo
echo "Floor at catalogue ${sizes[-1]}: bare SQL writes of the ${images##* }-source image's one-to-one rows (ms, median of $runs);"
echo "on the tables as they are, and stripped of their indexes and foreign keys but the keys the updates look up:"
q -c "VACUUM skytrap.runningcatalog, skytrap.runningcatalog_flux, skytrap.assocxtrsource"
floors=() bare=()
for ((run = 0; run < runs; run++)); do
    floors+=("$(floor_once "${img[${images##* }]}")")
    bare+=("$(floor_once "${img[${images##* }]}" bare)")
done
total=0 bare_total=0
declare -A floor_ms bare_ms
printf '  %-10s %8s %8s\n' "" tables stripped
for i in 1 2 3; do
    m=$(printf '%s\n' "${floors[@]}" | median_of "$i")
    b=$(printf '%s\n' "${bare[@]}" | median_of "$i")
    floor_ms[$i]=$m bare_ms[$i]=$b
    printf '  %-10s %8.1f %8.1f\n' "$(cut -d' ' -f"$i" <<<"links positions flux")" "$m" "$b"
    total=$(awk -v a="$total" -v b="$m" 'BEGIN { print a + b }')
    bare_total=$(awk -v a="$bare_total" -v b="$b" 'BEGIN { print a + b }')
done
printf '  %-10s %8.1f %8.1f\n' total "$total" "$bare_total"
echo "skytrap's call over the floor at ${sizes[-1]}:"\
     "$(ratio "${ms[${sizes[-1]},${images##* },skytrap]}" "$total") (goal: at most 1.5x)"
# Every method writes at least these rows into these tables (TraP well indexed keeps one
# position index too), so none can be faster than TraP by more than TraP's time over the floor.
echo "The most a method writing these rows can gain on TraP well indexed at ${sizes[-1]}:"\
     "$(ratio "${ms[${sizes[-1]},${images##* },trap_idx]}" "$total")"\
     "(its ${images##* }-source image's time over the floor)"
# Where skytrap's call spends its time, at the largest catalogue with the 1e4 image: every
# statement it runs, nested ones included (trigger, foreign-key checks, alert bodies).
echo
echo "skytrap's call at catalogue ${sizes[-1]}, image of ${images##* } sources: the statements it runs (ms, calls)"
profile=$(profile_call "${img[${images##* }]}")
echo "$profile"
echo
if [ ${#failures[@]} -eq 0 ]; then
    big=${sizes[-1]} n=${images##* }
    {
        echo "Time of one \`associate_image\` call in ms (median of $runs; a method is timed once above"
        echo "10 s and stopped at $timeout s; the extension $extension_build), and each TraP method's"
        echo "time over skytrap's:"
        echo
        echo "| catalogue | image | skytrap | TraP as written | TraP, btree | TraP 4 timestep | as written / skytrap | btree / skytrap | timestep / skytrap |"
        echo "|---|---|---|---|---|---|---|---|---|"
        for size in "${sizes[@]}"; do
            for i in $images; do
                s=${ms[$size,$i,skytrap]}; a=${ms[$size,$i,trap]}; b=${ms[$size,$i,trap_idx]}; c=${ms[$size,$i,trap_step]}
                printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(power_of_ten "$size")" "$(power_of_ten "$i")" \
                    "$(cell "$s")" "$(cell "$a")" "$(cell "$b")" "$(cell "$c")" \
                    "$(ratio "$a" "$s")" "$(ratio "$b" "$s")" "$(ratio "$c" "$s")"
            done
        done
        echo
        printf "skytrap's time grows %s (1e3-source image) and %s (1e4) from a catalogue of %s to one of %s;\n" \
            "$(ratio "${ms[$big,1000,skytrap]}" "${ms[${sizes[0]},1000,skytrap]}")" \
            "$(ratio "${ms[$big,10000,skytrap]}" "${ms[${sizes[0]},10000,skytrap]}")" \
            "$(power_of_ten "${sizes[0]}")" "$(power_of_ten "$big")"
        echo "the goal is at most 1.2×. The 1e4-source image as the loader delivers it (90 forks, and a"
        echo "forced fit at each of the tile's 1e4 lightcurves, 9 000 of them made redundant by a blind"
        printf 'detection) takes skytrap, in ms: %s.\n' "$(for size in "${sizes[@]}"; do
            printf '%s at %s, ' "$(cell "${ms[$size,loaded,skytrap]}")" "$(power_of_ten "$size")"; done | sed 's/, $//')"
        echo
        echo "The floor at $(power_of_ten "$big"): bare statements writing the $(power_of_ten "$n")-source image's one-to-one rows, in ms"
        echo "(median of $runs), on the tables as they are and stripped of their indexes and foreign keys:"
        echo
        echo "| rows written | tables | stripped |"
        echo "|---|---|---|"
        for i in 1 2 3; do
            printf '| %s | %s | %s |\n' "$(cut -d'|' -f"$i" <<<"links|positions|flux rows")" \
                "$(figure "${floor_ms[$i]}")" "$(figure "${bare_ms[$i]}")"
        done
        printf '| all | %s | %s |\n' "$(figure "$total")" "$(figure "$bare_total")"
        echo
        echo "skytrap's call over the floor: $(ratio "${ms[$big,$n,skytrap]}" "$total") (the goal: at most 1.5×)."
        echo
        echo "TraP well indexed over the floor, the most any method writing these rows could gain on it:"
        echo "$(ratio "${ms[$big,$n,trap_idx]}" "$total")."
        echo
        echo "Where skytrap's call spends its time at $(power_of_ten "$big") ($(power_of_ten "$n")-source image): its statements,"
        echo "nested ones included, by total time (ms, calls, the statement's start):"
        echo
        echo '```'
        head -15 <<<"$profile"
        echo '```'
    } | publish_figures associate "TraP's association in SQL (tests/bench/trap_associate.sql) on PostgreSQL $(q -c "SHOW server_version" | cut -d' ' -f1)" \
        "| Association, a $(power_of_ten "$n")-source image into a $(power_of_ten "$big")-source catalogue | $(cell "${ms[$big,$n,skytrap]}") ms | TraP well indexed $(cell "${ms[$big,$n,trap_idx]}") ms, a TraP 4 timestep $(cell "${ms[$big,$n,trap_step]}") ms | [association](docs/benchmarks.md#association) |"
fi
elapsed=$(($(date +%s) - start))
printf 'total run time: %d min %02d s\n' $((elapsed / 60)) $((elapsed % 60))
report_failures
