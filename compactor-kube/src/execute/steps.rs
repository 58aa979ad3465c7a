//! What executing a plan means, computed without a cluster: the ordered steps and the exact
//! API calls each makes. `apply` without `--execute` prints these; the executor performs
//! the same [`ApiCall`]s.

use std::collections::BTreeSet;
use std::fmt;

use compactor_core::plan::{Move, Plan};
use serde::Serialize;
use serde_json::{Value, json};

/// Annotation on every node the executor cordons: `kube-compactor/<plan id>`. Only nodes
/// carrying it are ever uncordoned by kube-compactor.
pub const CORDONED_BY: &str = "optimizer.io/cordoned-by";

/// Annotation on a drained node: the plan id, then the pods of that node whose eviction was
/// started (`<plan id> ns/name,ns/name`). Written before each eviction, so that a rerun after
/// a crash knows which pods left because of the plan and never evicts one twice.
pub const EVICTIONS: &str = "optimizer.io/evictions";

/// The value of [`CORDONED_BY`] for a plan.
pub fn marker(plan_id: &str) -> String {
    format!("kube-compactor/{plan_id}")
}

/// A stable id of a plan: FNV-1a (64 bits) over what it does (drained nodes, cordon-only
/// nodes, moves with their targets and cordons), as 16 hex digits. Two plans with the same
/// actions have the same id, whatever their notes or figures say.
///
/// # Examples
/// ```
/// let plan = compactor_core::plan::plan(
///     &compactor_core::Snapshot::new(Default::default()).unwrap(),
///     &Default::default()).unwrap();
/// assert_eq!(compactor_kube::execute::plan_id(&plan).len(), 16);
/// ```
///
/// # Complexity
/// O(size of the plan's actions).
pub fn plan_id(plan: &Plan) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |s: &str| {
        for b in s.bytes().chain([0xff]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for d in &plan.drain {
        feed("drain");
        feed(&d.node);
    }
    for n in &plan.cordon_only {
        feed("cordon");
        feed(n);
    }
    for m in &plan.moves {
        feed("move");
        feed(&m.namespace);
        feed(&m.pod);
        feed(&m.from_node);
        feed(&m.to_node);
        feed(&m.wave.to_string());
        for c in &m.cordon_first {
            feed(c);
        }
    }
    format!("{hash:016x}")
}

/// Why a node is cordoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum CordonReason {
    /// The plan drains it (stays cordoned when the plan completes).
    Drain,
    /// The plan keeps it but cordons it while it runs (`cordonOnly`).
    CordonOnly,
    /// A move's `cordonFirst`: cordoned right before that eviction to steer it.
    Steer,
}

/// One step of a plan's execution, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Step {
    /// Cordon a node (with the [`CORDONED_BY`] marker).
    Cordon {
        /// The node.
        node: String,
        /// Why.
        reason: CordonReason,
    },
    /// Evict one pod through the Eviction API (`moves[index]` of the plan).
    Evict {
        /// Index of the move in `plan.moves`.
        index: usize,
        /// Wave of the move.
        wave: u32,
    },
    /// Wait until every replacement of the wave is scheduled and Ready, and nothing
    /// displaced is Pending.
    WaitWave {
        /// The wave.
        wave: u32,
    },
    /// Uncordon a node this plan cordoned but keeps (cordon-only and steering cordons).
    Uncordon {
        /// The node.
        node: String,
    },
}

/// The plan's execution as steps (docs/decisions.md "Cycles, waves and cordons"): every
/// drained node and every `cordonOnly` node cordoned before the first eviction; then the
/// moves in plan order, each preceded by the cordons of its `cordonFirst` nodes not yet
/// cordoned, a wait after each wave; at the end the kept nodes this plan cordoned are
/// uncordoned. Drained nodes stay cordoned (empty, ready to be removed).
///
/// A plan without moves has no steps.
///
/// # Complexity
/// O(moves · cordons per move · log n).
pub fn steps(plan: &Plan) -> Vec<Step> {
    let mut out = Vec::new();
    if plan.moves.is_empty() && plan.drain.is_empty() {
        return out;
    }
    let mut cordoned: BTreeSet<&str> = BTreeSet::new();
    for d in &plan.drain {
        if cordoned.insert(&d.node) {
            out.push(Step::Cordon {
                node: d.node.clone(),
                reason: CordonReason::Drain,
            });
        }
    }
    for n in &plan.cordon_only {
        if cordoned.insert(n) {
            out.push(Step::Cordon {
                node: n.clone(),
                reason: CordonReason::CordonOnly,
            });
        }
    }
    let mut steered: Vec<&str> = Vec::new();
    let mut wave: Option<u32> = None;
    for (index, m) in plan.moves.iter().enumerate() {
        if let Some(w) = wave.filter(|w| *w != m.wave) {
            out.push(Step::WaitWave { wave: w });
        }
        wave = Some(m.wave);
        for c in &m.cordon_first {
            if cordoned.insert(c) {
                steered.push(c);
                out.push(Step::Cordon {
                    node: c.clone(),
                    reason: CordonReason::Steer,
                });
            }
        }
        out.push(Step::Evict {
            index,
            wave: m.wave,
        });
    }
    if let Some(w) = wave {
        out.push(Step::WaitWave { wave: w });
    }
    let mut uncordon: Vec<&str> = plan.cordon_only.iter().map(String::as_str).collect();
    uncordon.extend(steered);
    let drained: BTreeSet<&str> = plan.drain.iter().map(|d| d.node.as_str()).collect();
    let mut seen = BTreeSet::new();
    for n in uncordon {
        if !drained.contains(n) && seen.insert(n) {
            out.push(Step::Uncordon { node: n.to_owned() });
        }
    }
    out
}

