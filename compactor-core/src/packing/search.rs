//! A strong packer for identical bins: several constructive rules (run in parallel with
//! rayon, the best kept), then an anytime improvement phase under an explicit work budget that
//! empties one bin after another.
//!
//! The improvement phase is a consistent-neighbourhood search (after Buljubašić and Vasquez,
//! 2016). From a packing with `c` bins it aims at `c − 1`: it keeps `c − 3` bins and takes the
//! items of the three lightest out ("unassigned"); the attempt succeeds as soon as the
//! unassigned items fit into two more bins. Until then it alternates two kinds of moves:
//!
//! - a *tabu move* swaps between one bin and the unassigned items at most two items each
//!   way, choosing the swap that packs the most weight (even when that is less than before)
//!   among those the tabu list allows: an item that just left a bin may not go back, one that
//!   just entered may not leave, for 7–21 moves;
//! - every 20 moves a *descent* refills each bin of a window with the heaviest subset of its
//!   items and the unassigned ones that fits (a bounded depth-first knapsack), when that packs
//!   more.
//!
//! An item's weight is its size in each dimension relative to the capacity, the dimensions
//! weighted by the square of their share of the total demand (scarce dimensions count more).
//! A failed attempt restarts from the best packing with other light bins taken out and twice
//! the moves. The search stops at the lower bound, at the move budget or at the work limit,
//! and is deterministic for a given seed and budget: it counts work instead of reading a
//! clock.

use rayon::prelude::*;

use super::{Packing, StrategyKind, fits, pack, validate_items, weighted_size, weights_for};
use crate::bounds::martello_toth_l2;
use crate::error::CoreError;
use crate::rng::Rng;

/// Options of [`pack_search`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchOptions {
    /// Seed of the search's random choices.
    pub seed: u64,
    /// Improvement moves allowed (0: constructive rules only).
    pub budget: u64,
    /// Work allowed to the improvement phase, in elementary steps (dimension comparisons of
    /// fit tests, candidate sets built and sorted, knapsack nodes): a deterministic stand-in
    /// for a time budget (2.2 · 10⁸ or more per second on the project machine).
    pub work_limit: u64,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            budget: 1_000_000,
            work_limit: DEFAULT_WORK_LIMIT,
        }
    }
}

/// The result of [`pack_search`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SearchResult {
    /// The best packing found.
    pub packing: Packing,
    /// The lower bound used to stop early (Martello–Toth L2 per dimension).
    pub lower_bound: usize,
    /// Improvement moves spent.
    pub moves: u64,
    /// Work spent (see [`SearchOptions::work_limit`]).
    pub work: u64,
    /// The constructive rule whose packing the search started from.
    pub start_rule: &'static str,
}

