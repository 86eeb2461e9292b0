//! World coordinates of image pixels for the zenithal projections radio imagers write
//! (SIN with LOFAR's slant form, NCP, TAN, ARC, ZEA), after Calabretta & Greisen (2002).
//! The linear step (CDELT, CROTA2, PC, CD) is done here too, because the `wcs` crate gets
//! CROTA2 with non-square pixels and non-symmetric CD matrices wrong (build-notes §8).
//! Pixels are 0-based (x along NAXIS1, y along NAXIS2); angles are degrees.

use crate::image::header::Header;
use anyhow::{bail, Context, Result};
use skytrap_core::sky;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Projection {
    /// SIN with slant parameters ξ = PV2_1, η = PV2_2 (NCP is SIN with η = cot δ0).
    Sin {
        xi: f64,
        eta: f64,
    },
    Tan,
    Arc,
    Zea,
}

/// The celestial WCS of an image.
#[derive(Clone, Debug)]
pub struct Wcs {
    crpix: [f64; 2],
    /// Pixel offset → intermediate world coordinates (degrees), row-major 2×2.
    cd: [[f64; 2]; 2],
    cd_inverse: [[f64; 2]; 2],
    projection: Projection,
    /// Celestial coordinates of the native pole's reference point, and LONPOLE.
    alpha_p: f64,
    delta_p: f64,
    phi_p: f64,
}

impl Wcs {
    /// Reads the celestial axes 1 and 2 of a header. Fails, saying which keyword, when
    /// the WCS is missing, contradictory or of a projection we do not support.
    pub fn from_header(h: &Header) -> Result<Wcs> {
        let ctype1 = h
            .text("CTYPE1")
            .context("no CTYPE1: the image has no WCS")?;
        let ctype2 = h
            .text("CTYPE2")
            .context("no CTYPE2: the image has no WCS")?;
        if !ctype1.starts_with("RA--") || !ctype2.starts_with("DEC-") {
            bail!(
                "axes 1 and 2 must be RA and DEC, found CTYPE1 = '{ctype1}', CTYPE2 = '{ctype2}'"
            );
        }
        let code1 = ctype1.get(5..8).unwrap_or("");
        let code2 = ctype2.get(5..8).unwrap_or("");
        if code1 != code2 {
            bail!("CTYPE1 '{ctype1}' and CTYPE2 '{ctype2}' name different projections");
        }
        let need = |k: &str| h.required(k);
        let crval = [sky::normalise_ra(need("CRVAL1")?), need("CRVAL2")?];
        if !(-90.0..=90.0).contains(&crval[1]) {
            bail!(
                "CRVAL2 = {} is not a declination (-90 to 90 degrees)",
                crate::image::header::show(crval[1])
            );
        }
        let crpix = [need("CRPIX1")?, need("CRPIX2")?];
        let cd = linear_transform(h)?;
        if cd
            .iter()
            .flatten()
            .any(|v| !v.is_finite() || v.abs() > 360.0)
        {
            bail!("the pixel-to-sky matrix (CDELT/PC/CD) {cd:?} has elements beyond 360 degrees a pixel");
        }
        let det = cd[0][0] * cd[1][1] - cd[0][1] * cd[1][0];
        if !det.is_finite() || det.abs() < 1e-300 {
            bail!("the pixel-to-sky matrix (CDELT/PC/CD) {cd:?} is singular");
        }
        let cd_inverse = [
            [cd[1][1] / det, -cd[0][1] / det],
            [-cd[1][0] / det, cd[0][0] / det],
        ];
        let pv = |k: &str| h.real(k).map(|v| v.unwrap_or(0.0));
        let projection = match code1 {
            "SIN" => Projection::Sin {
                xi: pv("PV2_1")?,
                eta: pv("PV2_2")?,
            },
            "NCP" => {
                if crval[1] == 0.0 {
                    bail!("NCP projection is undefined for CRVAL2 = 0");
                }
                Projection::Sin {
                    xi: 0.0,
                    eta: 1.0 / crval[1].to_radians().tan(),
                }
            }
            "TAN" => Projection::Tan,
            "ARC" => Projection::Arc,
            "ZEA" => Projection::Zea,
            other => bail!("projection '{other}' is not supported (SIN, NCP, TAN, ARC, ZEA are)"),
        };
        // Zenithal projections: the reference point is the native pole (θ0 = 90°), whose
        // default LONPOLE is 180° unless δ0 = 90° (Calabretta & Greisen §2.4).
        let default_lonpole = if crval[1] >= 90.0 { 0.0 } else { 180.0 };
        Ok(Wcs {
            crpix,
            cd,
            cd_inverse,
            projection,
            alpha_p: crval[0],
            delta_p: crval[1],
            phi_p: h.real("LONPOLE")?.unwrap_or(default_lonpole),
        })
    }

