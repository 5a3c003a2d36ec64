//! The PXE 2.1 API on the BIOS: the firmware half of `softpxe_pxe`. It fills in PXENV+ and
//! !PXE in the resident part, hooks INT 1Ah (5650h) and INT 15h (E820/E801/88h hide the core),
//! and implements `softpxe_pxe::Platform` (memory with softpxe's own ranges refused, the NIC,
//! time). The real-mode entry points (`pxenv_entry`, `bang_entry` in `asm/prefix.s`) switch to
//! protected mode and call [`core_api`], which runs `softpxe_pxe::dispatch`.
use crate::bootinfo::BootInfo;
use crate::hal::BiosHal;
use crate::realmode::{self, RmRegs};
use crate::{println, time};
use core::cell::UnsafeCell;
use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicPtr, Ordering};
use softpxe_boot::{Chosen, Location};
use softpxe_drivers::{pci, Hal, Nic, RxFilter};
use softpxe_net::Instant;
use softpxe_pxe::abi::{self, Segment, StructConfig};
use softpxe_pxe::{
    Action, IsaIds, IsrShared, Memory, NicInfo, NicOpen, Opcode, PciIds, Platform, PxeConfig,
    PxeStack, SegOff16,
};
use zerocopy::IntoBytes;

/// `res_data` in `asm/prefix.s`: the block the entry thunks and the core share.
#[repr(C)]
pub struct ResData {
    pub opcode: u16,
    pub seg: u16,
    pub off: u16,
    pub ax: u16,
    pub busy: u8,
    pub entry_kind: u8,
    pub nested: u16,
    pub core_api: u32,
    pub hide_start: u32,
    pub hide_end: u32,
    pub old_int1a: u32,
    pub old_int15: u32,
    pub nbp_ss: u16,
    pub nbp_sp: u16,
    pub saved_esp: u32,
    pub calls: u32,
}

const _: () = {
    assert!(offset_of!(ResData, ax) == 6);
    assert!(offset_of!(ResData, core_api) == 12);
    assert!(offset_of!(ResData, old_int1a) == 24);
    assert!(offset_of!(ResData, nbp_ss) == 32);
    assert!(size_of::<ResData>() == 44);
    // the resident part's reserved places and the scratch area (layout.rs, asm/prefix.s)
    assert!(size_of::<abi::PxenvPlus>() == crate::layout::PXENV_SIZE as usize);
    assert!(size_of::<abi::BangPxe>() == crate::layout::BANG_SIZE as usize);
    assert!(crate::layout::SCRATCH_SIZE as usize >= softpxe_pxe::SCRATCH_SIZE);
};

/// Everything a PXE call needs, alive while the NBP runs (it lives in `network_boot`'s frame,
/// which the NBP's far call keeps on the core's stack).
pub struct ApiContext<'a> {
    pub stack: &'a mut PxeStack,
    pub platform: BiosPlatform<'a>,
    pub info: &'a BootInfo,
    /// A new NBP loaded by RESTART_TFTP.
    pub restart: Option<u32>,
    pub unloaded: bool,
}

static CONTEXT: AtomicPtr<ApiContext<'static>> = AtomicPtr::new(core::ptr::null_mut());
static ISR_SHARED: IsrShared = IsrShared::new();

struct StackCell(UnsafeCell<Option<PxeStack>>);
// SAFETY: one CPU; the cell is only touched from `stack()`, by the core's single thread of
// execution (API calls never nest into the core: the thunk's busy flag refuses that).
unsafe impl Sync for StackCell {}
static STACK: StackCell = StackCell(UnsafeCell::new(None));

/// The one PxeStack (about 40 KiB: kept out of the core's stack; not inlined, so that the
/// temporary it is built in never inflates the callers' frames).
#[inline(never)]
pub fn new_stack(cfg: PxeConfig, mac: [u8; 6]) -> Option<&'static mut PxeStack> {
    // SAFETY: called once per network boot attempt from the core's main flow, when no API call
    // can be running; no other reference to the cell's content is alive then.
    let cell = unsafe { &mut *STACK.0.get() };
    *cell = Some(PxeStack::new(cfg, mac).ok()?);
    cell.as_mut()
}

