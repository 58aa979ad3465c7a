//! Which part of a MigrationPlan may be carried out now (pure).
//!
//! A node is drained only when every one of its moves may be carried out (a node left half
//! empty saves nothing), and parts are taken in the plan's drain order: the part carried out
//! now is the longest run of drain nodes, after those already done, whose moves are all
//! allowed ([`crate::modes::decide`] says `Execute`). The first node that is not allowed stops
//! the run; it and the nodes after it wait. Keeping the plan's order keeps its predictions:
//! each `toNode` was predicted with the nodes before it drained, never with a later node
//! drained first.
//!
//! A drain node with nothing to move (only DaemonSet pods, or none) is still cordoned, which
//! is an action: it counts as one low-risk, stateless move, approved by the whole plan's
//! `spec.approved` or by `node:NAME` in `spec.approvedMigrations` (a colon is in no pod or
//! namespace name). Manual mode therefore never touches a node without approval.

use std::collections::BTreeSet;

use compactor_core::plan::Plan;
use compactor_core::risk::{RiskFactor, RiskLevel};
use compactor_core::safety::SafetyLevel;

use crate::crd::{MigrationPlanSpec, Mode};
use crate::modes::{MoveFacts, Verdict, decide};

/// The prefix of an `approvedMigrations` entry approving a drain node with nothing to move.
pub const NODE_APPROVAL: &str = "node:";

/// What may be carried out now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// Drain nodes to carry out now, in drain order (empty: nothing now).
    pub nodes: Vec<String>,
    /// Why the next node waits: its first move that may not run now (`namespace/pod`, or
    /// `node:NAME` for a node with nothing to move), and the verdict.
    pub waiting: Option<(String, Verdict)>,
}

