//! ne2000 receive filter and station address: RCR, MAR0–7 and PAR0–5 per filter, the QEMU
//! unicast quirk (RCR.PRO), software dropping, and what survives close + open.

use super::*;

#[test]
fn rcr_and_mar_for_each_filter() {
    let (mut hal, mut nic) = opened();
    let mut list = RxFilter::new();
    list.set_multicast(&[GROUP_A, ALL_HOSTS]);
    let cases = [
        (flt(true, false, false, false), Rcr::empty(), 0u64),
        (flt(true, true, false, false), Rcr::AB, 0),
        (flt(true, true, true, false), Rcr::AB | Rcr::AM, u64::MAX),
        (
            flt(false, false, false, true),
            Rcr::PRO | Rcr::AB | Rcr::AM,
            u64::MAX,
        ),
        (list, Rcr::AB | Rcr::AM, 1 << 57 | 1 << 31),
    ];
    for (f, rcr, mar) in cases {
        nic.set_filter(&mut hal, &f).unwrap();
        assert_eq!(Rcr::from_bits_retain(hal.device.rcr), rcr, "{f:?}");
        assert_eq!(u64::from_le_bytes(hal.device.mar), mar, "{f:?}");
        assert_eq!(
            hal.device.cmd & 0xC3,
            Cr::STA.bits(),
            "back on page 0, running"
        );
    }
}

#[test]
fn software_filter_drops_hash_collisions_and_undirected_frames() {
    let (mut hal, mut nic) = opened();
    let mut f = RxFilter::new();
    f.set_multicast(&[GROUP_A]);
    nic.set_filter(&mut hal, &f).unwrap();
    let twin = (0..=255u8)
        .map(|b| [0x01, 0x00, 0x5E, 0x22, 0x33, b])
        .find(|m| mar_hash(m) == mar_hash(&GROUP_A))
        .expect("a colliding address");
    assert!(hal.device.receive(&to(twin, 64, 1)));
    assert!(hal.device.receive(&to(GROUP_A, 64, 2)));
    let mut buf = [0u8; 1600];
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
    assert_eq!(buf[..6], GROUP_A);
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    // The chip always takes its station address; `directed` off drops it in software.
    nic.set_filter(&mut hal, &flt(false, true, false, false))
        .unwrap();
    assert!(hal.device.receive(&to(MAC, 64, 3)));
    assert!(hal.device.receive(&frame(64, 4)));
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
    assert_eq!(buf[..6], [0xFF; 6]);
    assert_eq!(nic.rx_dropped(), 0);
}

#[test]
fn station_goes_to_par_and_survives_reopen_close_restores_the_mac() {
    let (mut hal, mut nic) = opened();
    nic.set_station(&mut hal, NEW_MAC).unwrap();
    assert_eq!(hal.device.par, NEW_MAC);
    // QEMU matches unicast against the PROM: a new station address needs RCR.PRO.
    assert_eq!(Rcr::from_bits_retain(hal.device.rcr), Rcr::AB | Rcr::PRO);
    hal.device.qemu_unicast = true;
    assert!(hal.device.receive(&to(NEW_MAC, 64, 7)));
    assert!(hal.device.receive(&to([0x02, 9, 9, 9, 9, 9], 64, 8)));
    let mut buf = [0u8; 1600];
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
    assert_eq!(buf[..6], NEW_MAC);
    assert_eq!(
        nic.receive(&mut hal, &mut buf),
        None,
        "other unicast dropped in software"
    );
    hal.device.qemu_unicast = false;
    nic.set_station(&mut hal, MAC).unwrap();
    assert_eq!(
        Rcr::from_bits_retain(hal.device.rcr),
        Rcr::AB,
        "back to the chip's match"
    );
    nic.set_station(&mut hal, NEW_MAC).unwrap();
    assert_eq!((nic.station(), nic.mac()), (NEW_MAC, MAC));
    assert_eq!(
        nic.set_station(&mut hal, GROUP_A),
        Err(NicError::BadAddress)
    );
    // The chip takes the old address too (PRO), the software filter does not.
    assert!(hal.device.receive(&to(MAC, 64, 1)));
    assert!(hal.device.receive(&to(NEW_MAC, 64, 2)));
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
    assert_eq!(buf[..6], NEW_MAC);
    let mut f = RxFilter::new();
    f.set_multicast(&[ALL_HOSTS]);
    nic.set_filter(&mut hal, &f).unwrap();
    nic.close(&mut hal);
    assert_eq!(
        hal.device.par, MAC,
        "the next driver finds the permanent address"
    );
    nic.open(&mut hal).unwrap();
    assert_eq!(hal.device.par, NEW_MAC);
    assert_eq!(u64::from_le_bytes(hal.device.mar), 1 << 31);
    assert_eq!(
        Rcr::from_bits_retain(hal.device.rcr),
        Rcr::AB | Rcr::AM | Rcr::PRO
    );
}
