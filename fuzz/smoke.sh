#!/usr/bin/env bash
# CI's short run of every fuzz target (see FUZZING.md): installs cargo-fuzz if missing,
# seeds from the corpus, builds the targets once, then runs each for SECONDS (default
# 20) over its seeds and what mutation finds from them. Fails on the first crash, hang
# or memory blow-up; its input is in fuzz/artifacts/TARGET/.
set -euo pipefail
# seed.sh runs from fuzz/: a relative corpus path is the caller's.
if [ -n "${PCAPKIT_CORPUS:-}" ]; then
    PCAPKIT_CORPUS="$(cd "$PCAPKIT_CORPUS" && pwd)"
    export PCAPKIT_CORPUS
fi
cd "$(dirname "$0")"
seconds="${1:-20}"
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --version 0.13.2
fi
./seed.sh
cargo fuzz build --sanitizer none --debug-assertions
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in read_pcap read_pcapng chain dissect http reassembly; do
    echo "fuzz: $target for ${seconds}s"
    # libFuzzer's progress lines are noise in a CI log; its report on a crash is not.
    # A fixed seed makes the smoke repeatable: what fails in CI fails here too.
    if ! ./run.sh "$target" -seed=1 -max_total_time="$seconds" >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz: $target failed (its input is in fuzz/artifacts/$target/)" >&2
        exit 1
    fi
    grep -E '^#[0-9]+[[:space:]]+DONE' "$log" || true
done