/// The [`Gate`] of `plan` (whose approvals are in `spec`) with `done` nodes completed, in
/// `mode` with `threshold`, a safe window open or not.
///
/// # Examples
/// See the tests: a plan of two nodes, the second holding a high-risk move, runs its first
/// node in semi-auto and waits for approval of the second.
///
/// # Complexity
/// O(moves × log moves).
pub fn executable(
    plan: &Plan,
    spec: &MigrationPlanSpec,
    done: &[String],
    mode: Mode,
    confirm_full_auto: bool,
    threshold: SafetyLevel,
    window_open: bool,
) -> Gate {
    let done: BTreeSet<&str> = done.iter().map(String::as_str).collect();
    let approved: BTreeSet<&str> = spec
        .approved_migrations
        .iter()
        .map(String::as_str)
        .collect();
    let mut nodes = Vec::new();
    for d in plan
        .drain
        .iter()
        .filter(|d| !done.contains(d.node.as_str()))
    {
        let mut facts: Vec<(String, MoveFacts)> = plan
            .moves
            .iter()
            .filter(|m| m.from_node == d.node)
            .map(|m| {
                let key = format!("{}/{}", m.namespace, m.pod);
                let approved = spec.approved || approved.contains(key.as_str());
                let facts = MoveFacts {
                    risk: m.risk.level,
                    stateful: m.risk.factors.contains(&RiskFactor::Stateful),
                    approved,
                };
                (key, facts)
            })
            .collect();
        if facts.is_empty() {
            // A node with nothing to move is still cordoned: an action like a low-risk
            // move, approved by the whole plan's approval or by `node:NAME`.
            let key = format!("{NODE_APPROVAL}{}", d.node);
            let facts_of_node = MoveFacts {
                risk: RiskLevel::Low,
                stateful: false,
                approved: spec.approved || approved.contains(key.as_str()),
            };
            facts.push((key, facts_of_node));
        }
        for (key, facts) in facts {
            let verdict = decide(mode, confirm_full_auto, threshold, window_open, facts);
            if verdict != Verdict::Execute {
                return Gate {
                    nodes,
                    waiting: Some((key, verdict)),
                };
            }
        }
        nodes.push(d.node.clone());
    }
    Gate {
        nodes,
        waiting: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use compactor_core::Snapshot;
    use compactor_core::plan::{PlanOptions, plan};

    /// Four 4-core nodes: `n1` holds a low-risk Deployment pod, `n2` a StatefulSet pod
    /// (stateful: medium risk, never automatic); `n3` and `n4` are half full and stay.
    fn two_node_plan() -> Plan {
        let node =
            |n: &str| serde_json::json!({"name": n, "allocatable": {"cpu": "4", "memory": "16Gi"}});
        let pod = |name: &str, node: &str, kind: &str, owner: &str, cpu: &str| {
            serde_json::json!({"namespace": "shop", "name": name, "nodeName": node,
                "owner": {"kind": kind, "name": owner}, "replicas": 3, "readinessProbe": true,
                "containers": [{"name": "c", "requests": {"cpu": cpu, "memory": "1Gi"}}]})
        };
        let text = serde_json::json!({
            "nodes": [node("n1"), node("n2"), node("n3"), node("n4")],
            "pods": [pod("web-1", "n1", "Deployment", "web", "500m"),
                     pod("db-0", "n2", "StatefulSet", "db", "500m"),
                     pod("big-1", "n3", "Deployment", "big", "2"),
                     pod("big-2", "n4", "Deployment", "big", "2")]
        })
        .to_string();
        let spec = crate::read_snapshot(&text).unwrap();
        let p = plan(&Snapshot::new(spec).unwrap(), &PlanOptions::default()).unwrap();
        let drained: BTreeSet<&str> = p.drain.iter().map(|d| d.node.as_str()).collect();
        assert_eq!(drained, BTreeSet::from(["n1", "n2"]), "{:#?}", p.kept);
        p
    }

    fn spec(approved: bool, pods: &[&str]) -> MigrationPlanSpec {
        serde_json::from_value(serde_json::json!({"config": "c", "approved": approved,
            "approvedMigrations": pods}))
        .unwrap()
    }

    #[test]
    fn parts_follow_mode_approvals_risk_and_window() {
        let p = two_node_plan();
        let order: Vec<String> = p.drain.iter().map(|d| d.node.clone()).collect();
        let stateful_first = order[0] == "n2";
        let pod_of = |n: &str| if n == "n1" { "shop/web-1" } else { "shop/db-0" };
        let gate = |spec: &MigrationPlanSpec, done: &[String], mode, open| {
            executable(&p, spec, done, mode, false, SafetyLevel::Conservative, open)
        };
        let none = spec(false, &[]);
        // Manual: nothing without approval; everything with it.
        let g = gate(&none, &[], Mode::Manual, true);
        assert!(g.nodes.is_empty());
        assert_eq!(
            g.waiting,
            Some((pod_of(&order[0]).to_owned(), Verdict::WaitForApproval))
        );
        assert_eq!(
            gate(&spec(true, &[]), &[], Mode::Manual, false).nodes,
            order
        );
        // Semi-auto, window open: the low-risk node runs when it comes first; the stateful
        // one waits for a person, and stops everything after it.
        let g = gate(&none, &[], Mode::SemiAuto, true);
        if stateful_first {
            assert!(g.nodes.is_empty());
        } else {
            assert_eq!(g.nodes, ["n1"]);
        }
        assert_eq!(
            g.waiting,
            Some(("shop/db-0".to_owned(), Verdict::WaitForApproval))
        );
        // Approving the stateful move by name lets both run inside the window, none outside.
        let db = spec(false, &["shop/db-0"]);
        assert_eq!(gate(&db, &[], Mode::SemiAuto, true).nodes, order);
        let closed = gate(&db, &[], Mode::SemiAuto, false);
        if stateful_first {
            // The approved stateful node runs at once (a person chose the time); the
            // automatic one waits for the window.
            assert_eq!(closed.nodes, ["n2"]);
            assert_eq!(
                closed.waiting,
                Some(("shop/web-1".to_owned(), Verdict::WaitForWindow))
            );
        } else {
            assert!(closed.nodes.is_empty());
            assert_eq!(
                closed.waiting,
                Some(("shop/web-1".to_owned(), Verdict::WaitForWindow))
            );
        }
        // Nodes already done are skipped.
        let g = gate(&spec(true, &[]), &order[..1], Mode::Manual, false);
        assert_eq!(g.nodes, order[1..]);
        // Observe never runs anything, approved or not.
        let g = gate(&spec(true, &[]), &[], Mode::Observe, true);
        assert!(g.nodes.is_empty());
        assert_eq!(g.waiting.map(|w| w.1), Some(Verdict::Never));
    }

    #[test]
    fn an_empty_node_waits_for_the_plans_approval_in_manual_mode() {
        let node =
            |n: &str| serde_json::json!({"name": n, "allocatable": {"cpu": "4", "memory": "16Gi"}});
        let text = serde_json::json!({
            "nodes": [node("a"), node("b")],
            "pods": [{"namespace": "shop", "name": "big-1", "nodeName": "a",
                "owner": {"kind": "Deployment", "name": "big"}, "replicas": 3,
                "readinessProbe": true,
                "containers": [{"name": "c", "requests": {"cpu": "2", "memory": "1Gi"}}]}]
        })
        .to_string();
        let spec_of = crate::read_snapshot(&text).unwrap();
        let p = plan(&Snapshot::new(spec_of).unwrap(), &PlanOptions::default()).unwrap();
        assert_eq!(p.drain.len(), 1);
        assert_eq!(p.drain[0].node, "b");
        assert!(p.moves.is_empty());
        let gate = |spec: &MigrationPlanSpec, mode, open| {
            executable(&p, spec, &[], mode, false, SafetyLevel::Conservative, open)
        };
        let g = gate(&spec(false, &[]), Mode::Manual, true);
        assert!(g.nodes.is_empty());
        assert_eq!(
            g.waiting,
            Some(("node:b".to_owned(), Verdict::WaitForApproval))
        );
        // A per-pod approval names no pod of it; the node's own or the whole plan's does.
        assert!(
            gate(&spec(false, &["shop/big-1"]), Mode::Manual, true)
                .nodes
                .is_empty()
        );
        assert_eq!(
            gate(&spec(false, &["node:b"]), Mode::Manual, false).nodes,
            ["b"]
        );
        assert_eq!(gate(&spec(true, &[]), Mode::Manual, false).nodes, ["b"]);
        // Semi-auto drains it inside a window, as a low-risk move; never outside.
        assert_eq!(gate(&spec(false, &[]), Mode::SemiAuto, true).nodes, ["b"]);
        assert!(
            gate(&spec(false, &[]), Mode::SemiAuto, false)
                .nodes
                .is_empty()
        );
    }
}
