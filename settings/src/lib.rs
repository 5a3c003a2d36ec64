//! `SOFTPXE.CFG`: the `key = value` settings file on the boot medium, parsed the same way by the
//! builder (which writes and validates it) and the firmware (which reads it at boot).
#![no_std]
#![forbid(unsafe_code)]
