//! Byte layouts and checksums of PXENV+, !PXE, BOOTPLAYER and the parameter blocks, against the
//! offsets in PXE-REFERENCE.md ("Structure layouts") and PXE 2.1 §3–§4.
use softpxe_pxe::abi::*;
use std::mem::{offset_of, size_of};
use zerocopy::IntoBytes;

fn cfg() -> StructConfig {
    StructConfig {
        rm_entry: SegOff16::new(0x9F00, 0x0100),
        entry_sp: SegOff16::new(0x9F00, 0x0200),
        entry_esp: SegOff16::new(0, 0),
        pxe_ptr: SegOff16::new(0x9F00, 0x0040),
        undi_rom_id: SegOff16::default(),
        base_rom_id: SegOff16::default(),
        stack: Segment {
            segment: 0x9E00,
            size: 0x800,
        },
        undi_data: Segment {
            segment: 0x9F80,
            size: 0x1000,
        },
        undi_code: Segment {
            segment: 0x9F00,
            size: 0x800,
        },
        bc_data: Segment {
            segment: 0x9F80,
            size: 0x1000,
        },
        bc_code: Segment {
            segment: 0x9F00,
            size: 0x800,
        },
    }
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

#[test]
fn pxenv_plus_offsets_and_checksum() {
    let s = pxenv_plus(&cfg());
    let b = s.as_bytes();
    assert_eq!(b.len(), 44);
    assert_eq!(&b[0..6], b"PXENV+");
    assert_eq!(u16_at(b, 0x06), 0x0201);
    assert_eq!(b[0x08], 44);
    assert_eq!(u16_at(b, 0x0A), 0x0100); // RMEntry offset
    assert_eq!(u16_at(b, 0x0C), 0x9F00); // RMEntry segment
    assert_eq!(u16_at(b, 0x14), 0x9E00); // StackSeg
    assert_eq!(u16_at(b, 0x16), 0x800); // StackSize
    assert_eq!(u16_at(b, 0x18), 0x9F00); // BC_CodeSeg
    assert_eq!(u16_at(b, 0x1C), 0x9F80); // BC_DataSeg
    assert_eq!(u16_at(b, 0x20), 0x9F80); // UNDIDataSeg
    assert_eq!(u16_at(b, 0x24), 0x9F00); // UNDICodeSeg
    assert_eq!(u16_at(b, 0x26), 0x800); // UNDICodeSize
    assert_eq!(u16_at(b, 0x28), 0x0040); // PXEPtr offset
    assert_eq!(u16_at(b, 0x2A), 0x9F00); // PXEPtr segment
    assert_eq!(byte_sum(b), 0);
}

#[test]
fn bang_pxe_offsets_and_checksum() {
    let s = bang_pxe(&cfg());
    let b = s.as_bytes();
    assert_eq!(b.len(), 88);
    assert_eq!(&b[0..4], b"!PXE");
    assert_eq!(b[4], 88);
    assert_eq!(b[6], 0); // StructRev
    assert_eq!(u16_at(b, 0x10), 0x0200); // EntryPointSP offset
    assert_eq!(u16_at(b, 0x12), 0x9F00); // EntryPointSP segment
    assert_eq!(&b[0x18..0x1C], &[0xFF; 4]); // StatusCallout: none
    assert_eq!(b[0x1D], 7); // SegDescCnt
                            // Stack SEGDESC at 0x20: selector, phys, size.
    assert_eq!(u16_at(b, 0x20), 0x9E00);
    assert_eq!(
        u32::from_le_bytes(b[0x22..0x26].try_into().unwrap()),
        0x9E000
    );
    assert_eq!(u16_at(b, 0x26), 0x800);
    // UNDICode (3rd) and UNDICodeWrite (4th) match; BC_Code (6th) and BC_CodeWrite (7th) too.
    assert_eq!(&b[0x30..0x38], &b[0x38..0x40]);
    assert_eq!(&b[0x48..0x50], &b[0x50..0x58]);
    assert_eq!(byte_sum(b), 0);
}

#[test]
fn checksums_hold_for_many_configs() {
    for i in 0..200u16 {
        let mut c = cfg();
        c.rm_entry = SegOff16::new(i.wrapping_mul(977), i.wrapping_mul(31));
        c.stack.size = i.wrapping_mul(13);
        assert_eq!(byte_sum(pxenv_plus(&c).as_bytes()), 0);
        assert_eq!(byte_sum(bang_pxe(&c).as_bytes()), 0);
    }
}

#[test]
fn bootplayer_is_1260_bytes_with_bootp_offsets() {
    assert_eq!(BOOTPLAYER_SIZE, 1260);
    assert_eq!(offset_of!(BootPlayer, ident), 4);
    assert_eq!(offset_of!(BootPlayer, yip), 16);
    assert_eq!(offset_of!(BootPlayer, CAddr), 28);
    assert_eq!(offset_of!(BootPlayer, Sname), 44);
    assert_eq!(offset_of!(BootPlayer, bootfile), 108);
    assert_eq!(offset_of!(BootPlayer, vendor), 236);
}

#[test]
fn parameter_block_sizes_and_offsets() {
    assert_eq!(size_of::<SegOff16>(), 4);
    assert_eq!(
        SegOff16::new(0x1234, 0x0010).as_bytes(),
        &[0x10, 0, 0x34, 0x12]
    );
    assert_eq!(size_of::<UndiTransmit>(), 20);
    assert_eq!(offset_of!(UndiTransmit, DestAddr), 4);
    assert_eq!(offset_of!(UndiTransmit, TBD), 8);
    assert_eq!(size_of::<UndiTbd>(), 72);
    assert_eq!(size_of::<UndiOpen>(), 136);
    assert_eq!(size_of::<UndiInformation>(), 50);
    assert_eq!(offset_of!(UndiInformation, CurrentNodeAddress), 12);
    assert_eq!(offset_of!(UndiInformation, ROMAddress), 44);
    assert_eq!(size_of::<UndiIsr>(), 16);
    assert_eq!(offset_of!(UndiIsr, Frame), 10);
    assert_eq!(size_of::<UndiNicType>(), 17);
    assert_eq!(size_of::<UndiIfaceInfo>(), 42);
    assert_eq!(size_of::<TftpOpen>(), 142);
    assert_eq!(offset_of!(TftpOpen, PacketSize), 140);
    assert_eq!(size_of::<TftpRead>(), 10);
    assert_eq!(size_of::<TftpReadFile>(), 158);
    assert_eq!(offset_of!(TftpReadFile, Buffer), 134);
    assert_eq!(size_of::<TftpGetFsize>(), 142);
    assert_eq!(size_of::<UdpRead>(), 20);
    assert_eq!(size_of::<UdpWrite>(), 20);
    assert_eq!(size_of::<GetCachedInfo>(), 12);
    assert_eq!(offset_of!(GetCachedInfo, BufferLimit), 10);
    assert_eq!(size_of::<UnloadStack>(), 12);
}

#[test]
fn opcode_and_status_names() {
    assert_eq!(Opcode::GET_CACHED_INFO.0, 0x71);
    assert_eq!(Opcode(0x71).name(), Some("PXENV_GET_CACHED_INFO"));
    assert_eq!(Opcode(0x1234).name(), None);
    assert_eq!(Status::UDP_CLOSED.0, 0x18);
    assert_eq!(
        Status::TFTP_FILE_NOT_FOUND.name(),
        Some("PXENV_STATUS_TFTP_FILE_NOT_FOUND")
    );
}