    /// Sky position of a 0-based pixel, or None where the projection has no sky.
    pub fn pixel_to_sky(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let p = [x + 1.0 - self.crpix[0], y + 1.0 - self.crpix[1]];
        let u = self.cd[0][0] * p[0] + self.cd[0][1] * p[1];
        let v = self.cd[1][0] * p[0] + self.cd[1][1] * p[1];
        let (phi, theta) = self.deproject(u, v)?;
        let (ra, dec) = self.native_to_celestial(phi, theta);
        (ra.is_finite() && dec.is_finite()).then_some((ra, dec))
    }

    /// 0-based pixel of a sky position, or None if it is not on the projection's visible
    /// side (for SIN, the far hemisphere).
    pub fn sky_to_pixel(&self, ra: f64, dec: f64) -> Option<(f64, f64)> {
        let (phi, theta) = self.celestial_to_native(ra, dec);
        let (u, v) = self.project(phi, theta)?;
        let px = self.cd_inverse[0][0] * u + self.cd_inverse[0][1] * v;
        let py = self.cd_inverse[1][0] * u + self.cd_inverse[1][1] * v;
        let (x, y) = (px + self.crpix[0] - 1.0, py + self.crpix[1] - 1.0);
        (x.is_finite() && y.is_finite()).then_some((x, y))
    }

    /// The local linear map from pixel offsets at (x, y) to offsets east and north on the
    /// sky (degrees per pixel), by central differences of half a pixel in the plane
    /// tangent there: rotation, a mirrored axis, non-square pixels and the turn of the
    /// meridians away from the reference point included. None where the projection has
    /// no sky.
    pub fn local_frame(&self, x: f64, y: f64) -> Option<[[f64; 2]; 2]> {
        let (ra0, dec0) = self.pixel_to_sky(x, y)?;
        let h = 0.5;
        let offset = |px: f64, py: f64| {
            let (ra, dec) = self.pixel_to_sky(px, py)?;
            let (east, north) = sky::tangent_offsets(ra0, dec0, ra, dec);
            (east.is_finite() && north.is_finite()).then_some((east, north))
        };
        let (e1, n1) = offset(x + h, y)?;
        let (e0, n0) = offset(x - h, y)?;
        let (e3, n3) = offset(x, y + h)?;
        let (e2, n2) = offset(x, y - h)?;
        Some([
            [(e1 - e0) / (2.0 * h), (e3 - e2) / (2.0 * h)],
            [(n1 - n0) / (2.0 * h), (n3 - n2) / (2.0 * h)],
        ])
    }

    /// The CD matrix: pixel offsets to offsets east and north at the reference point
    /// (degrees per pixel), rotation, a mirrored axis and non-square pixels included, and
    /// the projection's change of scale away from the reference point not (PySE and TraP
    /// take the beam at the reference point's scale).
    pub fn reference_frame(&self) -> [[f64; 2]; 2] {
        self.cd
    }

    /// Size of a pixel along x and y in degrees (the lengths of the matrix columns).
    pub fn pixel_scale(&self) -> (f64, f64) {
        (
            self.cd[0][0].hypot(self.cd[1][0]),
            self.cd[0][1].hypot(self.cd[1][1]),
        )
    }

