//! Small order statistics shared by the metrics (mean, median, extremes of a
//! list of `f64`), with the conventions every result struct documents: the
//! median of an even-length list is the average of its two middle values, and
//! every statistic of an empty list is 0.

/// Mean, median, minimum and maximum of a list (all 0 for an empty list).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Summary {
    pub(crate) mean: f64,
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

/// Summarises `values` (NaN-free by construction in this crate).
pub(crate) fn summarize(values: &[f64]) -> Summary {
    if values.is_empty() {
        return Summary { mean: 0.0, median: 0.0, min: 0.0, max: 0.0 };
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    Summary { mean: sorted.iter().sum::<f64>() / n as f64, median: median_of_sorted(&sorted), min: sorted[0], max: sorted[n - 1] }
}

/// The median of `values` with the crate's conventions: the average of the
/// two middle values for an even count, 0 for an empty list.
#[must_use]
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    median_of_sorted(&sorted)
}

fn median_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_even_and_empty_lists() {
        let s = summarize(&[3.0, 1.0, 2.0]);
        assert_eq!((s.mean, s.median, s.min, s.max), (2.0, 2.0, 1.0, 3.0));
        let s = summarize(&[4.0, 1.0, 2.0, 3.0]);
        assert_eq!((s.mean, s.median, s.min, s.max), (2.5, 2.5, 1.0, 4.0));
        let s = summarize(&[]);
        assert_eq!((s.mean, s.median, s.min, s.max), (0.0, 0.0, 0.0, 0.0));
        assert_eq!((median(&[3.0, 1.0, 2.0]), median(&[4.0, 1.0, 2.0, 3.0]), median(&[])), (2.0, 2.5, 0.0));
    }
}
