//! A whole file through the reader and, for images up to 64 x 64, the source finder:
//! bytes in, an image or an error naming the reason out, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skytrap_loader::extract::{self, Params};
use skytrap_loader::image::fits;

fuzz_target!(|data: &[u8]| {
    let image = match fits::parse(data) {
        Ok(image) => image,
        Err(e) => {
            let message = format!("{e:#}");
            assert!(
                !message.is_empty() && !message.contains('\n'),
                "{message:?}"
            );
            return;
        }
    };
    let _ = fits::observation_time(&image.meta);
    let (ny, nx) = image.data.dim();
    if nx * ny > 64 * 64 {
        return;
    }
    let params = Params {
        back_size: 16,
        margin: 2,
        ..Params::default()
    };
    if let Ok(extraction) = extract::extract(&image, &params) {
        for s in &extraction.sources {
            assert!(s.ra.is_finite() && s.dec.is_finite(), "{s:?}");
        }
    }
    let _ = extract::geometry(&image, &params);
});
