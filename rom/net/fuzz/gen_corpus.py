#!/usr/bin/env python3
"""Writes the seed corpus (hand-built packets, not captures). Run from rom/net/fuzz/."""
import os, struct

MAC = bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56])
XID = 0x12345678

def opt(c, d): return bytes([c, len(d)]) + d

def dhcp(msg, yi=b"\0"*4, si=b"\0"*4, file=b"", opts=b"", sname=b""):
    h = bytes([2, 1, 6, 0]) + struct.pack(">IHH", XID, 0, 0) + b"\0"*4 + yi + si + b"\0"*4
    h += MAC + b"\0"*10 + sname.ljust(64, b"\0") + file.ljust(128, b"\0") + bytes([99, 130, 83, 99])
    return h + opt(53, bytes([msg])) + opts + b"\xff"

o43 = opt(6, b"\x03") + opt(7, bytes([224,0,1,2])) + opt(8, b"\x80\x01\x02" + bytes([10,0,0,7,10,0,0,8])) \
    + opt(9, b"\x80\x01\x05Linux\x00\x00\x05Local") + opt(10, b"\x05Press F8") + opt(71, b"\x80\x01\x00\x00") + b"\xff"
seeds = {
  "dhcp_packet": [
    dhcp(2, yi=bytes([10,0,0,50]), si=bytes([10,0,0,1]), file=b"pxelinux.0", opts=opt(54, bytes([10,0,0,1])) + opt(1, bytes([255,255,255,0]))),
    dhcp(2, opts=opt(60, b"PXEClient") + opt(43, o43)),
    dhcp(5, opts=opt(52, b"\x03") + opt(60, b"PXEClient"), file=opt(67, b"over.0") + b"\xff", sname=opt(66, b"10.0.0.9") + b"\xff"),
    dhcp(6) + b"\x01\x05\x00",
  ],
  "pxe_options": [o43, opt(8, b"\x00\x01\x09\x01\x02"), opt(9, b"\x00\x00\xff")],
}
def tftp(op, *parts): return struct.pack(">H", op) + b"".join(parts)
seeds["tftp_packet"] = [
  tftp(1, b"pxelinux.0\0octet\0blksize\x001468\0tsize\x000\0windowsize\x008\0"),
  tftp(3, struct.pack(">H", 1), b"x"*64), tftp(4, struct.pack(">H", 65535)),
  tftp(5, struct.pack(">H", 1), b"File not found\0"), tftp(6, b"blksize\x0064\0tsize\x00100\0"),
]
def rec(ctl, b): return bytes([ctl, min(len(b), 255)]) + b[:255]
seeds["tftp_client"] = [
  b"\0" + rec(1, tftp(6, b"blksize\x0064\0windowsize\x004\0tsize\x00200\0")) + b"".join(rec(1, tftp(3, struct.pack(">H", i), b"a"*64)) for i in (1,2,4,3,4)) + rec(2, tftp(3, struct.pack(">H", 5), b"end")),
  b"\x01" + rec(1, tftp(6, b"tsize\x00999\0")),
  b"\0" + rec(1, tftp(5, struct.pack(">H", 8), b"no\0")) + rec(0x13, tftp(3, struct.pack(">H", 1), b"short")),
  b"\0" + rec(15, b"") * 8,
]
def big(b): return bytes([0x85]) + b  # records longer than 255 are cut; keep seeds small
seeds["dhcp_client"] = [
  rec(1, dhcp(2, yi=bytes([10,0,0,50]), opts=opt(54, bytes([10,0,0,1])))[:255]) + rec(6, b"") + rec(1, dhcp(5, yi=bytes([10,0,0,50]), opts=opt(54, bytes([10,0,0,1])), file=b"a")[:255]),
  rec(1, dhcp(2, opts=opt(60, b"PXEClient") + opt(43, o43))[:255]),
  rec(15, b"") * 10,
]
def eth(dst, typ, payload): return dst + bytes([0x52,0x54,0,9,9,9]) + struct.pack(">H", typ) + payload
arp = struct.pack(">HHBBH", 1, 0x800, 6, 4, 1) + bytes([0x52,0x54,0,9,9,9]) + bytes([10,0,0,5]) + b"\0"*6 + bytes([10,0,0,2])
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack(">%dH" % (len(b)//2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
def ipv4(proto, payload, frag=0):
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20+len(payload), 0, frag, 64, proto, 0, bytes([10,0,0,5]), bytes([10,0,0,2]))
    return h[:10] + struct.pack(">H", csum(h)) + h[12:] + payload
udp = struct.pack(">HHHH", 67, 68, 8+5, 0) + b"offer"
icmp = b"\x08\x00\x00\x00\x00\x07\x00\x03ping"
icmp = icmp[:2] + struct.pack(">H", csum(icmp)) + icmp[4:]
B = b"\xff"*6
seeds["iface"] = [
  b"\x01" + rec(1, eth(B, 0x806, arp)),
  b"\x01" + rec(1, eth(B, 0x800, ipv4(17, udp))) + rec(0x81, eth(MAC, 0x806, arp[:7] + b"\x02" + arp[8:])),
  b"\x01" + rec(1, eth(MAC, 0x800, ipv4(1, icmp))),
  b"\x00" + rec(1, eth(B, 0x800, ipv4(17, udp, frag=0x2000))),
]
def dname(n): return b"".join(bytes([len(l)]) + l for l in n.split(b".") if l) + b"\0"
def dns(flags, answers=b"", an=0, q=dname(b"boot.lan")):
    return struct.pack(">HHHHHH", 0x1234, flags, 1, an, 0, 0) + q + b"\0\1\0\1" + answers
def rr(owner, typ, data): return owner + struct.pack(">HHIH", typ, 1, 3600, len(data)) + data
P = b"\xc0\x0c"  # pointer to the question name
seeds["dns_answer"] = [
  dns(0x8180, rr(P, 1, bytes([10,0,0,9])), 1),
  dns(0x8180, rr(P, 5, dname(b"alias.example")) + rr(b"\xc0\x26", 5, b"\x04real\xc0\x2c") + rr(b"\xc0\x41", 1, bytes([10,0,0,9])), 3),
  dns(0x8180, rr(P, 5, dname(b"other.example")), 1),
  dns(0x8183), dns(0x8182), dns(0x8380),
  dns(0x8180, rr(P, 5, b"\xc0\x26"), 1),
  # full size: many A records for other names, then ours (1468 bytes)
  dns(0x8180, b"".join(rr(dname(b"h%02d.pad.example" % i), 1, bytes([10,0,1,i])) for i in range(46)) + rr(P, 1, bytes([10,0,0,9])), 47),
]
for target, items in seeds.items():
    os.makedirs(os.path.join("corpus", target), exist_ok=True)
    for i, b in enumerate(items):
        with open(os.path.join("corpus", target, "seed-%02d" % i), "wb") as f:
            f.write(b)
