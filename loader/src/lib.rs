//! The skytrap loader as a library, by pipeline stage: reading images (`image`), finding
//! and measuring sources (`extract`), the database side of loading (`db`) and alert
//! delivery (`alerts`); plus the settings (`config`), catalogue output and the simulator.
//! The `skytrap` binary is a thin CLI on top.

#![forbid(unsafe_code)]

pub mod alerts;
pub mod config;
pub mod db;
pub mod extract;
pub mod image;
pub mod output;
pub mod simulate;