    /// Intermediate world coordinates (degrees) → native spherical (φ, θ).
    fn deproject(&self, u: f64, v: f64) -> Option<(f64, f64)> {
        let r = u.hypot(v);
        let phi = if r == 0.0 {
            0.0
        } else {
            u.atan2(-v).to_degrees()
        };
        let theta = match self.projection {
            Projection::Sin { xi, eta } => {
                let (x, y) = (u.to_radians(), v.to_radians());
                if xi == 0.0 && eta == 0.0 {
                    let r2 = x * x + y * y;
                    if r2 > 1.0 {
                        return None;
                    }
                    return Some((phi, r2.sqrt().acos().to_degrees()));
                }
                // Slant SIN (Calabretta & Greisen eqs. 45-47).
                let a = xi * xi + eta * eta + 1.0;
                let b = xi * (x - xi) + eta * (y - eta);
                let c = (x - xi).powi(2) + (y - eta).powi(2) - 1.0;
                let disc = b * b - a * c;
                if disc < 0.0 {
                    return None;
                }
                let s1 = (-b + disc.sqrt()) / a;
                let s2 = (-b - disc.sqrt()) / a;
                // The root nearer the native pole.
                let sin_theta = if (s1 - 1.0).abs() <= (s2 - 1.0).abs() {
                    s1
                } else {
                    s2
                };
                if !(-1.0..=1.0 + 1e-12).contains(&sin_theta) {
                    return None;
                }
                let sin_theta = sin_theta.min(1.0);
                let k = 1.0 - sin_theta;
                let phi = (x - xi * k).atan2(-(y - eta * k)).to_degrees();
                return Some((phi, sin_theta.asin().to_degrees()));
            }
            Projection::Tan => (180.0 / std::f64::consts::PI).atan2(r).to_degrees(),
            Projection::Arc => 90.0 - r,
            Projection::Zea => {
                let s = r.to_radians() / 2.0;
                if s > 1.0 {
                    return None;
                }
                90.0 - 2.0 * s.asin().to_degrees()
            }
        };
        Some((phi, theta))
    }

    /// Native spherical (φ, θ) → intermediate world coordinates (degrees).
    fn project(&self, phi: f64, theta: f64) -> Option<(f64, f64)> {
        let (sp, cp) = phi.to_radians().sin_cos();
        let (st, ct) = theta.to_radians().sin_cos();
        let deg = 180.0 / std::f64::consts::PI;
        match self.projection {
            Projection::Sin { xi, eta } => {
                // The far side of the sphere is not visible (C&G eq. 48 boundary).
                if st < -(xi * sp - eta * cp) * ct {
                    return None;
                }
                let u = deg * (ct * sp + xi * (1.0 - st));
                let v = -deg * (ct * cp - eta * (1.0 - st));
                Some((u, v))
            }
            Projection::Tan => {
                if st <= 0.0 {
                    return None;
                }
                let r = deg * ct / st;
                Some((r * sp, -r * cp))
            }
            Projection::Arc => {
                let r = 90.0 - theta;
                Some((r * sp, -r * cp))
            }
            Projection::Zea => {
                let r = 2.0 * deg * ((90.0 - theta) / 2.0).to_radians().sin();
                Some((r * sp, -r * cp))
            }
        }
    }

    fn native_to_celestial(&self, phi: f64, theta: f64) -> (f64, f64) {
        let (st, ct) = theta.to_radians().sin_cos();
        let (sdp, cdp) = self.delta_p.to_radians().sin_cos();
        let dphi = (phi - self.phi_p).to_radians();
        let (sdphi, cdphi) = dphi.sin_cos();
        let dec = (st * sdp + ct * cdp * cdphi).clamp(-1.0, 1.0).asin();
        let ra = self.alpha_p
            + (-ct * sdphi)
                .atan2(st * cdp - ct * sdp * cdphi)
                .to_degrees();
        (sky::normalise_ra(ra), dec.to_degrees())
    }

