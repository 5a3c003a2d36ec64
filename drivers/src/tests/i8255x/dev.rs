//! A fake 8255x that behaves like QEMU 7.2's `eepro100` model: SCB commands are accepted at once
//! (command byte cleared), CU Start runs the command block list synchronously until EL or S,
//! receive writes simplified RFDs at the RU position with QEMU's filter (individual address,
//! broadcast always, multicast all / hash, promiscuous), EL sends the RU to no resources, PORT
//! resets copy the individual address into the EEPROM image, a 93Cx6 EEPROM with 6 or 8 address
//! bits, and an MDI PHY at address 1 with QEMU's register values.

use std::vec::Vec;

use crate::fake::{Bus, FakeDevice, Space};
use crate::i8255x::*;

pub const IO: u16 = 0xC040;

/// QEMU's PHY: BMCR, BMSR, ID1, ID2, ANAR, ANLPAR.
pub const PHY_DEFAULT: [u16; 6] = [0x3000, 0x780D, 0x02A8, 0x0154, 0x05E1, 0x41FE];

#[derive(Debug, Default)]
pub struct Ee {
    cs: bool,
    sk: bool,
    pub dout: bool,
    bits: u32,
    started: bool,
    op: u16,
    addr: u16,
    data: u16,
}

#[derive(Debug)]
pub struct Dev {
    pub eeprom: Vec<u16>,
    pub addr_bits: u32,
    pub ee: Ee,
    /// No EEPROM fitted: EEDO floats high.
    pub no_eeprom: bool,
    pub cu_state: u8,
    pub ru_state: u8,
    pub cu_base: u32,
    pub ru_base: u32,
    pub ru_offset: u32,
    pub ia: [u8; 6],
    pub config: [u8; 22],
    pub mult: [u8; 8],
    pub mc_list: Vec<[u8; 6]>,
    pub sent: Vec<Vec<u8>>,
    /// (command, address) of every command block executed.
    pub executed: Vec<(u16, u32)>,
    /// Every SCB command byte (with the pointer at that time).
    pub scb: Vec<(u8, u32)>,
    /// CU Start only marks the CU active; [`Dev::run_cu`] does the work later.
    pub defer_cu: bool,
    cu_offset: u32,
    /// The CU never finishes anything.
    pub cu_stalled: bool,
    pub phy: [u16; 6],
    pub no_resource_drops: u32,
    /// SCB STAT/ACK (FR is set after each frame, cleared by writing 1).
    pub statack: u8,
    pub resets: Vec<u32>,
}

impl Dev {
    pub fn new(mac: [u8; 6], addr_bits: u32) -> Self {
        let mut eeprom = std::vec![0u16; 1 << addr_bits];
        for i in 0..3 {
            eeprom[i] = u16::from_le_bytes([mac[2 * i], mac[2 * i + 1]]);
        }
        eeprom[6] = 1;
        Self {
            eeprom,
            addr_bits,
            ee: Ee {
                dout: true,
                ..Ee::default()
            },
            no_eeprom: false,
            cu_state: 0,
            ru_state: 0,
            cu_base: 0,
            ru_base: 0,
            ru_offset: 0,
            ia: mac,
            config: [0; 22],
            mult: [0; 8],
            mc_list: Vec::new(),
            sent: Vec::new(),
            executed: Vec::new(),
            scb: Vec::new(),
            defer_cu: false,
            cu_offset: 0,
            cu_stalled: false,
            phy: PHY_DEFAULT,
            no_resource_drops: 0,
            statack: 0,
            resets: Vec::new(),
        }
    }

    fn ee_write(&mut self, v: u16) {
        let cs = v & Eeprom::CS.bits() != 0;
        let sk = v & Eeprom::SK.bits() != 0;
        let di = v & Eeprom::DI.bits() != 0;
        let ee = &mut self.ee;
        if cs && !ee.cs {
            *ee = Ee {
                dout: true,
                ..Ee::default()
            };
        } else if !cs {
            ee.dout = true;
        } else if sk && !ee.sk {
            if !ee.started {
                // Leading zeros are ignored until the start bit.
                ee.started = di;
            } else if ee.bits < 2 {
                ee.op = ee.op << 1 | u16::from(di);
                ee.bits += 1;
            } else if ee.bits < 2 + self.addr_bits {
                ee.addr = ee.addr << 1 | u16::from(di);
                ee.bits += 1;
                if ee.bits == 2 + self.addr_bits && ee.op == EEPROM_OP_READ {
                    ee.dout = false; // the dummy zero
                    ee.data = self.eeprom[usize::from(ee.addr) % self.eeprom.len()];
                }
            } else if ee.bits < 2 + self.addr_bits + 16 {
                ee.dout = ee.data & 0x8000 != 0;
                ee.data <<= 1;
                ee.bits += 1;
            }
        }
        ee.cs = cs;
        ee.sk = sk;
    }

