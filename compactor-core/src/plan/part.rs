//! A plan cut down to some of its drain nodes, for carrying a plan out in parts.

use std::collections::BTreeSet;

use super::{KeptNode, Plan, Reason, ReasonCode};

impl Plan {
    /// This plan cut down to draining `nodes` only: their drain entries, moves and waves
    /// (waves left empty are dropped). Every other drain node of the plan is kept, with
    /// [`ReasonCode::OtherPart`], so the part accounts for every node as a whole plan does
    /// and verifies on its own. Cordons of kept nodes (`cordonOnly`, `cordonFirst`) stay:
    /// they only ever keep replacements off nodes. Names in `nodes` the plan does not drain
    /// are ignored.
    ///
    /// A part is carried out soundly when it is a prefix of the drain order (the nodes
    /// already done, then the next ones): each move's `toNode` was predicted with the nodes
    /// before it drained, never with a later one drained first.
    ///
    /// # Examples
    /// ```
    /// # use compactor_core::{Snapshot, model::SnapshotSpec};
    /// # use compactor_core::plan::{plan, PlanOptions, ReasonCode};
    /// let spec: SnapshotSpec = serde_json::from_value(serde_json::json!({
    ///     "nodes": [
    ///         {"name": "a", "allocatable": {"cpu": "4", "memory": "8Gi"}},
    ///         {"name": "b", "allocatable": {"cpu": "4", "memory": "8Gi"}},
    ///         {"name": "c", "allocatable": {"cpu": "4", "memory": "8Gi"}}],
    ///     "pods": []
    /// })).unwrap();
    /// let whole = plan(&Snapshot::new(spec).unwrap(), &PlanOptions::default()).unwrap();
    /// assert_eq!(whole.drain.len(), 2);
    /// let first = whole.drain[0].node.clone();
    /// let part = whole.part(&[first.clone()]);
    /// assert_eq!(part.drain.len(), 1);
    /// assert_eq!(part.drain[0].node, first);
    /// assert_eq!(part.kept.len(), 2);
    /// assert!(part.kept.iter().any(|k| k.reason.code == ReasonCode::OtherPart));
    /// ```
    ///
    /// # Complexity
    /// O(moves + kept × log kept + waves × nodes).
    pub fn part(&self, nodes: &[String]) -> Plan {
        let keep: BTreeSet<&str> = nodes.iter().map(String::as_str).collect();
        let mut out = self.clone();
        for d in self
            .drain
            .iter()
            .filter(|d| !keep.contains(d.node.as_str()))
        {
            out.kept.push(KeptNode {
                node: d.node.clone(),
                reason: Reason {
                    code: ReasonCode::OtherPart,
                    message: format!(
                        "drained by another part of the plan (before this one, or waiting \
                         for approval or a safe window); this part leaves node {} alone",
                        d.node
                    ),
                },
                blocking_pods: Vec::new(),
                receives: 0,
            });
        }
        out.kept.sort_by(|a, b| a.node.cmp(&b.node));
        out.drain.retain(|d| keep.contains(d.node.as_str()));
        out.moves.retain(|m| keep.contains(m.from_node.as_str()));
        for w in &mut out.waves {
            w.nodes.retain(|n| keep.contains(n.as_str()));
            let index = w.index;
            w.evictions =
                u32::try_from(out.moves.iter().filter(|m| m.wave == index).count()).unwrap_or(0);
        }
        out.waves.retain(|w| !w.nodes.is_empty());
        for k in &mut out.kept {
            k.receives = u32::try_from(out.moves.iter().filter(|m| m.to_node == k.node).count())
                .unwrap_or(u32::MAX);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::Snapshot;
    use crate::model::SnapshotSpec;
    use crate::plan::{PlanOptions, ReasonCode, plan};
    use crate::verify::verify;

    /// Four 4-core nodes: two hold a small pod each and can be drained; two are half full.
    fn snapshot() -> Snapshot {
        let node =
            |n: &str| serde_json::json!({"name": n, "allocatable": {"cpu": "4", "memory": "16Gi"}});
        let pod = |name: &str, node: &str, cpu: &str| {
            serde_json::json!({"namespace": "shop", "name": name, "nodeName": node,
                "owner": {"kind": "Deployment", "name": name}, "replicas": 3,
                "readinessProbe": true,
                "containers": [{"name": "c", "requests": {"cpu": cpu, "memory": "1Gi"}}]})
        };
        let spec: SnapshotSpec = serde_json::from_value(serde_json::json!({
            "nodes": [node("n1"), node("n2"), node("n3"), node("n4")],
            "pods": [pod("web-1", "n1", "500m"), pod("web-2", "n2", "500m"),
                     pod("big-1", "n3", "2"), pod("big-2", "n4", "2")]
        }))
        .unwrap();
        Snapshot::new(spec).unwrap()
    }

    #[test]
    fn a_prefix_part_accounts_for_every_node_and_verifies() {
        let snap = snapshot();
        let options = PlanOptions::default();
        let whole = plan(&snap, &options).unwrap();
        assert_eq!(whole.drain.len(), 2, "{:#?}", whole.kept);
        let first = vec![whole.drain[0].node.clone()];
        let part = whole.part(&first);
        assert_eq!(part.drain.len(), 1);
        assert_eq!(part.moves.len(), 1);
        assert!(part.moves.iter().all(|m| m.from_node == first[0]));
        assert_eq!(part.waves.iter().map(|w| w.evictions).sum::<u32>(), 1);
        assert!(part.waves.iter().all(|w| w.nodes == first));
        let other = &whole.drain[1].node;
        let kept = part.kept.iter().find(|k| &k.node == other).unwrap();
        assert_eq!(kept.reason.code, ReasonCode::OtherPart);
        assert_eq!(kept.receives, 0);
        let names: Vec<&str> = part.kept.iter().map(|k| k.node.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "kept stays sorted by name");
        // Receivers count only this part's moves.
        let received: u32 = part.kept.iter().map(|k| k.receives).sum();
        assert_eq!(received, 1);
        assert_eq!(verify(&snap, &part, &options), vec![]);
    }

    #[test]
    fn the_part_of_every_node_is_the_plan() {
        let whole = plan(&snapshot(), &PlanOptions::default()).unwrap();
        let all: Vec<String> = whole.drain.iter().map(|d| d.node.clone()).collect();
        assert_eq!(whole.part(&all), whole);
    }
}
