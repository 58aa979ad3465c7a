//! The real-shaped dumps of `../shared/benchdata/clusters` (read in place, never copied into
//! the repository): at every safety level the plan passes the independent checker, and a
//! looser threshold never keeps more nodes than a stricter one. Prints SKIP when the folder
//! is not there (`KUBE_COMPACTOR_CLUSTERS` names another one).

use std::path::PathBuf;

use compactor_core::Snapshot;
use compactor_core::plan::{PlanOptions, plan};
use compactor_core::safety::SafetyLevel;
use compactor_core::verify::verify;

fn dumps() -> Option<Vec<PathBuf>> {
    let dir = std::env::var_os("KUBE_COMPACTOR_CLUSTERS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/benchdata/clusters"),
        PathBuf::from,
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    (!files.is_empty()).then_some(files)
}

#[test]
fn looser_thresholds_keep_no_more_nodes_on_the_shared_dumps() -> anyhow::Result<()> {
    let Some(files) = dumps() else {
        println!("SKIP: no kubectl dumps in ../shared/benchdata/clusters");
        return Ok(());
    };
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        let snapshot = Snapshot::new(compactor_kube::read_snapshot(&text)?)?;
        let mut kept = Vec::new();
        for level in SafetyLevel::ALL {
            let options = PlanOptions::default().with_safety(level);
            let p = plan(&snapshot, &options)?;
            let violations = verify(&snapshot, &p, &options);
            assert!(
                violations.is_empty(),
                "{} at {level:?}: the checker refuses the plan: {violations:?}",
                file.display()
            );
            kept.push((level, p.summary.nodes_after));
        }
        println!("{}: kept {kept:?}", file.display());
        for pair in kept.windows(2) {
            assert!(
                pair[1].1 <= pair[0].1,
                "{}: {:?} keeps {} nodes, more than {:?} ({})",
                file.display(),
                pair[1].0,
                pair[1].1,
                pair[0].0,
                pair[0].1
            );
        }
    }
    Ok(())
}