/// Packs `items` into identical bins of `capacity` as tightly as it can within the budget.
///
/// # Examples
/// ```
/// use compactor_core::packing::{pack_search, SearchOptions};
/// // Pairs that must be matched across sizes: 2 bins are optimal.
/// let items = vec![vec![6, 4], vec![4, 6], vec![5, 5], vec![5, 5]];
/// let r = pack_search(&items, &[10, 10], SearchOptions::default()).unwrap();
/// assert_eq!(r.packing.bins, 2);
/// assert_eq!(r.lower_bound, 2);
/// ```
///
/// # Errors
/// [`CoreError::DimensionMismatch`], [`CoreError::ItemTooLarge`] as [`pack`].
///
/// # Complexity
/// Constructive rules O(n² · d); each improvement move O(w · k² · u² · d) for a window of
/// w ≤ 64 bins of at most k items and u unassigned items (pairs among the heaviest 24 only),
/// each descent O(w · 256 · d).
pub fn pack_search(
    items: &[Vec<u64>],
    capacity: &[u64],
    options: SearchOptions,
) -> Result<SearchResult, CoreError> {
    validate_items(items, capacity)?;
    let lower_bound = martello_toth_l2(items, capacity);
    let rules: Vec<Rule> = vec![
        Rule::Greedy(StrategyKind::FirstFit, Order::Sum),
        Rule::Greedy(StrategyKind::BestFit, Order::Sum),
        Rule::Greedy(StrategyKind::FirstFit, Order::Max),
        Rule::Greedy(StrategyKind::BestFit, Order::Max),
        Rule::DotProduct,
    ];
    let results: Vec<Result<Vec<usize>, CoreError>> =
        rules.par_iter().map(|r| r.run(items, capacity)).collect();
    let mut best: Option<(usize, Vec<usize>, &'static str)> = None;
    for (rule, result) in rules.iter().zip(results) {
        let assignment = result?;
        let bins = count_bins(&assignment);
        if best.as_ref().is_none_or(|(b, _, _)| bins < *b) {
            best = Some((bins, assignment, rule.name()));
        }
    }
    let Some((bins, assignment, start_rule)) = best else {
        return Ok(SearchResult {
            packing: Packing {
                assignment: Vec::new(),
                bins: 0,
            },
            lower_bound,
            moves: 0,
            work: 0,
            start_rule: "none",
        });
    };
    let mut members = vec![Vec::new(); bins];
    for (i, &b) in assignment.iter().enumerate() {
        members[b].push(i);
    }
    let views: Vec<&[u64]> = items.iter().map(Vec::as_slice).collect();
    let mut search = Search::new(
        views,
        vec![capacity.to_vec(); bins],
        members,
        Vec::new(),
        &weights_for(capacity),
        options.seed,
        options.work_limit,
    );
    let moves = search.improve(lower_bound, options.budget);
    let packing = search.best_packing();
    Ok(SearchResult {
        packing,
        lower_bound,
        moves,
        work: search.work.get(),
        start_rule,
    })
}

fn count_bins(assignment: &[usize]) -> usize {
    assignment.iter().max().map_or(0, |m| m + 1)
}

#[derive(Debug, Clone, Copy)]
enum Order {
    /// Decreasing sum of normalised sizes.
    Sum,
    /// Decreasing largest normalised size.
    Max,
}

#[derive(Debug, Clone, Copy)]
enum Rule {
    Greedy(StrategyKind, Order),
    DotProduct,
}

impl Rule {
    fn name(self) -> &'static str {
        match self {
            Rule::Greedy(StrategyKind::FirstFit, Order::Sum) => "ffd-sum",
            Rule::Greedy(_, Order::Sum) => "bfd-sum",
            Rule::Greedy(StrategyKind::FirstFit, Order::Max) => "ffd-max",
            Rule::Greedy(_, Order::Max) => "bfd-max",
            Rule::DotProduct => "dot-product",
        }
    }

    fn run(self, items: &[Vec<u64>], capacity: &[u64]) -> Result<Vec<usize>, CoreError> {
        match self {
            Rule::Greedy(kind, Order::Sum) => Ok(pack(items, capacity, kind)?.assignment),
            Rule::Greedy(kind, Order::Max) => {
                // Re-weight so that decreasing "sum" order becomes decreasing max order:
                // pack a permuted copy whose first dimension is the max.
                let w = weights_for(capacity);
                let mut order: Vec<usize> = (0..items.len()).collect();
                let key = |i: usize| {
                    items[i]
                        .iter()
                        .zip(&w)
                        .map(|(x, w)| *x as f64 * w)
                        .fold(0.0, f64::max)
                };
                order.sort_by(|a, b| key(*b).total_cmp(&key(*a)).then(a.cmp(b)));
                Ok(greedy_in_order(items, capacity, &order, kind))
            }
            Rule::DotProduct => Ok(dot_product(items, capacity)),
        }
    }
}

/// Item-centric greedy in a given order with first or best fit.
fn greedy_in_order(
    items: &[Vec<u64>],
    capacity: &[u64],
    order: &[usize],
    kind: StrategyKind,
) -> Vec<usize> {
    let full: Vec<i128> = capacity.iter().map(|c| i128::from(*c)).collect();
    let mut bins = super::Bins::new(capacity.len(), items.len(), weights_for(capacity));
    let mut opened = 0;
    let mut assignment = vec![0; items.len()];
    for &i in order {
        let b = match kind.strategy().select(&bins, &items[i]) {
            Some(b) => b,
            None => {
                bins.open(opened, &full);
                opened += 1;
                opened - 1
            }
        };
        bins.take(b, &items[i]);
        assignment[i] = b;
    }
    assignment
}

/// Bin-centric dot product with dynamic average weights: fill one bin at a time, always
/// adding the fitting item with the largest `Σ_d a_d · (item_d / C_d) · (residual_d / C_d)`,
/// where `a_d` is the remaining items' average demand in dimension d.
fn dot_product(items: &[Vec<u64>], capacity: &[u64]) -> Vec<usize> {
    let d = capacity.len();
    let n = items.len();
    let cap: Vec<f64> = capacity.iter().map(|c| *c as f64).collect();
    let mut remaining: Vec<usize> = (0..n).collect();
    let mut assignment = vec![0; n];
    let mut bin = 0;
    while !remaining.is_empty() {
        let mut a = vec![0.0; d];
        for &i in &remaining {
            for k in 0..d {
                a[k] += items[i][k] as f64 / cap[k];
            }
        }
        for v in &mut a {
            *v /= remaining.len() as f64;
        }
        let mut residual: Vec<u64> = capacity.to_vec();
        loop {
            let mut best: Option<(f64, usize)> = None;
            for (pos, &i) in remaining.iter().enumerate() {
                if !items[i].iter().zip(&residual).all(|(x, r)| x <= r) {
                    continue;
                }
                let score: f64 = (0..d)
                    .map(|k| a[k] * (items[i][k] as f64 / cap[k]) * (residual[k] as f64 / cap[k]))
                    .sum();
                if best.is_none_or(|(s, _)| score > s) {
                    best = Some((score, pos));
                }
            }
            let Some((_, pos)) = best else { break };
            let i = remaining.swap_remove(pos);
            for (r, x) in residual.iter_mut().zip(&items[i]) {
                *r -= x;
            }
            assignment[i] = bin;
        }
        bin += 1;
    }
    assignment
}

