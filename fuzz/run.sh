#!/usr/bin/env bash
# Runs one fuzz target with its options, over fuzz/corpus/TARGET (seed it first with
# fuzz/seed.sh), on the default toolchain (stable is enough; `cargo +stable` is not forced
# because CI may name its toolchain by version):
#
#   fuzz/run.sh TARGET [libFuzzer options...]     e.g. fuzz/run.sh chain -max_total_time=600
#
# A crash stops it with a non-zero status; its input is in fuzz/artifacts/TARGET/.
# `cargo fuzz run` builds the targets first if needed (no sanitizer: those need nightly;
# with debug assertions, so that an arithmetic overflow is a crash too).
set -euo pipefail
cd "$(dirname "$0")"
target="${1:?usage: fuzz/run.sh TARGET [libFuzzer options...]}"
shift
case "$target" in
    read_pcap | read_pcapng) options=(-max_len=65536) ;;
    chain | dissect) options=(-max_len=4096) ;;
    http) options=(-max_len=4096 -dict=dict/http.dict) ;;
    reassembly) options=(-max_len=16384 -dict=dict/http.dict) ;;
    *)
        echo "error: unknown target $target (read_pcap read_pcapng chain dissect http reassembly)" >&2
        exit 2
        ;;
esac
mkdir -p "corpus/$target"
# Inputs that once crashed the target (committed, unlike the corpus) run at every start.
regressions=()
[ -d "regressions/$target" ] && regressions=("regressions/$target")
# -timeout: an input that takes 10 s is a hang; -rss_limit_mb: memory must stay bounded.
exec cargo fuzz run --sanitizer none --debug-assertions "$target" "corpus/$target" ${regressions[@]+"${regressions[@]}"} -- \
    "${options[@]}" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 "$@"
