"""dpkt, as PyPCAPKit's `dpkt` engine uses it: read every record and decode it
(dpkt unpacks Ethernet, IP and TCP/UDP eagerly when the frame object is built).
Usage: python dpkt_parse.py CAPTURE.pcap"""
import sys

import dpkt

n = 0
with open(sys.argv[1], "rb") as f:
    for ts, buf in dpkt.pcap.Reader(f):
        dpkt.ethernet.Ethernet(buf)
        n += 1
print(n, "frames", file=sys.stderr)
