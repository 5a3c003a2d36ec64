//! Emulator harness.
