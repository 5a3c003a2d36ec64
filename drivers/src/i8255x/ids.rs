//! The PCI IDs the i8255x driver takes: every model QEMU's `eepro100` emulates and the common
//! 8255x-family board and chipset IDs, named as in the PCI ID repository (pci.ids).

use crate::pci::PciId;

/// Adapters this driver supports (the builder's adapter list reads it). Names from the PCI ID
/// repository; the QEMU models are those of `hw/net/eepro100.c`.
pub const PCI_IDS: &[PciId] = &[
    PciId::new(
        0x8086,
        0x1229,
        "Intel 82557/8/9/0/1 EtherExpress PRO/100 (QEMU i82557a/b/c, i82558a/b, i82559a/b/c)",
    ),
    PciId::new(
        0x8086,
        0x1209,
        "Intel 8255xER/82551IT Fast Ethernet (QEMU i82550, i82551, i82559er, i82562)",
    ),
    PciId::new(
        0x8086,
        0x2449,
        "Intel 82801BA/BAM/CA/CAM (ICH2/3) Ethernet (QEMU i82801)",
    ),
    PciId::new(0x8086, 0x1029, "Intel 82559 Ethernet Controller"),
    PciId::new(0x8086, 0x1030, "Intel 82559 InBusiness 10/100"),
    PciId::new(0x8086, 0x1031, "Intel 82801CAM (ICH3) PRO/100 VE (LOM)"),
    PciId::new(0x8086, 0x1032, "Intel 82801CAM (ICH3) PRO/100 VE"),
    PciId::new(0x8086, 0x1033, "Intel 82801CAM (ICH3) PRO/100 VM (LOM)"),
    PciId::new(0x8086, 0x1034, "Intel 82801CAM (ICH3) PRO/100 VM"),
    PciId::new(0x8086, 0x1035, "Intel 82801CAM (ICH3)/82562EH (LOM)"),
    PciId::new(0x8086, 0x1036, "Intel 82801CAM (ICH3) 82562EH"),
    PciId::new(0x8086, 0x1037, "Intel 82801CAM (ICH3) Chipset Ethernet"),
    PciId::new(0x8086, 0x1038, "Intel 82801CAM (ICH3) PRO/100 VM (KM)"),
    PciId::new(0x8086, 0x1039, "Intel 82801DB PRO/100 VE (LOM)"),
    PciId::new(0x8086, 0x103A, "Intel 82801DB PRO/100 VE (CNR)"),
    PciId::new(0x8086, 0x103B, "Intel 82801DB PRO/100 VM (LOM)"),
    PciId::new(0x8086, 0x103C, "Intel 82801DB PRO/100 VM (CNR)"),
    PciId::new(0x8086, 0x103D, "Intel 82801DB PRO/100 VE (MOB)"),
    PciId::new(0x8086, 0x103E, "Intel 82801DB PRO/100 VM (MOB)"),
    PciId::new(0x8086, 0x1050, "Intel 82562EZ 10/100"),
    PciId::new(
        0x8086,
        0x1051,
        "Intel 82801EB/ER (ICH5/ICH5R) integrated LAN",
    ),
    PciId::new(0x8086, 0x1052, "Intel PRO/100 VM Network Connection (1052)"),
    PciId::new(0x8086, 0x1053, "Intel PRO/100 VM Network Connection (1053)"),
    PciId::new(0x8086, 0x1054, "Intel PRO/100 VE Network Connection (1054)"),
    PciId::new(0x8086, 0x1055, "Intel PRO/100 VM Network Connection (1055)"),
    PciId::new(0x8086, 0x1056, "Intel PRO/100 VE Network Connection (1056)"),
    PciId::new(0x8086, 0x1057, "Intel PRO/100 VE Network Connection (1057)"),
    PciId::new(0x8086, 0x1059, "Intel 82551QM Ethernet Controller"),
    PciId::new(0x8086, 0x1064, "Intel 82562ET/EZ/GT/GZ PRO/100 VE (LOM)"),
    PciId::new(0x8086, 0x1065, "Intel 82562ET/EZ/GT/GZ PRO/100 VE"),
    PciId::new(0x8086, 0x1066, "Intel 82562EM/EX/GX PRO/100 VM (LOM)"),
    PciId::new(0x8086, 0x1067, "Intel 82562EM/EX/GX PRO/100 VM"),
    PciId::new(
        0x8086,
        0x1068,
        "Intel 82562ET/EZ/GT/GZ PRO/100 VE (LOM) Mobile",
    ),
    PciId::new(
        0x8086,
        0x1069,
        "Intel 82562EM/EX/GX PRO/100 VM (LOM) Mobile",
    ),
    PciId::new(0x8086, 0x106A, "Intel 82562G PRO/100 VE (LOM)"),
    PciId::new(0x8086, 0x106B, "Intel 82562G PRO/100 VE Mobile"),
    PciId::new(0x8086, 0x27DC, "Intel NM10/ICH7 Family LAN Controller"),
];
