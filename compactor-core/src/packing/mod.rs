//! Vector bin packing: a pure [`pack`] over identical bins with one of the planner's
//! strategies ([`StrategyKind`]), and the consistent-neighbourhood search [`pack_search`].
//!
//! A strategy only decides *where* one item goes among the bins that can take it; the item
//! order (decreasing normalised size) and the fit test are shared, so every strategy is
//! scored and used by the planner the same way. The per-item rules and the bin index behind
//! them are internal: a custom rule cannot be passed to the planner (its views, constraint
//! handling and repair are written for these rules), so the trait is not public.

mod bfd;
mod bins;
mod ffd;
mod instance;
mod mrd;
mod search;

pub(crate) use bfd::BestFitDecreasing;
pub(crate) use bins::Bins;
pub(crate) use ffd::FirstFitDecreasing;
pub use instance::Instance;
pub(crate) use mrd::MostRoomDecreasing;
pub(crate) use search::repair;
pub use search::{DEFAULT_WORK_LIMIT, SearchOptions, SearchResult, pack_search};

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// A placement rule: picks one bin among those that can take an item.
pub(crate) trait Strategy: std::fmt::Debug + Send + Sync {
    /// Picks an active bin of `bins` that can take `item`, or `None` when none can.
    fn select(&self, bins: &Bins, item: &[u64]) -> Option<usize>;
}

/// The strategies the planner and the CLI offer.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StrategyKind {
    /// First-fit decreasing.
    FirstFit,
    /// Best-fit decreasing (the default: it leaves the fewest scattered gaps).
    #[default]
    BestFit,
    /// Best-fit decreasing, then a consistent-neighbourhood search that repacks moved pods
    /// to empty further nodes ([`pack_search`] for identical bins); planned a second time
    /// with most-room decreasing (the order kube-scheduler's LeastAllocated scoring fills
    /// nodes in), a third with the prediction's ties in node name order and a fourth with
    /// plain best fit, keeping the plan whose scheduler prediction drains the most nodes,
    /// so it never keeps more than best fit. About four times best fit's time.
    Search,
    /// Best fit that keeps pods with traffic between them together: a pod goes to the node
    /// (with room, allowed by its constraints) holding the most traffic with it, otherwise
    /// to its best fit ([`crate::traffic`]; without traffic data, plain best fit).
    NetworkAware,
    /// Best fit that follows inter-pod affinity: a pod goes to the node where its preferred
    /// (and required) pod affinity terms find the most weight, otherwise to its best fit;
    /// required anti-affinity is a conflict in every strategy.
    AffinityBased,
}

impl StrategyKind {
    /// All strategies, in a stable order.
    pub const ALL: [StrategyKind; 5] = [
        StrategyKind::FirstFit,
        StrategyKind::BestFit,
        StrategyKind::Search,
        StrategyKind::NetworkAware,
        StrategyKind::AffinityBased,
    ];

    /// The per-item rule of this strategy (`search`, `network-aware` and `affinity-based`
    /// fall back to best fit when they have nothing better).
    pub(crate) fn strategy(self) -> &'static dyn Strategy {
        match self {
            StrategyKind::FirstFit => &FirstFitDecreasing,
            StrategyKind::BestFit
            | StrategyKind::Search
            | StrategyKind::NetworkAware
            | StrategyKind::AffinityBased => &BestFitDecreasing,
        }
    }

    /// The kebab-case name used in JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::FirstFit => "first-fit",
            StrategyKind::BestFit => "best-fit",
            StrategyKind::Search => "search",
            StrategyKind::NetworkAware => "network-aware",
            StrategyKind::AffinityBased => "affinity-based",
        }
    }
}

/// `Σ_d weights[d] · v[d]`: a vector's normalised size.
pub(crate) fn weighted_size(v: &[u64], weights: &[f64]) -> f64 {
    v.iter().zip(weights).map(|(x, w)| *x as f64 * w).sum()
}

/// Whether `item` fits into `residual` in every dimension.
pub(crate) fn fits(item: &[u64], residual: &[u64]) -> bool {
    item.iter().zip(residual).all(|(i, r)| i <= r)
}

