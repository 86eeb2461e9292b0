//! Delivering alerts: `skytrap listen` (`listen`) and its VOEvent 2.0 files (`voevent`).

pub mod listen;
pub mod voevent;
