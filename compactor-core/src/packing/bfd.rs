//! Best-fit decreasing.

use super::{Strategy, weighted_size};

/// Best-fit decreasing: the bin left with the smallest normalised residual
/// (`Σ_d w_d · (residual_d − item_d)`) after taking the item; ties go to the earlier bin.
///
/// # Complexity
/// O(b · d) per decision over b fitting bins.
#[derive(Debug, Clone, Copy, Default)]
pub struct BestFitDecreasing;

impl Strategy for BestFitDecreasing {
    fn name(&self) -> &'static str {
        "best-fit"
    }

    fn select(&self, item: &[u64], fitting: &[(usize, &[u64])], weights: &[f64]) -> Option<usize> {
        let item_size = weighted_size(item, weights);
        let mut best: Option<(f64, usize)> = None;
        for (b, residual) in fitting {
            let slack = weighted_size(residual, weights) - item_size;
            if best.is_none_or(|(s, _)| slack < s) {
                best = Some((slack, *b));
            }
        }
        best.map(|(_, b)| b)
    }
}
