#!/usr/bin/env bash
# Builds fuzz/corpus/<target>/ seed directories from the corpus captures
# ($PCAPKIT_CORPUS, else ../shared/corpus/public beside the repository) and samples/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${PCAPKIT_CORPUS:-$root/../shared/corpus/public}"
if [ ! -d "$corpus" ]; then
    echo "error: the corpus is not at $corpus (set PCAPKIT_CORPUS)" >&2
    exit 1
fi
shopt -s nullglob
python3 "$root/fuzz/seed.py" "$root/fuzz/corpus" "$corpus"/*.pcap "$corpus"/*.pcapng "$corpus"/*.cap "$root"/samples/*.pcap
