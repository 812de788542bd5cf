#!/usr/bin/env python3
"""Builds the fuzz targets' seed directories (fuzz/corpus/<target>/) from capture files.

    seed.py OUT_DIR CAPTURE...

- read_pcap, read_pcapng: whole files, cut at a record or block boundary to 64 KiB;
- chain: every distinct frame (up to a cap per capture), behind its link type (u16le);
- dissect: each header the walk below recognises, from its first byte to the frame's
  end, behind the protocol's index in ProtocolId::ALL (specs sorted by layer, then id,
  as the code generator orders them);
- reassembly: runs of consecutive frames of each capture as "raw frame" ops, plus a
  few built sequences of fragments and segments (format: fuzz_targets/reassembly.rs);
- http: TCP payloads on HTTP ports, behind the framing-context byte.

Seeds are named by their SHA-1, so running it again adds nothing twice. Nothing from
the corpus is committed: the directories are in .gitignore.
"""

import hashlib
import re
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_SEED = 64 * 1024
# Frames and headers are cut here (as by a snapshot length): larger inputs only slow the
# targets down, and the runs use -max_len=4096 for them.
MAX_FRAME = 4096
FRAMES_PER_CAPTURE = 40
HEADERS_PER_PROTOCOL = 400
LAYERS = ["link", "internet", "transport", "application"]


def protocol_order():
    """Spec ids in ProtocolId::ALL order: by layer, then id (see codegen/src/check.rs)."""
    protocols = []
    for spec in (ROOT / "specs").rglob("*.toml"):
        text = spec.read_text()
        head = text.split("[protocol]", 1)
        if len(head) < 2:
            continue
        section = head[1].split("\n[", 1)[0]
        pid = re.search(r'^id\s*=\s*"([^"]+)"', section, re.M)
        layer = re.search(r'^layer\s*=\s*"([^"]+)"', section, re.M)
        if pid and layer and layer.group(1) in LAYERS:
            protocols.append((LAYERS.index(layer.group(1)), pid.group(1)))
    return [pid for _, pid in sorted(protocols)]


def pcap_frames(data):
    """(linktype, [(start, end, frame)]) of a pcap file; end is the record's end."""
    magic = data[:4]
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<", b"\x34\xcd\xb2\xa1": "<",
             b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">", b"\xa1\xb2\xcd\x34": ">"}.get(magic)
    if order is None or len(data) < 24:
        return None, []
    record = 24 if magic in (b"\x34\xcd\xb2\xa1", b"\xa1\xb2\xcd\x34") else 16
    linktype = struct.unpack(order + "I", data[20:24])[0] & 0xFFFF
    frames, pos = [], 24
    while pos + record <= len(data):
        incl = struct.unpack(order + "I", data[pos + 8:pos + 12])[0]
        end = pos + record + incl
        if end > len(data):
            break
        frames.append((pos, end, data[pos + record:end]))
        pos = end
    return linktype, frames


