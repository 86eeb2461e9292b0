//! The numeric codes skytrap's tables store, TraP's numbering: one definition for the
//! extension and the loader.

/// `extractedsource.extract_type`: how a measurement was made.
pub mod extract_type {
    /// Found by the source finder.
    pub const BLIND: i16 = 0;
    /// Forced at a lightcurve's position that no blind detection extended (a null
    /// detection).
    pub const FORCED_AT_LIGHTCURVE: i16 = 1;
    /// Forced at a monitor position.
    pub const FORCED_AT_MONITOR: i16 = 2;
}

/// `assocxtrsource.type`: how a measurement joined its lightcurve.
pub mod link {
    /// The lightcurve's own continuation where a source forks.
    pub const FORK_BASE: i16 = 2;
    pub const ONE_TO_ONE: i16 = 3;
    pub const NEW_SOURCE: i16 = 4;
    /// A new lightcurve split off a fork, carrying the parent's history (written by
    /// `skytrap.fork_lightcurves`, sql/forks.sql).
    pub const FORK_COPY: i16 = 6;
    pub const NULL_DETECTION: i16 = 7;
    pub const FIRST_MONITOR: i16 = 8;
    pub const MONITOR: i16 = 9;
}

/// `image.stokes`: the image's Stokes parameter, numbered as on a FITS STOKES axis.
pub mod stokes {
    pub const I: i16 = 1;
}

/// `rejectreason.id`: why an image was rejected.
pub mod reject {
    pub const RMS_INVALID: i32 = 0;
    pub const BEAM_INVALID: i32 = 1;
    pub const BRIGHT_SOURCE: i32 = 2;
    pub const CONTAINS_NAN: i32 = 4;
    pub const FLAT: i32 = 5;
}
