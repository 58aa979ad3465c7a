//! First-fit decreasing.

use super::Strategy;

/// First-fit decreasing: the first bin (in bin order) that can take the item.
///
/// # Complexity
/// O(1) per decision over the fitting bins.
#[derive(Debug, Clone, Copy, Default)]
pub struct FirstFitDecreasing;

impl Strategy for FirstFitDecreasing {
    fn name(&self) -> &'static str {
        "first-fit"
    }

    fn select(
        &self,
        _item: &[u64],
        fitting: &[(usize, &[u64])],
        _weights: &[f64],
    ) -> Option<usize> {
        fitting.first().map(|(b, _)| *b)
    }
}
