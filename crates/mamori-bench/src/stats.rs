//! The arithmetic every table uses: percentiles, medians and spreads of samples.
//!
//! One definition for all of them, so a "p99" in the verifier table and a "p95" in the widget
//! table mean the same thing: the nearest-rank percentile, which is always an observed value.

/// A sample summarised: how many values, the median, the middle half, and the tails.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Summary {
    /// Number of values.
    pub(crate) count: usize,
    /// The 50th percentile.
    pub(crate) median: f64,
    /// The 25th percentile.
    pub(crate) p25: f64,
    /// The 75th percentile.
    pub(crate) p75: f64,
    /// The 95th percentile.
    pub(crate) p95: f64,
    /// The 99th percentile.
    pub(crate) p99: f64,
    /// The smallest value.
    pub(crate) min: f64,
    /// The largest value.
    pub(crate) max: f64,
}

impl Summary {
    /// Summarises `values` (in any order); `None` for an empty sample, which no table can show.
    pub(crate) fn of(values: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let at = |p| percentile(&sorted, p);
        Some(Self {
            count: sorted.len(),
            median: at(50.0)?,
            p25: at(25.0)?,
            p75: at(75.0)?,
            p95: at(95.0)?,
            p99: at(99.0)?,
            min: *sorted.first()?,
            max: *sorted.last()?,
        })
    }

    /// The spread as a share of the median: half the interquartile range over the median, the
    /// "±" printed next to medians of repeated rounds.
    pub(crate) fn relative_spread(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.p75 - self.p25) / 2.0 / self.median
        }
    }
}

/// The nearest-rank `p`-th percentile of an ascending `sorted` sample: the smallest value with
/// at least `p` % of the sample at or below it. `None` when the sample is empty.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil();
    // Rank 0 (p = 0) is the minimum; the cast is exact because the rank is at most the length.
    let index = (rank as usize).saturating_sub(1).min(sorted.len() - 1);
    sorted.get(index).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), Some(50.0));
        assert_eq!(percentile(&values, 99.0), Some(99.0));
        assert_eq!(percentile(&values, 100.0), Some(100.0));
        assert_eq!(percentile(&values, 0.0), Some(1.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
        // Five values: the 95th percentile is the largest, the median the third.
        let five = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&five, 95.0), Some(5.0));
        assert_eq!(percentile(&five, 50.0), Some(3.0));
    }

    #[test]
    fn summary_sorts_and_ignores_non_finite_values() {
        let summary = Summary::of(&[5.0, 1.0, f64::NAN, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!(summary.count, 5);
        assert_eq!(summary.median, 3.0);
        assert_eq!((summary.min, summary.max), (1.0, 5.0));
        assert_eq!((summary.p25, summary.p75), (2.0, 4.0));
        assert!((summary.relative_spread() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(Summary::of(&[]), None);
    }
}