    fn mdi(&mut self, bus: &mut Bus, v: u32) {
        let phy = (v >> 21) & 0x1F;
        let reg = ((v >> 16) & 0x1F) as usize;
        let op = (v >> 26) & 3;
        let data = if phy == 1 && op == 2 && reg < 6 {
            self.phy[reg]
        } else {
            0
        };
        bus.set_reg(
            Space::Io,
            u64::from(IO + MDI_CTRL),
            4,
            u64::from(v & 0xFFFF_0000 | MDI_READY | u32::from(data)),
        );
    }

    fn port(&mut self, v: u32) {
        self.resets.push(v & 3);
        // QEMU's nic_selective_reset: the EEPROM image gets the current individual address.
        for i in 0..3 {
            self.eeprom[i] = u16::from_le_bytes([self.ia[2 * i], self.ia[2 * i + 1]]);
        }
        self.cu_state = 0;
        self.ru_state = 0;
        if v & 3 == PORT_SOFTWARE_RESET {
            self.mult = [0; 8];
        }
    }

    /// Executes command blocks from the CU position until EL or S (at most 16, as QEMU).
    pub fn run_cu(&mut self, bus: &mut Bus) {
        if self.cu_stalled || self.cu_state == 0 {
            return;
        }
        for _ in 0..16 {
            let at = u64::from(self.cu_base.wrapping_add(self.cu_offset));
            let cmd = bus.dma_le(at + 2, 2) as u16;
            let link = bus.dma_le(at + 4, 4) as u32;
            self.executed.push((cmd, at as u32));
            self.cu_offset = link;
            match cmd & 7 {
                CMD_IA_SETUP => {
                    let mut ia = [0; 6];
                    bus.dma_read(at + 8, &mut ia);
                    self.ia = ia;
                }
                CMD_CONFIGURE => bus.dma_read(at + 8, &mut self.config),
                CMD_MC_SETUP => {
                    let n = usize::from(bus.dma_le(at + 8, 2) as u16 & 0x3FFF);
                    self.mult = [0; 8];
                    self.mc_list.clear();
                    for i in (0..n).step_by(6) {
                        let mut m = [0; 6];
                        bus.dma_read(at + 10 + i as u64, &mut m);
                        let h = qemu_hash(&m);
                        self.mult[usize::from(h >> 3)] |= 1 << (h & 7);
                        self.mc_list.push(m);
                    }
                }
                CMD_TRANSMIT => {
                    assert_eq!(bus.dma_le(at + 8, 4), 0xFFFF_FFFF, "simplified mode");
                    let n = bus.dma_le(at + 12, 2) as usize & 0x3FFF;
                    let mut data = std::vec![0; n];
                    bus.dma_read(at + 16, &mut data);
                    self.sent.push(data);
                }
                _ => {}
            }
            let status = bus.dma_le(at, 2) as u16;
            bus.dma_set_le(at, 2, u64::from(status | STATUS_C | STATUS_OK));
            if cmd & CMD_EL != 0 {
                self.cu_state = 0;
                return;
            }
            if cmd & CMD_S != 0 {
                self.cu_state = 1;
                return;
            }
        }
    }

    /// Whether QEMU's address filter lets `frame` in.
    fn passes(&self, frame: &[u8]) -> bool {
        let dst: [u8; 6] = frame[..6].try_into().unwrap();
        let promisc = self.config[15] & 1 != 0;
        if dst == self.ia || dst == [0xFF; 6] {
            return true;
        }
        if dst[0] & 1 != 0 {
            let h = qemu_hash(&dst);
            return self.config[21] & 8 != 0
                || self.mult[usize::from(h >> 3)] & 1 << (h & 7) != 0
                || promisc;
        }
        promisc
    }

