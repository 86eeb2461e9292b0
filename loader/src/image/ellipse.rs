//! Ellipses carried between the pixel grid and the sky through the WCS's local linear map
//! (`Wcs::local_frame`), as covariances: rotated images (CROTA2, CD/PC), a mirrored RA
//! axis and non-square pixels all come out right, where mapping the axes' end points does
//! not (the image of an ellipse's axes is not the new ellipse's axes).

/// An ellipse (or a 2-D Gaussian's 1-sigma contour): its semi-axes and the unit direction
/// of the first, in the frame it lives in. The first semi-axis may be the shorter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ellipse {
    pub smaj: f64,
    pub smin: f64,
    pub major: [f64; 2],
}

/// A 2×2 matrix, rows first.
pub type Matrix = [[f64; 2]; 2];

impl Ellipse {
    /// Σ = smaj²·u·uᵀ + smin²·v·vᵀ, with u the major direction and v perpendicular to it.
    pub fn covariance(&self) -> Matrix {
        let [ux, uy] = self.major;
        let (vx, vy) = (-uy, ux);
        let (a, b) = (self.smaj * self.smaj, self.smin * self.smin);
        [
            [a * ux * ux + b * vx * vx, a * ux * uy + b * vx * vy],
            [a * ux * uy + b * vx * vy, a * uy * uy + b * vy * vy],
        ]
    }

    /// The ellipse of a covariance: its eigenvalues' square roots, the larger first, and
    /// the larger one's direction.
    pub fn from_covariance(c: &Matrix) -> Ellipse {
        let (p, q, r) = (c[0][0], c[0][1], c[1][1]);
        let mean = (p + r) / 2.0;
        let half = ((p - r) / 2.0).hypot(q);
        let (large, small) = (mean + half, mean - half);
        let major = if q != 0.0 {
            let (x, y) = (large - r, q);
            let n = x.hypot(y);
            [x / n, y / n]
        } else if p >= r {
            [1.0, 0.0]
        } else {
            [0.0, 1.0]
        };
        Ellipse {
            smaj: large.max(0.0).sqrt(),
            smin: small.max(0.0).sqrt(),
            major,
        }
    }

    /// The ellipse under the linear map `m`: covariance m·Σ·mᵀ.
    pub fn mapped(&self, m: &Matrix) -> Ellipse {
        Ellipse::from_covariance(&transform(&self.covariance(), m))
    }

    /// In the pixel frame: the major axis at angle θ (radians) from +y towards −x, which is
    /// east of north on an image with north up and east left.
    pub fn in_pixels(smaj: f64, smin: f64, theta: f64) -> Ellipse {
        let (s, c) = theta.sin_cos();
        Ellipse {
            smaj,
            smin,
            major: [-s, c],
        }
    }

    /// The pixel-frame angle θ of the major axis (see `in_pixels`).
    pub fn theta(&self) -> f64 {
        (-self.major[0]).atan2(self.major[1])
    }

    /// On the sky, in (east, north): the major axis at position angle `pa` (radians, east of
    /// north).
    pub fn on_sky(smaj: f64, smin: f64, pa: f64) -> Ellipse {
        let (s, c) = pa.sin_cos();
        Ellipse {
            smaj,
            smin,
            major: [s, c],
        }
    }

    /// The position angle of the major axis on the sky, degrees east of north in [0, 180).
    pub fn position_angle(&self) -> f64 {
        self.major[0]
            .atan2(self.major[1])
            .to_degrees()
            .rem_euclid(180.0)
            % 180.0
    }
}

/// m·Σ·mᵀ.
pub fn transform(c: &Matrix, m: &Matrix) -> Matrix {
    let mc = [
        [
            m[0][0] * c[0][0] + m[0][1] * c[1][0],
            m[0][0] * c[0][1] + m[0][1] * c[1][1],
        ],
        [
            m[1][0] * c[0][0] + m[1][1] * c[1][0],
            m[1][0] * c[0][1] + m[1][1] * c[1][1],
        ],
    ];
    [
        [
            mc[0][0] * m[0][0] + mc[0][1] * m[0][1],
            mc[0][0] * m[1][0] + mc[0][1] * m[1][1],
        ],
        [
            mc[1][0] * m[0][0] + mc[1][1] * m[0][1],
            mc[1][0] * m[1][0] + mc[1][1] * m[1][1],
        ],
    ]
}

/// The inverse of `m`, or None if it is singular or not finite.
pub fn inverse(m: &Matrix) -> Option<Matrix> {
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    (det != 0.0 && det.is_finite()).then(|| {
        [
            [m[1][1] / det, -m[0][1] / det],
            [-m[1][0] / det, m[0][0] / det],
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn a_north_up_image_with_square_pixels_keeps_the_shape() {
        // East is −x: the map from pixels to (east, north) is diag(−d, d).
        let d = 2.0;
        let to_sky = [[-d, 0.0], [0.0, d]];
        let pix = Ellipse::in_pixels(3.0, 1.0, 30f64.to_radians());
        let sky = pix.mapped(&to_sky);
        assert!(close(sky.smaj, 6.0) && close(sky.smin, 2.0));
        assert!(
            close(sky.position_angle(), 30.0),
            "{}",
            sky.position_angle()
        );
        let back = sky.mapped(&inverse(&to_sky).unwrap());
        assert!(close(back.smaj, 3.0) && close(back.theta().to_degrees().rem_euclid(180.0), 30.0));
    }

    #[test]
    fn a_mirrored_rotated_non_square_grid() {
        // A beam of 2 × 1 at PA 45° on pixels twice as long in x as in y, with x pointing
        // east (a mirrored RA axis): worked by hand. In pixels the covariance is
        // M⁻¹ Σ M⁻ᵀ with M = diag(2, 1); Σ of the beam: u = (1, 1)/√2, v = (−1, 1)/√2,
        // Σ = 4·u·uᵀ + v·vᵀ = [[2.5, 1.5], [1.5, 2.5]]; in pixels [[0.625, 0.75], [0.75, 2.5]].
        let to_sky = [[2.0, 0.0], [0.0, 1.0]];
        let beam = Ellipse::on_sky(2.0, 1.0, 45f64.to_radians());
        let c = beam.mapped(&inverse(&to_sky).unwrap()).covariance();
        assert!(
            close(c[0][0], 0.625) && close(c[0][1], 0.75) && close(c[1][1], 2.5),
            "{c:?}"
        );
        // Rotating the grid by 30° rotates the pixel-frame ellipse the other way and keeps
        // its axes; mapping back gives the sky ellipse again.
        let (s, c30) = 30f64.to_radians().sin_cos();
        let rotated = [[-c30, -s], [-s, c30]];
        let pix = beam.mapped(&inverse(&rotated).unwrap());
        assert!(close(pix.smaj, 2.0) && close(pix.smin, 1.0));
        let back = pix.mapped(&rotated);
        assert!(
            close(back.position_angle(), 45.0),
            "{}",
            back.position_angle()
        );
    }
}