def pcapng_frames(data):
    """[(start, end, linktype, frame)] of a pcapng file's packet blocks, and the end of
    every block (where the file may be cut)."""
    frames, ends, pos, order, linktypes = [], [], 0, "<", []
    while pos + 12 <= len(data):
        if data[pos:pos + 4] == b"\x0a\x0d\x0d\x0a":
            order = "<" if data[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            linktypes = []
        btype, blen = struct.unpack(order + "II", data[pos:pos + 8])
        if blen < 12 or pos + blen > len(data):
            break
        body = data[pos + 8:pos + blen - 4]
        if btype == 1 and len(body) >= 2:
            linktypes.append(struct.unpack(order + "H", body[:2])[0])
        elif btype == 6 and len(body) >= 20:
            iface, _, _, cap = struct.unpack(order + "IIII", body[:16])
            if iface < len(linktypes):
                frames.append((pos, pos + blen, linktypes[iface], body[20:20 + cap]))
        elif btype == 3 and len(body) >= 4 and linktypes:
            orig = struct.unpack(order + "I", body[:4])[0]
            frames.append((pos, pos + blen, linktypes[0], body[4:4 + orig]))
        pos += blen
        ends.append(pos)
    return frames, ends


def cut(data, ends):
    """The longest prefix ending at one of `ends` within MAX_SEED (else the first)."""
    fits = [e for e in ends if e <= MAX_SEED]
    return data[:fits[-1]] if fits else data[:ends[0]] if ends else data


class Walk:
    """A small dissector, enough to find each protocol's headers in real frames."""

    ETHERTYPE = {0x0800: "ipv4", 0x86DD: "ipv6", 0x0806: "arp", 0x8035: "arp",
                 0x8100: "vlan", 0x88A8: "ieee8021ad", 0x8863: "pppoe", 0x8864: "pppoe"}
    IP_PROTO = {0: "ipv6_hopopt", 1: "icmp", 4: "ipv4", 6: "tcp", 17: "udp", 41: "ipv6",
                43: "ipv6_route", 44: "ipv6_frag", 47: "gre", 50: "esp", 51: "ah",
                58: "icmpv6", 60: "ipv6_opts"}
    UDP_PORTS = {2152: "gtp", 1701: "l2tp", 3544: "teredo"}
    HTTP_PORTS = {80, 8080, 8000, 3128}

    def __init__(self, emit):
        self.emit = emit

    def linktype(self, linktype, b):
        start = {1: "ethernet", 0: "null", 108: "loop", 101: "rawip", 228: "ipv4",
                 229: "ipv6", 113: "sll", 276: "sll2", 9: "ppp", 50: "ppp_hdlc"}.get(linktype)
        if start:
            self.go(start, b, 0)

    def ip_version(self, b, depth):
        if b:
            self.go({4: "ipv4", 6: "ipv6"}.get(b[0] >> 4), b, depth)

    def go(self, proto, b, depth):
        if proto is None or not b or depth > 12:
            return
        self.emit(proto, b)
        n = depth + 1
        if proto == "ethernet" and len(b) >= 14:
            self.go(self.ETHERTYPE.get(int.from_bytes(b[12:14], "big")), b[14:], n)
        elif proto in ("vlan", "ieee8021ad") and len(b) >= 4:
            self.go(self.ETHERTYPE.get(int.from_bytes(b[2:4], "big")), b[4:], n)
        elif proto == "sll" and len(b) >= 16:
            self.go(self.ETHERTYPE.get(int.from_bytes(b[14:16], "big")), b[16:], n)
        elif proto == "sll2" and len(b) >= 20:
            self.go(self.ETHERTYPE.get(int.from_bytes(b[0:2], "big")), b[20:], n)
        elif proto in ("null", "loop") and len(b) >= 4:
            self.ip_version(b[4:], n)
        elif proto == "rawip":
            self.ip_version(b, n)
        elif proto == "pppoe" and len(b) >= 8 and b[1] == 0:
            if int.from_bytes(b[6:8], "big") == 0x0021:
                self.go("ipv4", b[8:], n)
            elif int.from_bytes(b[6:8], "big") == 0x0057:
                self.go("ipv6", b[8:], n)
        elif proto == "ipv4" and len(b) >= 20:
            ihl = (b[0] & 15) * 4
            total = int.from_bytes(b[2:4], "big")
            if int.from_bytes(b[6:8], "big") & 0x1FFF == 0:
                self.go(self.IP_PROTO.get(b[9]), b[ihl:max(total, ihl)], n)
        elif proto == "ipv6" and len(b) >= 40:
            self.go(self.IP_PROTO.get(b[6]), b[40:], n)
        elif proto in ("ipv6_hopopt", "ipv6_opts", "ipv6_route") and len(b) >= 8:
            self.go(self.IP_PROTO.get(b[0]), b[(b[1] + 1) * 8:], n)
        elif proto == "ipv6_frag" and len(b) >= 8:
            if int.from_bytes(b[2:4], "big") >> 3 == 0:
                self.go(self.IP_PROTO.get(b[0]), b[8:], n)
        elif proto == "ah" and len(b) >= 8:
            self.go(self.IP_PROTO.get(b[0]), b[(b[1] + 2) * 4:], n)
        elif proto == "gre" and len(b) >= 4:
            self.go(self.ETHERTYPE.get(int.from_bytes(b[2:4], "big")), b[4:], n)
        elif proto == "tcp" and len(b) >= 20:
            ports = {int.from_bytes(b[0:2], "big"), int.from_bytes(b[2:4], "big")}
            payload = b[(b[12] >> 4) * 4:]
            if ports & self.HTTP_PORTS and payload:
                self.go("http", payload, n)
        elif proto == "udp" and len(b) >= 8:
            ports = [int.from_bytes(b[0:2], "big"), int.from_bytes(b[2:4], "big")]
            for p in ports:
                if p in self.UDP_PORTS:
                    self.go(self.UDP_PORTS[p], b[8:], n)
                    break
        elif proto == "teredo" and b:
            self.ip_version(b, n)
        elif proto == "gtp" and len(b) >= 8:
            self.ip_version(b[8:], n)


def reassembly_ops():
    """A few sequences built op by op (see fuzz_targets/reassembly.rs)."""
    def frag4(hosts, ident, proto, off8, more, payload, dt=0):
        return (bytes([dt * 8 + 1, hosts]) + struct.pack("<HBH", ident, proto,
                (0x2000 if more else 0) | off8) + struct.pack("<H", len(payload)) + payload)

    def frag6(hosts, ident, nxt, off8, more, payload, dt=0):
        return (bytes([dt * 8 + 2, hosts]) + struct.pack("<HBH", ident, nxt,
                (off8 << 3) | more) + struct.pack("<H", len(payload)) + payload)

    def seg(op, hosts, ports, seq, ack, flags, payload, dt=0):
        return (bytes([dt * 8 + op, hosts, ports]) + struct.pack("<IIB", seq, ack, flags)
                + struct.pack("<H", len(payload)) + payload)

    udp = struct.pack(">HHHH", 5000, 53, 8 + 40, 0) + bytes(range(40))
    request = b"GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n"
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    syn, synack, ack, psh, fin = 0x02, 0x12, 0x10, 0x18, 0x11
    c, s = 0x10, 0x01  # client 10.0.0.0 -> server 10.0.0.1; ports 1234 -> 80
    tcp = (seg(3, c, 0x02, 1000, 0, syn, b"") + seg(3, s, 0x20, 5000, 1001, synack, b"")
           + seg(3, c, 0x02, 1001, 5001, ack, b"")
           + seg(3, c, 0x02, 1001 + 20, 5001, psh, request[20:])
           + seg(3, c, 0x02, 1001, 5001, psh, request[:20])
           + seg(3, s, 0x20, 5001, 1001 + len(request), psh, response[:30])
           + seg(3, s, 0x20, 5001 + 30, 1001 + len(request), psh, response[30:])
           + seg(3, s, 0x20, 5001 + len(response), 1001 + len(request), psh, chunked)
           + seg(3, c, 0x02, 1001 + len(request), 0, fin, b"", dt=1)
           + seg(3, s, 0x20, 5001 + len(response) + len(chunked), 0, fin, b""))
    v6 = seg(4, c, 0x02, 0xFFFFFFF0, 0, syn, b"") + seg(4, c, 0x02, 0xFFFFFFF1, 0, psh, request)
    ip = (frag4(c, 7, 17, 2, True, udp[16:32]) + frag4(c, 7, 17, 0, True, udp[:16])
          + frag4(c, 7, 17, 4, False, udp[32:]) + frag6(c, 9, 17, 0, 1, udp[:24])
          + frag6(c, 9, 17, 3, 0, udp[24:], dt=20) + frag4(c, 8, 6, 0, True, b"x" * 8, dt=31))
    return [bytes([0x7F, 15, 15]) + tcp, bytes([0x04, 15, 15]) + tcp,
            bytes([0x37, 2, 2]) + tcp + v6, bytes([0x0B, 15, 15]) + ip,
            bytes([0x7F, 3, 1]) + ip + tcp + v6]


def main():
    out = Path(sys.argv[1])
    order = protocol_order()
    counts = {}
    written = 0

    def seed(target, data):
        nonlocal written
        d = out / target
        d.mkdir(parents=True, exist_ok=True)
        f = d / hashlib.sha1(data).hexdigest()
        if not f.exists():
            f.write_bytes(data)
            written += 1

    def header(proto, b):
        if proto in order and counts.get(proto, 0) < HEADERS_PER_PROTOCOL:
            counts[proto] = counts.get(proto, 0) + 1
            seed("dissect", bytes([order.index(proto)]) + b[:MAX_FRAME - 1])
            if proto == "http":
                for cx in (0, 1):
                    seed("http", bytes([cx]) + b[:MAX_FRAME - 1])

    walk = Walk(header)
    for path in sys.argv[2:]:
        data = Path(path).read_bytes()
        if data[:4] == b"\x0a\x0d\x0d\x0a":
            blocks, ends = pcapng_frames(data)
            seed("read_pcapng", cut(data, ends))
            frames = [(lt, f) for _, _, lt, f in blocks]
        else:
            linktype, records = pcap_frames(data)
            if linktype is None:
                continue
            seed("read_pcap", cut(data, [24] + [end for _, end, _ in records]))
            frames = [(linktype, f) for _, _, f in records]
        # The first frames and then a spread over the rest.
        step = max(1, len(frames) // FRAMES_PER_CAPTURE)
        picked = frames[:FRAMES_PER_CAPTURE // 2] + frames[FRAMES_PER_CAPTURE // 2::step]
        for linktype, frame in picked:
            seed("chain", struct.pack("<H", linktype) + frame[:MAX_FRAME - 2])
            walk.linktype(linktype, frame)
        # Consecutive frames as raw-frame ops: every reassembly on (not strict, with
        # summaries, payloads and chunks), ample budgets.
        ops = bytearray([0x7F, 15, 15])
        for linktype, frame in frames:
            frame = frame[:0xFFFF]
            op = struct.pack("<BHBH", 0, linktype, 0, len(frame)) + frame
            if len(ops) + len(op) > MAX_SEED:
                break
            ops += op
        if len(ops) > 3:
            seed("reassembly", bytes(ops))
    for ops in reassembly_ops():
        seed("reassembly", ops)
    for text in (b"GET / HTTP/1.1\r\n\r\n", b"HTTP/1.0 200 OK\r\n\r\nbody",
                 b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x\r\nabcd\r\n0\r\nT: 1\r\n\r\n",
                 b"POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"):
        for cx in range(4):
            seed("http", bytes([cx]) + text)
    print(f"{written} new seeds in {out}; headers per protocol: {counts}")


if __name__ == "__main__":
    main()
