//! Indexed bins: residual capacities with the two indexes the greedy rules query.
//!
//! - a segment tree of per-node maxima of a few monotone *keys* of each bin's residual answers
//!   "the first bin (by index) that can take this item" by descending only into subtrees whose
//!   maxima could fit it;
//! - an ordered set of `(normalised residual, bin)` answers "the fitting bin with the least
//!   normalised residual" by walking up from the item's own size.
//!
//! Both are exact: they return what a linear scan would. An inactive bin (not yet opened, or
//! closed: a node being drained) can take nothing.
//!
//! # Keys
//! A key is a function of a residual vector that never decreases when one of its entries
//! grows, so a bin that fits an item has every key at least the item's key. The tree keeps,
//! per node, the maxima of: each dimension's residual, the weighted sum `Σ w_k · r_k`, for
//! pairs of (weighted) dimensions `min(w_i · r_i, w_j · r_j)`, and with three or more weighted
//! dimensions the minimum of all `w_k · r_k`. A node where some maximum is
//! below the item's key holds no fitting bin and is skipped. The per-dimension maxima alone
//! prune badly in several dimensions: each can come from a different bin, so large subtrees
//! pass the test without holding a bin that fits. The sum and the pair minima need a single
//! bin with room in two (or all) dimensions at once, which cut the nodes a first-fit query
//! visits from about 1,870 to 160 on random three-dimensional items (the bench's 100k).
//!
//! Keys are `f64`: integer-to-float conversion, multiplication by a non-negative weight,
//! addition of non-negative terms and `min` all preserve `≤`, so the test stays a necessary
//! condition despite rounding; a leaf is then checked exactly on its integer residual.

use std::collections::BTreeSet;

use ordered_float::OrderedFloat;

use super::weighted_size;

/// Bins [`Bins::best_fit`] looks at before it settles for the first fitting bin.
pub const BEST_FIT_WALK: usize = 256;

/// Most pair keys the tree keeps (all pairs of up to five weighted dimensions).
const MAX_PAIRS: usize = 10;

/// Key vectors up to this length live on the stack during a query.
const STACK_KEYS: usize = 32;

/// Integers of smaller magnitude convert to `f64` exactly.
const EXACT_F64: f64 = 9_007_199_254_740_992.0;

/// Residual capacities of a set of bins, indexed for first-fit and best-fit queries (see the
/// test `first_and_best_fit_queries` for a worked example).
#[derive(Debug, Clone)]
pub struct Bins {
    d: usize,
    n: usize,
    /// Leaf count of the tree (power of two ≥ n).
    leaves: usize,
    /// Residual per bin and dimension; `-1` everywhere for an inactive bin.
    residual: Vec<i128>,
    /// Keys per tree node: `d` residuals, the weighted sum, one per pair, then maybe the
    /// minimum over all weighted dimensions.
    keys: usize,
    /// Dimension pairs with a `min` key.
    pairs: Vec<(usize, usize)>,
    /// Whether the last key is the minimum over all weighted dimensions (three or more).
    min_all: bool,
    /// Weights of the keys: finite and non-negative (0 where the given weight is not).
    key_weights: Vec<f64>,
    /// Segment tree of key maxima, `2 · leaves` nodes of `keys` values, root at 1. A bin that
    /// can take nothing (inactive, or over its limit somewhere) has every key but its
    /// residuals at `-1`.
    tree: Vec<f64>,
    weights: Vec<f64>,
    by_slack: BTreeSet<(OrderedFloat<f64>, usize)>,
    slack: Vec<f64>,
    active: Vec<bool>,
}

