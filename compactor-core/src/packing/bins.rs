//! Indexed bins: residual capacities with the two indexes the greedy rules query.
//!
//! - a segment tree of per-dimension maxima answers "the first bin (by index) that can take
//!   this item" by descending only into subtrees whose maxima could fit it;
//! - an ordered set of `(normalised residual, bin)` answers "the fitting bin with the least
//!   normalised residual" by walking up from the item's own size.
//!
//! Both are exact: they return what a linear scan would. An inactive bin (not yet opened, or
//! closed: a node being drained) can take nothing.

use std::collections::BTreeSet;

use ordered_float::OrderedFloat;

use super::weighted_size;

/// Bins [`Bins::best_fit`] looks at before it settles for the first fitting bin.
pub const BEST_FIT_WALK: usize = 256;

/// Residual capacities of a set of bins, indexed for first-fit and best-fit queries.
///
/// # Examples
/// ```
/// use compactor_core::packing::Bins;
/// let mut bins = Bins::new(2, 3, vec![0.1, 0.1]);
/// bins.open(0, &[10, 10]);
/// bins.open(2, &[4, 4]);
/// assert_eq!(bins.first_fit(&[3, 3]), Some(0));
/// assert_eq!(bins.best_fit(&[3, 3]), Some(2));
/// bins.take(2, &[3, 3]);
/// assert_eq!(bins.best_fit(&[3, 3]), Some(0));
/// ```
#[derive(Debug, Clone)]
pub struct Bins {
    d: usize,
    n: usize,
    /// Leaf count of the tree (power of two ≥ n).
    leaves: usize,
    /// Residual per bin and dimension; `-1` everywhere for an inactive bin.
    residual: Vec<i128>,
    /// Segment tree of per-dimension maxima, `2 · leaves` nodes of `d` values, root at 1.
    tree: Vec<i128>,
    weights: Vec<f64>,
    by_slack: BTreeSet<(OrderedFloat<f64>, usize)>,
    slack: Vec<f64>,
    active: Vec<bool>,
}

impl Bins {
    /// `n` inactive bins of `d` dimensions; `weights` normalise dimensions for best fit.
    ///
    /// # Complexity
    /// O(n · d).
    pub fn new(d: usize, n: usize, weights: Vec<f64>) -> Self {
        let leaves = n.next_power_of_two().max(1);
        Self {
            d,
            n,
            leaves,
            residual: vec![-1; n * d],
            tree: vec![-1; 2 * leaves * d],
            weights,
            by_slack: BTreeSet::new(),
            slack: vec![0.0; n],
            active: vec![false; n],
        }
    }

    /// Number of bins (active or not).
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are no bins.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Whether bin `b` can take items.
    pub fn is_active(&self, b: usize) -> bool {
        self.active.get(b).copied().unwrap_or(false)
    }

    /// Residual of bin `b` (negative where the bin is over its limit; `-1` when inactive).
    pub fn residual(&self, b: usize) -> &[i128] {
        &self.residual[b * self.d..(b + 1) * self.d]
    }

    /// Activates bin `b` with the given residual (entries may be negative: such a bin takes
    /// nothing until it has room again).
    ///
    /// # Complexity
    /// O(d · log n).
    pub fn open(&mut self, b: usize, residual: &[i128]) {
        self.residual[b * self.d..(b + 1) * self.d].copy_from_slice(residual);
        self.refresh(b, true);
    }

    /// Deactivates bin `b`: it takes nothing until opened again.
    ///
    /// # Complexity
    /// O(d · log n).
    pub fn close(&mut self, b: usize) {
        self.by_slack.remove(&(OrderedFloat(self.slack[b]), b));
        for r in &mut self.residual[b * self.d..(b + 1) * self.d] {
            *r = -1;
        }
        self.refresh(b, false);
    }

    /// Puts `item` into bin `b` (the caller checked that it fits).
    ///
    /// # Complexity
    /// O(d · log n).
    pub fn take(&mut self, b: usize, item: &[u64]) {
        for (r, x) in self.residual[b * self.d..(b + 1) * self.d]
            .iter_mut()
            .zip(item)
        {
            *r -= i128::from(*x);
        }
        self.refresh(b, true);
    }

    /// Takes `item` back out of bin `b`.
    ///
    /// # Complexity
    /// O(d · log n).
    pub fn give_back(&mut self, b: usize, item: &[u64]) {
        for (r, x) in self.residual[b * self.d..(b + 1) * self.d]
            .iter_mut()
            .zip(item)
        {
            *r += i128::from(*x);
        }
        self.refresh(b, true);
    }

    /// Whether `item` fits into active bin `b`.
    pub fn fits(&self, b: usize, item: &[u64]) -> bool {
        self.active[b]
            && self
                .residual(b)
                .iter()
                .zip(item)
                .all(|(r, x)| *r >= i128::from(*x))
    }

    /// The lowest-index active bin that can take `item`.
    ///
    /// # Complexity
    /// O(d · log n) when the per-dimension maxima prune well; O(n · d) in the worst case.
    pub fn first_fit(&self, item: &[u64]) -> Option<usize> {
        if self.n == 0 {
            return None;
        }
        self.descend(1, item)
    }

    /// The largest residual in dimension `k` over active bins, and the lowest-index bin
    /// holding it; `None` when no bin is active.
    ///
    /// # Complexity
    /// O(log n).
    pub fn max_residual(&self, k: usize) -> Option<(i128, usize)> {
        if self.active_count() == 0 {
            return None;
        }
        let mut node = 1;
        let max = self.tree[self.d + k];
        while node < self.leaves {
            node = if self.tree[2 * node * self.d + k] == max {
                2 * node
            } else {
                2 * node + 1
            };
        }
        Some((max, node - self.leaves))
    }

