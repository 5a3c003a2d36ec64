//! NIC drivers (layer `drivers/`): one small polled `Nic` trait, hardware reached through `Hal`.
#![no_std]
