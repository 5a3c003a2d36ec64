//! pcnet's receive filter and station address against the fake chip in `tests/pcnet.rs`:
//! MODE bits, LADRF, PADR, software dropping, and their survival across close + open.

use super::*;

const GROUP_A: [u8; 6] = [0x01, 0x00, 0x5E, 0x01, 0x02, 0x03];
const GROUP_B: [u8; 6] = [0x01, 0x00, 0x5E, 0x00, 0x00, 0x01];
const NEW_MAC: [u8; 6] = [0x02, 0x50, 0x58, 0x45, 0x00, 0x01];

fn to(dst: [u8; 6], seed: u8) -> Vec<u8> {
    let mut f = frame(64, seed);
    f[..6].copy_from_slice(&dst);
    f
}

fn ladrf(hal: &FakeHal<Dev>) -> u64 {
    let b = &hal.device.init_block[init::LADRF..init::LADRF + 8];
    u64::from_le_bytes(b.try_into().unwrap())
}

#[test]
fn ladrf_hash_is_the_top_six_bits_of_the_little_endian_crc() {
    // Values of (CRC-32 without final inversion) >> 26, computed independently (zlib).
    assert_eq!(ladrf_hash(&GROUP_A), 1);
    assert_eq!(ladrf_hash(&GROUP_B), 54);
    assert_eq!(ladrf_hash(&[0x33, 0x33, 0, 0, 0, 1]), 23);
    assert_eq!(ladrf_hash(&[0x01, 0x00, 0x5E, 0x7F, 0x02, 0x03]), 22);
    assert_eq!(ladrf_hash(&[0xFF; 6]), 47);
}

#[test]
fn mode_bits_for_each_filter_combination() {
    let (mut hal, mut nic) = opened();
    let cases = [
        (RxFilter::new(), Mode::empty(), 0),
        (RxFilter::none(), Mode::DRCVPA | Mode::DRCVBC, 0),
        (flt(true, true, true, false), Mode::empty(), u64::MAX),
        (flt(false, false, false, true), Mode::PROM, u64::MAX),
        (flt(true, false, false, false), Mode::DRCVBC, 0),
        (flt(false, true, false, false), Mode::DRCVPA, 0),
    ];
    for (filter, mode, table) in cases {
        nic.set_filter(&mut hal, &filter).unwrap();
        assert_eq!(
            Mode::from_bits_retain(hal.device.csr[15]),
            mode,
            "{filter:?}"
        );
        assert_eq!(ladrf(&hal), table, "{filter:?}");
        let csr0 = Csr0::from_bits_retain(hal.device.csr[0]);
        assert!(csr0.contains(Csr0::RXON | Csr0::TXON), "running again");
    }
    // What the chip then lets through: broadcast only with DRCVBC off.
    nic.set_filter(&mut hal, &flt(true, false, false, false))
        .unwrap();
    assert!(!inject(&mut hal, &to([0xFF; 6], 1)));
    assert!(inject(&mut hal, &to(MAC, 2)));
}

#[test]
fn multicast_list_sets_ladrf_bits_and_collisions_are_dropped_in_software() {
    let (mut hal, mut nic) = opened();
    let mut f = RxFilter::new();
    f.set_multicast(&[GROUP_A, GROUP_B]);
    nic.set_filter(&mut hal, &f).unwrap();
    assert_eq!(ladrf(&hal), 1 << 1 | 1 << 54);
    assert_eq!(ladrf_value(&f), 1 << 1 | 1 << 54);
    assert_eq!(hal.device.csr[8], 0x0002, "LADRF[15:0] in CSR8");
    // 01:00:5e:00:02:03 has GROUP_A's hash: the chip takes it, the driver does not.
    let collision = [0x01, 0x00, 0x5E, 0x00, 0x02, 0x03];
    assert_eq!(ladrf_hash(&collision), ladrf_hash(&GROUP_A));
    assert!(inject(&mut hal, &to(collision, 1)));
    assert!(inject(&mut hal, &to(GROUP_A, 2)));
    assert!(!inject(
        &mut hal,
        &to([0x01, 0x00, 0x5E, 0x7F, 0x02, 0x03], 3)
    ));
    let mut buf = [0u8; 2048];
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
    assert_eq!(buf[..6], GROUP_A);
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    assert_eq!(nic.rx_dropped(), 0, "filtered frames are not errors");
}

#[test]
fn station_address_goes_to_padr_and_old_address_is_dropped() {
    let (mut hal, mut nic) = opened();
    nic.set_station(&mut hal, NEW_MAC).unwrap();
    assert_eq!(nic.station(), NEW_MAC);
    assert_eq!(nic.mac(), MAC, "mac() stays the permanent address");
    assert_eq!(hal.device.init_block[init::PADR..init::PADR + 6], NEW_MAC);
    assert_eq!(hal.device.csr[12], 0x5002);
    assert!(
        !inject(&mut hal, &to(MAC, 1)),
        "the chip no longer matches the old address"
    );
    assert!(inject(&mut hal, &to(NEW_MAC, 2)));
    let mut buf = [0u8; 2048];
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
    assert_eq!(buf[..6], NEW_MAC);
    assert_eq!(
        nic.set_station(&mut hal, GROUP_A),
        Err(NicError::BadAddress)
    );
}

#[test]
fn frames_the_chip_over_accepts_are_dropped_in_software() {
    let (mut hal, mut nic) = opened();
    // The chip put into promiscuous mode behind the driver's back (or a frame that arrived
    // just before a filter change): the driver still returns only what its filter accepts.
    hal.device.csr[15] = Mode::PROM.bits();
    assert!(inject(&mut hal, &to(NEW_MAC, 1)));
    assert!(inject(&mut hal, &to(GROUP_B, 2)));
    assert!(inject(&mut hal, &to(MAC, 3)));
    let mut buf = [0u8; 2048];
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
    assert_eq!(buf[..6], MAC);
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    assert_eq!(nic.rx_dropped(), 0, "filtered frames are not errors");
}

#[test]
fn filter_and_station_survive_close_and_reopen() {
    let (mut hal, mut nic) = opened();
    let mut f = RxFilter::new();
    f.broadcast = false;
    f.set_multicast(&[GROUP_A]);
    nic.set_filter(&mut hal, &f).unwrap();
    nic.set_station(&mut hal, NEW_MAC).unwrap();
    nic.close(&mut hal);
    // The reset put the APROM address back into PADR (CSR12–14), for the next driver.
    assert_eq!(hal.device.csr[12], u16::from_le_bytes([MAC[0], MAC[1]]));
    nic.open(&mut hal).unwrap();
    assert_eq!(hal.device.init_block[init::PADR..init::PADR + 6], NEW_MAC);
    assert_eq!(Mode::from_bits_retain(hal.device.csr[15]), Mode::DRCVBC);
    assert_eq!(ladrf(&hal), 1 << 1);
    assert_eq!(nic.filter(), f);
}

#[test]
fn filter_set_while_closed_takes_effect_at_open() {
    let (mut hal, mut nic) = setup(DMA_BASE_LOW);
    nic.set_filter(&mut hal, &flt(false, false, false, true))
        .unwrap();
    nic.set_station(&mut hal, NEW_MAC).unwrap();
    assert!(
        hal.log.iter().all(|e| matches!(e, Event::PciWrite { .. })),
        "closed: no I/O"
    );
    nic.open(&mut hal).unwrap();
    assert_eq!(Mode::from_bits_retain(hal.device.csr[15]), Mode::PROM);
}
