//! Planning: for a generated cluster (seed and shape from the input) or a snapshot JSON
//! document (the input itself), every plan passes the independent checker and planning is
//! deterministic. Invalid JSON or snapshots must be rejected with an error, never a panic.
#![no_main]

use compactor_core::Snapshot;
use compactor_core::model::SnapshotSpec;
use compactor_core::packing::StrategyKind;
use compactor_core::plan::{PlanOptions, plan};
use compactor_core::safety::SafetyLevel;
use compactor_core::testing::{ClusterShape, generate};
use compactor_core::verify::verify;
use libfuzzer_sys::fuzz_target;

fn check(spec: SnapshotSpec, options: &PlanOptions) {
    let Ok(snap) = Snapshot::new(spec) else {
        return;
    };
    let Ok(first) = plan(&snap, options) else {
        return;
    };
    let violations = verify(&snap, &first, options);
    assert!(violations.is_empty(), "{violations:#?}");
    let again = plan(&snap, options).expect("planned once, plans again");
    assert_eq!(
        serde_json::to_string(&first).expect("json"),
        serde_json::to_string(&again).expect("json"),
        "planning is not deterministic"
    );
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let options = PlanOptions::default()
        .with_strategy(StrategyKind::ALL[usize::from(data[1]) % StrategyKind::ALL.len()])
        .with_safety(SafetyLevel::ALL[usize::from(data[2]) % SafetyLevel::ALL.len()]);
    if data[0].is_multiple_of(2) {
        let seed = u64::from_le_bytes(data[4..12].try_into().expect("8 bytes"));
        let shape = ClusterShape {
            nodes: 1 + usize::from(data[3] % 24),
            pods_per_node: 1 + usize::from(data[3] / 24 % 12),
            blocking_percent: u64::from(data[2] % 40),
            constraints: data[2] >= 128,
        };
        check(generate(seed, shape), &options);
    } else if let Ok(spec) = serde_json::from_slice::<SnapshotSpec>(&data[3..]) {
        check(spec, &options);
    }
});