    /// The first step of QEMU's `nic_receive` alone: C|OK in the current RFD's status, no count,
    /// no data, no FR yet (its I/O thread is still copying while the CPU runs).
    pub fn begin_receive(&mut self, bus: &mut Bus) {
        let at = u64::from(self.ru_base.wrapping_add(self.ru_offset));
        bus.dma_set_le(at, 2, u64::from(STATUS_C | STATUS_OK));
    }

    /// Delivers a frame as QEMU's `nic_receive` does; `ok` false writes an error status.
    /// Returns whether it landed in an RFD.
    pub fn receive(&mut self, bus: &mut Bus, frame: &[u8], ok: bool, filter: bool) -> bool {
        if filter && !self.passes(frame) {
            return false;
        }
        if self.ru_state != RUS_READY {
            self.no_resource_drops += 1;
            return false;
        }
        let at = u64::from(self.ru_base.wrapping_add(self.ru_offset));
        let cmd = bus.dma_le(at + 2, 2) as u16;
        let link = bus.dma_le(at + 4, 4) as u32;
        let size = bus.dma_le(at + 14, 2) as usize;
        let n = frame.len().min(size);
        let status = if ok { STATUS_C | STATUS_OK } else { STATUS_C };
        bus.dma_set_le(at, 2, u64::from(status));
        bus.dma_set_le(at + 12, 2, n as u64);
        bus.dma_write(at + 16, &frame[..n]);
        self.ru_offset = link;
        self.statack |= STATACK_FR;
        if cmd & CMD_EL != 0 {
            self.ru_state = RUS_NO_RESOURCES;
        }
        true
    }
}

/// QEMU's multicast hash: bits 7:2 of the big-endian Ethernet CRC of the address.
pub fn qemu_hash(mac: &[u8; 6]) -> u8 {
    let mut crc = u32::MAX;
    for &byte in mac {
        let mut b = byte;
        for _ in 0..8 {
            let carry = (crc >> 31) ^ u32::from(b & 1);
            crc <<= 1;
            b >>= 1;
            if carry != 0 {
                crc ^= 0x04C1_1DB7;
            }
        }
    }
    ((crc >> 2) & 0x3F) as u8
}

impl FakeDevice for Dev {
    fn on_write(&mut self, bus: &mut Bus, _: Space, addr: u64, width: u8, value: u64) {
        let reg = (addr - u64::from(IO)) as u16;
        match (reg, width) {
            (SCB_COMMAND, 1 | 2) => {
                let cmd = value as u8;
                let pointer = bus.reg(Space::Io, u64::from(IO + SCB_POINTER), 4) as u32;
                self.scb.push((cmd, pointer));
                match cmd & 0x0F {
                    RUC_START => {
                        self.ru_state = RUS_READY;
                        self.ru_offset = pointer;
                    }
                    RUC_ABORT => self.ru_state = RUS_IDLE,
                    RUC_LOAD_BASE => self.ru_base = pointer,
                    _ => {}
                }
                match cmd & 0xF0 {
                    CUC_START => {
                        self.cu_offset = pointer;
                        self.cu_state = 2;
                        if !self.defer_cu {
                            self.run_cu(bus);
                        }
                    }
                    CUC_LOAD_BASE => self.cu_base = pointer,
                    _ => {}
                }
                bus.set_reg(Space::Io, u64::from(IO + SCB_COMMAND), 1, 0);
            }
            (SCB_STATACK, 1) => self.statack &= !(value as u8),
            (PORT, 4) => self.port(value as u32),
            (EEPROM_CTRL, 2) => self.ee_write(value as u16),
            (MDI_CTRL, 4) => self.mdi(bus, value as u32),
            _ => {}
        }
    }

    fn on_read(&mut self, bus: &mut Bus, _: Space, addr: u64, width: u8) -> Option<u64> {
        let reg = (addr - u64::from(IO)) as u16;
        match (reg, width) {
            (SCB_STATUS, 1) => Some(u64::from(self.cu_state << 6 | self.ru_state)),
            (SCB_STATACK, 1) => Some(u64::from(self.statack)),
            (EEPROM_CTRL, 2) => {
                let v = bus.reg(Space::Io, addr, 2) & !u64::from(Eeprom::DO.bits());
                let dout = self.no_eeprom || self.ee.dout;
                Some(
                    v | if dout {
                        u64::from(Eeprom::DO.bits())
                    } else {
                        0
                    },
                )
            }
            _ => None,
        }
    }
}