/// Default [`SearchOptions::work_limit`]: about 0.55 s at most on the project machine (2.2 · 10⁸
/// units per second or more, measured over the published instance classes of 20 to 500 items),
/// which leaves room for a noisy virtual machine under the 1 s goal.
pub const DEFAULT_WORK_LIMIT: u64 = 120_000_000;

/// Moves of the first attempt at emptying a bin; each failed attempt restarts from the best
/// packing with other light bins emptied and twice the moves.
const ATTEMPT_MOVES: u64 = 20_000;

/// Bins a move looks at: a random window of this many (all of them when there are fewer).
const WINDOW: usize = 64;

/// Spare bins of an attempt: aiming at `c − 1` bins it keeps `c − 3` and succeeds as soon as
/// the unassigned items fit into two more, which leaves the search far more room than asking
/// for them to be placed.
const SPARE: usize = 2;

/// Search-tree nodes allowed to the test that the unassigned items fit the spare bins.
const SPARE_NODES: u64 = 2_000;

/// Search-tree nodes per bin of the descent's knapsack.
const DESCENT_NODES: u64 = 256;

/// Moves between two descents.
const DESCENT_EVERY: u64 = 20;

/// Unassigned items a move considers in pairs: the heaviest this many.
const PAIRED: usize = 24;

/// At most two items, with their total weight: what a move takes out of a bin or puts in.
#[derive(Debug, Clone, Copy)]
struct Few {
    weight: f64,
    items: [usize; 2],
    len: usize,
}

impl Few {
    const NONE: Few = Few {
        weight: 0.0,
        items: [0; 2],
        len: 0,
    };

    fn items(&self) -> &[usize] {
        &self.items[..self.len]
    }
}

/// The improvement phase's state: bins holding items within capacity, the unassigned items,
/// and the tabu list.
struct Search<'a> {
    items: Vec<&'a [u64]>,
    /// Capacity of each bin.
    capacity: Vec<Vec<u64>>,
    d: usize,
    weight: Vec<f64>,
    /// Items of each bin.
    bins: Vec<Vec<usize>>,
    load: Vec<Vec<u64>>,
    unassigned: Vec<usize>,
    /// Per-dimension total of the unassigned items.
    pending: Vec<u64>,
    /// Bins of `spare_capacity` the unassigned items may fill when the attempt ends (0: every
    /// item must be placed in `bins`).
    spare: usize,
    spare_capacity: Vec<u64>,
    /// `tabu[item]`: the bin it may not leave (or enter) and until which move.
    tabu: Vec<(usize, u64)>,
    best: Vec<Vec<usize>>,
    rng: Rng,
    /// Elementary steps (dimension comparisons, candidate sets built) so far, and the most
    /// allowed.
    work: std::cell::Cell<u64>,
    work_limit: u64,
    scratch: Scratch,
}

impl<'a> Search<'a> {
    /// `members[b]` are the items in bin `b`; `unassigned` the items in none.
    fn new(
        items: Vec<&'a [u64]>,
        capacity: Vec<Vec<u64>>,
        members: Vec<Vec<usize>>,
        unassigned: Vec<usize>,
        weights: &[f64],
        seed: u64,
        work_limit: u64,
    ) -> Self {
        let d = weights.len();
        // Scarce dimensions count more: each weighted by its total demand.
        let mut scarcity: Vec<f64> = weights.to_vec();
        let total: Vec<f64> = (0..d)
            .map(|k| items.iter().map(|i| i[k] as f64 * weights[k]).sum::<f64>())
            .collect();
        let mean = total.iter().sum::<f64>() / d.max(1) as f64;
        for (w, t) in scarcity.iter_mut().zip(&total) {
            if mean > 0.0 {
                *w *= (t / mean).powi(2);
            }
        }
        let weight: Vec<f64> = items.iter().map(|i| weighted_size(i, &scarcity)).collect();
        let n = items.len();
        let mut search = Self {
            items,
            capacity,
            d,
            weight,
            best: members.clone(),
            bins: members,
            load: Vec::new(),
            unassigned,
            pending: Vec::new(),
            spare: 0,
            spare_capacity: Vec::new(),
            tabu: vec![(usize::MAX, 0); n],
            rng: Rng::new(seed),
            work: std::cell::Cell::new(0),
            work_limit,
            scratch: Scratch::default(),
        };
        search.load = search.bins.iter().map(|m| search.sum(m)).collect();
        search.pending = search.sum(&search.unassigned);
        search
    }

