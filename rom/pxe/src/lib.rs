//! The PXE 2.1 API (layer `rom/pxe`): raw ABI structures, one dispatch table and the handlers,
//! platform-neutral and host-tested. Filled in by the PXE API work (PXE 2.1 §3, §4).
#![no_std]
#![forbid(unsafe_code)]
