//! Pure conversions between a config, the core's analysis and plan, and the custom resources
//! the controller writes.

use std::collections::BTreeSet;

use compactor_core::analysis::{Analysis, AnalysisOptions};
use compactor_core::cost::{PriceEntry, Pricing};
use compactor_core::model::SnapshotSpec;
use compactor_core::plan::{Plan, PlanOptions};
use compactor_core::resources::{CPU, MEMORY, human};
use jiff::{SignedDuration, Timestamp};

use crate::KubeError;
use crate::crd::{
    Blocker, Consolidation, Migration, MigrationPlanSpec, OptimizationConfigSpec,
    OptimizationReportSpec, OverProvisioned, Risk, WorkloadRef,
};

/// Largest plan (serialised) stored in a MigrationPlan: etcd refuses objects over 1.5 MiB by
/// default, and the plan shares the object with its summary.
pub const MAX_PLAN_BYTES: usize = 1 << 20;

/// Most over-provisioned workloads and blockers listed in one report (the counts are in its
/// summary), to keep the object well under etcd's size limit.
pub const MAX_REPORT_ITEMS: usize = 2000;

/// The analysis options a config asks for, on a cluster with `namespaces`: its strategy,
/// threshold and prices; `excludeNamespaces`, plus every namespace outside
/// `targetNamespaces` when that is set (their pods stay, so their nodes stay).
///
/// # Complexity
/// O(namespaces + price rows).
pub fn analysis_options(spec: &OptimizationConfigSpec, snapshot: &SnapshotSpec) -> AnalysisOptions {
    let excluded = excluded_namespaces(spec, snapshot);
    let pricing = Pricing {
        table: spec
            .pricing
            .iter()
            .map(|row| PriceEntry {
                instance_type: row.instance_type.clone(),
                zone: None,
                capacity_type: None,
                hourly: row.hourly,
            })
            .collect(),
        ..Pricing::default()
    };
    let mut options = AnalysisOptions::default();
    options.plan = PlanOptions::default()
        .with_strategy(spec.bin_packing_strategy.into())
        .with_safety(spec.safety_threshold.into())
        .with_excluded_namespaces(excluded)
        .with_pricing(pricing);
    options
}

/// The namespaces `spec` leaves out of `snapshot`: `excludeNamespaces`, and every namespace
/// not in `targetNamespaces` when that is set.
///
/// # Complexity
/// O((namespaces + pods) × log namespaces).
pub fn excluded_namespaces(
    spec: &OptimizationConfigSpec,
    snapshot: &SnapshotSpec,
) -> BTreeSet<String> {
    let mut excluded: BTreeSet<String> = spec.exclude_namespaces.iter().cloned().collect();
    if !spec.target_namespaces.is_empty() {
        let target: BTreeSet<&String> = spec.target_namespaces.iter().collect();
        let seen = snapshot
            .namespaces
            .keys()
            .chain(snapshot.pods.iter().map(|p| &p.namespace));
        excluded.extend(seen.filter(|n| !target.contains(n)).cloned());
    }
    excluded
}

/// The workloads `spec` covers in `snapshot` (the config's `workloadCount`): pods grouped by
/// namespace and controller owner, a pod without one counting as its own workload; pods of
/// excluded namespaces left out.
///
/// # Complexity
/// O(pods × log pods).
pub fn workload_count(spec: &OptimizationConfigSpec, snapshot: &SnapshotSpec) -> u32 {
    let excluded = excluded_namespaces(spec, snapshot);
    let workloads: BTreeSet<(&str, &str, &str)> = snapshot
        .pods
        .iter()
        .filter(|p| !excluded.contains(&p.namespace))
        .map(|p| match &p.owner {
            Some(o) => (p.namespace.as_str(), o.kind.as_str(), o.name.as_str()),
            None => (p.namespace.as_str(), "Pod", p.name.as_str()),
        })
        .collect();
    u32::try_from(workloads.len()).unwrap_or(u32::MAX)
}

