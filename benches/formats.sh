#!/usr/bin/env bash
# Speed of each output format: pcapkit's json, plist and tree against PyPCAPKit's.
#
# What it does, from the repository root (it cd's there itself):
#   1. builds the release binaries (pcapkit, samplegen);
#   2. writes benches/out/bench100k.pcap (PACKETS frames) and benches/out/bench-py.pcap
#      (PY_PACKETS frames) with `samplegen bench` (the captures benches/compare.sh uses);
#   3. times pcapkit FILE -f json|plist|tree > /dev/null on both captures (hyperfine when
#      installed, else a loop of /usr/bin/time; median wall time, startup included);
#   4. installs PyPCAPKit from PyPI into benches/out/venv (as compare.sh does) and times
#      pcapkit.extract(fin=FILE, fout=..., format=json|plist|tree, store=False) on the
#      PY_PACKETS capture, inside Python (the ~1 s import left out), one process a run;
#      PyPCAPKit writes its file, which is then removed;
#   5. prints a table (packets/s and the ratios) and writes it to benches/out/formats.md.
#
# PyPCAPKit dissects some 400 packets/s, hence the small capture for it (2000 packets
# take about 5 s a run). pcapkit's rate is given on both captures: on 2000 packets its
# startup weighs; on 100 000 it does not.
#
# Settings (environment):
#   PACKETS=100000 PY_PACKETS=2000   capture sizes
#   RUNS=10 PY_RUNS=3                timed runs of each pcapkit / PyPCAPKit command
#   PYPCAPKIT=1                      0 leaves PyPCAPKit out
#   NO_BUILD=1                       use the binaries in target/release as they are
#
# Takes about two minutes on a 2-core machine (most of it PyPCAPKit).
# Needs: cargo, python3 (for PyPCAPKit), awk; hyperfine or /usr/bin/time.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
OUT=$ROOT/benches/out
PACKETS=${PACKETS:-100000}
PY_PACKETS=${PY_PACKETS:-2000}
RUNS=${RUNS:-10}
PY_RUNS=${PY_RUNS:-3}
PYPCAPKIT=${PYPCAPKIT:-1}
PCAPKIT=$ROOT/target/release/pcapkit
SAMPLEGEN=$ROOT/target/release/samplegen
FORMATS=(json plist tree)

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'formats.sh: %s\n' "$*" >&2; exit 1; }

median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# time_cmd NAME RUNS 'command' -> the median wall time in seconds, output discarded.
time_cmd() {
    local name=$1 runs=$2 cmd=$3
    if command -v hyperfine > /dev/null; then
        local csv="$OUT/hf-$name.csv"
        hyperfine --style basic -N --output=null --runs "$runs" --warmup 1 \
            --export-csv "$csv" --command-name "$name" "$cmd" >&2
        awk -F, 'NR == 2 { print $4 }' "$csv"
    else
        [ -x /usr/bin/time ] || die "neither hyperfine nor /usr/bin/time is installed"
        local i
        sh -c "$cmd > /dev/null 2>&1"
        for ((i = 0; i < runs; i++)); do
            /usr/bin/time -f %e -o "$OUT/time.tmp" sh -c "$cmd > /dev/null 2>&1"
            cat "$OUT/time.tmp"
        done | median
    fi
}

[ -c /dev/null ] || die "/dev/null is not a character device"
mkdir -p "$OUT"
if [ "${NO_BUILD:-0}" != 1 ]; then
    log "building release binaries"
    cargo build --release -p pcapkit -p pcapkit-samplegen >&2
fi
{ [ -x "$PCAPKIT" ] && [ -x "$SAMPLEGEN" ]; } || die "missing $PCAPKIT or $SAMPLEGEN"

BIG=$OUT/bench100k.pcap
SMALL=$OUT/bench-py.pcap
log "writing captures"
"$SAMPLEGEN" bench "$BIG" --packets "$PACKETS" >&2
"$SAMPLEGEN" bench "$SMALL" --packets "$PY_PACKETS" >&2

declare -A pk_big pk_small py
for f in "${FORMATS[@]}"; do
    log "pcapkit -f $f"
    pk_big[$f]=$(time_cmd "pcapkit-$f-big" "$RUNS" "'$PCAPKIT' '$BIG' -f $f")
    pk_small[$f]=$(time_cmd "pcapkit-$f-small" "$RUNS" "'$PCAPKIT' '$SMALL' -f $f")
    bytes=$("$PCAPKIT" "$BIG" -f "$f" | wc -c)
    eval "size_$f=$bytes"
done

py_status=skipped py_version=''
if [ "$PYPCAPKIT" = 1 ]; then
    PY=$OUT/venv/bin/python
    if { [ -x "$PY" ] || python3 -m venv "$OUT/venv" >&2; } &&
        "$PY" -m pip install --quiet --disable-pip-version-check pypcapkit >&2; then
        py_version=$("$PY" -m pip show pypcapkit 2> /dev/null | awk '/^Version:/ { print $2 }')
        py_status=ok
        for f in "${FORMATS[@]}"; do
            log "PyPCAPKit format=$f"
            if ! py[$f]=$(for ((i = 0; i < PY_RUNS; i++)); do
                "$PY" - "$SMALL" "$OUT/py-out" "$f" 2> /dev/null << 'PY' || exit 1
import os, sys, time
import pcapkit
fin, fout, fmt = sys.argv[1:4]
start = time.perf_counter()
extractor = pcapkit.extract(fin=fin, fout=fout, format=fmt, store=False)
elapsed = time.perf_counter() - start
assert extractor.length > 0
for name in os.listdir(os.path.dirname(fout)):
    if name.startswith(os.path.basename(fout)):
        os.remove(os.path.join(os.path.dirname(fout), name))
print(elapsed)
PY
            done | median); then
                py_status="extract(format=$f) failed"
                break
            fi
        done
    else
        py_status="install failed"
    fi
fi

num() { awk "BEGIN { printf \"$1\", $2 }"; }
ms() { num %.1f "$1 * 1000"; }
rate() { num %.0f "$1 / $2"; }
{
    echo "<!-- $("$PCAPKIT" --version)$( [ -n "$py_version" ] && echo "; PyPCAPKit $py_version") -->"
    echo "| format | pcapkit, $PACKETS packets | pkt/s | output | pcapkit, $PY_PACKETS packets | pkt/s | PyPCAPKit, $PY_PACKETS packets | pkt/s | speed-up (per packet) |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for f in "${FORMATS[@]}"; do
        size_var=size_$f
        size=$(num %.0f "${!size_var} / 1048576")
        if [ "$py_status" = ok ]; then
            py_cols="$(ms "${py[$f]}") ms | $(rate "$PY_PACKETS" "${py[$f]}") | $(num %.0f "($PACKETS / ${pk_big[$f]}) / ($PY_PACKETS / ${py[$f]})")×"
        else
            py_cols="- | - | -"
        fi
        echo "| $f | $(ms "${pk_big[$f]}") ms | $(rate "$PACKETS" "${pk_big[$f]}") | $size MiB | $(ms "${pk_small[$f]}") ms | $(rate "$PY_PACKETS" "${pk_small[$f]}") | $py_cols |"
    done
    [ "$py_status" = ok ] || echo "PyPCAPKit: $py_status"
} | tee "$OUT/formats.md"
