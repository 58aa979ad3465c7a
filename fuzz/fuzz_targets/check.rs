//! `check` on hand-edited plans: the input is read as a plan for a fixed generated cluster
//! (the seed corpus holds that cluster's own plans, which libFuzzer mutates). The checker
//! never panics, and its verdict does not depend on when it is asked.
#![no_main]

use compactor_core::Snapshot;
use compactor_core::plan::{Plan, PlanOptions};
use compactor_core::testing::{ClusterShape, generate};
use compactor_core::verify::verify;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(plan) = serde_json::from_slice::<Plan>(data) else {
        return;
    };
    let snap = Snapshot::new(generate(
        11,
        ClusterShape {
            nodes: 8,
            pods_per_node: 3,
            blocking_percent: 10,
            constraints: true,
        },
    ))
    .expect("generated");
    let options = PlanOptions::default()
        .with_strategy(plan.strategy)
        .with_safety(plan.thresholds.level)
        .with_scheduler(plan.scheduler.clone());
    let first = verify(&snap, &plan, &options);
    let again = verify(&snap, &plan, &options);
    assert_eq!(first, again);
});
