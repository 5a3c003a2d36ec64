//! DNS names, the A query and the answer parser (layer `rom/net`).
//!
//! RFC 1035 §3.1 (names: labels of 1-63 bytes, 255 bytes on the wire), §4.1 (header, question,
//! resource records), §4.1.4 (compression pointers); RFC 2181 §10.1 (CNAME); RFC 5452 §9.1
//! (answers accepted only when id, addresses, ports and the question all match). The header,
//! question and record views are smoltcp's (`smoltcp::wire::DnsPacket`, `DnsQuestion`,
//! `DnsRecord`): they never panic, and `parse_name` follows a compression pointer only to an
//! earlier offset than the one before, so pointer loops end. On top of that, every decoded name
//! is bounded to 255 bytes and every loop here to the length of the message.

use crate::Ipv4Addr;
use core::fmt;
use smoltcp::wire::{
    DnsFlags, DnsOpcode, DnsPacket, DnsQueryType, DnsQuestion, DnsRcode, DnsRecord, DnsRecordData,
    DnsRepr,
};

/// Longest name on the wire (RFC 1035 §3.1), length bytes and the final 0 included.
pub const MAX_NAME: usize = 255;
/// Longest label (RFC 1035 §3.1).
pub const MAX_LABEL: usize = 63;
/// CNAME records followed inside one answer before the chain counts as a loop.
pub const MAX_CHAIN: u8 = 8;

/// A domain name in uncompressed wire form (length-prefixed labels, then 0), at most 255 bytes.
/// Compared without regard to ASCII case (RFC 4343).
#[derive(Clone, Copy)]
pub struct Name {
    wire: [u8; MAX_NAME],
    len: usize,
}

/// A name that is not a valid host name, or one too long for DNS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadName;

impl Name {
    /// The root name (`.`).
    pub const ROOT: Name = Name {
        wire: [0; MAX_NAME],
        len: 1,
    };

    /// Parses dotted text (`boot.example.org`, optionally with a final dot). Labels are 1-63
    /// printable ASCII bytes other than `.` and space; the whole name at most 253 characters.
    /// Returns the name and whether it was absolute (final dot).
    pub fn from_text(text: &[u8]) -> Result<(Name, bool), BadName> {
        let (text, absolute) = match text.strip_suffix(b".") {
            Some(t) => (t, true),
            None => (text, false),
        };
        if text.is_empty() {
            return Err(BadName);
        }
        let mut n = Name::ROOT;
        n.len = 0;
        for label in text.split(|b| *b == b'.') {
            n.push_label(label)?;
            if !label.iter().all(|b| (0x21..0x7f).contains(b)) {
                return Err(BadName);
            }
        }
        n.finish()?;
        Ok((n, absolute))
    }

    fn push_label(&mut self, label: &[u8]) -> Result<(), BadName> {
        if label.is_empty() || label.len() > MAX_LABEL || self.len + 1 + label.len() >= MAX_NAME {
            return Err(BadName);
        }
        self.wire[self.len] = label.len() as u8;
        self.wire[self.len + 1..self.len + 1 + label.len()].copy_from_slice(label);
        self.len += 1 + label.len();
        Ok(())
    }

    fn finish(&mut self) -> Result<(), BadName> {
        if self.len >= MAX_NAME {
            return Err(BadName);
        }
        self.wire[self.len] = 0;
        self.len += 1;
        Ok(())
    }

    /// This name followed by `domain` (for a search domain, DHCP option 15).
    pub fn join(&self, domain: &Name) -> Result<Name, BadName> {
        let head = self.len - 1;
        if head + domain.len > MAX_NAME {
            return Err(BadName);
        }
        let mut n = *self;
        n.wire[head..head + domain.len].copy_from_slice(domain.wire());
        n.len = head + domain.len;
        Ok(n)
    }

    /// The uncompressed wire form, final 0 included.
    pub fn wire(&self) -> &[u8] {
        &self.wire[..self.len]
    }

    /// Number of labels.
    pub fn labels(&self) -> usize {
        let mut i = 0;
        let mut n = 0;
        while i < self.len && self.wire[i] != 0 {
            i += 1 + usize::from(self.wire[i]);
            n += 1;
        }
        n
    }

    /// Decodes a (possibly compressed) name found at the start of `at` inside `packet`.
    fn decode<T: AsRef<[u8]>>(packet: &DnsPacket<T>, at: &[u8]) -> Result<Name, Malformed> {
        let mut n = Name::ROOT;
        n.len = 0;
        for label in packet.parse_name(at) {
            let label = label.map_err(|_| Malformed)?;
            n.push_label(label).map_err(|_| Malformed)?;
        }
        n.finish().map_err(|_| Malformed)?;
        Ok(n)
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        // Length bytes are below 0x40, so ASCII case folding leaves them alone.
        self.wire().eq_ignore_ascii_case(other.wire())
    }
}
impl Eq for Name {}