    fn best_packing(&self) -> Packing {
        let mut assignment = vec![0; self.items.len()];
        for (b, members) in self.best.iter().enumerate() {
            for &i in members {
                assignment[i] = b;
            }
        }
        Packing {
            assignment,
            bins: self.best.len(),
        }
    }

    fn spend(&self, work: u64) {
        self.work.set(self.work.get() + work);
    }

    fn out_of_work(&self) -> bool {
        self.work.get() >= self.work_limit
    }

    /// Empties one bin after another while the budget lasts (identical bins); returns the
    /// moves spent.
    fn improve(&mut self, lower_bound: usize, budget: u64) -> u64 {
        let Some(capacity) = self.capacity.first().cloned() else {
            return 0;
        };
        let mut moves = 0;
        let mut failed = 0u32;
        while self.best.len() > lower_bound.max(1) && moves < budget && !self.out_of_work() {
            // Aim at one bin fewer than the best: keep all but `spare + 1` bins (the lightest
            // ones; after a failed attempt, random ones among the lightest few).
            let count = self.best.len();
            let spare = SPARE.min(count - 1);
            self.bins = self.best.clone();
            let mut order: Vec<usize> = (0..count).collect();
            order.sort_by(|a, b| {
                self.bin_weight(*a)
                    .total_cmp(&self.bin_weight(*b))
                    .then(a.cmp(b))
            });
            let pool = (spare + 1 + failed as usize).min(count);
            let mut pool: Vec<usize> = order[..pool].to_vec();
            for k in 0..=spare {
                let pick = k + self.rng.below((pool.len() - k) as u64) as usize;
                pool.swap(k, pick);
            }
            let mut dropped = pool[..=spare].to_vec();
            dropped.sort_unstable_by(|a, b| b.cmp(a));
            self.unassigned.clear();
            for b in dropped {
                let members = self.bins.swap_remove(b);
                self.unassigned.extend(members);
            }
            self.capacity = vec![capacity.clone(); self.bins.len()];
            self.load = self.bins.iter().map(|m| self.sum(m)).collect();
            self.pending = self.sum(&self.unassigned);
            self.spare = spare;
            self.spare_capacity.clone_from(&capacity);
            self.tabu.iter_mut().for_each(|t| *t = (usize::MAX, 0));
            let attempt = ATTEMPT_MOVES.saturating_mul(2u64.saturating_pow(failed));
            let limit = budget.min(moves.saturating_add(attempt));
            if let Some(extra) = self.settle(&mut moves, limit) {
                let mut bins = std::mem::take(&mut self.bins);
                bins.extend(extra);
                self.best = self.without_empty_bins(bins);
                failed = 0;
            } else {
                failed += 1;
            }
        }
        moves
    }

    /// Drops bins that hold nothing of any size: their items (sized zero in every dimension)
    /// join the first bin that holds something (or stay together when none does).
    fn without_empty_bins(&self, bins: Vec<Vec<usize>>) -> Vec<Vec<usize>> {
        let (mut kept, empty): (Vec<Vec<usize>>, Vec<Vec<usize>>) = bins
            .into_iter()
            .partition(|b| b.iter().any(|i| self.items[*i].iter().any(|x| *x > 0)));
        let zero: Vec<usize> = empty.into_iter().flatten().collect();
        match kept.first_mut() {
            Some(first) => first.extend(zero),
            None if !zero.is_empty() => kept.push(zero),
            None => {}
        }
        kept
    }

    /// Moves until the unassigned items fit the spare bins (returns their packing there) or
    /// the budget is spent (`None`).
    fn settle(&mut self, moves: &mut u64, budget: u64) -> Option<Vec<Vec<usize>>> {
        loop {
            if let Some(extra) = self.spare_fit() {
                return Some(extra);
            }
            if *moves >= budget || self.out_of_work() {
                return None;
            }
            *moves += 1;
            self.step(*moves);
            if moves.is_multiple_of(DESCENT_EVERY) {
                self.descent();
            }
        }
    }

