#!/usr/bin/env bash
# Whole-process comparison of pcapkit with tshark (and, optionally, PyPCAPKit).
#
# What it does, from the repository root (it cd's there itself):
#   1. builds the release binaries (pcapkit, samplegen);
#   2. writes benches/out/bench100k.pcap (PACKETS frames) and benches/out/bench1m.pcap
#      (BIG_PACKETS frames) with `samplegen bench` (deterministic; benches/out is git-ignored);
#   3. times, with hyperfine when installed (else a loop of /usr/bin/time), median wall time:
#        pcapkit FILE --nofile                    vs  tshark -n -r FILE > /dev/null
#        pcapkit FILE -f json > /dev/null         vs  tshark -n -r FILE -T json > /dev/null
#        pcapkit FILE -e ... > /dev/null          vs  tshark -n -r FILE -T fields -e ... > /dev/null
#   4. measures peak RSS (/usr/bin/time -f %M) of `pcapkit FILE --nofile` (storage off) on
#      both captures, to show memory does not grow with the capture, and of tshark for reference;
#   5. optionally (PYPCAPKIT=1, the default) installs PyPCAPKit from PyPI into a venv under
#      benches/out/venv and times `pcapkit.extract(fin=..., nofile=True, store=False)` on a
#      PY_PACKETS-frame capture against pcapkit on the same file (skipped if the install fails);
#   6. prints a table with medians, packets/s, ratios and pass/fail against the targets
#      (nofile >= 50x tshark, json >= 30x tshark -T json, peak memory < 64 MiB), and writes it
#      to benches/out/results.md (and key=value lines to benches/out/results.env).
#
# Never passes a device path to pcapkit with -o: output goes to standard output, which the
# shell sends to /dev/null. /dev/null is checked before and after.
#
# Settings (environment):
#   PACKETS=100000 BIG_PACKETS=1000000   capture sizes
#   RUNS=10                              timed runs of each pcapkit command
#   TSHARK_RUNS=3                        timed runs of each tshark command (json takes ~12 s)
#   PYPCAPKIT=1 PY_PACKETS=2000 PY_RUNS=3   PyPCAPKit comparison (0 skips it)
#   NO_BUILD=1                           use the binaries in target/release (or
#                                        $CARGO_TARGET_DIR/release) as they are
#
# Takes about three to four minutes on a 2-core machine (most of it tshark and PyPCAPKit).
# Needs: cargo, tshark, python3 (for PyPCAPKit), awk; hyperfine and /usr/bin/time if present.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
OUT=$ROOT/benches/out
PACKETS=${PACKETS:-100000}
BIG_PACKETS=${BIG_PACKETS:-1000000}
RUNS=${RUNS:-10}
TSHARK_RUNS=${TSHARK_RUNS:-3}
PYPCAPKIT=${PYPCAPKIT:-1}
PY_PACKETS=${PY_PACKETS:-2000}
PY_RUNS=${PY_RUNS:-3}
# Where cargo puts the binaries: CARGO_TARGET_DIR when set (relative to the root, as
# cargo reads it from here), else target/.
TARGET_DIR=${CARGO_TARGET_DIR:-target}
case $TARGET_DIR in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
PCAPKIT=$TARGET_DIR/release/pcapkit
SAMPLEGEN=$TARGET_DIR/release/samplegen

# Columns of the fields comparison: the same values under each tool's names.
PCAPKIT_FIELDS=(-e frame.number -e frame.time_epoch -e ipv4.src -e ipv4.dst -e tcp.srcport -e tcp.dstport -e udp.dstport)
TSHARK_FIELDS=(-e frame.number -e frame.time_epoch -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport -e udp.dstport)

TARGET_NOFILE=50
TARGET_JSON=30
TARGET_MEM_KIB=$((64 * 1024))

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'compare.sh: %s\n' "$*" >&2; exit 1; }

check_devnull() {
    [ -c /dev/null ] || die "/dev/null is not a character device; restore it: rm -f /dev/null && mknod -m 666 /dev/null c 1 3"
}

# median of numbers on standard input
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

HAVE_HYPERFINE=0
command -v hyperfine > /dev/null && HAVE_HYPERFINE=1
HAVE_TIME=0
[ -x /usr/bin/time ] && HAVE_TIME=1

# time_cmd NAME RUNS WARMUP 'command' -> prints the median wall time in seconds. The command
# (quoted words, no shell syntax) has its standard output and error sent to /dev/null: by
# hyperfine (--output=null, run without a shell: -N), or by the shell in the fallback loop.
time_cmd() {
    local name=$1 runs=$2 warmup=$3 cmd=$4
    if [ "$HAVE_HYPERFINE" = 1 ]; then
        local csv="$OUT/hf-$name.csv"
        hyperfine --style basic -N --output=null --runs "$runs" --warmup "$warmup" \
            --export-csv "$csv" --command-name "$name" "$cmd" >&2
        awk -F, 'NR == 2 { print $4 }' "$csv"
    else
        [ "$HAVE_TIME" = 1 ] || die "neither hyperfine nor /usr/bin/time is installed"
        local i
        for ((i = 0; i < warmup; i++)); do sh -c "$cmd > /dev/null 2>&1"; done
        for ((i = 0; i < runs; i++)); do
            /usr/bin/time -f %e -o "$OUT/time.tmp" sh -c "$cmd > /dev/null 2>&1"
            cat "$OUT/time.tmp"
        done | median
    fi
}

