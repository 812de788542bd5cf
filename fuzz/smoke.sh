#!/usr/bin/env bash
# CI's short run of every fuzz target (see FUZZING.md): installs cargo-fuzz if missing,
# seeds from the corpus, builds the targets once, then runs each for SECONDS (default
# 20) over its seeds and what mutation finds from them. Fails on the first crash, hang
# or memory blow-up; its input is in fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-20}"
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --version 0.13.2
fi
./seed.sh
cargo +stable fuzz build --sanitizer none --debug-assertions
for target in read_pcap read_pcapng chain dissect http reassembly; do
    echo "fuzz: $target for ${seconds}s"
    # libFuzzer's progress lines are noise in a CI log; its report on a crash is not.
    if ! ./run.sh "$target" -max_total_time="$seconds" >"artifacts-$target.log" 2>&1; then
        tail -n 60 "artifacts-$target.log"
        echo "fuzz: $target failed (input in fuzz/artifacts/$target/)" >&2
        exit 1
    fi
    grep -E '^(#[0-9]+\s+DONE|stat::number_of_executed_units)' "artifacts-$target.log" || true
    rm -f "artifacts-$target.log"
done
