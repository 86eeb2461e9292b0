//! Order within a lightcurve: which measurement each one follows.

/// For the times of a lightcurve's points in one band, sorted (ties in any fixed order),
/// the index of each point's previous point: the last point of the latest strictly earlier
/// time. Points taken at the same time (two overlapping fields observed together) are not
/// one another's previous point; they share the one before them.
pub fn previous_points(times: &[f64]) -> Vec<Option<usize>> {
    let mut previous = Vec::with_capacity(times.len());
    let mut same_time_from = 0;
    for (i, t) in times.iter().enumerate() {
        if i > 0 && *t != times[i - 1] {
            same_time_from = i;
        }
        previous.push(same_time_from.checked_sub(1));
    }
    previous
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_point_follows_the_one_before_it() {
        assert_eq!(
            previous_points(&[10.0, 20.0, 35.0]),
            [None, Some(0), Some(1)]
        );
    }

    #[test]
    fn points_at_one_time_share_the_previous_point() {
        // Times 1, 2, 2, 3: both points at 2 follow the point at 1, and the point at 3
        // follows the last of the two (the later in the tie order).
        assert_eq!(
            previous_points(&[1.0, 2.0, 2.0, 3.0]),
            [None, Some(0), Some(0), Some(2)]
        );
        assert_eq!(previous_points(&[5.0, 5.0]), [None, None]);
    }

    #[test]
    fn no_points_no_previous() {
        assert!(previous_points(&[]).is_empty());
    }
}
