//! Reading an image: which files a command names (`files`), the FITS file (`fits`), its
//! header cards (`header`), the world coordinate system (`wcs`) and ellipses taken
//! between the pixel grid and the sky (`ellipse`).

pub mod ellipse;
pub mod files;
pub mod fits;
pub mod header;
pub mod wcs;
