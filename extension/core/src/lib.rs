//! skytrap's math with no PostgreSQL in it.
//!
//! Everything here is plain Rust with plain unit tests; the extension wraps it in thin
//! `#[pg_extern]` functions and the loader calls it directly. Angles are degrees unless a
//! name says otherwise.

#![forbid(unsafe_code)]

pub mod associate;
pub mod bright;
pub mod codes;
pub mod integrity;
pub mod lightcurve;
pub mod newsource;
pub mod pixel;
pub mod sky;
pub mod variability;
pub mod varmetric;
