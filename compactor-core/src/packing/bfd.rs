//! Best-fit decreasing.

use super::{Bins, Strategy};

/// Best-fit decreasing: the bin left with the smallest normalised residual
/// (`Σ_d w_d · (residual_d − item_d)`) after taking the item; ties go to the earlier bin.
///
/// # Complexity
/// O(log n + k · d) per decision (see [`Bins::best_fit`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct BestFitDecreasing;

impl Strategy for BestFitDecreasing {
    fn select(&self, bins: &Bins, item: &[u64]) -> Option<usize> {
        bins.best_fit(item)
    }
}
