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
MAX_RECORD = 1518  # a full Ethernet frame; records are [ctl, len_lo, len_hi, bytes...]
def rec(ctl, b):
    assert len(b) <= MAX_RECORD, len(b)
    return bytes([ctl]) + struct.pack("<H", len(b)) + b
seeds["tftp_client"] = [
  # bit 1 of the first byte: blksize 1468, full-size DATA
  b"\x02" + rec(1, tftp(6, b"blksize\x001468\0tsize\x003000\0")) + b"".join(rec(1, tftp(3, struct.pack(">H", i), bytes([i]) * 1468)) for i in (1, 2)) + rec(1, tftp(3, struct.pack(">H", 3), b"end")),
  b"\0" + rec(1, tftp(6, b"blksize\x0064\0windowsize\x004\0tsize\x00200\0")) + b"".join(rec(1, tftp(3, struct.pack(">H", i), b"a"*64)) for i in (1,2,4,3,4)) + rec(2, tftp(3, struct.pack(">H", 5), b"end")),
  b"\x01" + rec(1, tftp(6, b"tsize\x00999\0")),
  b"\0" + rec(1, tftp(5, struct.pack(">H", 8), b"no\0")) + rec(0x13, tftp(3, struct.pack(">H", 1), b"short")),
  b"\0" + rec(15, b"") * 8,
]
# A full-size reply: 1200 bytes of site options (224-254, which the client ignores), then the
# boot file in option 67 overloaded into `file` and the TFTP server name in `sname` (52 = 3).
pad = b"".join(opt(224 + i % 30, bytes([i]) * 250) for i in range(4)) + b"".join(opt(250, bytes([i]) * 44) for i in range(4))
def full(msg):
    return dhcp(msg, yi=bytes([10,0,0,50]), si=bytes([10,0,0,1]),
                opts=opt(54, bytes([10,0,0,1])) + opt(1, bytes([255,255,255,0])) + pad + opt(52, b"\x03"),
                file=opt(67, b"boot/full-size-overloaded.0") + b"\xff", sname=opt(66, b"10.0.0.1") + b"\xff")
seeds["dhcp_packet"].append(full(5))
seeds["dhcp_client"] = [
  rec(1, dhcp(2, yi=bytes([10,0,0,50]), opts=opt(54, bytes([10,0,0,1])))) + rec(6, b"") + rec(1, dhcp(5, yi=bytes([10,0,0,50]), opts=opt(54, bytes([10,0,0,1])), file=b"a")),
  rec(1, dhcp(2, opts=opt(60, b"PXEClient") + opt(43, o43))),
  rec(15, b"") * 10,
  rec(1, full(2)) + rec(6, b"") + rec(1, full(5)),
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
  # full-size frame: a 1472-byte UDP payload (1514 bytes on the wire)
  b"\x01" + rec(1, eth(MAC, 0x800, ipv4(17, struct.pack(">HHHH", 69, 2000, 8 + 1472, 0) + bytes(range(256)) * 5 + bytes(192)))),
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

# ---- rom/pxe targets (pxe_api, pxe_memory, nbp_sink) and settings (settings_cfg) ----
def call(op, block, seg=None, off=None):
    """A pxe_api call record: at the usual block address, or at a hostile SEG:OFF."""
    if seg is None:
        return rec(0x08, struct.pack("<HHH", op, 0, 0) + block)
    return rec(0x00, struct.pack("<HHH", op, seg, off) + block)
st = b"\0\0"
more = {
  "pxe_api": [
    # GET_CACHED_INFO: DHCPACK into our buffer, then into the "core", then a size of 0xFFFF
    call(0x71, st + struct.pack("<HHHHH", 2, 0, 0, 0x1800, 0)) + call(0x71, st + struct.pack("<HHHHH", 3, 0x200, 0, 0x3800, 0))
      + call(0x71, st + struct.pack("<HHHHH", 1, 0xFFFF, 0xFFF0, 0xFFFF, 0)),
    # UNDI_GET_INFORMATION at the end of the segment and into the IVT, TFTP_OPEN, UDP_OPEN, UDP_READ
    call(0x0C, b"", 0xFFFF, 0xFFF0) + call(0x0C, b"", 0, 0) + call(0x0C, b"", 0x3000, 0x0010)
      + call(0x20, st + bytes([10,0,2,2]) + bytes(4) + b"pxelinux.0".ljust(128, b"\0") + struct.pack(">H", 69) + struct.pack("<H", 512))
      + call(0x30, st + bytes([10,0,2,15])) + call(0x32, st + bytes(16)) + rec(2, bytes(20)),
    # TFTP_READ_FILE into the core and below 0x500, a frame, STOP_UNDI with hooks stuck
    call(0x23, st + b"f".ljust(128, b"\0") + struct.pack("<I", 0x1000) + struct.pack("<I", 0x38000) + bytes(8))
      + call(0x23, st + b"f".ljust(128, b"\0") + struct.pack("<I", 0x1000) + struct.pack("<I", 0x100) + bytes(8))
      + rec(1, eth(MAC, 0x806, arp)) + rec(0x13, b"") + call(0x15, st),
  ],
  "pxe_memory": [
    struct.pack("<QQQQ", (0x8000 << 44) | 0x38000, (0x1000 << 32) | 0x30000, 0x37FFF, (0x1000 << 32) | 2),
    struct.pack("<QQQQ", (1 << 44) | 0xFFFFFFFF, 0x400, 0xFFFFFFFF, (0xFFF0 << 48) | (0xFFFF << 32) | 0x20),
    struct.pack("<QQQQ", 0, 0, 1 << 63, 0xFFFFFF),
  ],
  "nbp_sink": [
    b"\x01" + rec(1, tftp(6, b"blksize\x001468\0tsize\x002936\0")) + b"".join(rec(1, tftp(3, struct.pack(">H", i), bytes([i]) * 1468)) for i in (1, 2)) + rec(1, tftp(3, struct.pack(">H", 3), b"")),
    # more than the 32 KiB window: the sink must refuse, not write past it
    b"\x01" + rec(1, tftp(6, b"blksize\x001468\0")) + b"".join(rec(0, tftp(3, struct.pack(">H", i), bytes([i]) * 1468)) for i in range(1, 25)),
    b"\x00" + rec(1, tftp(6, b"tsize\x0099999999\0")),
  ],
  "settings_cfg": [
    b"# softpxe\nnext_server = 10.0.0.1\nboot_file = pxelinux.0\nlog = debug\ntiming = fast\nmenu_timeout = 5\n",
    b"\xef\xbb\xbfip = 10.0.0.50/24\r\ngateway = 10.0.0.1\r\ndns = 10.0.0.53\r\nnext_server = boot.lan\r\nboot_file = a/b.0 # comment\r\n",
    b"nic = 8086:100e\ndiscovery = multicast\ntftp_windowsize = 64\ntest_fault = stack\ntest_file = big.bin\nvendor_class = PXEClient\n",
    b"bogus\n= x\nNeXt_SeRvEr=1.2.3.4\nip = 300.1.1.1\nnetmask = 255.0.255.0\nnic = 00:1f.8\n\x00\xff = \x01\n" + b"x" * 300 + b"\n",
  ],
}
for target, items in more.items():
    os.makedirs(os.path.join("corpus", target), exist_ok=True)
    for i, b in enumerate(items):
        with open(os.path.join("corpus", target, "seed-%02d" % i), "wb") as f:
            f.write(b)
