#!/usr/bin/env bash
# Builds pcapkit with profile-guided optimisation (PGO): an instrumented build runs the
# usual jobs over captures the project generates, and the release build is then laid out
# by what those runs did (hot paths together, branches predicted, inlining where it
# pays). The binary's output is the plain release build's, byte for byte (.ci/run
# checks it); it is 2 to 25 % faster, the most where the most code runs per frame
# (BENCHMARKS.md, "PGO").
#
#   tools/pgo-build.sh [OUT]     # default OUT: target/pgo/pcapkit
#
# Needs llvm-profdata of rustc's own LLVM version (`rustc -vV`): found as
# llvm-profdata-N or /usr/lib/llvm-N/bin/llvm-profdata (Debian: apt-get install llvm-N),
# as rustup's llvm-tools component, or named by LLVM_PROFDATA.
#
# The training captures come from tools/samplegen with seeds other than the
# benchmarks' (the benchmark files themselves are never run), and from samples/. Every
# output format and the reassembly, streams and follow jobs are run, so that no path is
# laid out as cold only because the training skipped it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
work="$target/pgo"
out="${1:-$work/pcapkit}"

step() { printf '\n==> %s\n' "$*"; }

llvm=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
host=$(rustc -vV | sed -n 's/^host: //p')
profdata="${LLVM_PROFDATA:-}"
if [ -z "$profdata" ]; then
    for candidate in "llvm-profdata-$llvm" "/usr/lib/llvm-$llvm/bin/llvm-profdata" \
        "$(rustc --print target-libdir)/../bin/llvm-profdata"; do
        if command -v "$candidate" >/dev/null 2>&1; then
            profdata=$candidate
            break
        fi
    done
fi
if [ -z "$profdata" ]; then
    echo "error: no llvm-profdata for LLVM $llvm, the version rustc is built on." >&2
    echo "Install llvm-$llvm (Debian: apt-get install llvm-$llvm), or run" >&2
    echo "'rustup component add llvm-tools', or set LLVM_PROFDATA." >&2
    exit 1
fi
echo "llvm-profdata: $profdata (rustc's LLVM: $llvm)"

# An explicit --target keeps RUSTFLAGS off build scripts and proc macros: only the code
# that ships is instrumented, then optimised.
build() {
    local flags=$1 dir=$2
    RUSTFLAGS="$flags" CARGO_TARGET_DIR="$dir" \
        cargo build --release --locked --target "$host" -p pcapkit --bin pcapkit
}

step "instrumented build"
build "-Cprofile-generate=$work/profiles" "$work/instrumented"
instrumented="$work/instrumented/$host/release/pcapkit"

step "training captures (tools/samplegen, seeds other than the benchmarks')"
CARGO_TARGET_DIR="$target" cargo build --release --locked -q -p pcapkit-samplegen
samplegen="$target/release/samplegen"
captures="$work/captures"
rm -rf "$captures" "$work/out"
mkdir -p "$captures/main" "$captures/all" "$work/out"
# The main jobs (dissection, reassembly, streams) over a few tens of thousands of
# frames; every output format over smaller captures, so that the weights the profile
# gives each path follow what a run spends its time on.
"$samplegen" bench "$captures/main/bench.pcap" --packets 20000 --seed 1
"$samplegen" reassembly "$captures/main/reassembly.pcap" --packets 20000 --seed 2
"$samplegen" http2 "$captures/main/http2.pcap" --packets 5000 --seed 3
"$samplegen" bench "$captures/all/bench.pcap" --packets 2000 --seed 4
"$samplegen" reassembly "$captures/all/reassembly.pcap" --packets 2000 --seed 5
"$samplegen" http2 "$captures/all/http2.pcap" --packets 1000 --seed 6
"$samplegen" doh "$captures/all/doh.pcap"
"$samplegen" tls "$captures/all/tls.pcap"
"$samplegen" flood "$captures/all/flood.pcap" --packets 5000
cp samples/*.pcap "$captures/all/"
# Start from no profile: an earlier run's would be merged too.
rm -rf "$work/profiles"

step "training runs"
run() {
    # A damaged capture exits 3, a refused one 1: the run still counts. A usage error
    # (2) means the training itself is wrong.
    "$instrumented" "$@" >/dev/null 2>&1 || {
        local status=$?
        [ "$status" -eq 1 ] || [ "$status" -eq 3 ] || {
            echo "error: training run failed (exit $status): pcapkit $*" >&2
            return 1
        }
    }
}
for capture in "$captures"/main/*.pcap; do
    o="$work/out/main-$(basename "$capture" .pcap)"
    run "$capture" --nofile
    run "$capture" --ip --tcp --nofile
    run streams "$capture" -o "$o.streams"
done
for capture in "$captures"/all/*.pcap; do
    o="$work/out/$(basename "$capture" .pcap)"
    run "$capture" --nofile
    run "$capture" --ip --tcp --nofile
    run "$capture" -f json -o "$o.json"
    run "$capture" --ip --tcp -f json -o "$o.reassembled.json"
    run "$capture" --ip --tcp -f ndjson -o "$o.ndjson"
    run "$capture" -f fields -o "$o.fields" -e frame.number -e frame.protocols \
        -e ipv4.src -e ipv6.dst -e tcp.stream -e tcp.len -e http.method -e dns.qry.name
    run "$capture" -f plist -o "$o.plist"
    run "$capture" -f tree -o "$o.tree"
    run streams "$capture" -o "$o.streams"
    run follow "$capture" 0
done
"$profdata" merge -o "$work/pcapkit.profdata" "$work/profiles"

step "optimised build"
build "-Cprofile-use=$work/pcapkit.profdata" "$work/optimised"
mkdir -p "$(dirname "$out")"
cp "$work/optimised/$host/release/pcapkit" "$out"
echo "PGO-built pcapkit: $out"