    /// Number of active bins that can take something (none of their residuals negative).
    pub fn active_count(&self) -> usize {
        self.by_slack.len()
    }

    fn descend(&self, node: usize, item: &[u64]) -> Option<usize> {
        let max = &self.tree[node * self.d..(node + 1) * self.d];
        if !max.iter().zip(item).all(|(m, x)| *m >= i128::from(*x)) {
            return None;
        }
        if node >= self.leaves {
            let b = node - self.leaves;
            return (b < self.n && self.fits(b, item)).then_some(b);
        }
        self.descend(2 * node, item)
            .or_else(|| self.descend(2 * node + 1, item))
    }

    /// The active bin that can take `item` with the least normalised residual
    /// (`Σ_d w_d · residual_d`) left, ties to the lower index — when such a bin is among the
    /// [`BEST_FIT_WALK`] bins with the least normalised residual that is at least the item's
    /// size. Past that the walk stops and the first fitting bin by index is taken: in many
    /// dimensions bins with plenty of total room but none in one dimension can sit between an
    /// item and its best bin, and an unbounded walk made large clusters slow.
    ///
    /// # Complexity
    /// O(log n + min(k, 256) · d), plus a first-fit descent when the walk ends, where k bins
    /// with enough total room do not fit in some dimension.
    pub fn best_fit(&self, item: &[u64]) -> Option<usize> {
        // No bin has room in some dimension (the tree's root holds the maxima): no walk.
        if self.n == 0
            || self.tree[self.d..2 * self.d]
                .iter()
                .zip(item)
                .any(|(m, x)| *m < i128::from(*x))
        {
            return None;
        }
        let size = weighted_size(item, &self.weights);
        // Rounding can put a fitting bin's slack a hair below the item's size.
        let from = size - 1e-9 * size.abs().max(1.0);
        let mut walked = 0;
        for (_, b) in self.by_slack.range((OrderedFloat(from), 0)..) {
            if self
                .residual(*b)
                .iter()
                .zip(item)
                .all(|(r, x)| *r >= i128::from(*x))
            {
                return Some(*b);
            }
            walked += 1;
            if walked == BEST_FIT_WALK {
                return self.first_fit(item);
            }
        }
        None
    }

    fn refresh(&mut self, b: usize, active: bool) {
        let d = self.d;
        self.active[b] = active;
        self.by_slack.remove(&(OrderedFloat(self.slack[b]), b));
        // A bin over its limit in some dimension takes nothing: keep it out of the walk.
        if active && self.residual(b).iter().all(|r| *r >= 0) {
            let s: f64 = self
                .residual(b)
                .iter()
                .zip(&self.weights)
                .map(|(r, w)| *r as f64 * w)
                .sum();
            self.slack[b] = s;
            self.by_slack.insert((OrderedFloat(s), b));
        }
        let mut node = self.leaves + b;
        self.tree[node * d..(node + 1) * d].copy_from_slice(&self.residual[b * d..(b + 1) * d]);
        while node > 1 {
            node /= 2;
            for k in 0..d {
                self.tree[node * d + k] =
                    self.tree[2 * node * d + k].max(self.tree[(2 * node + 1) * d + k]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The indexes agree with a linear scan on a pseudo-random workload.
    #[test]
    fn indexes_match_linear_scans() {
        let d = 3;
        let n = 37;
        let weights = vec![1.0 / 100.0; d];
        let mut bins = Bins::new(d, n, weights.clone());
        let mut x: u64 = 12345;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        for b in 0..n {
            if b % 5 != 3 {
                bins.open(b, &[100, 100, 100]);
            }
        }
        for step in 0..2000 {
            let item = [next(40), next(40), next(40)];
            let linear_first = (0..n).find(|&b| bins.fits(b, &item));
            assert_eq!(bins.first_fit(&item), linear_first, "step {step}");
            let linear_best = (0..n).filter(|&b| bins.fits(b, &item)).min_by(|a, b| {
                let s = |b: usize| {
                    bins.residual(b)
                        .iter()
                        .zip(&weights)
                        .map(|(r, w)| *r as f64 * w)
                        .sum::<f64>()
                };
                s(*a).total_cmp(&s(*b)).then(a.cmp(b))
            });
            assert_eq!(bins.best_fit(&item), linear_best, "step {step}");
            match next(4) {
                0 if linear_first.is_some() => bins.take(linear_first.unwrap_or(0), &item),
                1 => {
                    let b = next(n as u64) as usize;
                    if bins.is_active(b) {
                        bins.close(b);
                    } else {
                        bins.open(b, &[100, 60, 100]);
                    }
                }
                _ => {
                    if let Some(b) = linear_best {
                        bins.take(b, &item);
                    }
                }
            }
        }
    }

    #[test]
    fn negative_residual_takes_nothing() {
        let mut bins = Bins::new(2, 2, vec![1.0, 1.0]);
        bins.open(0, &[-5, 10]);
        bins.open(1, &[3, 3]);
        assert_eq!(bins.first_fit(&[0, 1]), Some(1));
        assert_eq!(bins.best_fit(&[0, 1]), Some(1));
        bins.close(1);
        assert_eq!(bins.first_fit(&[0, 0]), None);
        assert_eq!(bins.best_fit(&[0, 0]), None);
    }
}
