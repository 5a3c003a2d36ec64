//! Network protocols (layer `rom/net`): sans-IO state machines fed the time; no unsafe.
#![no_std]
#![forbid(unsafe_code)]
