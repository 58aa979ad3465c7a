//! First-fit decreasing.

use super::{Bins, Strategy};

/// First-fit decreasing: the first bin (in bin order) that can take the item.
///
/// # Complexity
/// O(d · log n) per decision when the segment tree prunes well (see [`Bins::first_fit`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct FirstFitDecreasing;

impl Strategy for FirstFitDecreasing {
    fn select(&self, bins: &Bins, item: &[u64]) -> Option<usize> {
        bins.first_fit(item)
    }
}