/// Item indices in decreasing normalised size, ties by index (stable and deterministic).
///
/// # Complexity
/// O(n log n + n·d).
pub(crate) fn decreasing_order(items: &[&[u64]], weights: &[f64]) -> Vec<usize> {
    let sizes: Vec<f64> = items.iter().map(|i| weighted_size(i, weights)).collect();
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|a, b| sizes[*b].total_cmp(&sizes[*a]).then(a.cmp(b)));
    order
}

/// Per-dimension normalisation weights: `1 / capacity`, 0 where the capacity is 0.
pub(crate) fn weights_for(capacity: &[u64]) -> Vec<f64> {
    capacity
        .iter()
        .map(|c| if *c == 0 { 0.0 } else { 1.0 / *c as f64 })
        .collect()
}

/// The result of [`pack`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Packing {
    /// Bin index of each item, in item order.
    pub assignment: Vec<usize>,
    /// Number of bins opened.
    pub bins: usize,
}

/// Packs `items` into identical bins of size `capacity` with `strategy`'s per-item rule
/// (first fit for [`StrategyKind::FirstFit`], best fit for every other kind; the `search`
/// of [`StrategyKind::Search`] is [`pack_search`]), items taken in decreasing normalised size;
/// a new bin is opened when no open bin can take an item.
///
/// # Examples
/// ```
/// use compactor_core::packing::{pack, StrategyKind};
/// let items = vec![vec![6, 2], vec![5, 5], vec![4, 4], vec![3, 6]];
/// let p = pack(&items, &[10, 10], StrategyKind::BestFit).unwrap();
/// assert_eq!(p.bins, 2);
/// ```
///
/// # Errors
/// [`CoreError::DimensionMismatch`] when an item's length differs from the capacity's,
/// [`CoreError::ItemTooLarge`] when an item exceeds an empty bin.
///
/// # Complexity
/// O(n log n + n · d · log n) for n items in d dimensions when the bin index prunes well.
pub fn pack(
    items: &[Vec<u64>],
    capacity: &[u64],
    strategy: StrategyKind,
) -> Result<Packing, CoreError> {
    let strategy = strategy.strategy();
    validate_items(items, capacity)?;
    let weights = weights_for(capacity);
    let views: Vec<&[u64]> = items.iter().map(Vec::as_slice).collect();
    let full: Vec<i128> = capacity.iter().map(|c| i128::from(*c)).collect();
    let d = capacity.len();
    let mut bins = Bins::new(d, items.len(), weights.clone());
    let mut opened = 0;
    let mut assignment = vec![0; items.len()];
    let order = decreasing_order(&views, &weights);
    // smallest[k][dim]: the smallest size in `dim` among the items from position k on. A bin
    // with less room than that in some dimension can take nothing more: it leaves the
    // indexes, which keeps their walks short. Leaving is exact: no later item could fit.
    let mut smallest = vec![u64::MAX; (order.len() + 1) * d];
    for k in (0..order.len()).rev() {
        for dim in 0..d {
            smallest[k * d + dim] = smallest[(k + 1) * d + dim].min(views[order[k]][dim]);
        }
    }
    let mut live: Vec<usize> = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        let b = match strategy.select(&bins, views[i]) {
            Some(b) => b,
            None => {
                bins.open(opened, &full);
                live.push(opened);
                opened += 1;
                opened - 1
            }
        };
        bins.take(b, views[i]);
        assignment[i] = b;
        let next = &smallest[(k + 1) * d..(k + 2) * d];
        let dead = |bins: &Bins, b: usize| {
            bins.residual(b)
                .iter()
                .zip(next)
                .any(|(r, m)| *r < i128::from(*m))
        };
        if k + 1 < order.len() && next != &smallest[k * d..(k + 1) * d] {
            // The smallest remaining sizes grew: sweep every live bin (dropping the ones
            // closed since the last sweep).
            live.retain(|&b| {
                if !bins.is_active(b) {
                    return false;
                }
                let gone = dead(&bins, b);
                if gone {
                    bins.close(b);
                }
                !gone
            });
        } else if dead(&bins, b) {
            // `live` keeps it until the next sweep: removing it here costs a pass per bin.
            bins.close(b);
        }
    }
    Ok(Packing {
        assignment,
        bins: opened,
    })
}