    /// A packing of the unassigned items into the spare bins, if a bounded search finds one.
    fn spare_fit(&self) -> Option<Vec<Vec<usize>>> {
        if self.unassigned.is_empty() {
            return Some(Vec::new());
        }
        self.spend(self.d as u64);
        if self.spare == 0
            || self
                .pending
                .iter()
                .zip(&self.spare_capacity)
                .any(|(p, c)| *p > c.saturating_mul(self.spare as u64))
        {
            return None;
        }
        let mut order = self.unassigned.clone();
        order.sort_by(|a, b| self.weight[*b].total_cmp(&self.weight[*a]).then(a.cmp(b)));
        let mut loads = vec![vec![0u64; self.d]; self.spare];
        let mut at = vec![0usize; order.len()];
        let mut nodes = 0;
        if !self.place_spare(&order, 0, &mut loads, &mut at, &mut nodes) {
            return None;
        }
        let mut extra = vec![Vec::new(); self.spare];
        for (i, b) in order.iter().zip(at) {
            extra[b].push(*i);
        }
        Some(extra)
    }

    /// Depth-first: places `order[k..]` into the spare bins of `loads`, an item only into a
    /// bin used so far or the first empty one (the bins are identical).
    fn place_spare(
        &self,
        order: &[usize],
        k: usize,
        loads: &mut [Vec<u64>],
        at: &mut [usize],
        nodes: &mut u64,
    ) -> bool {
        let Some(&i) = order.get(k) else {
            return true;
        };
        *nodes += 1;
        if *nodes > SPARE_NODES {
            return false;
        }
        self.spend(self.d as u64);
        for b in 0..loads.len() {
            let fits = loads[b]
                .iter()
                .zip(self.items[i])
                .zip(&self.spare_capacity)
                .all(|((l, x), c)| l + x <= *c);
            if fits {
                add(&mut loads[b], self.items[i]);
                at[k] = b;
                if self.place_spare(order, k + 1, loads, at, nodes) {
                    return true;
                }
                sub(&mut loads[b], self.items[i]);
            }
            if loads[b].iter().all(|l| *l == 0) {
                break;
            }
        }
        false
    }

    fn sum(&self, members: &[usize]) -> Vec<u64> {
        let mut s = vec![0u64; self.d];
        for &i in members {
            add(&mut s, self.items[i]);
        }
        s
    }

    fn bin_weight(&self, b: usize) -> f64 {
        self.bins[b].iter().map(|i| self.weight[*i]).sum()
    }

    fn is_tabu(&self, item: usize, bin: usize, now: u64) -> bool {
        self.tabu[item].0 == bin && self.tabu[item].1 > now
    }

    /// One tabu move: the swap between one bin and the unassigned items — at most two items
    /// out, one or two in — that packs the most weight, among the moves the tabu list allows.
    fn step(&mut self, now: u64) {
        let d = self.d;
        let mut sc = std::mem::take(&mut self.scratch);
        // Sets that may go in, heaviest first, with their sizes (`ins_size[k·d..]`); pairs
        // only among the heaviest `PAIRED` (a drained node may hold hundreds of pods).
        sc.heavy.clone_from(&self.unassigned);
        self.by_weight(&mut sc.heavy);
        self.sets(&sc.heavy, PAIRED, &mut sc.ins);
        sc.ins.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        sc.ins_size.clear();
        sc.ins_size.resize(sc.ins.len() * d, 0);
        for (set, size) in sc.ins.iter().zip(sc.ins_size.chunks_exact_mut(d)) {
            for &i in set.items() {
                add(size, self.items[i]);
            }
        }
        self.spend((sc.heavy.len() * 4 + sc.ins.len() * (d + 4)) as u64);
        let count = self.bins.len();
        let start = self.rng.below(count.max(1) as u64) as usize;
        let mut best: Option<(f64, usize, Few, Few)> = None;
        sc.widest.resize(d, 0);
        for k in 0..count.min(WINDOW) {
            let b = (start + k) % count;
            // Sets that may come out, lightest first, with the room left once they are out.
            sc.movable.clear();
            sc.movable.extend(
                self.bins[b]
                    .iter()
                    .copied()
                    .filter(|i| !self.is_tabu(*i, b, now)),
            );
            self.sets(&sc.movable, usize::MAX, &mut sc.outs);
            sc.outs.push(Few::NONE);
            sc.outs.sort_by(|a, b| a.weight.total_cmp(&b.weight));
            sc.rooms.clear();
            sc.widest.fill(0);
            for set in &sc.outs {
                let at = sc.rooms.len();
                sc.rooms.extend(
                    self.capacity[b]
                        .iter()
                        .zip(&self.load[b])
                        .map(|(c, l)| c - l),
                );
                let room = &mut sc.rooms[at..];
                for &i in set.items() {
                    add(room, self.items[i]);
                }
                for (w, r) in sc.widest.iter_mut().zip(room.iter()) {
                    *w = (*w).max(*r);
                }
            }
            let mut floor = best.as_ref().map_or(f64::NEG_INFINITY, |m| m.0);
            let mut tests = 0u64;
            for (inn, size) in sc.ins.iter().zip(sc.ins_size.chunks_exact(d)) {
                if inn.weight <= floor {
                    break;
                }
                tests += 1;
                if !fits(size, &sc.widest) || inn.items().iter().any(|i| self.is_tabu(*i, b, now)) {
                    continue;
                }
                for (out, room) in sc.outs.iter().zip(sc.rooms.chunks_exact(d)) {
                    let gain = inn.weight - out.weight;
                    if gain <= floor {
                        break;
                    }
                    tests += 1;
                    if fits(size, room) {
                        best = Some((gain, b, *out, *inn));
                        floor = gain;
                        break;
                    }
                }
            }
            self.spend(8 + (self.bins[b].len() + sc.outs.len() * (d + 4)) as u64 + tests * 3);
        }
        self.scratch = sc;
        let Some((_, b, out, inn)) = best else {
            return;
        };
        // Tenure 7–21 moves: shorter (3–10) let the search cycle on small instances.
        let tenure = 7 + self.rng.below(15);
        for &o in out.items() {
            let pos = self.bins[b].iter().position(|x| *x == o).unwrap_or(0);
            self.bins[b].swap_remove(pos);
            sub(&mut self.load[b], self.items[o]);
            self.tabu[o] = (b, now + tenure);
        }
        for &i in inn.items() {
            let pos = self.unassigned.iter().position(|x| *x == i).unwrap_or(0);
            self.unassigned.swap_remove(pos);
            sub(&mut self.pending, self.items[i]);
            self.bins[b].push(i);
            add(&mut self.load[b], self.items[i]);
            self.tabu[i] = (b, now + tenure);
        }
        for &o in out.items() {
            self.unassigned.push(o);
            add(&mut self.pending, self.items[o]);
        }
    }