/// The resident part's physical address.
fn res_phys(info: &BootInfo) -> u32 {
    u32::from(info.resident_segment) << 4
}

fn res_data(info: &BootInfo) -> *mut ResData {
    (res_phys(info) + u32::from(info.res_data)) as usize as *mut ResData
}

/// The real-mode scratch area the API keeps its NBP-visible buffers in.
pub fn scratch(info: &BootInfo) -> SegOff16 {
    SegOff16::new(info.resident_segment, info.scratch_offset)
}

/// softpxe's own memory, which NBP pointers may not touch (see [`softpxe_pxe::mem::Guard`]).
pub struct Guard(softpxe_pxe::mem::Guard);

impl Guard {
    pub fn new(info: &BootInfo) -> Self {
        let core = u64::from(info.core_phys);
        let res = u64::from(res_phys(info));
        Guard(softpxe_pxe::mem::Guard::new(
            (core, core + u64::from(info.core_size)),
            (
                res,
                res + u64::from(info.pxenv_struct.max(info.bang_struct)) + 128,
            ),
        ))
    }

    fn allows(&self, phys: u64, len: usize, writing: bool) -> bool {
        self.0.allows(phys, len, writing)
    }
}

/// `softpxe_pxe::Platform` on the BIOS core.
pub struct BiosPlatform<'a> {
    pub hal: &'a mut BiosHal,
    pub nic: &'a mut Chosen,
    pub guard: Guard,
    info: NicInfo,
    last_breath: u64,
}

impl<'a> BiosPlatform<'a> {
    pub fn new(hal: &'a mut BiosHal, nic: &'a mut Chosen, guard: Guard) -> Self {
        // What the driver reports; an unknown speed (no link, virtio without
        // VIRTIO_NET_F_SPEED_DUPLEX) is 0, a speed beyond u32 saturates.
        let link_speed = nic
            .nic
            .link_speed_bps(hal)
            .map_or(0, |bps| u32::try_from(bps).unwrap_or(u32::MAX));
        let mut info = NicInfo {
            mac: nic.nic.mac(),
            io_base: 0,
            irq: 0,
            rx_buffers: nic.nic.rx_ring_len(),
            tx_buffers: nic.nic.tx_ring_len(),
            link_speed,
            pci: PciIds::default(),
            isa: None,
        };
        match nic.at {
            Location::Pci(a) => {
                let class = hal.pci_read32(a, 8);
                let sub = hal.pci_read32(a, 0x2c);
                info.io_base = (0..6)
                    .filter_map(|i| pci::read_bar(hal, a, i))
                    .find_map(|b| b.io_port())
                    .unwrap_or(0);
                info.pci = PciIds {
                    bus_dev_fn: (u16::from(a.bus) << 8)
                        | (u16::from(a.dev) << 3)
                        | u16::from(a.func),
                    vendor: nic.vendor,
                    device: nic.device,
                    base_class: (class >> 24) as u8,
                    sub_class: (class >> 16) as u8,
                    prog_if: (class >> 8) as u8,
                    revision: class as u8,
                    subsys_vendor: sub as u16,
                    subsys_device: (sub >> 16) as u16,
                };
            }
            Location::Isa(card) => {
                // UNDI stays polled (IntNumber 0) as for PCI cards; the IRQ is only shown.
                info.io_base = card.port;
                // PnP compatible IDs: PNP80D6 "NE2000 compatible", PNP80D5 "NE1000 compatible".
                let eight_bit = matches!(&nic.nic, softpxe_drivers::AnyNic::Ne2000(n)
                    if n.width() == softpxe_drivers::ne2000::BusWidth::Byte);
                let id = if eight_bit { b"PNP80D5" } else { b"PNP80D6" };
                info.isa = Some(IsaIds {
                    eisa_id: IsaIds::eisa(id).unwrap_or(0),
                    csn: 0xFFFF,
                });
            }
        }
        BiosPlatform {
            hal,
            nic,
            guard,
            info,
            last_breath: 0,
        }
    }