impl Bins {
    /// `n` inactive bins of `d` dimensions; `weights` normalise dimensions for best fit.
    ///
    /// # Complexity
    /// O(n · k) for k ≤ d + 12 keys.
    pub fn new(d: usize, n: usize, weights: Vec<f64>) -> Self {
        let leaves = n.next_power_of_two().max(1);
        let key_weights: Vec<f64> = (0..d)
            .map(|k| match weights.get(k) {
                Some(w) if w.is_finite() && *w > 0.0 => *w,
                _ => 0.0,
            })
            .collect();
        let weighted: Vec<usize> = (0..d).filter(|k| key_weights[*k] > 0.0).collect();
        let mut pairs = Vec::new();
        for (a, i) in weighted.iter().enumerate() {
            for j in &weighted[a + 1..] {
                pairs.push((*i, *j));
            }
        }
        pairs.truncate(MAX_PAIRS);
        let min_all = weighted.len() >= 3;
        let keys = d + 1 + pairs.len() + usize::from(min_all);
        Self {
            d,
            n,
            leaves,
            residual: vec![-1; n * d],
            keys,
            pairs,
            min_all,
            key_weights,
            tree: vec![-1.0; 2 * leaves * keys],
            weights,
            by_slack: BTreeSet::new(),
            slack: vec![0.0; n],
            active: vec![false; n],
        }
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
    /// O(k · log n) for k keys (see the module documentation).
    pub fn open(&mut self, b: usize, residual: &[i128]) {
        self.residual[b * self.d..(b + 1) * self.d].copy_from_slice(residual);
        self.refresh(b, true);
    }

    /// Deactivates bin `b`: it takes nothing until opened again.
    ///
    /// # Complexity
    /// O(k · log n).
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
    /// O(k · log n).
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
    /// O(k · log n).
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
    /// O(k · log n) when the key maxima prune well; O(n · k) in the worst case.
    pub fn first_fit(&self, item: &[u64]) -> Option<usize> {
        if self.n == 0 {
            return None;
        }
        let mut stack = [0.0; STACK_KEYS];
        let mut heap = Vec::new();
        let key = if self.keys <= STACK_KEYS {
            &mut stack[..self.keys]
        } else {
            heap.resize(self.keys, 0.0);
            &mut heap[..]
        };
        self.item_keys(item, key);
        self.descend(item, key)
    }

    /// The largest residual in dimension `k` over active bins, and the lowest-index bin
    /// holding it; `None` when no bin is active.
    ///
    /// # Complexity
    /// O(log n) while residuals are below 2⁵³ in magnitude, O(n) otherwise.
    pub fn max_residual(&self, k: usize) -> Option<(i128, usize)> {
        if self.active_count() == 0 {
            return None;
        }
        let max = self.tree[self.keys + k];
        if max.abs() >= EXACT_F64 {
            // Distinct residuals may share a float: scan the integers.
            let mut best = (self.residual[k], 0);
            for b in 1..self.n {
                let r = self.residual[b * self.d + k];
                if r > best.0 {
                    best = (r, b);
                }
            }
            return Some(best);
        }
        let mut node = 1;
        while node < self.leaves {
            node = if self.tree[2 * node * self.keys + k] == max {
                2 * node
            } else {
                2 * node + 1
            };
        }
        let b = node - self.leaves;
        Some((self.residual[b * self.d + k], b))
    }

    /// Number of active bins that can take something (none of their residuals negative).
    pub fn active_count(&self) -> usize {
        self.by_slack.len()
    }

    /// The keys of `v` (a residual or an item) into `out`; false when `v` has a negative
    /// entry (only the per-dimension keys are then written).
    fn keys_of<T: Copy>(&self, v: &[T], as_f64: impl Fn(T) -> f64, out: &mut [f64]) -> bool {
        let d = self.d;
        let mut nonnegative = true;
        let mut sum = 0.0;
        for (k, x) in v.iter().enumerate() {
            let x = as_f64(*x);
            out[k] = x;
            nonnegative &= x >= 0.0;
            sum += self.key_weights[k] * x;
        }
        if !nonnegative {
            return false;
        }
        let (single, rest) = out.split_at_mut(d);
        rest[0] = sum;
        for (slot, (i, j)) in rest[1..].iter_mut().zip(&self.pairs) {
            *slot = (self.key_weights[*i] * single[*i]).min(self.key_weights[*j] * single[*j]);
        }
        if self.min_all {
            rest[rest.len() - 1] = single
                .iter()
                .zip(&self.key_weights)
                .filter(|(_, w)| **w > 0.0)
                .map(|(x, w)| w * x)
                .fold(f64::INFINITY, f64::min);
        }
        true
    }

    fn item_keys(&self, item: &[u64], out: &mut [f64]) {
        self.keys_of(item, |x| x as f64, out);
    }

    /// Whether tree node `node` may hold a bin that fits an item of keys `key`.
    #[inline]
    fn may_fit(&self, node: usize, key: &[f64]) -> bool {
        // Branch-free: an early exit per key mispredicts on most nodes.
        self.tree[node * self.keys..(node + 1) * self.keys]
            .iter()
            .zip(key)
            .fold(true, |all, (m, x)| all & (m >= x))
    }

    /// The leftmost leaf that fits `item`: a stackless depth-first walk, left child first,
    /// skipping every subtree whose key maxima rule it out.
    fn descend(&self, item: &[u64], key: &[f64]) -> Option<usize> {
        let mut node = 1;
        loop {
            if self.may_fit(node, key) {
                if node < self.leaves {
                    node *= 2;
                    continue;
                }
                let b = node - self.leaves;
                if b < self.n && self.fits(b, item) {
                    return Some(b);
                }
            }
            // Next subtree: climb while a right child, then step to the right sibling.
            while node & 1 == 1 {
                node >>= 1;
            }
            if node == 0 {
                return None;
            }
            node += 1;
        }
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
        if !self.some_bin_may_fit(item) {
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

    /// The active bin that can take `item` with the largest normalised residual
    /// (`Σ_d w_d · residual_d`), ties to the higher index — when such a bin is among the
    /// [`BEST_FIT_WALK`] roomiest bins; past that the first fitting bin by index is taken
    /// (bins with much total room but none in one dimension can head the order).
    ///
    /// # Complexity
    /// O(log n + min(k, 256) · d), plus a first-fit descent when the walk ends, where k of
    /// the roomiest bins do not fit in some dimension.
    pub fn most_room(&self, item: &[u64]) -> Option<usize> {
        if !self.some_bin_may_fit(item) {
            return None;
        }
        for (walked, (_, b)) in self.by_slack.iter().rev().enumerate() {
            if walked == BEST_FIT_WALK {
                return self.first_fit(item);
            }
            if self.fits(*b, item) {
                return Some(*b);
            }
        }
        None
    }

    /// Whether some bin has room for `item` in every dimension (the tree's root holds the
    /// maxima; not necessarily in one bin).
    fn some_bin_may_fit(&self, item: &[u64]) -> bool {
        self.n > 0
            && self.tree[self.keys..self.keys + self.d]
                .iter()
                .zip(item)
                .all(|(m, x)| *m >= *x as f64)
    }

    fn refresh(&mut self, b: usize, active: bool) {
        let (d, keys) = (self.d, self.keys);
        self.active[b] = active;
        self.by_slack.remove(&(OrderedFloat(self.slack[b]), b));
        // A bin over its limit in some dimension takes nothing: keep it out of the walk.
        if active && self.residual(b).iter().all(|r| *r >= 0) {
            let s: f64 = self
                .residual(b)
                .iter()
                .zip(&self.weights)
                .map(|(r, w)| to_f64(*r) * w)
                .sum();
            self.slack[b] = s;
            self.by_slack.insert((OrderedFloat(s), b));
        }
        let mut node = self.leaves + b;
        let mut leaf = [0.0; STACK_KEYS];
        let mut heap = Vec::new();
        let leaf = if keys <= STACK_KEYS {
            &mut leaf[..keys]
        } else {
            heap.resize(keys, 0.0);
            &mut heap[..]
        };
        let residual = &self.residual[b * d..(b + 1) * d];
        let nonnegative = self.keys_of(residual, to_f64, leaf);
        if !(active && nonnegative) {
            // Takes nothing: keep the residuals (for `max_residual`), rule out the rest.
            leaf[d..].fill(-1.0);
        }
        self.tree[node * keys..(node + 1) * keys].copy_from_slice(leaf);
        while node > 1 {
            node /= 2;
            let mut changed = false;
            for k in 0..keys {
                let m = self.tree[2 * node * keys + k].max(self.tree[(2 * node + 1) * keys + k]);
                let slot = &mut self.tree[node * keys + k];
                changed |= *slot != m;
                *slot = m;
            }
            // The ancestors are maxima of unchanged children: nothing more to update.
            if !changed {
                break;
            }
        }
    }
}

/// `r as f64` (the same rounding), without the 128-bit conversion routine when `r` fits 64
/// bits, as residuals do.
#[inline]
fn to_f64(r: i128) -> f64 {
    match i64::try_from(r) {
        Ok(r) => r as f64,
        Err(_) => r as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_and_best_fit_queries() {
        let mut bins = Bins::new(2, 3, vec![0.1, 0.1]);
        bins.open(0, &[10, 10]);
        bins.open(2, &[4, 4]);
        assert_eq!(bins.first_fit(&[3, 3]), Some(0));
        assert_eq!(bins.best_fit(&[3, 3]), Some(2));
        bins.take(2, &[3, 3]);
        assert_eq!(bins.best_fit(&[3, 3]), Some(0));
    }

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

    /// What a linear scan answers for [`Bins::best_fit`]: the bins that can take something,
    /// by (normalised residual, index) from the item's size on; the first of the first
    /// [`BEST_FIT_WALK`] that fits, else the first fitting bin by index.
    fn scan_best_fit(bins: &Bins, weights: &[f64], item: &[u64]) -> Option<usize> {
        let n = bins.n;
        let first = (0..n).find(|&b| bins.fits(b, item));
        first?;
        let size = weighted_size(item, weights);
        let from = size - 1e-9 * size.abs().max(1.0);
        let mut walk: Vec<(OrderedFloat<f64>, usize)> = (0..n)
            .filter(|&b| bins.is_active(b) && bins.residual(b).iter().all(|r| *r >= 0))
            .map(|b| {
                let s: f64 = bins
                    .residual(b)
                    .iter()
                    .zip(weights)
                    .map(|(r, w)| *r as f64 * w)
                    .sum();
                (OrderedFloat(s), b)
            })
            .filter(|(s, _)| *s >= OrderedFloat(from))
            .collect();
        walk.sort();
        for (walked, (_, b)) in walk.iter().enumerate() {
            if walked == BEST_FIT_WALK {
                return first;
            }
            if bins.fits(*b, item) {
                return Some(*b);
            }
        }
        None
    }

    /// What a linear scan answers for [`Bins::max_residual`].
    fn scan_max_residual(bins: &Bins, k: usize) -> Option<(i128, usize)> {
        if bins.active_count() == 0 {
            return None;
        }
        let mut best = (bins.residual(0)[k], 0);
        for b in 1..bins.n {
            if bins.residual(b)[k] > best.0 {
                best = (bins.residual(b)[k], b);
            }
        }
        Some(best)
    }

    /// Every query agrees with a linear scan on random open/take/give-back/close sequences,
    /// over dimensions 1–7 (past the pair-key limit), zero weights, negative residuals and
    /// amounts beyond 2⁵³ (where keys round).
    #[test]
    fn queries_match_linear_scans_on_random_sequences() {
        let mut rng = crate::rng::Rng::new(2024);
        for case in 0..60 {
            let d = 1 + case % 7;
            let n = [1, 2, 5, 37, 300][case % 5];
            let weights: Vec<f64> = (0..d)
                .map(|_| match rng.below(4) {
                    0 => 0.0,
                    1 => 1.0,
                    _ => 1.0 / (1 + rng.below(1000)) as f64,
                })
                .collect();
            let mut bins = Bins::new(d, n, weights.clone());
            let big = case % 4 == 3;
            let amount = |rng: &mut crate::rng::Rng, m: u64| -> u64 {
                if big && rng.chance(30) {
                    (1u64 << 60) + rng.below(1 << 20)
                } else {
                    rng.below(m)
                }
            };
            for step in 0..600 {
                let item: Vec<u64> = (0..d).map(|_| amount(&mut rng, 60)).collect();
                let first = (0..n).find(|&b| bins.fits(b, &item));
                assert_eq!(bins.first_fit(&item), first, "case {case} step {step}");
                let best = scan_best_fit(&bins, &weights, &item);
                assert_eq!(bins.best_fit(&item), best, "case {case} step {step}");
                for k in 0..d {
                    assert_eq!(
                        bins.max_residual(k),
                        scan_max_residual(&bins, k),
                        "case {case} step {step} dim {k}"
                    );
                }
                let b = rng.below(n as u64) as usize;
                match rng.below(6) {
                    0 | 1 => {
                        if let Some(b) = if rng.chance(50) { first } else { best } {
                            bins.take(b, &item);
                        }
                    }
                    2 => {
                        if bins.is_active(b) {
                            bins.give_back(b, &item);
                        }
                    }
                    3 => {
                        let residual: Vec<i128> = (0..d)
                            .map(|_| {
                                i128::from(amount(&mut rng, 200))
                                    - if rng.chance(10) { 50 } else { 0 }
                            })
                            .collect();
                        bins.open(b, &residual);
                    }
                    4 if bins.is_active(b) => bins.close(b),
                    _ => {
                        if !bins.is_active(b) {
                            bins.open(b, &vec![150; d]);
                        }
                    }
                }
            }
        }
    }

    /// Past [`BEST_FIT_WALK`] bins that do not fit, best fit settles for the first fitting
    /// bin, not the tightest one further up.
    #[test]
    fn best_fit_walk_is_bounded() {
        let n = BEST_FIT_WALK + 20;
        let weights = vec![1.0, 1.0];
        let mut bins = Bins::new(2, n, weights.clone());
        // Plenty of total room, none in dimension 0: walked over, never taken.
        for b in 0..n - 2 {
            bins.open(b, &[1, 1000 + b as i128]);
        }
        bins.open(n - 2, &[10, 2_000_000]);
        bins.open(n - 1, &[10, 1_500_000]);
        assert_eq!(bins.best_fit(&[5, 5]), Some(n - 2));
        assert_eq!(scan_best_fit(&bins, &weights, &[5, 5]), Some(n - 2));
        // Within the walk, the tightest fitting bin wins.
        for b in 0..30 {
            bins.close(b);
        }
        assert_eq!(bins.best_fit(&[5, 5]), Some(n - 1));
        assert_eq!(scan_best_fit(&bins, &weights, &[5, 5]), Some(n - 1));
    }

    #[test]
    fn to_f64_rounds_like_a_cast() {
        for r in [
            0,
            1,
            -1,
            1 << 53,
            (1 << 53) + 1,
            (1 << 60) + 3,
            i128::from(i64::MAX),
            i128::from(i64::MIN),
            i128::MAX,
            i128::MIN,
            -(1 << 70) - 1,
        ] {
            assert_eq!(to_f64(r).to_bits(), (r as f64).to_bits(), "{r}");
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
