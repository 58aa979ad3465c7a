//! Packing: for items and a capacity read from the input (or a `.vbp` text), every strategy
//! and the search return a valid packing — each item in one existing bin, no bin over
//! capacity, no empty bin — the search never goes below its lower bound nor above best fit
//! and is deterministic; an item larger than the bin is an error, never a panic.
#![no_main]

use compactor_core::bounds::martello_toth_l2;
use compactor_core::packing::{Instance, Packing, SearchOptions, StrategyKind, pack, pack_search};
use libfuzzer_sys::fuzz_target;

fn assert_valid(items: &[Vec<u64>], capacity: &[u64], p: &Packing) {
    assert_eq!(p.assignment.len(), items.len());
    let mut load = vec![vec![0u64; capacity.len()]; p.bins];
    for (item, b) in items.iter().zip(&p.assignment) {
        assert!(*b < p.bins, "bin {b} of {}", p.bins);
        for (l, x) in load[*b].iter_mut().zip(item) {
            *l += x;
        }
    }
    for l in &load {
        assert!(
            l.iter().zip(capacity).all(|(x, c)| x <= c),
            "over capacity: {l:?}"
        );
    }
    assert!(
        items.iter().all(|i| i.iter().all(|x| *x == 0))
            || load.iter().all(|l| l.iter().any(|x| *x > 0)),
        "empty bin"
    );
}

fn check(items: &[Vec<u64>], capacity: &[u64]) {
    let mut best_fit = None;
    for kind in StrategyKind::ALL {
        let Ok(p) = pack(items, capacity, kind) else {
            // Rejected input: the search must reject it too.
            assert!(pack_search(items, capacity, SearchOptions::default()).is_err());
            return;
        };
        assert_valid(items, capacity, &p);
        if kind == StrategyKind::BestFit {
            best_fit = Some(p.bins);
        }
    }
    let options = SearchOptions {
        seed: 7,
        budget: 200,
        work_limit: 200_000,
    };
    let r = pack_search(items, capacity, options).expect("accepted by pack");
    assert_valid(items, capacity, &r.packing);
    assert_eq!(r.lower_bound, martello_toth_l2(items, capacity));
    assert!(r.packing.bins >= r.lower_bound);
    assert!(r.packing.bins <= best_fit.expect("best fit ran"));
    assert_eq!(r, pack_search(items, capacity, options).expect("again"));
}

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    if head & 0x80 != 0 {
        // A `.vbp` text: parsing never panics, and an accepted instance packs validly.
        if let Ok(text) = std::str::from_utf8(rest)
            && let Ok(instance) = Instance::parse_vbp(text, None)
            && instance.items.len() <= 200
        {
            check(&instance.items, &instance.capacity);
        }
        return;
    }
    let d = 1 + usize::from(head % 4);
    if rest.len() < d {
        return;
    }
    let (caps, sizes) = rest.split_at(d);
    let capacity: Vec<u64> = caps.iter().map(|c| u64::from(*c)).collect();
    let items: Vec<Vec<u64>> = sizes
        .chunks_exact(d)
        .take(120)
        .map(|c| c.iter().map(|x| u64::from(*x)).collect())
        .collect();
    check(&items, &capacity);
});