    /// Hands the PXE stack's receive settings to the driver (applied at once if the NIC is
    /// open, kept for the next open otherwise). `false`: the address or the filter was refused.
    fn apply_settings(&mut self, how: &NicOpen<'_>) -> bool {
        let filter = rx_filter(how);
        let station = self.nic.nic.set_station(self.hal, how.mac).is_ok();
        let filtered = self.nic.nic.set_filter(self.hal, &filter).is_ok();
        station && filtered
    }
}

/// The drivers' receive filter for the PXE `FLTR_*` bits: FLTR_DIRECTED is the station address
/// and the multicast list (PXE 2.1 "Directed/Multicast"), FLTR_BRDCST broadcast, FLTR_PRMSCS
/// everything. FLTR_SRC_RTG has no meaning on Ethernet and is ignored.
fn rx_filter(how: &NicOpen<'_>) -> RxFilter {
    use abi::filter::{BRDCST, DIRECTED, PRMSCS};
    let mut f = RxFilter::none();
    f.directed = how.filter & DIRECTED != 0;
    f.broadcast = how.filter & BRDCST != 0;
    f.promiscuous = how.filter & PRMSCS != 0;
    if f.directed {
        f.set_multicast(how.multicast);
    }
    f
}

impl Memory for BiosPlatform<'_> {
    fn read(&self, phys: u64, buf: &mut [u8]) -> bool {
        if !self.guard.allows(phys, buf.len(), false) {
            return false;
        }
        // SAFETY: the range lies below 4 GiB and outside softpxe's core; the core runs flat with
        // physical = virtual. Volatile-free byte copy of memory the NBP named.
        unsafe {
            core::ptr::copy_nonoverlapping(phys as usize as *const u8, buf.as_mut_ptr(), buf.len())
        };
        true
    }

    fn write(&mut self, phys: u64, data: &[u8]) -> bool {
        if !self.guard.allows(phys, data.len(), true) {
            return false;
        }
        // SAFETY: as `read`, and the range is not softpxe's code, data or the IVT/BDA.
        unsafe {
            core::ptr::copy_nonoverlapping(data.as_ptr(), phys as usize as *mut u8, data.len())
        };
        true
    }
}

impl Platform for BiosPlatform<'_> {
    fn nic_info(&self) -> NicInfo {
        self.info
    }
    fn nic_open(&mut self, how: &NicOpen<'_>) -> bool {
        // The settings are kept by the driver, which programs them after its reset in open.
        let applied = self.apply_settings(how);
        self.nic.nic.open(self.hal).is_ok() && applied
    }
    fn nic_configure(&mut self, how: &NicOpen<'_>) -> bool {
        self.apply_settings(how)
    }
    fn nic_close(&mut self) {
        self.nic.nic.close(self.hal);
    }
    fn transmit(&mut self, frame: &[u8]) -> bool {
        self.nic.nic.transmit(self.hal, frame).is_ok()
    }
    fn receive(&mut self, buf: &mut [u8]) -> Option<usize> {
        self.nic.nic.receive(self.hal, buf)
    }
    fn now(&mut self) -> Instant {
        Instant::from_millis(time::now_us() / 1000)
    }
    fn pump(&mut self) {
        // Every 20 ms, a moment in real mode with interrupts on (INT 16h AH=01 peeks at the
        // keyboard without taking the key) so the BIOS timer and keyboard keep running.
        let now = time::now_us() / 1000;
        if now >= self.last_breath + 20 {
            self.last_breath = now;
            let mut r = RmRegs {
                eax: 0x0100,
                ..RmRegs::default()
            };
            realmode::int(0x16, &mut r);
        }
    }
    fn hooks_removable(&self) -> bool {
        // SAFETY: reading the IVT (physical 0..0x400) is always allowed.
        let ivt = |v: usize| unsafe { core::ptr::read_volatile((v * 4) as *const u32) };
        let seg = |v: u32| (v >> 16) as u16;
        let Some(ctx) = context() else { return false };
        let rs = ctx.info.resident_segment;
        seg(ivt(0x1a)) == rs && seg(ivt(0x15)) == rs
    }
    fn isr_shared(&self) -> &IsrShared {
        &ISR_SHARED
    }
}