/// The report of one analysis of config `config`, made at `now`; right-sizing advice only
/// when `right_sizing`.
///
/// # Complexity
/// O(nodes + workloads).
pub fn report(
    config: &str,
    analysis: &Analysis,
    now: Timestamp,
    right_sizing: bool,
) -> OptimizationReportSpec {
    let plan = &analysis.plan;
    let s = &plan.summary;
    let over: Vec<OverProvisioned> = if right_sizing {
        analysis
            .over_provisioned()
            .flat_map(|w| {
                [(CPU, &w.cpu), (MEMORY, &w.memory)]
                    .into_iter()
                    .filter_map(move |(resource, d)| {
                        let d = d.as_ref().filter(|d| d.over_requested)?;
                        Some(OverProvisioned {
                            workload: WorkloadRef {
                                kind: w.kind.clone(),
                                namespace: w.namespace.clone(),
                                name: w.name.clone(),
                            },
                            resource: resource.to_owned(),
                            requested: human(resource, d.current_request).to_string(),
                            recommended: human(resource, d.recommended).to_string(),
                        })
                    })
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut recommendations = Vec::new();
    if !plan.drain.is_empty() {
        let names: Vec<&str> = plan.drain.iter().map(|d| d.node.as_str()).collect();
        recommendations.push(format!(
            "drain {} node(s) ({}) by moving {} pod(s): saves {}",
            names.len(),
            names.join(", "),
            plan.moves.len(),
            plan.savings.formatted
        ));
    }
    if !over.is_empty() {
        recommendations.push(format!(
            "right-size {} workload dimension(s) whose usage is far below their requests",
            over.len()
        ));
    }
    let summary = format!(
        "{} nodes, {} needed by the plan (lower bound {}); {} can be drained, saving {}; {} over-provisioned workload dimension(s)",
        s.nodes,
        s.nodes_after,
        plan.lower_bound.nodes,
        plan.drain.len(),
        plan.savings.formatted,
        over.len()
    );
    OptimizationReportSpec {
        config: config.to_owned(),
        generated_at: now.to_string(),
        summary,
        consolidation: Consolidation {
            feasible: !plan.drain.is_empty(),
            current_nodes: s.nodes,
            required_nodes: s.nodes_after,
            lower_bound: plan.lower_bound.nodes,
            node_reduction: u32::try_from(plan.drain.len()).unwrap_or(u32::MAX),
            estimated_savings: plan.savings.monthly,
        },
        over_provisioned_workloads: over.into_iter().take(MAX_REPORT_ITEMS).collect(),
        recommendations,
        blockers: plan
            .kept
            .iter()
            .take(MAX_REPORT_ITEMS)
            .map(|k| Blocker {
                node: k.node.clone(),
                reason: k.reason.code.as_str().to_owned(),
                detail: k.reason.message.clone(),
            })
            .collect(),
    }
}

/// The MigrationPlan spec for `plan`, made for config `config` at `now` and valid for
/// `ttl_minutes`.
///
/// # Errors
/// [`KubeError::Field`] when the serialised plan exceeds [`MAX_PLAN_BYTES`] (the cluster is
/// too large for one object: use the CLI's `plan` and `apply`).
///
/// # Complexity
/// O(size of the plan).
pub fn migration_plan(
    config: &str,
    plan: &Plan,
    now: Timestamp,
    ttl_minutes: u32,
) -> Result<MigrationPlanSpec, KubeError> {
    let value = serde_json::to_value(plan).map_err(|e| KubeError::Field {
        object: format!("optimizationconfig {config}"),
        field: "plan".to_owned(),
        message: format!("cannot serialise the plan: {e}"),
    })?;
    let size = value.to_string().len();
    if size > MAX_PLAN_BYTES {
        return Err(KubeError::Field {
            object: format!("optimizationconfig {config}"),
            field: "plan".to_owned(),
            message: format!(
                "the plan is {size} bytes, over the {MAX_PLAN_BYTES} a MigrationPlan may hold; use `kube-compactor plan` and `apply` for a cluster this size"
            ),
        });
    }
    let migrations: Vec<Migration> = plan
        .moves
        .iter()
        .map(|m| {
            let drained = plan.drain.iter().find(|d| d.node == m.from_node);
            let share = drained.map_or(0.0, |d| {
                d.hourly_price * 730.0 / f64::from(d.evicted_pods.max(1))
            });
            Migration {
                workload: m.workload.as_ref().map(|w| WorkloadRef {
                    kind: w.kind.clone(),
                    namespace: w.namespace.clone(),
                    name: w.name.clone(),
                }),
                pod: format!("{}/{}", m.namespace, m.pod),
                from_node: m.from_node.clone(),
                to_node: m.to_node.clone(),
                wave: m.wave,
                risk: Risk::from(m.risk.level),
                reason: m.reason.clone(),
                estimated_savings: (share * 100.0).round() / 100.0,
            }
        })
        .collect();
    let highest = migrations
        .iter()
        .map(|m| m.risk)
        .max()
        .map_or("none", |r| match r {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        });
    let expires = now
        .checked_add(SignedDuration::from_mins(i64::from(ttl_minutes)))
        .unwrap_or(Timestamp::MAX);
    Ok(MigrationPlanSpec {
        config: config.to_owned(),
        migrations,
        drain_nodes: plan.drain.iter().map(|d| d.node.clone()).collect(),
        waves: u32::try_from(plan.waves.len()).unwrap_or(u32::MAX),
        highest_risk: highest.to_owned(),
        expires_at: Some(expires.to_string()),
        approved: false,
        approved_migrations: Vec::new(),
        cancelled: false,
        plan: Some(value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use compactor_core::Snapshot;
    use compactor_core::plan::plan;

    fn config(json: serde_json::Value) -> OptimizationConfigSpec {
        serde_json::from_value(json).unwrap()
    }

    /// Two nodes; `shop` runs web (2 pods) and a bare pod, `ops` a Deployment, `kube-system`
    /// a DaemonSet.
    fn cluster() -> SnapshotSpec {
        let node =
            |n: &str| serde_json::json!({"name": n, "allocatable": {"cpu": "4", "memory": "16Gi"}});
        let pod = |ns: &str, name: &str, node: &str, owner: Option<(&str, &str)>| {
            let mut p = serde_json::json!({"namespace": ns, "name": name, "nodeName": node,
                "containers": [{"name": "c", "requests": {"cpu": "500m", "memory": "1Gi"}}]});
            if let Some((kind, owner)) = owner {
                p["owner"] = serde_json::json!({"kind": kind, "name": owner});
            }
            p
        };
        let text = serde_json::json!({
            "nodes": [node("a"), node("b")],
            "pods": [pod("shop", "web-1", "a", Some(("Deployment", "web"))),
                     pod("shop", "web-2", "b", Some(("Deployment", "web"))),
                     pod("shop", "debug", "a", None),
                     pod("ops", "tool-1", "b", Some(("Deployment", "tool"))),
                     pod("kube-system", "agent-a", "a", Some(("DaemonSet", "agent"))),
                     pod("kube-system", "agent-b", "b", Some(("DaemonSet", "agent")))]
        })
        .to_string();
        crate::read_snapshot(&text).unwrap()
    }

    #[test]
    fn workloads_are_counted_by_owner_within_the_configs_namespaces() {
        let snapshot = cluster();
        // Defaults exclude kube-system: web, the bare pod, tool.
        let all = config(serde_json::json!({}));
        assert!(excluded_namespaces(&all, &snapshot).contains("kube-system"));
        assert_eq!(workload_count(&all, &snapshot), 3);
        // Targeting shop leaves ops (and kube-system) out.
        let shop = config(serde_json::json!({"targetNamespaces": ["shop"]}));
        let excluded = excluded_namespaces(&shop, &snapshot);
        let names: Vec<&str> = excluded.iter().map(String::as_str).collect();
        assert_eq!(
            names,
            ["kube-node-lease", "kube-public", "kube-system", "ops"]
        );
        assert_eq!(workload_count(&shop, &snapshot), 2);
        // Excluding nothing counts the DaemonSet too.
        let none = config(serde_json::json!({"excludeNamespaces": []}));
        assert_eq!(workload_count(&none, &snapshot), 4);
    }

    #[test]
    fn a_plan_spec_carries_the_plan_and_expires_after_its_ttl() {
        let snapshot = cluster();
        let p = plan(&Snapshot::new(snapshot).unwrap(), &PlanOptions::default()).unwrap();
        let now: Timestamp = "2026-12-05T10:00:00Z".parse().unwrap();
        let spec = migration_plan("default", &p, now, 90).unwrap();
        assert_eq!(spec.config, "default");
        assert_eq!(spec.expires_at.as_deref(), Some("2026-12-05T11:30:00Z"));
        assert!(!spec.approved);
        let back: Plan = serde_json::from_value(spec.plan.clone().unwrap()).unwrap();
        assert_eq!(back, p);
        assert_eq!(spec.migrations.len(), p.moves.len());
        assert_eq!(
            spec.drain_nodes,
            p.drain.iter().map(|d| d.node.clone()).collect::<Vec<_>>()
        );
    }
}
