"""PyPCAPKit itself (the seed), default engine: extract every frame without writing
output nor keeping frames, as `pcapkit --nofile` does.
Usage: python pypcapkit_parse.py CAPTURE.pcap"""
import sys

import pcapkit

x = pcapkit.extract(fin=sys.argv[1], nofile=True, store=False, engine="default")
print(x.length, "frames", file=sys.stderr)