    /// Sorts `items` heaviest first (ties by index).
    fn by_weight(&self, items: &mut [usize]) {
        items.sort_by(|a, b| self.weight[*b].total_cmp(&self.weight[*a]).then(a.cmp(b)));
    }

    /// Replaces `out` with every single item of `items` and every pair among its first
    /// `paired`.
    fn sets(&self, items: &[usize], paired: usize, out: &mut Vec<Few>) {
        out.clear();
        let paired = items.len().min(paired);
        for (x, &i) in items.iter().enumerate() {
            out.push(Few {
                weight: self.weight[i],
                items: [i, 0],
                len: 1,
            });
            for &j in items.get(x + 1..paired).unwrap_or_default() {
                out.push(Few {
                    weight: self.weight[i] + self.weight[j],
                    items: [i, j],
                    len: 2,
                });
            }
        }
    }

    /// Hill climbing with unlimited add/drop moves: refills bins of a window, one at a time,
    /// with the heaviest subset of their items and the unassigned ones that fits (a
    /// depth-first knapsack with a node limit), when that packs more weight. Ignores the
    /// tabu list: it makes only improving moves.
    fn descent(&mut self) {
        let count = self.bins.len();
        let start = self.rng.below(count.max(1) as u64) as usize;
        let mut sc = std::mem::take(&mut self.scratch);
        for k in 0..count.min(WINDOW) {
            let b = (start + k) % count;
            sc.heavy.clear();
            sc.heavy.extend(self.bins[b].iter().chain(&self.unassigned));
            self.by_weight(&mut sc.heavy);
            sc.rest.clear();
            sc.rest.resize(sc.heavy.len() + 1, 0.0);
            for x in (0..sc.heavy.len()).rev() {
                sc.rest[x] = sc.rest[x + 1] + self.weight[sc.heavy[x]];
            }
            let mut fill = Fill {
                candidates: &sc.heavy,
                rest: &sc.rest,
                load: vec![0; self.d],
                taken: Vec::new(),
                best: self.bin_weight(b) + 1e-9,
                chosen: None,
                nodes: 0,
            };
            self.fill(b, &mut fill, 0, 0.0);
            self.spend(8 + sc.heavy.len() as u64 * 6 + fill.nodes * (self.d as u64 + 4));
            let Some(chosen) = fill.chosen else {
                continue;
            };
            let old = std::mem::take(&mut self.bins[b]);
            for &i in &old {
                sub(&mut self.load[b], self.items[i]);
            }
            self.unassigned.extend(old);
            self.unassigned.retain(|i| !chosen.contains(i));
            for &i in &chosen {
                add(&mut self.load[b], self.items[i]);
            }
            self.pending = self.sum(&self.unassigned);
            self.bins[b] = chosen;
        }
        self.scratch = sc;
    }