impl fmt::Display for Name {
    /// Dotted text; bytes that are not printable ASCII show as `?`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut i = 0;
        let mut first = true;
        while i < self.len && self.wire[i] != 0 {
            let l = usize::from(self.wire[i]);
            if !first {
                f.write_str(".")?;
            }
            first = false;
            for &b in self.wire.get(i + 1..i + 1 + l).unwrap_or(&[]) {
                let c = if (0x21..0x7f).contains(&b) {
                    b as char
                } else {
                    '?'
                };
                fmt::Write::write_char(f, c)?;
            }
            i += 1 + l;
        }
        if first {
            f.write_str(".")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

/// The answer is badly formed (bad name, record or pointer), though it is ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

/// What one answer says about the name asked for.
// Returned once per answer, never stored in bulk: the name inline is fine.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// An A record for the name or the end of its CNAME chain. `aliases` CNAMEs were followed.
    Address { ip: Ipv4Addr, aliases: u8 },
    /// The answer holds only CNAMEs: ask again for `target`, the end of the chain.
    Alias { target: Name, aliases: u8 },
    /// The CNAME chain inside the answer is longer than [`MAX_CHAIN`] (or loops).
    AliasLoop,
    /// NOERROR but no A record for the name (it has other types only).
    NoAddress,
    /// RCODE 3: the name does not exist.
    NxDomain,
    /// Another error RCODE (2 SERVFAIL, 5 REFUSED, ...).
    Rcode(u8),
    /// The TC bit: the answer did not fit in a UDP datagram.
    Truncated,
    /// Ours, but unusable.
    Malformed,
}

/// Writes a recursive (RD) query for `name`, type A, class IN, with `id` into `buf`. Returns the
/// length, or `None` if `buf` is too small.
pub fn emit_query(buf: &mut [u8], id: u16, name: &Name) -> Option<usize> {
    let repr = DnsRepr {
        transaction_id: id,
        opcode: DnsOpcode::Query,
        flags: DnsFlags::RECURSION_DESIRED,
        question: DnsQuestion {
            name: name.wire(),
            type_: DnsQueryType::A,
        },
    };
    let len = repr.buffer_len();
    let out = buf.get_mut(..len)?;
    repr.emit(&mut DnsPacket::new_unchecked(out));
    Some(len)
}

/// Reads an answer to our query `id` for `qname`. `None`: the message is not an answer to that
/// query (not a response, another id, opcode, question count or question): ignore it.
pub fn parse_answer(msg: &[u8], id: u16, qname: &Name) -> Option<Answer> {
    let p = DnsPacket::new_checked(msg).ok()?;
    if p.transaction_id() != id
        || !p.flags().contains(DnsFlags::RESPONSE)
        || p.opcode() != DnsOpcode::Query
        || p.question_count() != 1
    {
        return None;
    }
    let (rest, q) = DnsQuestion::parse(p.payload()).ok()?;
    if q.type_ != DnsQueryType::A || Name::decode(&p, q.name).ok()? != *qname {
        return None;
    }
    if p.flags().contains(DnsFlags::TRUNCATED) {
        return Some(Answer::Truncated);
    }
    match p.rcode() {
        DnsRcode::NoError => {}
        DnsRcode::NXDomain => return Some(Answer::NxDomain),
        other => return Some(Answer::Rcode(u8::from(other))),
    }
    Some(chain(&p, rest, p.answer_record_count(), qname).unwrap_or(Answer::Malformed))
}

/// Follows `qname` through the answer section (`count` records at the start of `records`).
fn chain<T: AsRef<[u8]>>(
    p: &DnsPacket<T>,
    records: &[u8],
    count: u16,
    qname: &Name,
) -> Result<Answer, Malformed> {
    // Every record parses first, so a bad one makes the answer malformed wherever it is.
    each_record(p, records, count, |_, _| {})?;
    let mut target = *qname;
    for aliases in 0..=MAX_CHAIN {
        let mut ip = None;
        let mut cname = None;
        each_record(p, records, count, |name, data| {
            if name != target {
                return;
            }
            match data {
                DnsRecordData::A(a) if ip.is_none() => ip = Some(a),
                DnsRecordData::Cname(c) if cname.is_none() => cname = Some(c),
                _ => {}
            }
        })?;
        if let Some(ip) = ip {
            return Ok(Answer::Address { ip, aliases });
        }
        match cname {
            Some(at) if aliases < MAX_CHAIN => target = Name::decode(p, at)?,
            Some(_) => return Ok(Answer::AliasLoop),
            None if aliases == 0 => return Ok(Answer::NoAddress),
            None => return Ok(Answer::Alias { target, aliases }),
        }
    }
    Ok(Answer::AliasLoop)
}

/// Calls `f(owner name, data)` for each of the first `count` answer records.
fn each_record<'a, T: AsRef<[u8]>>(
    p: &'a DnsPacket<T>,
    mut records: &'a [u8],
    count: u16,
    mut f: impl FnMut(Name, DnsRecordData<'a>),
) -> Result<(), Malformed> {
    for _ in 0..count {
        // Each record takes at least 11 bytes, so this ends with the message.
        let (rest, DnsRecord { name, data, .. }) =
            DnsRecord::parse(records).map_err(|_| Malformed)?;
        records = rest;
        f(Name::decode(p, name)?, data);
    }
    Ok(())
}
