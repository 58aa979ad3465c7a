//! Most-room decreasing: the rule kube-scheduler's default scoring follows.

use super::{Bins, Strategy};

/// Most-room decreasing: the bin with the largest normalised residual
/// (`Σ_d w_d · residual_d`) that can take the item; ties go to the later bin.
///
/// kube-scheduler's default `NodeResourcesFit` scoring (LeastAllocated) sends a pod to the
/// node with the most free room, so a drain set packed this way is one the scheduler's own
/// placements tend to realise: the `search` strategy plans with it too and keeps whichever
/// plan the scheduler prediction lets drain more nodes.
///
/// # Complexity
/// O(log n + k · d) per decision (see [`Bins::most_room`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct MostRoomDecreasing;

impl Strategy for MostRoomDecreasing {
    fn select(&self, bins: &Bins, item: &[u64]) -> Option<usize> {
        bins.most_room(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_roomiest_bin_that_fits() {
        let mut bins = Bins::new(2, 3, vec![1.0, 1.0]);
        bins.open(0, &[10, 10]);
        bins.open(1, &[30, 1]);
        bins.open(2, &[20, 20]);
        // Bin 1 has the most room in total but no memory for this item.
        assert_eq!(MostRoomDecreasing.select(&bins, &[5, 5]), Some(2));
        assert_eq!(MostRoomDecreasing.select(&bins, &[25, 1]), Some(1));
        assert_eq!(MostRoomDecreasing.select(&bins, &[25, 25]), None);
        bins.close(2);
        assert_eq!(MostRoomDecreasing.select(&bins, &[5, 5]), Some(0));
    }
}
