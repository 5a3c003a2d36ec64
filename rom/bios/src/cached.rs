//! The packets GET_CACHED_INFO hands to the NBP (PXE 2.1 §3.2.4): copies of the DHCP
//! conversation's DISCOVER, ACK and proxy / boot-server reply, or, with a static address, a
//! DHCPACK made up from SOFTPXE.CFG.
use core::cell::UnsafeCell;
use core::net::Ipv4Addr;
use softpxe_net::dhcp::DhcpClient;
use softpxe_settings::Settings;

/// Copies of the DHCP conversation's packets for GET_CACHED_INFO: DISCOVER, ACK, and the
/// proxy / boot-server reply (or the ACK again).
pub struct Cached {
    pub packets: [[u8; 1472]; 3],
    pub lens: [usize; 3],
}

struct CachedCell(UnsafeCell<Cached>);
// SAFETY: one CPU; written only at the end of the DHCP conversation, read when the NBP starts,
// both from the core's single flow of control.
unsafe impl Sync for CachedCell {}
static CACHED: CachedCell = CachedCell(UnsafeCell::new(Cached {
    packets: [[0; 1472]; 3],
    lens: [0; 3],
}));

/// The packets of the last DHCP conversation.
pub fn cached() -> &'static Cached {
    // SAFETY: see CachedCell; no mutable reference is alive outside `keep_packets`.
    unsafe { &*CACHED.0.get() }
}

/// With a static address there is no DHCP conversation: NBPs still ask GET_CACHED_INFO for
/// their address, server and file, so a DHCPACK is made up from the settings (as iPXE does)
/// and cached for types 2 and 3; type 1 (DISCOVER) stays empty.
pub fn keep_static_ack(
    mac: [u8; 6],
    ip: Ipv4Addr,
    settings: &Settings,
    server: Ipv4Addr,
    file: &[u8],
) {
    let mut ack = [0u8; 1472];
    let len = {
        let Ok(mut b) = softpxe_net::dhcp::packet::Builder::new(&mut ack, 2, 0, mac) else {
            return;
        };
        b.yiaddr(ip)
            .siaddr(server)
            .file(file)
            .option(53, &[5])
            .option(54, &server.octets());
        if let Some(m) = settings.netmask {
            b.option(1, &m.octets());
        }
        if let Some(g) = settings.gateway {
            b.option(3, &g.octets());
        }
        if let Some(d) = settings.dns {
            b.option(6, &d.octets());
        }
        b.option(60, b"PXEClient");
        b.finish().unwrap_or(0)
    };
    // SAFETY: see CachedCell; called once, with no shared reference alive.
    let c = unsafe { &mut *CACHED.0.get() };
    c.lens = [0, len, len];
    c.packets[1][..len].copy_from_slice(&ack[..len]);
    c.packets[2][..len].copy_from_slice(&ack[..len]);
}

pub fn keep_packets(client: &DhcpClient) {
    // SAFETY: see CachedCell; called once, with no shared reference alive.
    let c = unsafe { &mut *CACHED.0.get() };
    for (i, p) in [
        client.cached_discover(),
        client.cached_ack(),
        client.cached_reply(),
    ]
    .into_iter()
    .enumerate()
    {
        let n = p.len().min(1472);
        c.packets[i][..n].copy_from_slice(&p[..n]);
        c.lens[i] = n;
    }
}