/// Checks that every item has the bins' dimensions and fits an empty bin.
///
/// # Errors
/// [`CoreError::DimensionMismatch`], [`CoreError::ItemTooLarge`].
pub fn validate_items(items: &[Vec<u64>], capacity: &[u64]) -> Result<(), CoreError> {
    for (i, item) in items.iter().enumerate() {
        if item.len() != capacity.len() {
            return Err(CoreError::DimensionMismatch {
                item: i,
                expected: capacity.len(),
                got: item.len(),
            });
        }
        if let Some(d) = item.iter().zip(capacity).position(|(x, c)| x > c) {
            return Err(CoreError::ItemTooLarge {
                item: i,
                dimension: d,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(items: &[Vec<u64>], cap: &[u64], p: &Packing) {
        let mut used = vec![vec![0u64; cap.len()]; p.bins];
        for (item, b) in items.iter().zip(&p.assignment) {
            for (u, x) in used[*b].iter_mut().zip(item) {
                *u += x;
            }
        }
        for u in &used {
            assert!(fits(u, cap), "bin over capacity: {u:?}");
            assert!(u.iter().any(|x| *x > 0), "empty bin opened");
        }
    }

    #[test]
    fn classic_one_dimensional_instance() {
        // 5 4 3 3 2 2 1 (sum 20) into bins of 10: both rules reach the optimum of 2.
        let items: Vec<Vec<u64>> = [5, 4, 3, 3, 2, 2, 1].iter().map(|x| vec![*x]).collect();
        for kind in StrategyKind::ALL {
            let p = pack(&items, &[10], kind).unwrap();
            check(&items, &[10], &p);
            assert_eq!(p.bins, 2, "{kind:?}");
        }
    }

    #[test]
    fn ffd_takes_the_first_bin_bfd_the_tightest() {
        let mut bins = Bins::new(1, 3, vec![0.1]);
        bins.open(0, &[5]);
        bins.open(1, &[4]);
        bins.open(2, &[4]);
        assert_eq!(FirstFitDecreasing.select(&bins, &[4]), Some(0));
        // The tightest bin; ties go to the earlier one.
        assert_eq!(BestFitDecreasing.select(&bins, &[4]), Some(1));
        assert_eq!(BestFitDecreasing.select(&bins, &[6]), None);
        // 7, 5, 4, 1 into bins of 10: 7 → b0 (3 left), 5 → b1 (5), 4 → b1 (1), then 1:
        // FFD takes b0 (first), BFD takes b1 (tightest).
        let items = vec![vec![7], vec![5], vec![4], vec![1]];
        assert_eq!(
            pack(&items, &[10], StrategyKind::FirstFit)
                .unwrap()
                .assignment,
            vec![0, 1, 1, 0]
        );
        assert_eq!(
            pack(&items, &[10], StrategyKind::BestFit)
                .unwrap()
                .assignment,
            vec![0, 1, 1, 1]
        );
    }

    #[test]
    fn multi_dimensional_and_errors() {
        let items = vec![vec![6, 2], vec![5, 5], vec![4, 4], vec![3, 6]];
        for kind in StrategyKind::ALL {
            let p = pack(&items, &[10, 10], kind).unwrap();
            check(&items, &[10, 10], &p);
        }
        assert_eq!(
            pack(&[vec![1]], &[1, 1], StrategyKind::FirstFit),
            Err(CoreError::DimensionMismatch {
                item: 0,
                expected: 2,
                got: 1
            })
        );
        assert_eq!(
            pack(&[vec![1, 3]], &[2, 2], StrategyKind::FirstFit),
            Err(CoreError::ItemTooLarge {
                item: 0,
                dimension: 1
            })
        );
        assert_eq!(pack(&[], &[2, 2], StrategyKind::FirstFit).unwrap().bins, 0);
    }
}
