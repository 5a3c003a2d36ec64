//! The test platform for whole boots: console into a string, scripted keys, an explicit clock
//! (1 ms per reading, so every wait in the flow passes in simulated time), the settings file
//! from the test, the NBP into a vector.
#![allow(dead_code)]
pub mod net;

use net::{Clock, LoopNic, Network};
use softpxe_boot::{Booted, Chosen, Key, Location, Platform};
use softpxe_drivers::fake::FakeHal;
use softpxe_drivers::PciAddress;
use softpxe_settings::medium::MediumError;
use std::cell::RefCell;
use std::rc::Rc;

pub struct TestPlatform {
    pub hal: FakeHal,
    pub clock: Clock,
    pub console: String,
    /// (at ms, key), in time order.
    pub keys: Vec<(u64, Key)>,
    pub settings: Option<Vec<u8>>,
    pub arch: u16,
    pub nbp: Vec<u8>,
    pub capacity: u64,
    entropy: u32,
}

impl TestPlatform {
    pub fn new(clock: Clock) -> Self {
        TestPlatform {
            hal: FakeHal::new((), 0x10_0000),
            clock,
            console: String::new(),
            keys: Vec::new(),
            settings: None,
            arch: softpxe_boot::ARCH_BIOS,
            nbp: Vec::new(),
            capacity: 600 * 1024,
            entropy: 7,
        }
    }
}

impl Platform for TestPlatform {
    type Hal = FakeHal;
    fn hal(&mut self) -> &mut FakeHal {
        &mut self.hal
    }
    fn print(&mut self, s: &str) {
        self.console.push_str(s);
    }
    fn poll_key(&mut self) -> Option<Key> {
        let now = self.clock.get();
        match self.keys.first() {
            Some(&(at, k)) if at <= now => {
                self.keys.remove(0);
                Some(k)
            }
            _ => None,
        }
    }
    fn now_ms(&mut self) -> u64 {
        let t = self.clock.get() + 1;
        self.clock.set(t);
        t
    }
    fn entropy(&mut self) -> u32 {
        self.entropy = self.entropy.wrapping_mul(1_103_515_245).wrapping_add(12345);
        self.entropy >> 8
    }
    fn settings_file(&mut self, buf: &mut [u8]) -> Result<usize, MediumError> {
        let s = self.settings.as_ref().ok_or(MediumError::NotFound)?;
        let n = s.len().min(buf.len());
        buf[..n].copy_from_slice(&s[..n]);
        Ok(s.len())
    }
    fn client_arch(&self) -> u16 {
        self.arch
    }
    fn nbp_capacity(&self) -> u64 {
        self.capacity
    }
    fn nbp_write(&mut self, offset: u64, data: &[u8]) -> bool {
        let end = offset as usize + data.len();
        if end as u64 > self.capacity {
            return false;
        }
        if self.nbp.len() < end {
            self.nbp.resize(end, 0);
        }
        self.nbp[offset as usize..end].copy_from_slice(data);
        true
    }
}

/// A whole boot: the network, the platform, the result.
pub struct Boot {
    pub net: Rc<RefCell<Network>>,
    pub platform: TestPlatform,
    pub nic: Chosen<LoopNic>,
}

impl Boot {
    pub fn new() -> Self {
        let clock = Clock::default();
        let net = Rc::new(RefCell::new(Network::new(clock.clone())));
        Boot {
            platform: TestPlatform::new(clock),
            nic: Chosen {
                nic: LoopNic::new(net.clone()),
                at: Location::Pci(PciAddress::new(0, 3, 0)),
                vendor: 0x8086,
                device: 0x100e,
                name: "loopback",
            },
            net,
        }
    }

    pub fn settings(mut self, text: &str) -> Self {
        self.platform.settings = Some(text.as_bytes().to_vec());
        self
    }

    /// Loads the settings and runs the flow to its end.
    pub fn run(&mut self) -> Option<Booted> {
        let settings = softpxe_boot::load_settings(&mut self.platform);
        softpxe_boot::network_boot(&mut self.platform, &settings, &mut self.nic)
    }

    pub fn console(&self) -> &str {
        &self.platform.console
    }

    pub fn ms(&self) -> u64 {
        self.platform.clock.get()
    }
}

/// `n` bytes of a recognisable pattern.
pub fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 256) as u8).collect()
}

pub fn ip(a: u8, b: u8, c: u8, d: u8) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(a, b, c, d)
}
