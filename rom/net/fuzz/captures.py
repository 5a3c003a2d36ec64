#!/usr/bin/env python3
"""Turns packet captures of LAN test runs into corpus files (capture-*). Run from rom/net/fuzz/:

    python3 captures.py NAME=FILE.pcap [NAME=FILE.pcap ...]

The captures come from QEMU's own packet dump on the guest NIC, enabled through the harness's
SOFTPXE_QEMU_ARGS (tcpdump is not needed):

    SOFTPXE_QEMU_ARGS='-object filter-dump,id=cap0,netdev=n0,file={dir}/capture.pcap' \\
        cargo test -p softpxe-tests --test netboot -- --exact lan_dhcp_plus_proxydhcp

NAME labels the servers in the capture (e.g. dnsmasq-atftpd); it becomes part of the file names.
Every target gets the real packets in its own input format (records: [ctl, len_lo, len_hi, ...]).
"""
import os, struct, sys

def rec(ctl, b):
    return bytes([ctl]) + struct.pack("<H", len(b)) + b

def frames(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    at = 24
    while at + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[at:at + 16])
        yield data[at + 16:at + 16 + incl]
        at += 16 + incl

def udp(frame):
    """(src_port, dst_port, payload) of an unfragmented IPv4 UDP frame, else None."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return None
    ihl = (frame[14] & 15) * 4
    if struct.unpack(">H", frame[20:22])[0] & 0x3FFF:
        return None
    u = frame[14 + ihl:]
    sp, dp, ln = struct.unpack(">HHH", u[:6])
    return sp, dp, u[8:ln]

def dhcp_options(p):
    """Option 43 contents of a DHCP message (main option area only)."""
    out, i = [], 240
    while i + 1 < len(p) and p[i] != 255:
        if p[i] == 0:
            i += 1
            continue
        n = p[i + 1]
        if p[i] == 43:
            out.append(p[i + 2:i + 2 + n])
        i += 2 + n
    return out

def main():
    corpus = {}
    def add(target, name, data, limit):
        have = corpus.setdefault(target, {})
        if data in have.values() or sum(1 for k in have if k.startswith(name)) >= limit:
            return
        have["%s-%02d" % (name, len(have))] = data
    for arg in sys.argv[1:]:
        label, path = arg.split("=", 1)
        replies, tftp_in, kinds = [], [], set()
        for f in frames(path):
            kind = None
            if f[12:14] == b"\x08\x06":
                kind = "arp"
            u = udp(f)
            if u:
                sp, dp, p = u
                if sp in (67, 4011) and dp == 68 or (dp in (67, 4011) and sp == 68):
                    kind = "dhcp"
                    add("dhcp_packet", "capture-%s" % label, p, 6)
                    if sp in (67, 4011):
                        replies.append(rec(1 | (0x10 if sp == 4011 else 0), p))
                    for o in dhcp_options(p):
                        add("pxe_options", "capture-%s" % label, o, 3)
                elif len(p) >= 4 and p[0] == 0 and 1 <= p[1] <= 6:
                    op = p[1]
                    kind = "tftp%d" % op
                    # keep DATA short for tftp_packet: first, a full one, the last
                    add("tftp_packet", "capture-%s-op%d" % (label, op), p, 2)
                    if op in (3, 5, 6):  # the server's side (OACK, DATA, ERROR)
                        tftp_in.append(rec(1, p))
                elif sp == 7 or dp == 7:
                    kind = "echo"
            if f[12:14] == b"\x08\x00" and f[23] == 1:
                kind = "icmp"
            if kind and (kind not in kinds or kind == "tftp3" and len(f) >= 1500 and "full" not in kinds):
                if kind == "tftp3" and len(f) >= 1500:
                    kinds.add("full")
                kinds.add(kind)
                add("iface", "capture-%s-%s" % (label, kind), b"\x01" + rec(1, f), 2)
        if replies:
            add("dhcp_client", "capture-%s" % label, b"".join(replies[:6]), 1)
        if tftp_in:
            # the server's side of the first transfer: OACK/ERROR and the first blocks
            first = b"".join(tftp_in[:6])
            add("tftp_client", "capture-%s" % label, b"\x02" + first, 1)
            add("nbp_sink", "capture-%s" % label, b"\x01" + first, 1)
            add("pxe_api", "capture-%s-rx" % label,
                b"".join(bytes([1]) + r[1:] for r in tftp_in[:3]), 1)
    for target, files in corpus.items():
        os.makedirs(os.path.join("corpus", target), exist_ok=True)
        for name, data in files.items():
            with open(os.path.join("corpus", target, name), "wb") as out:
                out.write(data)
        print(target, len(files))

main()
