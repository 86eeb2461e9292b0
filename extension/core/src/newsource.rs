//! TraP's new-source rule: is a source seen for the first time brighter than what the
//! earlier images of the same field could have detected?

/// Detection limits of an earlier, accepted image of the same band covering the position.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PreviousImage {
    pub id: i64,
    /// Lowest and highest noise in the image's extraction region (Jy/beam).
    pub rms_min: f64,
    pub rms_max: f64,
    /// Detection threshold used on that image, in sigma.
    pub detection_thresh: f64,
}

/// TraP's `newsource_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewSourceType {
    /// Brighter than the best earlier limit but not the worst: could be a steady source in
    /// a noisy part of the earlier image.
    Possible = 0,
    /// Brighter than the earlier image's limit everywhere: a likely transient.
    Likely = 1,
}

/// A new source and the earlier image whose limits make it new.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NewSource {
    pub previous_limits_image: i64,
    pub kind: NewSourceType,
}

/// Decides whether a first detection of peak flux `f_peak` is a new source. The earlier
/// image with the deepest limit rms_min·(threshold + margin) is chosen (ties: the lower
/// rms_max·(threshold + margin), then the lower id); the source is new if it is brighter
/// than that limit, and likely transient if it is also brighter than that image's
/// rms_max·(threshold + margin). No earlier image means the field is seen for the first
/// time and nothing is new.
pub fn classify(f_peak: f64, previous: &[PreviousImage], margin: f64) -> Option<NewSource> {
    let limits = |p: &PreviousImage| {
        let k = p.detection_thresh + margin;
        (p.rms_min * k, p.rms_max * k)
    };
    let best = previous.iter().min_by(|a, b| {
        let (la, ha) = limits(a);
        let (lb, hb) = limits(b);
        la.total_cmp(&lb)
            .then(ha.total_cmp(&hb))
            .then(a.id.cmp(&b.id))
    })?;
    let (low, high) = limits(best);
    (f_peak > low).then_some(NewSource {
        previous_limits_image: best.id,
        kind: if f_peak > high {
            NewSourceType::Likely
        } else {
            NewSourceType::Possible
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(id: i64, rms_min: f64, rms_max: f64) -> PreviousImage {
        PreviousImage {
            id,
            rms_min,
            rms_max,
            detection_thresh: 8.0,
        }
    }

    #[test]
    fn first_look_at_a_field_finds_nothing_new() {
        assert_eq!(classify(100.0, &[], 1.0), None);
    }

    #[test]
    fn limits_are_threshold_plus_margin_times_rms() {
        // Limits with margin 1: low = 9·rms_min, high = 9·rms_max.
        let prev = [image(1, 0.001, 0.004), image(2, 0.002, 0.003)];
        // Image 1 has the deepest limit, 0.009 Jy; its worst is 0.036 Jy.
        assert_eq!(classify(0.008, &prev, 1.0), None);
        assert_eq!(
            classify(0.010, &prev, 1.0),
            Some(NewSource {
                previous_limits_image: 1,
                kind: NewSourceType::Possible
            })
        );
        assert_eq!(
            classify(0.040, &prev, 1.0).map(|n| n.kind),
            Some(NewSourceType::Likely)
        );
    }
}
