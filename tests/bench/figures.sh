# Where the benchmarks' figures go; sourced by each tests/bench/*.sh from the repository's
# root. A benchmark ends with
#     publish_figures NAME "PEERS" "SUMMARY ROW" < FIGURES
# which writes its figures (markdown) to docs/benchmarks/NAME.md under a line saying when,
# on what machine, by which command (the script and $bench_args, which it sets to its
# arguments) and against which peers they were measured, and puts
# the same text into docs/benchmarks.md between the lines <!-- figures:NAME --> and
# <!-- /figures:NAME -->. SUMMARY ROW (optional) is the benchmark's row of README.md's speed
# summary: it is kept in NAME.md as a comment, and the table between <!-- figures:summary -->
# and <!-- /figures:summary --> in README.md is made again from the rows of all benchmarks.
# SKYTRAP_BENCH_FIGURES=0 leaves the documents alone and prints the figures (a trial run).

# The benchmarks with a row in README.md's speed summary, in the table's order.
summary_benchmarks="extract associate xmatch alerts"

# A figure for a table: 4.6, 15, 1 214, 100 000; anything but a number as it is.
figure() {
    awk -v v="$1" 'BEGIN { if (v !~ /^[0-9]+(\.[0-9]*)?$/) { print v; exit }
        s = v < 10 ? sprintf("%.1f", v) : sprintf("%.0f", v); out = ""
        while (length(s) > 3 && s !~ /\./) { out = " " substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
        print s out }'
}

# 1e7 for 10000000, else the number as it is.
power_of_ten() {
    awk -v n="$1" 'BEGIN { e = int(log(n) / log(10) + 0.5); if (n == 10 ^ e) printf "1e%d\n", e; else print n }'
}

# "2 cores (AMD EPYC), 23 GiB of memory" (nproc counts OMP_NUM_THREADS, which benchmarks set)
machine() {
    printf '%s cores (%s), %s GiB of memory' "$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)" \
        "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" \
        "$(free -g | awk '/^Mem:/ {print $2}')"
}

# splice FILE MARKER CONTENT_FILE: what lies between the lines <!-- MARKER --> and
# <!-- /MARKER --> of FILE becomes CONTENT_FILE's text, between blank lines.
splice() {
    local file=$1 marker=$2 content=$3
    if ! awk -v begin="<!-- $marker -->" -v end="<!-- /$marker -->" -v content="$content" '
            $0 == begin { print; print ""; while ((getline line < content) > 0) print line
                          print ""; inside = 1; opened++; next }
            $0 == end { inside = 0; closed++ }
            !inside { print }
            END { exit !(opened == 1 && closed == 1 && !inside) }' "$file" > "$file.new"; then
        rm -f "$file.new"
        echo "$file: needs one line <!-- $marker --> and one <!-- /$marker --> after it" >&2
        return 1
    fi
    mv "$file.new" "$file"
}

publish_figures() {
    local name=$1 peers=$2 summary=${3:-} figures=docs/benchmarks/$1.md rows b
    local script="tests/bench/$(basename "$0")"
    if [ "${SKYTRAP_BENCH_FIGURES:-1}" = 0 ]; then
        echo "SKYTRAP_BENCH_FIGURES=0: docs/benchmarks/$name.md left as it was; the figures:"
        echo "${summary:+summary: $summary}"
        cat
        return
    fi
    mkdir -p docs/benchmarks
    {
        echo "<!-- Written by $script; run it again rather than edit these figures. -->"
        [ -n "$summary" ] && echo "<!-- summary: $summary -->"
        echo "Measured $(date -u +%F) on $(machine) by \`$script${bench_args:+ $bench_args}\`;"
        echo "skytrap $(target/release/skytrap --version | cut -d' ' -f2) beside $peers."
        echo
        cat
    } > "$figures"
    splice docs/benchmarks.md "figures:$name" "$figures"
    rows=$(mktemp)
    {
        echo "| | skytrap | beside it, in the same run | figures |"
        echo "|---|---|---|---|"
        for b in $summary_benchmarks; do
            if [ -f "docs/benchmarks/$b.md" ]; then
                sed -n 's/^<!-- summary: \(.*\) -->$/\1/p' "docs/benchmarks/$b.md"
            fi
        done
    } > "$rows"
    splice README.md figures:summary "$rows"
    rm -f "$rows"
    echo "figures written to $figures, docs/benchmarks.md${summary:+ and README.md}"
}
