//! Header cards → Header → WCS → pixel/sky conversions, metadata and DATE-OBS: bytes in,
//! never a panic. The bytes are cut into 80-column cards as a FITS header is.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skytrap_loader::image::fits;
use skytrap_loader::image::header::Header;
use skytrap_loader::image::wcs::Wcs;

fuzz_target!(|data: &[u8]| {
    let cards: Vec<String> = data
        .chunks(80)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let header = Header::from_cards(&cards);
    if let Ok(meta) = fits::metadata(&header) {
        let _ = fits::observation_time(&meta);
    }
    let Ok(wcs) = Wcs::from_header(&header) else {
        return;
    };
    let (dx, dy) = wcs.pixel_scale();
    assert!(dx.is_finite() && dy.is_finite());
    for (x, y) in [
        (0.0, 0.0),
        (63.5, 63.5),
        (-1.0, 1e6),
        (4095.0, 17.25),
        (1e300, -1e300),
    ] {
        if let Some((ra, dec)) = wcs.pixel_to_sky(x, y) {
            assert!((0.0..360.0).contains(&ra), "ra {ra}");
            assert!((-90.0..=90.0).contains(&dec), "dec {dec}");
            if let Some((px, py)) = wcs.sky_to_pixel(ra, dec) {
                assert!(px.is_finite() && py.is_finite());
            }
        }
    }
    for (ra, dec) in [(0.0, 0.0), (123.4, 56.7), (359.9, -89.9), (180.0, 90.0)] {
        let _ = wcs.sky_to_pixel(ra, dec);
    }
});