/// One request to the API server, exactly as the executor sends it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ApiCall {
    /// `GET`, `PATCH`, `POST`.
    pub method: &'static str,
    /// Path and query, e.g. `/api/v1/namespaces/shop/pods/web-1/eviction`.
    pub path: String,
    /// `Content-Type` of the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<&'static str>,
    /// The JSON body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

impl fmt::Display for ApiCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if let Some(body) = &self.body {
            write!(f, " {body}")?;
        }
        Ok(())
    }
}

impl ApiCall {
    /// The HTTP request.
    ///
    /// # Errors
    /// [`crate::KubeError::Config`] when the path is not a valid URI (a name with characters
    /// the API server would refuse anyway).
    pub fn request(&self) -> Result<http::Request<Vec<u8>>, crate::KubeError> {
        let mut builder = http::Request::builder().method(self.method).uri(&self.path);
        if let Some(ct) = self.content_type {
            builder = builder.header(http::header::CONTENT_TYPE, ct);
        }
        let body = self
            .body
            .as_ref()
            .map(|b| b.to_string().into_bytes())
            .unwrap_or_default();
        builder.body(body).map_err(|e| crate::KubeError::Config {
            message: format!("{} {}: {e}", self.method, self.path),
        })
    }
}

fn node_path(node: &str) -> String {
    format!("/api/v1/nodes/{node}")
}

/// `GET` a node (to read its `resourceVersion`, cordon state and annotations).
pub fn get_node(node: &str) -> ApiCall {
    ApiCall {
        method: "GET",
        path: node_path(node),
        content_type: None,
        body: None,
    }
}

/// The first page of a namespace's pods (the executor reads them before each eviction, for
/// the workload's pods, and while it waits; further pages follow `continue`).
pub fn list_pods(namespace: &str) -> ApiCall {
    ApiCall {
        method: "GET",
        path: format!(
            "/api/v1/namespaces/{namespace}/pods?limit={}",
            crate::live::PAGE_SIZE
        ),
        content_type: None,
        body: None,
    }
}

/// The cordon: a merge patch setting `spec.unschedulable` and the [`CORDONED_BY`] marker,
/// conditional on `resource_version` (the API server answers 409 when the node changed
/// since it was read).
pub fn cordon(node: &str, plan_id: &str, resource_version: &str) -> ApiCall {
    ApiCall {
        method: "PATCH",
        path: node_path(node),
        content_type: Some("application/merge-patch+json"),
        body: Some(json!({
            "metadata": {
                "resourceVersion": resource_version,
                "annotations": {CORDONED_BY: marker(plan_id)},
            },
            "spec": {"unschedulable": true},
        })),
    }
}

/// The uncordon of a node carrying this plan's marker: `spec.unschedulable` and the marker
/// removed, conditional on `resource_version`.
pub fn uncordon(node: &str, resource_version: &str) -> ApiCall {
    ApiCall {
        method: "PATCH",
        path: node_path(node),
        content_type: Some("application/merge-patch+json"),
        body: Some(json!({
            "metadata": {
                "resourceVersion": resource_version,
                "annotations": {CORDONED_BY: null},
            },
            "spec": {"unschedulable": null},
        })),
    }
}

/// Records on a drained node which of its pods this plan evicts (the whole list so far),
/// before the eviction of the last one.
pub fn record_evictions(node: &str, plan_id: &str, pods: &[String]) -> ApiCall {
    ApiCall {
        method: "PATCH",
        path: node_path(node),
        content_type: Some("application/merge-patch+json"),
        body: Some(json!({
            "metadata": {"annotations": {EVICTIONS: format!("{plan_id} {}", pods.join(","))}},
        })),
    }
}