    /// Depth-first over `fill.candidates[k..]`: records in `fill` a heavier subset that fits
    /// bin `b` than any found so far.
    fn fill(&self, b: usize, fill: &mut Fill<'_>, k: usize, weight: f64) {
        if weight > fill.best {
            fill.best = weight;
            fill.chosen = Some(fill.taken.clone());
        }
        if k == fill.candidates.len()
            || weight + fill.rest[k] <= fill.best
            || fill.nodes >= DESCENT_NODES
        {
            return;
        }
        fill.nodes += 1;
        let i = fill.candidates[k];
        if fill
            .load
            .iter()
            .zip(self.items[i])
            .zip(&self.capacity[b])
            .all(|((l, x), c)| l + x <= *c)
        {
            add(&mut fill.load, self.items[i]);
            fill.taken.push(i);
            self.fill(b, fill, k + 1, weight + self.weight[i]);
            fill.taken.pop();
            sub(&mut fill.load, self.items[i]);
        }
        self.fill(b, fill, k + 1, weight);
    }
}

/// Buffers reused by every move (a move would otherwise allocate a few per bin).
#[derive(Debug, Default)]
struct Scratch {
    heavy: Vec<usize>,
    ins: Vec<Few>,
    ins_size: Vec<u64>,
    movable: Vec<usize>,
    outs: Vec<Few>,
    rooms: Vec<u64>,
    widest: Vec<u64>,
    rest: Vec<f64>,
}

/// The state of [`Search::fill`].
struct Fill<'c> {
    /// Items that may go into the bin, heaviest first.
    candidates: &'c [usize],
    /// `rest[k]`: total weight of `candidates[k..]`.
    rest: &'c [f64],
    load: Vec<u64>,
    taken: Vec<usize>,
    /// The heaviest weight found (starts just above the bin's current weight).
    best: f64,
    chosen: Option<Vec<usize>>,
    nodes: u64,
}

fn add(total: &mut [u64], v: &[u64]) {
    for (t, x) in total.iter_mut().zip(v) {
        *t += x;
    }
}

fn sub(total: &mut [u64], v: &[u64]) {
    for (t, x) in total.iter_mut().zip(v) {
        *t -= x;
    }
}

