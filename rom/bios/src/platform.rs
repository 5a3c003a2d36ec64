//! The BIOS side of the boot flow (`softpxe_boot::Platform`): COM1 and the screen, INT 16h for
//! keys (each check also lets the BIOS service its interrupts), the TSC clock, SOFTPXE.CFG
//! through INT 13h, the NBP at 0000:7C00 up to the resident part, client architecture 0.
use crate::bootinfo::BootInfo;
use crate::disk::BootDisk;
use crate::hal::BiosHal;
use crate::{console, keyboard, time};
use softpxe_boot::{Key, ARCH_BIOS};
use softpxe_pxe::mem::NbpWindow;
use softpxe_settings::medium::{read_root_file, MediumError};

/// Where the NBP goes (PXE 2.1 §4.4.5) and may grow up to (the resident part).
pub const NBP_BASE: u32 = 0x7c00;

/// The BIOS firmware as the boot flow sees it.
pub struct Bios {
    pub hal: BiosHal,
    disk: BootDisk,
    /// The first byte the NBP must not reach (the resident part).
    pub nbp_limit: u32,
    tsc_mhz: u32,
}

impl Bios {
    pub fn new(info: &BootInfo, tsc_mhz: u32) -> Self {
        Bios {
            hal: BiosHal::new(),
            disk: BootDisk::new(info),
            nbp_limit: u32::from(info.resident_segment) << 4,
            tsc_mhz,
        }
    }
}

impl softpxe_boot::Platform for Bios {
    type Hal = BiosHal;

    fn hal(&mut self) -> &mut BiosHal {
        &mut self.hal
    }

    fn print(&mut self, s: &str) {
        console::_print(format_args!("{s}"));
    }

    fn poll_key(&mut self) -> Option<Key> {
        keyboard::poll().map(|k| {
            if k.scan == keyboard::SCAN_ESC {
                Key::Esc
            } else {
                Key::Char(k.ascii)
            }
        })
    }

    fn now_ms(&mut self) -> u64 {
        time::now_us() / 1000
    }

    fn entropy(&mut self) -> u32 {
        let tsc = time::rdtsc();
        (tsc as u32) ^ ((tsc >> 32) as u32)
    }

    fn settings_file(&mut self, buf: &mut [u8]) -> Result<usize, MediumError> {
        read_root_file(&mut self.disk, b"SOFTPXE CFG", buf)
    }

    fn client_arch(&self) -> u16 {
        ARCH_BIOS
    }

    fn nbp_capacity(&self) -> u64 {
        u64::from(self.nbp_limit.saturating_sub(NBP_BASE))
    }

    fn nbp_write(&mut self, offset: u64, data: &[u8]) -> bool {
        let window = NbpWindow {
            base: NBP_BASE,
            limit: self.nbp_limit,
        };
        let Some(start) = window.place(offset, data.len()) else {
            return false;
        };
        // SAFETY: NbpWindow::place put [start, start + len) between 0000:7C00 and the resident
        // part: free base memory that nothing of softpxe uses once the NBP transfer has begun.
        unsafe {
            core::ptr::copy_nonoverlapping(data.as_ptr(), start as usize as *mut u8, data.len())
        };
        true
    }

    fn clock_mhz(&self) -> Option<u32> {
        Some(self.tsc_mhz)
    }
}