/// The eviction: a policy/v1 `Eviction` created for the pod (never a delete).
pub fn evict(namespace: &str, pod: &str) -> ApiCall {
    ApiCall {
        method: "POST",
        path: format!("/api/v1/namespaces/{namespace}/pods/{pod}/eviction"),
        content_type: Some("application/json"),
        body: Some(json!({
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": pod, "namespace": namespace},
        })),
    }
}

/// Parses a [`EVICTIONS`] annotation: the pods (`ns/name`) recorded for `plan_id`; none when
/// the annotation belongs to another plan.
pub fn recorded_evictions(value: &str, plan_id: &str) -> Vec<String> {
    match value.split_once(' ') {
        Some((id, pods)) if id == plan_id => pods
            .split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        None if value == plan_id => Vec::new(),
        _ => Vec::new(),
    }
}

/// Every API call of the plan's execution after the re-validation reads
/// ([`crate::live::snapshot_calls`]), in order, as a dry run prints it: cordons (each
/// preceded by the `GET` that reads the node), for each move the list of its namespace's
/// pods, the eviction record and the eviction, the polls of each wave's wait (one line per
/// namespace standing for the repeated list), and the uncordons at the end.
/// `<resourceVersion>` stands for the version read.
///
/// # Examples
/// ```
/// use compactor_core::{Snapshot, plan::{plan, PlanOptions}};
/// let spec = compactor_kube::read_snapshot(r#"{"nodes": [
///     {"name": "a", "allocatable": {"cpu": "4", "memory": "16Gi"}},
///     {"name": "b", "allocatable": {"cpu": "4", "memory": "16Gi"}}],
///   "pods": [{"namespace": "shop", "name": "web-1", "nodeName": "a",
///     "owner": {"kind": "Deployment", "name": "web"}, "labels": {"app": "web"},
///     "containers": [{"name": "app", "requests": {"cpu": "500m", "memory": "1Gi"}}],
///     "readinessProbe": true},
///     {"namespace": "shop", "name": "web-2", "nodeName": "b",
///     "owner": {"kind": "Deployment", "name": "web"}, "labels": {"app": "web"},
///     "containers": [{"name": "app", "requests": {"cpu": "1", "memory": "2Gi"}}],
///     "readinessProbe": true}],
///   "pdbs": [{"namespace": "shop", "name": "web", "selector": {"matchLabels": {"app": "web"}},
///     "disruptionsAllowed": 1}]}"#).unwrap();
/// let plan = plan(&Snapshot::new(spec).unwrap(), &PlanOptions::default()).unwrap();
/// let calls: Vec<String> = compactor_kube::execute::dry_run(&plan)
///     .into_iter().flat_map(|(_, calls)| calls).map(|c| c.to_string()).collect();
/// assert!(calls.iter().any(|c| c.starts_with("POST /api/v1/namespaces/shop/pods/web-1/eviction")));
/// assert!(calls[1].contains(r#""unschedulable":true"#)); // the cordon comes first
/// ```
///
/// # Complexity
/// O(steps · pods per drained node) (each eviction record repeats the node's list so far).
pub fn dry_run(plan: &Plan) -> Vec<(Step, Vec<ApiCall>)> {
    let id = plan_id(plan);
    let rv = "<resourceVersion>";
    let mut evicted: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    steps(plan)
        .into_iter()
        .map(|step| {
            let calls = match &step {
                Step::Cordon { node, .. } => vec![get_node(node), cordon(node, &id, rv)],
                Step::Uncordon { node } => vec![get_node(node), uncordon(node, rv)],
                Step::Evict { index, .. } => {
                    let m: &Move = &plan.moves[*index];
                    let list = evicted.entry(m.from_node.as_str()).or_default();
                    list.push(format!("{}/{}", m.namespace, m.pod));
                    vec![
                        list_pods(&m.namespace),
                        record_evictions(&m.from_node, &id, list),
                        evict(&m.namespace, &m.pod),
                    ]
                }
                Step::WaitWave { wave } => {
                    let mut namespaces: Vec<&str> = plan
                        .moves
                        .iter()
                        .filter(|m| m.wave == *wave)
                        .map(|m| m.namespace.as_str())
                        .collect();
                    namespaces.sort_unstable();
                    namespaces.dedup();
                    namespaces.into_iter().map(list_pods).collect()
                }
            };
            (step, calls)
        })
        .collect()
}