# peak_kib RUNS command... -> the largest peak RSS (KiB) of RUNS runs (output discarded).
peak_kib() {
    local runs=$1 i
    shift
    for ((i = 0; i < runs; i++)); do
        /usr/bin/time -f %M -o "$OUT/mem.tmp" "$@" > /dev/null 2>&1
        cat "$OUT/mem.tmp"
    done | sort -g | tail -n 1
}

check_devnull
command -v tshark > /dev/null || die "tshark is not installed"
mkdir -p "$OUT"

if [ "${NO_BUILD:-0}" != 1 ]; then
    log "building release binaries"
    cargo build --release -p pcapkit -p pcapkit-samplegen >&2
fi
{ [ -x "$PCAPKIT" ] && [ -x "$SAMPLEGEN" ]; } || die "missing $PCAPKIT or $SAMPLEGEN"

SMALL=$OUT/bench100k.pcap
BIG=$OUT/bench1m.pcap
log "writing captures"
"$SAMPLEGEN" bench "$SMALL" --packets "$PACKETS" >&2
"$SAMPLEGEN" bench "$BIG" --packets "$BIG_PACKETS" >&2

# Both tools must see every frame.
frames=$("$PCAPKIT" "$SMALL" -e frame.number | tail -n 1)
[ "$frames" = "$PACKETS" ] || die "pcapkit saw $frames frames, expected $PACKETS"

log "timing (hyperfine: $HAVE_HYPERFINE; pcapkit runs $RUNS, tshark runs $TSHARK_RUNS)"
pk_nofile=$(time_cmd pcapkit-nofile "$RUNS" 2 "'$PCAPKIT' '$SMALL' --nofile")
ts_plain=$(time_cmd tshark-plain "$TSHARK_RUNS" 0 "tshark -n -r '$SMALL'")
pk_json=$(time_cmd pcapkit-json "$RUNS" 1 "'$PCAPKIT' '$SMALL' -f json")
ts_json=$(time_cmd tshark-json "$TSHARK_RUNS" 0 "tshark -n -r '$SMALL' -T json")
pk_fields=$(time_cmd pcapkit-fields "$RUNS" 1 "'$PCAPKIT' '$SMALL' ${PCAPKIT_FIELDS[*]}")
ts_fields=$(time_cmd tshark-fields "$TSHARK_RUNS" 0 "tshark -n -r '$SMALL' -T fields ${TSHARK_FIELDS[*]}")
check_devnull

mem_small='' mem_big='' mem_json='' mem_tshark=''
if [ "$HAVE_TIME" = 1 ]; then
    log "peak memory"
    mem_small=$(peak_kib 3 "$PCAPKIT" "$SMALL" --nofile)
    mem_big=$(peak_kib 3 "$PCAPKIT" "$BIG" --nofile)
    mem_json=$(peak_kib 1 "$PCAPKIT" "$SMALL" -f json)
    mem_tshark=$(peak_kib 1 tshark -n -r "$SMALL")
    big_time=$(time_cmd pcapkit-nofile-1m 3 1 "'$PCAPKIT' '$BIG' --nofile")
else
    log "/usr/bin/time is missing: no memory figures"
    big_time=''
fi
check_devnull

# PyPCAPKit, optional.
py_status=skipped py_version='' py_extract='' pk_py=''
if [ "$PYPCAPKIT" = 1 ]; then
    log "PyPCAPKit"
    PY=$OUT/venv/bin/python
    if { [ -x "$PY" ] || python3 -m venv "$OUT/venv" >&2; } &&
        "$PY" -m pip install --quiet --disable-pip-version-check pypcapkit >&2; then
        PYCAP=$OUT/bench-py.pcap
        "$SAMPLEGEN" bench "$PYCAP" --packets "$PY_PACKETS" >&2
        py_version=$("$PY" -m pip show pypcapkit 2> /dev/null | awk '/^Version:/ { print $2 }')
        # Time the extraction inside Python (the ~1 s import is left out), one process a run.
        if py_extract=$(for ((i = 0; i < PY_RUNS; i++)); do
            "$PY" - "$PYCAP" 2> /dev/null << 'PY' || exit 1
import sys, time
import pcapkit
start = time.perf_counter()
extractor = pcapkit.extract(fin=sys.argv[1], nofile=True, store=False)
elapsed = time.perf_counter() - start
assert extractor.length > 0
print(elapsed)
PY
        done | median); then
            pk_py=$(time_cmd pcapkit-nofile-py "$RUNS" 2 "'$PCAPKIT' '$PYCAP' --nofile")
            py_status=ok
        else
            py_status="extract() failed"
            log "PyPCAPKit's extract() failed: skipped"
        fi
    else
        py_status="install failed"
        log "PyPCAPKit could not be installed: skipped"
    fi
