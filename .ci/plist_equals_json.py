#!/usr/bin/env python3
"""Every corpus capture's plist, loaded with Python's plistlib, equals its JSON.

    python3 .ci/plist_equals_json.py PCAPKIT CORPUS_DIR

For each capture (with and without reassembly), runs `PCAPKIT CAPTURE -f json` and `-f
plist` and compares the two documents value by value, types included (a plist <true/> is
not the JSON number 1): `<data>` must be the JSON's hex, a `<date>` the JSON `time` cut
to whole seconds, the string `null` a JSON null, and a registry value without a name has
no `name` member in the plist. A capture refused at its file header (exit status 3, no
output) must give no output in either format. Exits 1 on any difference.
"""

import datetime
import json
import pathlib
import plistlib
import subprocess
import sys


def run(pcapkit, capture, extra, fmt):
    out = subprocess.run(
        [pcapkit, str(capture), "-f", fmt, *extra],
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    if out.returncode not in (0, 3) or b"panicked" in out.stderr:
        raise ValueError(f"-f {fmt}: exit status {out.returncode}: {out.stderr[:300]!r}")
    return out.stdout


def plist_date_ok(iso):
    """The plist writer makes a <date> only of a four-digit year from 0001."""
    return len(iso) >= 19 and iso[4] == "-" and iso[:4].isdigit() and iso[:4] != "0000"


def xml_text(s):
    """Characters XML 1.0 cannot hold are U+FFFD in the plist."""
    return "".join(
        c if c in "\t\n\r" or not (ord(c) < 0x20 or c in "\ufffe\uffff") else "\ufffd" for c in s
    )


def expected(v, key=""):
    """The JSON value as the plist must show it."""
    if isinstance(v, dict):
        return {k: expected(x, k) for k, x in v.items() if not (k == "name" and x is None)}
    if isinstance(v, list):
        return [expected(x) for x in v]
    if v is None:
        return "null"
    if isinstance(v, str):
        if key == "time" and plist_date_ok(v):
            return ("date", v[:19] + "Z")
        return xml_text(v)
    return v


def loaded(v):
    """The plist value, with bytes as hex and dates tagged, to compare with `expected`."""
    if isinstance(v, dict):
        return {k: loaded(x) for k, x in v.items()}
    if isinstance(v, list):
        return [loaded(x) for x in v]
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, datetime.datetime):
        return ("date", f"{v.year:04d}-{v:%m-%dT%H:%M:%S}Z")
    return v


def same(a, b, path):
    """Strict equality (bool is not int); the path of the first difference, or None."""
    if type(a) is not type(b):
        return f"{path}: {a!r} vs {b!r}"
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return f"{path}: keys {sorted(a.keys() ^ b.keys())} in one only"
        for k in a:
            d = same(a[k], b[k], f"{path}/{k}")
            if d:
                return d
        return None
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} elements"
        for i, (x, y) in enumerate(zip(a, b)):
            d = same(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {a!r} vs {b!r}"


def main():
    pcapkit, corpus = sys.argv[1], pathlib.Path(sys.argv[2])
    captures = sorted(p for p in corpus.iterdir() if p.suffix in (".pcap", ".pcapng"))
    if not captures:
        sys.exit(f"no captures in {corpus}")
    failures = runs = 0
    for capture in captures:
        for extra in ([], ["--ip", "--tcp", "--no-strict"]):
            runs += 1
            try:
                j, p = run(pcapkit, capture, extra, "json"), run(pcapkit, capture, extra, "plist")
                if not j:
                    diff = None if not p else f"no JSON but {len(p)} bytes of plist"
                else:
                    diff = same(loaded(plistlib.loads(p)), expected(json.loads(j)), "")
            except Exception as e:  # a bad run, invalid JSON or a plist plistlib refuses
                diff = f"{type(e).__name__}: {e}"
            if diff:
                failures += 1
                print(f"FAIL {capture.name} {' '.join(extra)}: {diff}")
    print(f"{runs - failures} of {runs} plists equal their JSON")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
