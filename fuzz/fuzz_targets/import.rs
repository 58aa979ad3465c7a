//! The kubectl import and the core snapshot format, as the binary reads `--from`: bad input
//! is an error, never a panic; what imports plans, and every plan passes the independent
//! checker; every error message is one line once printed.
#![no_main]

use compactor_core::Snapshot;
use compactor_core::plan::{PlanOptions, plan};
use compactor_core::text::printable;
use compactor_core::verify::verify;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let spec = match compactor_kube::read_snapshot(text) {
        Ok(spec) => spec,
        Err(e) => {
            assert!(!printable(&e.to_string()).contains('\n'));
            return;
        }
    };
    let snap = match Snapshot::new(spec) {
        Ok(s) => s,
        Err(e) => {
            assert!(!printable(&e.to_string()).contains('\n'));
            return;
        }
    };
    let options = PlanOptions::default();
    if let Ok(p) = plan(&snap, &options) {
        let violations = verify(&snap, &p, &options);
        assert!(violations.is_empty(), "{violations:#?}");
        assert!(p.summary.nodes_after >= p.lower_bound.nodes.min(p.summary.nodes));
        assert!(p.savings.monthly.is_finite());
    }
});
