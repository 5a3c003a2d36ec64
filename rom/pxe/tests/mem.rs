//! SEG:OFF and physical range checks (the one place pointers become memory ranges).
use softpxe_pxe::mem::{phys_range, segoff_range, REAL_MODE_LIMIT};

#[test]
fn segoff_linear_and_bounds() {
    assert_eq!(segoff_range(0x1234, 0x0010, 16), Some((0x12350, 16)));
    assert_eq!(segoff_range(0, 0xFFF0, 16), Some((0xFFF0, 16)));
    assert_eq!(segoff_range(0, 0xFFF0, 17), None, "wraps the segment");
    assert_eq!(
        segoff_range(0xFFFF, 0xFFFF, 1),
        Some((0x10FFEF, 1)),
        "last real-mode byte"
    );
    assert_eq!(
        segoff_range(0xFFFF, 0xFFFF, 2),
        None,
        "past the segment and the limit"
    );
    assert_eq!(segoff_range(0xFFFF, 0xFFEF, 1), Some((0x10FFDF, 1)));
    assert_eq!(segoff_range(0xFFFF, 0, 0xFFF0), Some((0xFFFF0, 0xFFF0)));
    assert_eq!(
        segoff_range(0xFFFF, 0x10, 0xFFF0),
        Some((0x10_0000, 0xFFF0)),
        "HMA"
    );
    assert_eq!(segoff_range(0x1000, 0, 0x1_0000), Some((0x10000, 0x10000)));
    assert_eq!(segoff_range(0x1000, 1, 0x1_0000), None);
    assert_eq!(segoff_range(0, 0, usize::MAX), None);
    assert_eq!(REAL_MODE_LIMIT, 0x10FFF0);
}

#[test]
fn phys_range_stops_at_4g() {
    assert_eq!(phys_range(0x10_0000, 0x1000), Some((0x10_0000, 0x1000)));
    assert_eq!(phys_range(0xFFFF_F000, 0x1000), Some((0xFFFF_F000, 0x1000)));
    assert_eq!(phys_range(0xFFFF_F000, 0x1001), None);
}