fi
check_devnull

# ------------------------------------------------------------------------------------
# num FORMAT EXPR: an awk printf of an arithmetic expression.
num() { awk "BEGIN { printf \"$1\", $2 }"; }
ms() { num %.1f "$1 * 1000"; }
rate() { num %.0f "$PACKETS / $1"; }
ratio() { num %.1f "$1 / $2"; }
mib() { num %.1f "$1 / 1024"; }
verdict() { awk "BEGIN { print ($1) ? \"PASS\" : \"FAIL\" }"; }

r_nofile=$(ratio "$ts_plain" "$pk_nofile")
r_json=$(ratio "$ts_json" "$pk_json")
r_fields=$(ratio "$ts_fields" "$pk_fields")

{
    echo "<!-- $("$PCAPKIT" --version); $(tshark --version 2> /dev/null | head -n 1);" \
        "$( [ "$HAVE_HYPERFINE" = 1 ] && hyperfine --version || echo 'no hyperfine')" \
        "$( [ -n "$py_version" ] && echo "; PyPCAPKit $py_version") -->"
    echo "# pcapkit vs tshark: $PACKETS packets ($(stat -c %s "$SMALL") bytes), median wall time"
    echo
    echo "| workload | pcapkit ms | pcapkit pkt/s | tshark ms | tshark pkt/s | speed-up | target |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
    echo "| dissect, no output | $(ms "$pk_nofile") | $(rate "$pk_nofile") | $(ms "$ts_plain") | $(rate "$ts_plain") | ${r_nofile}x | >= ${TARGET_NOFILE}x: $(verdict "$r_nofile >= $TARGET_NOFILE") |"
    echo "| json | $(ms "$pk_json") | $(rate "$pk_json") | $(ms "$ts_json") | $(rate "$ts_json") | ${r_json}x | >= ${TARGET_JSON}x: $(verdict "$r_json >= $TARGET_JSON") |"
    echo "| fields (7 columns) | $(ms "$pk_fields") | $(rate "$pk_fields") | $(ms "$ts_fields") | $(rate "$ts_fields") | ${r_fields}x | - |"
    if [ -n "$mem_small" ]; then
        echo
        echo "| peak RSS | MiB | target < 64 MiB |"
        echo "| --- | ---: | --- |"
        echo "| pcapkit --nofile, $PACKETS packets | $(mib "$mem_small") | $(verdict "$mem_small < $TARGET_MEM_KIB") |"
        echo "| pcapkit --nofile, $BIG_PACKETS packets ($(num %.0f "$(stat -c %s "$BIG") / 1048576") MiB file, $(ms "$big_time") ms) | $(mib "$mem_big") | $(verdict "$mem_big < $TARGET_MEM_KIB") |"
        echo "| pcapkit -f json, $PACKETS packets | $(mib "$mem_json") | - |"
        echo "| tshark -n -r, $PACKETS packets | $(mib "$mem_tshark") | - |"
    fi
    echo
    if [ "$py_status" = ok ]; then
        py_pps=$(num %.0f "$PY_PACKETS / $py_extract")
        echo "PyPCAPKit $py_version, $PY_PACKETS packets: extract() $(ms "$py_extract") ms =" \
            "$py_pps pkt/s (import excluded). pcapkit --nofile on the same file:" \
            "$(ms "$pk_py") ms for the whole process, $(ratio "$py_extract" "$pk_py")x faster;" \
            "pcapkit's rate on the $PACKETS-packet capture, $(rate "$pk_nofile") pkt/s, is" \
            "$(num %.0f "$PACKETS / $pk_nofile / $py_pps")x PyPCAPKit's."
    else
        echo "PyPCAPKit: $py_status"
    fi
} | tee "$OUT/results.md"

cat > "$OUT/results.env" << EOF
packets=$PACKETS
pk_nofile=$pk_nofile
ts_plain=$ts_plain
pk_json=$pk_json
ts_json=$ts_json
pk_fields=$pk_fields
ts_fields=$ts_fields
ratio_nofile=$r_nofile
ratio_json=$r_json
ratio_fields=$r_fields
mem_small_kib=$mem_small
mem_big_kib=$mem_big
big_time=$big_time
mem_json_kib=$mem_json
mem_tshark_kib=$mem_tshark
pypcapkit=$py_status
pypcapkit_version=$py_version
py_extract=$py_extract
pk_py=$pk_py
EOF