fn context() -> Option<&'static mut ApiContext<'static>> {
    let p = CONTEXT.load(Ordering::Acquire);
    // SAFETY: `install` stores a pointer to an ApiContext that outlives every API call (it is
    // cleared by `uninstall` before the context goes away), and the entry thunk never lets two
    // calls into the core at once.
    unsafe { p.as_mut() }
}

fn ivt_get(v: usize) -> u32 {
    // SAFETY: the IVT lies at physical 0..0x400; reading an entry has no side effects.
    unsafe { core::ptr::read_volatile((v * 4) as *const u32) }
}

fn ivt_set(v: usize, far: u32) {
    // SAFETY: interrupts are off in the core; a 32-bit store replaces the vector at once.
    unsafe { core::ptr::write_volatile((v * 4) as *mut u32, far) }
}

/// Writes PXENV+ and !PXE, hooks INT 1Ah and INT 15h and opens the API to the NBP. Returns the
/// NBP's ES:BX (PXENV+) and the !PXE pointer for SS:SP+4.
pub fn install(ctx: &mut ApiContext<'_>) -> (SegOff16, SegOff16) {
    let info = ctx.info;
    let rs = info.resident_segment;
    // Code and data segments both cover the whole block the prefix took from base memory,
    // padding included, so every segment ends exactly at the 40:13 value softpxe found: NBPs
    // take that end as the real top of base memory when they free the stack. pxelinux takes
    // the end of the higher of the two; iPXE's prefix, when both start at the same segment,
    // takes the code segment's end.
    let block = u32::from(info.base_kib_before.saturating_sub(info.base_kib_after)) * 1024;
    let whole = Segment {
        segment: rs,
        size: block
            .max(info.resident_size)
            .max(u32::from(info.scratch_offset))
            .min(0xffff) as u16,
    };
    let (code, data) = (whole, whole);
    let cfg = StructConfig {
        rm_entry: SegOff16::new(rs, info.pxenv_entry),
        entry_sp: SegOff16::new(rs, info.bang_entry),
        entry_esp: SegOff16::new(0, 0),
        pxe_ptr: SegOff16::new(rs, info.bang_struct),
        undi_rom_id: SegOff16::new(0, 0),
        base_rom_id: SegOff16::new(0, 0),
        stack: Segment {
            segment: rs,
            size: info.scratch_offset,
        },
        undi_data: data,
        undi_code: code,
        bc_data: data,
        bc_code: code,
    };
    let res = res_phys(info) as usize;
    let pxenv = abi::pxenv_plus(&cfg);
    let bang = abi::bang_pxe(&cfg);
    // SAFETY: both structures have their reserved places in the resident part (PXENV_SIZE and
    // BANG_SIZE bytes at `pxenv_struct` / `bang_struct`, asm/prefix.s; sizes asserted above).
    unsafe {
        core::ptr::copy_nonoverlapping(
            pxenv.as_bytes().as_ptr(),
            (res + usize::from(info.pxenv_struct)) as *mut u8,
            size_of::<abi::PxenvPlus>(),
        );
        core::ptr::copy_nonoverlapping(
            bang.as_bytes().as_ptr(),
            (res + usize::from(info.bang_struct)) as *mut u8,
            size_of::<abi::BangPxe>(),
        );
    }
    let rd = res_data(info);
    // SAFETY: `rd` is the resident `res_data` block; no API call runs yet.
    unsafe {
        (*rd).hide_start = info.core_phys;
        (*rd).hide_end = info.core_phys + info.core_size;
        (*rd).old_int1a = ivt_get(0x1a);
        (*rd).old_int15 = ivt_get(0x15);
        (*rd).core_api = core_api as *const () as usize as u32;
    }
    ivt_set(0x1a, (u32::from(rs) << 16) | u32::from(info.int1a_hook));
    ivt_set(0x15, (u32::from(rs) << 16) | u32::from(info.int15_hook));
    CONTEXT.store(
        (ctx as *mut ApiContext<'_>).cast::<ApiContext<'static>>(),
        Ordering::Release,
    );
    (
        SegOff16::new(rs, info.pxenv_struct),
        SegOff16::new(rs, info.bang_struct),
    )
}

/// Closes the API: unhooks INT 1Ah/15h where they still point at us (an OS or NBP may have
/// hooked them since), and stops answering calls. Returns whether both hooks came off.
pub fn uninstall(info: &BootInfo) -> bool {
    CONTEXT.store(core::ptr::null_mut(), Ordering::Release);
    let rd = res_data(info);
    let rs = u32::from(info.resident_segment);
    let mut clean = true;
    // SAFETY: `rd` is the resident block; interrupts are off in the core.
    unsafe {
        (*rd).core_api = 0;
        for (v, old) in [(0x1a, (*rd).old_int1a), (0x15, (*rd).old_int15)] {
            if ivt_get(v) >> 16 == rs {
                ivt_set(v, old);
            } else {
                clean = false;
            }
        }
    }
    clean
}

/// Calls answered so far, and nested calls refused.
pub fn call_counts(info: &BootInfo) -> (u32, u16) {
    let rd = res_data(info);
    // SAFETY: reading two fields of the resident block.
    unsafe { ((*rd).calls, (*rd).nested) }
}

/// Entered from `api32` (asm/prefix.s) on the core's stack, interrupts off, for every PXE API
/// call the NBP makes.
extern "C" fn core_api(rd: *mut ResData) {
    // SAFETY: the thunk passes the resident `res_data` block.
    let rd = unsafe { &mut *rd };
    let Some(ctx) = context() else {
        rd.ax = 1;
        crate::stackguard::check("PXE API return");
        return;
    };
    let params = SegOff16::new(rd.seg, rd.off);
    let opcode = Opcode(rd.opcode);
    if ctx.stack_log() {
        // on entry too: a call that never returns still leaves its line
        println!(
            "softpxe: [{}] PXE API {:04x} {} at {:04X}:{:04X} ({})",
            time::now_us() / 1000,
            opcode.0,
            opcode.name().unwrap_or("?"),
            rd.seg,
            rd.off,
            if rd.entry_kind == 0 { "PXENV+" } else { "!PXE" }
        );
    }
    let out = softpxe_pxe::dispatch(ctx.stack, &mut ctx.platform, opcode, params);
    rd.ax = out.exit;
    if ctx.stack_log() {
        println!(
            "softpxe: [{}] PXE API {:04x} -> status {:04x}",
            time::now_us() / 1000,
            opcode.0,
            out.status.0
        );
    }
    match out.action {
        Some(Action::Unload) => {
            // STOP_UNDI: the NIC is stopped (the handler closed it). Take the hooks off. 40:13
            // stays as it is: freeing the memory is the NBP's job (PXE 2.1 §4.4.6), and NBPs
            // check 40:13 against the end of the UNDI segments before they raise it themselves
            // (pxelinux's unload_pxe refuses when 40:13 is already at or above that end). The
            // dispatcher answered KEEP_UNDI instead when the hooks could not come off.
            ctx.unloaded = true;
            uninstall(ctx.info);
        }
        Some(Action::StartNbp { size }) => {
            // RESTART_TFTP: the calling NBP is not returned to; the new one starts like the
            // first, and when it returns we finish from here.
            ctx.restart = Some(size);
            let info = ctx.info;
            println!("softpxe: RESTART_TFTP: starting the new NBP ({size} bytes)");
            rd.busy = 0;
            let mut r = RmRegs {
                es: info.resident_segment,
                ebx: u32::from(info.pxenv_struct),
                ..RmRegs::default()
            };
            let bang = (u32::from(info.resident_segment) << 16) | u32::from(info.bang_struct);
            crate::stackguard::check("NBP start");
            realmode::far_call(0, 0x7c00, bang, &mut r);
            crate::finish(info, ctx, r.eax as u16);
        }
        None => {}
    }
    crate::stackguard::check("PXE API return");
}

impl ApiContext<'_> {
    fn stack_log(&self) -> bool {
        crate::debug_log()
    }
}