    fn celestial_to_native(&self, ra: f64, dec: f64) -> (f64, f64) {
        let (sd, cd) = dec.to_radians().sin_cos();
        let (sdp, cdp) = self.delta_p.to_radians().sin_cos();
        let da = (ra - self.alpha_p).to_radians();
        let (sda, cda) = da.sin_cos();
        let theta = (sd * sdp + cd * cdp * cda).clamp(-1.0, 1.0).asin();
        let phi = self.phi_p + (-cd * sda).atan2(sd * cdp - cd * sdp * cda).to_degrees();
        (phi, theta.to_degrees())
    }
}

/// The 2×2 matrix from pixel offsets to intermediate world coordinates, from CD, PC+CDELT
/// or CDELT+CROTA2 (in that priority, as wcslib does).
fn linear_transform(h: &Header) -> Result<[[f64; 2]; 2]> {
    let cd_keys = ["CD1_1", "CD1_2", "CD2_1", "CD2_2"];
    if cd_keys.iter().any(|k| h.contains(k)) {
        let g = |k: &str| h.real(k).map(|v| v.unwrap_or(0.0));
        return Ok([[g("CD1_1")?, g("CD1_2")?], [g("CD2_1")?, g("CD2_2")?]]);
    }
    let cdelt = |k: &str| -> Result<f64> {
        let v = h
            .real(k)?
            .with_context(|| format!("missing {k} (and no CD matrix)"))?;
        if v == 0.0 || v.abs() > 360.0 {
            bail!(
                "{k} = {} is not a pixel size in degrees (nonzero, at most 360)",
                crate::image::header::show(v)
            );
        }
        Ok(v)
    };
    let (cdelt1, cdelt2) = (cdelt("CDELT1")?, cdelt("CDELT2")?);
    // PCi_j, or the older PC00i00j form some CASA versions write.
    let pc = |i: usize, j: usize| -> Result<Option<f64>> {
        Ok(h.real(&format!("PC{i}_{j}"))?
            .or(h.real(&format!("PC{i:03}{j:03}"))?))
    };
    let mut pcs = [[None; 2]; 2];
    for (i, row) in pcs.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = pc(i + 1, j + 1)?;
        }
    }
    let pc = |i: usize, j: usize| pcs[i - 1][j - 1];
    let has_pc = (1..=2).any(|i| (1..=2).any(|j| pc(i, j).is_some()));
    let m = if has_pc {
        let g = |i, j| pc(i, j).unwrap_or(if i == j { 1.0 } else { 0.0 });
        [[g(1, 1), g(1, 2)], [g(2, 1), g(2, 2)]]
    } else if let Some(crota) = h.real("CROTA2")? {
        let (s, c) = crota.to_radians().sin_cos();
        [[c, -s * cdelt2 / cdelt1], [s * cdelt1 / cdelt2, c]]
    } else {
        [[1.0, 0.0], [0.0, 1.0]]
    };
    Ok([
        [cdelt1 * m[0][0], cdelt1 * m[0][1]],
        [cdelt2 * m[1][0], cdelt2 * m[1][1]],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::header::Value;
    use std::collections::HashMap;
    use std::path::Path;

    fn fixtures() -> &'static Path {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
    }

    /// Synthetic headers written by tests/fixtures/make_wcs_fixture.py.
    fn synthetic_headers() -> HashMap<String, Header> {
        let text = std::fs::read_to_string(fixtures().join("wcs_synthetic_headers.csv")).unwrap();
        let mut cards: HashMap<String, Vec<(String, Value)>> = HashMap::new();
        for line in text.lines().skip(1) {
            let mut f = line.splitn(3, ',');
            let (name, key, value) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            let value = match value.parse::<f64>() {
                Ok(x) => Value::Number(x),
                Err(_) => Value::Text(value.to_string()),
            };
            cards
                .entry(name.to_string())
                .or_default()
                .push((key.to_string(), value));
        }
        cards
            .into_iter()
            .map(|(k, v)| (k, Header::from_pairs(v)))
            .collect()
    }

    fn astropy_rows() -> Vec<(String, f64, f64, f64, f64)> {
        let text = std::fs::read_to_string(fixtures().join("wcs_astropy.csv")).unwrap();
        text.lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                let n = |i: usize| f[i].parse::<f64>().unwrap();
                (f[0].to_string(), n(1), n(2), n(3), n(4))
            })
            .collect()
    }

    fn check(name: &str, wcs: &Wcs, x: f64, y: f64, ra: f64, dec: f64) {
        let (r, d) = wcs
            .pixel_to_sky(x, y)
            .unwrap_or_else(|| panic!("{name}: no sky at {x},{y}"));
        let sep = sky::distance(r, d, ra, dec) * 3.6e6;
        // At the pole RA is arbitrary; the separation handles that.
        assert!(sep < 1.0, "{name} ({x}, {y}): {sep} mas from astropy");
        let (px, py) = wcs.sky_to_pixel(ra, dec).unwrap();
        if dec.abs() < 89.999 {
            assert!(
                (px - x).abs() < 1e-6 && (py - y).abs() < 1e-6,
                "{name}: round trip gave ({px}, {py}) for ({x}, {y})"
            );
        }
    }

    #[test]
    fn synthetic_headers_match_astropy() {
        let headers = synthetic_headers();
        let mut checked = 0;
        for (name, x, y, ra, dec) in astropy_rows() {
            if let Some(h) = headers.get(&name) {
                check(&name, &Wcs::from_header(h).unwrap(), x, y, ra, dec);
                checked += 1;
            }
        }
        // 11 header forms (CDELT, CROTA2 with non-square pixels, non-symmetric CD, PC,
        // TAN, ARC, ZEA, NCP, slant SIN, south pole, RA wrap), 7 pixels each.
        assert_eq!(checked, 77);
    }

    #[test]
    fn real_headers_match_astropy() {
        // The real images' headers, read from the images the repository carries.
        let images = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/fits"));
        let mut wcs: HashMap<String, Wcs> = HashMap::new();
        let mut checked = 0;
        for (name, x, y, ra, dec) in astropy_rows() {
            if name.starts_with("synthetic:") {
                continue;
            }
            let w = wcs.entry(name.clone()).or_insert_with(|| {
                crate::image::fits::read(&images.join(&name))
                    .unwrap_or_else(|e| panic!("{name}: {e:#}"))
                    .wcs
            });
            check(&name, w, x, y, ra, dec);
            checked += 1;
        }
        // 9 real images (LOFAR, AMI-LA, KAT-7, Parkes at the south pole, simulated ASKAP with
        // a shifted reference pixel), 7 pixels each: every row of the fixture is checked.
        assert_eq!((wcs.len(), checked), (9, 63));
    }

    #[test]
    fn rejects_missing_and_unsupported_wcs() {
        let h = Header::from_pairs([("CTYPE1".to_string(), Value::Text("RA---SIN".into()))]);
        assert!(format!("{:#}", Wcs::from_header(&h).unwrap_err()).contains("CTYPE2"));
        let h = Header::from_pairs([
            ("CTYPE1".to_string(), Value::Text("RA---MER".into())),
            ("CTYPE2".to_string(), Value::Text("DEC--MER".into())),
            ("CRVAL1".to_string(), Value::Number(0.0)),
            ("CRVAL2".to_string(), Value::Number(0.0)),
            ("CRPIX1".to_string(), Value::Number(0.0)),
            ("CRPIX2".to_string(), Value::Number(0.0)),
            ("CDELT1".to_string(), Value::Number(-1.0)),
            ("CDELT2".to_string(), Value::Number(1.0)),
        ]);
        assert!(format!("{:#}", Wcs::from_header(&h).unwrap_err()).contains("MER"));
    }
}
