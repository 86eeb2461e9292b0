//! The skytrap loader as a library: FITS reading, WCS, source extraction, simulation, and
//! the database side of loading and listening. The `skytrap` binary is a thin CLI on top.

pub mod background;
pub mod cluster;
pub mod config;
pub mod db;
pub mod deblend;
pub mod deconv;
pub mod ellipse;
pub mod extract;
pub mod fdr;
pub mod fits;
pub mod forcebeam;
pub mod forced;
pub mod header;
pub mod islands;
pub mod listen;
pub mod load;
pub mod measure;
pub mod output;
pub mod qc;
pub mod rules;
pub mod simulate;
pub mod voevent;
pub mod wcs;