/// Repairs a partial assignment of `items` to bins of different `capacity`: places every
/// item of `unassigned` (moving already placed items where needed) with the same moves as the
/// improvement phase, within `budget` moves. Returns each item's bin, or `None` when the
/// budget ran out first. Used by the planner to empty one more node.
///
/// # Complexity
/// O(budget · w · k² · u² · d) as [`pack_search`]'s moves: a window of w ≤ 64 bins of at
/// most k items, u unassigned items (pairs among the heaviest 24).
pub(crate) fn repair(
    items: Vec<&[u64]>,
    capacity: Vec<Vec<u64>>,
    members: Vec<Vec<usize>>,
    unassigned: Vec<usize>,
    weights: &[f64],
    seed: u64,
    budget: u64,
) -> Option<Vec<usize>> {
    let n = items.len();
    let mut search = Search::new(
        items,
        capacity,
        members,
        unassigned,
        weights,
        seed,
        u64::MAX,
    );
    let mut moves = 0;
    search.settle(&mut moves, budget)?;
    let mut out = vec![0; n];
    for (b, members) in search.bins.iter().enumerate() {
        for &i in members {
            out[i] = b;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(items: &[Vec<u64>], capacity: &[u64], p: &Packing) -> bool {
        let mut load = vec![vec![0u64; capacity.len()]; p.bins];
        for (item, b) in items.iter().zip(&p.assignment) {
            for (l, x) in load[*b].iter_mut().zip(item) {
                *l += x;
            }
        }
        load.iter()
            .all(|l| l.iter().zip(capacity).all(|(x, c)| x <= c))
    }

    #[test]
    fn beats_first_fit_on_a_trap() {
        // Sum 298 into bins of 100: three bins suffice (53 + 47, 42 + 29 + 28, 31 + 31 + 21 + 16),
        // but first-fit decreasing needs four.
        let sizes = [31, 21, 31, 47, 28, 53, 42, 16, 29];
        let items: Vec<Vec<u64>> = sizes.iter().map(|s| vec![*s]).collect();
        assert_eq!(
            pack(&items, &[100], StrategyKind::FirstFit).unwrap().bins,
            4
        );
        let r = pack_search(&items, &[100], SearchOptions::default()).unwrap();
        assert!(valid(&items, &[100], &r.packing));
        assert_eq!(r.packing.bins, 3);
        assert_eq!(r.lower_bound, 3);
    }

    #[test]
    fn zero_sized_items_open_no_bin() {
        // The trap above plus items of size zero: still three bins, none holding only zeros.
        let sizes = [31, 0, 21, 31, 47, 0, 28, 53, 42, 16, 29, 0];
        let items = one_dimensional(&sizes);
        for seed in 0..20 {
            let options = SearchOptions {
                seed,
                ..SearchOptions::default()
            };
            let r = pack_search(&items, &[100], options).unwrap();
            assert!(valid(&items, &[100], &r.packing));
            assert_eq!(r.packing.bins, 3);
            let mut load = vec![0; 3];
            for (item, b) in items.iter().zip(&r.packing.assignment) {
                load[*b] += item[0];
            }
            assert!(load.iter().all(|l| *l > 0), "seed {seed}: {load:?}");
        }
    }

    #[test]
    fn deterministic_for_seed_and_budget() {
        let mut rng = Rng::new(3);
        let items: Vec<Vec<u64>> = (0..120)
            .map(|_| (0..3).map(|_| 50 + rng.below(300)).collect())
            .collect();
        let run = || {
            pack_search(
                &items,
                &[1000; 3],
                SearchOptions {
                    seed: 9,
                    budget: 3000,
                    ..SearchOptions::default()
                },
            )
            .unwrap()
        };
        let a = run();
        assert_eq!(a, run());
        assert!(valid(&items, &[1000; 3], &a.packing));
        let greedy = pack(&items, &[1000; 3], StrategyKind::BestFit).unwrap();
        assert!(a.packing.bins <= greedy.bins);
        assert!(a.packing.bins >= a.lower_bound);
    }

    fn one_dimensional(sizes: &[u64]) -> Vec<Vec<u64>> {
        sizes.iter().map(|s| vec![*s]).collect()
    }

    #[test]
    fn spare_bins_take_a_split_greedy_misses() {
        // 4 4 3 3 3 3 into two bins of 10: first fit decreasing strands a 3, the depth-first
        // test finds 4 3 3 | 4 3 3.
        let items = one_dimensional(&[4, 4, 3, 3, 3, 3]);
        let views: Vec<&[u64]> = items.iter().map(Vec::as_slice).collect();
        let mut search = Search::new(views, vec![], vec![], (0..6).collect(), &[0.1], 1, u64::MAX);
        search.spare = 2;
        search.spare_capacity = vec![10];
        let extra = search.spare_fit().expect("two bins suffice");
        assert_eq!(extra.len(), 2);
        for bin in &extra {
            assert_eq!(
                bin.iter().map(|i| items[*i][0]).sum::<u64>(),
                10,
                "{extra:?}"
            );
        }
        // One spare bin cannot take 20.
        search.spare = 1;
        assert_eq!(search.spare_fit(), None);
    }

    /// One bin of capacity 10 holding item 0; items 1 and 2 unassigned.
    fn first_in_a_bin_of_ten(items: &[Vec<u64>]) -> Search<'_> {
        let views: Vec<&[u64]> = items.iter().map(Vec::as_slice).collect();
        Search::new(
            views,
            vec![vec![10]],
            vec![vec![0]],
            vec![1, 2],
            &[0.1],
            1,
            u64::MAX,
        )
    }

    #[test]
    fn descent_refills_a_bin_with_heavier_items() {
        // Bin 0 holds 2 of 10; the unassigned 5 and 5 pack more: they go in, the 2 goes out.
        let items = one_dimensional(&[2, 5, 5]);
        let mut search = first_in_a_bin_of_ten(&items);
        search.descent();
        let mut bin = search.bins[0].clone();
        bin.sort_unstable();
        assert_eq!(bin, vec![1, 2]);
        assert_eq!(search.unassigned, vec![0]);
        assert_eq!(search.load[0], vec![10]);
        assert_eq!(search.pending, vec![2]);
    }

    #[test]
    fn a_move_swaps_one_out_for_two_in() {
        // Bin 0 (capacity 10) holds 6; the unassigned 5 and 5 weigh more together: the best
        // move takes the 6 out and both 5s in.
        let items = one_dimensional(&[6, 5, 5]);
        let mut search = first_in_a_bin_of_ten(&items);
        search.step(1);
        let mut bin = search.bins[0].clone();
        bin.sort_unstable();
        assert_eq!(bin, vec![1, 2]);
        assert_eq!(search.unassigned, vec![0]);
        // The 6 may not go straight back: its move is tabu.
        assert!(search.is_tabu(0, 0, 2));
    }

    #[test]
    fn work_limit_bounds_the_search() {
        let mut rng = Rng::new(5);
        let items: Vec<Vec<u64>> = (0..200)
            .map(|_| (0..5).map(|_| 100 + rng.below(300)).collect())
            .collect();
        let opts = SearchOptions {
            seed: 1,
            budget: u64::MAX,
            work_limit: 2_000_000,
        };
        let r = pack_search(&items, &[1000; 5], opts).unwrap();
        assert!(valid(&items, &[1000; 5], &r.packing));
        // The limit is checked between moves: one move's work at most goes past it.
        assert!(
            r.work >= 2_000_000 || r.packing.bins == r.lower_bound,
            "{r:?}"
        );
        assert!(r.work < 2_000_000 + 10_000_000, "{}", r.work);
        assert_eq!(r, pack_search(&items, &[1000; 5], opts).unwrap());
    }
}
