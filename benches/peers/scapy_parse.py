"""scapy, as PyPCAPKit's `scapy` engine uses it: read every record (scapy dissects
each packet fully as it reads it). Usage: python scapy_parse.py CAPTURE.pcap"""
import sys

from scapy.utils import PcapReader

n = 0
with PcapReader(sys.argv[1]) as r:
    for packet in r:
        n += 1
print(n, "frames", file=sys.stderr)
