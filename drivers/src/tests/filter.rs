//! `RxFilter`: the multicast list's capacity and what `accepts` lets through.

use std::vec::Vec;

use super::flt;
use crate::filter::{RxFilter, BROADCAST, MAX_MULTICAST};

const STATION: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
const OTHER: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x57];
const GROUP: [u8; 6] = [0x01, 0x00, 0x5E, 0x01, 0x02, 0x03];
const GROUP2: [u8; 6] = [0x01, 0x00, 0x5E, 0x01, 0x02, 0x04];

fn group(i: u8) -> [u8; 6] {
    [0x01, 0x00, 0x5E, 0x10, 0x00, i]
}

#[test]
fn default_is_directed_and_broadcast() {
    let f = RxFilter::default();
    assert!(f.accepts(&STATION, &STATION));
    assert!(f.accepts(&STATION, &BROADCAST));
    assert!(!f.accepts(&STATION, &OTHER));
    assert!(!f.accepts(&STATION, &GROUP));
    assert!(!f.accepts(&STATION, &STATION[..5]), "a runt never passes");
}

#[test]
fn each_class_on_its_own() {
    let all = [STATION, OTHER, GROUP, BROADCAST];
    let cases = [
        (flt(true, false, false, false), [true, false, false, false]),
        (flt(false, true, false, false), [false, false, false, true]),
        (flt(false, false, true, false), [false, false, true, false]),
        (flt(false, false, false, true), [true, true, true, true]),
        (RxFilter::none(), [false; 4]),
    ];
    for (f, want) in cases {
        let got = all.map(|dst| f.accepts(&STATION, &dst));
        assert_eq!(got, want, "{f:?}");
    }
}

#[test]
fn multicast_list_is_exact_and_skips_non_group_addresses() {
    let mut f = RxFilter::none();
    assert!(f.set_multicast(&[GROUP, STATION, BROADCAST, GROUP]));
    assert_eq!(f.multicast(), &[GROUP]);
    assert!(f.accepts(&STATION, &GROUP));
    assert!(!f.accepts(&STATION, &GROUP2));
    assert!(f.wants_multicast() && !f.wants_all_multicast());
}

#[test]
fn too_many_multicast_addresses_mean_all_multicast() {
    let mut f = RxFilter::none();
    let list: Vec<[u8; 6]> = (0..MAX_MULTICAST as u8).map(group).collect();
    assert!(f.set_multicast(&list));
    assert_eq!(f.multicast().len(), MAX_MULTICAST);
    let mut more = list.clone();
    more.push(group(200));
    assert!(!f.set_multicast(&more));
    assert!(f.multicast().is_empty() && f.wants_all_multicast());
    assert!(f.accepts(&STATION, &GROUP2));
    // A shorter list again: exact filtering is back.
    assert!(f.set_multicast(&[GROUP]));
    assert!(!f.wants_all_multicast());
    assert!(!f.accepts(&STATION, &GROUP2));
}
