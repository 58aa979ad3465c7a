//! Usage and price inputs: the metrics API's PodMetrics / NodeMetrics lists, and the pricing
//! file of `--pricing`.
//!
//! Pure: functions take the text of a file and return values; reading files is the caller's
//! business.
//!
//! ## Metrics
//!
//! [`read_metrics`] accepts what `kubectl get --raw /apis/metrics.k8s.io/v1beta1/pods` (a
//! `PodMetricsList`) and `…/nodes` (a `NodeMetricsList`) print, and a kubectl `List` of
//! `PodMetrics` / `NodeMetrics` items (`kubectl get podmetrics -A -o json`). Quantities
//! (`"1234567n"` nanocores, `"12345Ki"`) are parsed exactly and rounded up to millicores and
//! bytes. A pod's usage is the sum over its containers.
//!
//! [`apply_metrics`] puts one or more such dumps into a snapshot. Each dump is one
//! observation, given **oldest first**: a pod seen in one dump gets that usage as its
//! `usage`; a pod seen in two or more gets them all as `usageSamples` (the analyzer then
//! recommends from a percentile) and the last as `usage`. A node gets the last NodeMetrics
//! usage seen. Metrics replace usage already in the snapshot for the pods and nodes they cover.
//!
//! ## Pricing
//!
//! [`read_pricing`] reads [`compactor_core::cost::Pricing`] as JSON:
//!
//! ```json
//! {"table": [{"instanceType": "m5.2xlarge", "hourly": 0.384},
//!            {"instanceType": "m5.2xlarge", "zone": "eu-west-1a", "capacityType": "spot", "hourly": 0.15}],
//!  "cpuMonth": 30, "gibMonth": 4}
//! ```

use std::collections::BTreeMap;

use compactor_core::cost::Pricing;
use compactor_core::model::SnapshotSpec;
use compactor_core::quantity;
use compactor_core::resources::{ResourceList, unit_of};
use serde::Deserialize;
use serde_json::Value;

use crate::error::KubeError;
use crate::mapping::DEFAULT_NAMESPACE;
use crate::mapping::list::describe;

/// One pod's usage in one metrics dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodUsage {
    /// Namespace (`default` when absent).
    pub namespace: String,
    /// Pod name.
    pub name: String,
    /// `timestamp` as given (RFC 3339), if any.
    pub timestamp: Option<String>,
    /// `window` as given (`"30s"`), if any.
    pub window: Option<String>,
    /// Sum over the containers, canonical units (millicores, bytes).
    pub usage: ResourceList,
    /// Per container, in the order given.
    pub containers: Vec<(String, ResourceList)>,
}

/// One node's usage in one metrics dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeUsage {
    /// Node name.
    pub name: String,
    /// `timestamp` as given, if any.
    pub timestamp: Option<String>,
    /// Usage, canonical units.
    pub usage: ResourceList,
}

/// The usage in one metrics dump.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsDump {
    /// PodMetrics items.
    pub pods: Vec<PodUsage>,
    /// NodeMetrics items.
    pub nodes: Vec<NodeUsage>,
}

/// What [`apply_metrics`] matched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsCoverage {
    /// Pods of the snapshot that got usage.
    pub pods_with_usage: u32,
    /// Non-terminal, bound pods of the snapshot without any metrics (their usage stays unknown).
    pub pods_without_usage: u32,
    /// Nodes of the snapshot that got usage.
    pub nodes_with_usage: u32,
    /// PodMetrics / NodeMetrics items naming objects that are not in the snapshot, as
    /// `pod ns/name` or `node name`, sorted, without repeats.
    pub unmatched: Vec<String>,
}

#[derive(Deserialize)]
struct RawMeta {
    name: Option<String>,
    namespace: Option<String>,
}

#[derive(Deserialize)]
struct RawContainer {
    name: Option<String>,
    #[serde(default)]
    usage: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct RawItem {
    kind: Option<String>,
    metadata: Option<RawMeta>,
    timestamp: Option<String>,
    window: Option<String>,
    #[serde(default)]
    usage: BTreeMap<String, Value>,
    containers: Option<Vec<RawContainer>>,
}

fn parse_usage(
    object: &str,
    prefix: &str,
    raw: &BTreeMap<String, Value>,
) -> Result<ResourceList, KubeError> {
    let mut out = ResourceList::new();
    for (resource, value) in raw {
        let field = format!("{prefix}.{resource}");
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => {
                return Err(KubeError::Field {
                    object: object.to_owned(),
                    field,
                    message: format!("expected a quantity, found {}", describe(other)),
                });
            }
        };
        let amount =
            quantity::parse(&text, unit_of(resource)).map_err(|error| KubeError::Quantity {
                object: object.to_owned(),
                field,
                value: text.clone(),
                error,
            })?;
        out.set(resource, amount);
    }
    Ok(out)
}

/// Reads one metrics dump: a `PodMetricsList`, a `NodeMetricsList`, or a `List` of
/// `PodMetrics` / `NodeMetrics` items (other items are skipped).
///
/// # Examples
/// ```
/// let dump = compactor_kube::metrics::read_metrics(r#"{"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1",
///   "items": [{"metadata": {"name": "web-1", "namespace": "shop"}, "timestamp": "2025-09-02T10:00:00Z", "window": "30s",
///              "containers": [{"name": "app", "usage": {"cpu": "249999999n", "memory": "524288Ki"}},
///                             {"name": "proxy", "usage": {"cpu": "1m", "memory": "16Mi"}}]}]}"#).unwrap();
/// assert_eq!(dump.pods[0].usage.get("cpu"), 251);          // 249.999999m rounds up to 250m, + 1m
/// assert_eq!(dump.pods[0].usage.get("memory"), 528 << 20); // 512 MiB + 16 MiB
/// ```
///
/// # Errors
/// - [`KubeError::Json`] when the text is not JSON;
/// - [`KubeError::Field`] with object `metrics` when it is not such a list, or when an item
///   has no name;
/// - [`KubeError::Item`] naming `items[i]` when an item does not have the expected shape;
/// - [`KubeError::Quantity`] naming `podmetrics ns/name: containers[j].usage.cpu` (or
///   `nodemetrics name: usage.memory`) for a quantity that does not parse.
///
/// # Complexity
/// O(len).
pub fn read_metrics(text: &str) -> Result<MetricsDump, KubeError> {
    let value: Value = serde_json::from_str(text).map_err(|e| KubeError::Json {
        message: e.to_string(),
    })?;
    let not_metrics = |found: String| KubeError::Field {
        object: "metrics".to_owned(),
        field: "kind".to_owned(),
        message: format!(
            "expected PodMetricsList or NodeMetricsList (the output of `kubectl get --raw \
             /apis/metrics.k8s.io/v1beta1/pods`), found {found}"
        ),
    };
    let Some(obj) = value.as_object() else {
        return Err(not_metrics(describe(&value).to_owned()));
    };
    let list_kind = match obj.get("kind") {
        Some(Value::String(k)) => k.as_str(),
        Some(other) => return Err(not_metrics(format!("a kind that is {}", describe(other)))),
        None => return Err(not_metrics("an object without a kind".to_owned())),
    };
    let item_kind = match list_kind {
        "PodMetricsList" => Some("PodMetrics"),
        "NodeMetricsList" => Some("NodeMetrics"),
        "List" => None,
        other => return Err(not_metrics(format!("kind {other:?}"))),
    };
    let items = match obj.get("items") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(other) => {
            return Err(KubeError::Field {
                object: format!("metrics {list_kind}"),
                field: "items".to_owned(),
                message: format!("expected an array, found {}", describe(other)),
            });
        }
    };
    let mut dump = MetricsDump::default();
    // Where each pod and node was seen, to refuse a second observation in one file.
    let mut seen: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    let mut once = |kind: &str, namespace: &str, name: &str, index: usize| match seen.insert(
        (kind.to_owned(), namespace.to_owned(), name.to_owned()),
        index,
    ) {
        Some(first) => Err(KubeError::Item {
            index,
            object: kind.to_owned(),
            message: format!(
                "{} is also items[{first}]: one file holds one observation per object",
                if namespace.is_empty() {
                    name.to_owned()
                } else {
                    format!("{namespace}/{name}")
                }
            ),
        }),
        None => Ok(()),
    };
    for (index, item) in items.into_iter().enumerate() {
        let raw: RawItem = serde_path_to_error::deserialize(item).map_err(|e| KubeError::Item {
            index,
            object: item_kind.unwrap_or("metrics item").to_owned(),
            message: format!("{}: {}", e.path(), e.inner()),
        })?;
        let Some(kind) = raw.kind.as_deref().or(item_kind) else {
            return Err(KubeError::Item {
                index,
                object: "metrics item".to_owned(),
                message: "has no kind".to_owned(),
            });
        };
        let meta = raw.metadata.as_ref();
        let name = meta.and_then(|m| m.name.clone()).filter(|n| !n.is_empty());
        match kind {
            "PodMetrics" => {
                let namespace = meta
                    .and_then(|m| m.namespace.clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
                let name = name.ok_or_else(|| KubeError::Field {
                    object: format!("podmetrics items[{index}] in namespace {namespace}"),
                    field: "metadata.name".to_owned(),
                    message: "missing or empty".to_owned(),
                })?;
                once("PodMetrics", &namespace, &name, index)?;
                let object = format!("podmetrics {namespace}/{name}");
                let mut usage = ResourceList::new();
                let mut containers = Vec::new();
                for (j, c) in raw.containers.unwrap_or_default().iter().enumerate() {
                    let list = parse_usage(&object, &format!("containers[{j}].usage"), &c.usage)?;
                    for (resource, amount) in list.iter() {
                        let total = usage.get(resource).checked_add(amount).ok_or_else(|| {
                            KubeError::Field {
                                object: object.clone(),
                                field: format!("containers[{j}].usage.{resource}"),
                                message: "sum over the containers is out of range".to_owned(),
                            }
                        })?;
                        usage.set(resource, total);
                    }
                    containers.push((c.name.clone().unwrap_or_default(), list));
                }
                dump.pods.push(PodUsage {
                    namespace,
                    name,
                    timestamp: raw.timestamp,
                    window: raw.window,
                    usage,
                    containers,
                });
            }
            "NodeMetrics" => {
                let name = name.ok_or_else(|| KubeError::Field {
                    object: format!("nodemetrics items[{index}]"),
                    field: "metadata.name".to_owned(),
                    message: "missing or empty".to_owned(),
                })?;
                once("NodeMetrics", "", &name, index)?;
                let usage = parse_usage(&format!("nodemetrics {name}"), "usage", &raw.usage)?;
                dump.nodes.push(NodeUsage {
                    name,
                    timestamp: raw.timestamp,
                    usage,
                });
            }
            other => {
                return Err(KubeError::Item {
                    index,
                    object: other.to_owned(),
                    message: format!(
                        "expected PodMetrics or NodeMetrics{}",
                        if matches!(other, "Node" | "Pod") {
                            " (a cluster dump? give it with --from)"
                        } else {
                            ""
                        }
                    ),
                });
            }
        }
    }
    Ok(dump)
}

/// Puts the usage of `dumps` (oldest first) into `spec`; see the [module documentation](self).
///
/// # Examples
/// ```
/// use compactor_kube::metrics::{apply_metrics, read_metrics};
/// let mut spec = compactor_kube::read_snapshot(r#"{"nodes": [{"name": "n1", "allocatable": {"cpu": "4", "memory": "16Gi"}}],
///   "pods": [{"namespace": "shop", "name": "web-1", "nodeName": "n1"}]}"#).unwrap();
/// let sample = |cpu: &str| read_metrics(&format!(r#"{{"kind": "PodMetricsList", "items": [
///   {{"metadata": {{"name": "web-1", "namespace": "shop"}}, "containers": [{{"name": "app", "usage": {{"cpu": "{cpu}"}}}}]}}]}}"#)).unwrap();
/// let coverage = apply_metrics(&mut spec, &[sample("100m"), sample("300m")]);
/// assert_eq!(coverage.pods_with_usage, 1);
/// assert_eq!(spec.pods[0].usage_samples.len(), 2);
/// assert_eq!(spec.pods[0].usage.as_ref().unwrap().get("cpu"), 300);
/// ```
///
/// # Complexity
/// O((P + N + M) log(P + N)) for M metrics items.
pub fn apply_metrics(spec: &mut SnapshotSpec, dumps: &[MetricsDump]) -> MetricsCoverage {
    let mut pod_samples: BTreeMap<(&str, &str), Vec<&ResourceList>> = BTreeMap::new();
    let mut node_usage: BTreeMap<&str, &ResourceList> = BTreeMap::new();
    for dump in dumps {
        // One observation per pod per dump (read_metrics refuses a repeated one).
        let mut this: BTreeMap<(&str, &str), &ResourceList> = BTreeMap::new();
        for p in &dump.pods {
            this.insert((p.namespace.as_str(), p.name.as_str()), &p.usage);
        }
        for (key, usage) in this {
            pod_samples.entry(key).or_default().push(usage);
        }
        for n in &dump.nodes {
            node_usage.insert(n.name.as_str(), &n.usage);
        }
    }
    let mut coverage = MetricsCoverage::default();
    let mut matched_pods = std::collections::BTreeSet::new();
    for pod in &mut spec.pods {
        match pod_samples.get(&(pod.namespace.as_str(), pod.name.as_str())) {
            Some(samples) => {
                matched_pods.insert((pod.namespace.clone(), pod.name.clone()));
                coverage.pods_with_usage += 1;
                pod.usage = samples.last().map(|u| (*u).clone());
                pod.usage_samples = if samples.len() > 1 {
                    samples.iter().map(|u| (*u).clone()).collect()
                } else {
                    Vec::new()
                };
            }
            None => {
                if pod.node_name.is_some() && !pod.phase.is_terminal() && pod.usage.is_none() {
                    coverage.pods_without_usage += 1;
                }
            }
        }
    }
    let mut matched_nodes = std::collections::BTreeSet::new();
    for node in &mut spec.nodes {
        if let Some(u) = node_usage.get(node.name.as_str()) {
            matched_nodes.insert(node.name.clone());
            coverage.nodes_with_usage += 1;
            node.usage = Some((*u).clone());
        }
    }
    let mut unmatched: std::collections::BTreeSet<String> = pod_samples
        .keys()
        .filter(|(ns, n)| !matched_pods.contains(&((*ns).to_owned(), (*n).to_owned())))
        .map(|(ns, n)| format!("pod {ns}/{n}"))
        .collect();
    unmatched.extend(
        node_usage
            .keys()
            .filter(|n| !matched_nodes.contains(**n))
            .map(|n| format!("node {n}")),
    );
    coverage.unmatched = unmatched.into_iter().collect();
    coverage
}

/// Reads a pricing file (JSON, the camelCase form of [`Pricing`]; see the
/// [module documentation](self)) and validates it.
///
/// # Examples
/// ```
/// let p = compactor_kube::metrics::read_pricing(r#"{"table": [{"instanceType": "m5.2xlarge", "hourly": 0.384}]}"#).unwrap();
/// assert_eq!(p.table[0].hourly, 0.384);
/// assert_eq!(p.cpu_month, 30.0); // default rates stay
/// let err = compactor_kube::metrics::read_pricing(r#"{"table": [{"instanceType": "x", "hourly": "cheap"}]}"#).unwrap_err();
/// assert!(err.to_string().starts_with("pricing: table[0].hourly: invalid type"), "{err}");
/// ```
///
/// # Errors
/// - [`KubeError::Json`] when the text is not JSON;
/// - [`KubeError::Field`] with object `pricing`, naming the field path (`table[2].hourly`),
///   for a value of the wrong type, an unknown field (a typo is an error), or a price that is
///   negative or not finite.
///
/// # Complexity
/// O(len).
pub fn read_pricing(text: &str) -> Result<Pricing, KubeError> {
    expect_object(text, "pricing", "a price table, {\"table\": [...]}")?;
    let pricing: Pricing = decode(text, "pricing")?;
    pricing.validate().map_err(|e| match e {
        compactor_core::CoreError::InvalidOption { field, message } => KubeError::Field {
            object: "pricing".to_owned(),
            field: field.strip_prefix("pricing.").unwrap_or(&field).to_owned(),
            message,
        },
        other => KubeError::Field {
            object: "pricing".to_owned(),
            field: ".".to_owned(),
            message: other.to_string(),
        },
    })?;
    Ok(pricing)
}

/// Refuses `text` unless it is a JSON object: serde reads a struct from an array too, so
/// `[]` would otherwise pass as an empty price table or traffic file.
fn expect_object(text: &str, object: &str, expected: &str) -> Result<(), KubeError> {
    if text.trim_start().starts_with('{') {
        return Ok(());
    }
    let value: Value = serde_json::from_str(text).map_err(|e| KubeError::Json {
        message: e.to_string(),
    })?;
    Err(KubeError::Field {
        object: object.to_owned(),
        field: ".".to_owned(),
        message: format!("expected {expected}, found {}", describe(&value)),
    })
}

/// Reads a traffic file (see docs/traffic-format.md): `{"edges": [{"from": {"pod": …} or
/// {"workload": …}, "to": …, "bytesPerSecond": …}]}`. References and rates are checked
/// against the snapshot when the plan is made.
///
/// # Examples
/// ```
/// let t = compactor_kube::metrics::read_traffic(r#"{"edges": [{"from": {"pod": "shop/web-1"},
///   "to": {"workload": "shop/Deployment/db"}, "bytesPerSecond": 1200}]}"#).unwrap();
/// assert_eq!(t.edges.len(), 1);
/// let err = compactor_kube::metrics::read_traffic(r#"{"edges": [{"from": {"pod": "a/b", "workload": "a/Deployment/b"},
///   "to": {"pod": "a/c"}, "bytesPerSecond": 1}]}"#).unwrap_err();
/// assert!(err.to_string().starts_with("traffic: edges[0].from: "), "{err}");
/// assert!(compactor_kube::metrics::read_traffic("[]").is_err());
/// ```
///
/// # Errors
/// - [`KubeError::Json`] when the text is not JSON;
/// - [`KubeError::Field`] with object `traffic`, naming the field path, for anything but an
///   object, a value of the wrong type, an unknown field, or an endpoint that names both a
///   pod and a workload.
///
/// # Complexity
/// O(len).
pub fn read_traffic(text: &str) -> Result<compactor_core::traffic::TrafficSpec, KubeError> {
    expect_object(text, "traffic", "a traffic file, {\"edges\": [...]}")?;
    decode(text, "traffic")
}

/// Deserializes one JSON document; errors name `object` and the field path.
fn decode<T: serde::de::DeserializeOwned>(text: &str, object: &str) -> Result<T, KubeError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // A structure serde cannot take is reported as a syntax error too: only text that is
        // not JSON at all is a JSON error.
        let not_json = (inner.is_syntax() || inner.is_eof())
            && serde_json::from_str::<serde::de::IgnoredAny>(text).is_err();
        if not_json {
            KubeError::Json {
                message: inner.to_string(),
            }
        } else {
            KubeError::Field {
                object: object.to_owned(),
                field: path,
                message: inner.to_string(),
            }
        }
    })?;
    de.end().map_err(|e| KubeError::Json {
        message: e.to_string(),
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use compactor_core::model::{NodeSpec, PodSpec};

    const GI: u64 = 1 << 30;

    #[test]
    fn nanocores_and_kibibytes_are_exact_and_round_up() {
        let dump = read_metrics(
            r#"{"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {},
                "items": [{"metadata": {"name": "p", "namespace": "d", "creationTimestamp": "2025-09-02T10:00:00Z"},
                           "timestamp": "2025-09-02T10:00:00Z", "window": "30s",
                           "containers": [{"name": "a", "usage": {"cpu": "1000001n", "memory": "1048576Ki"}},
                                          {"name": "b", "usage": {"cpu": "0", "memory": "1Gi"}}]}]}"#,
        )
        .unwrap();
        let p = &dump.pods[0];
        assert_eq!(p.usage.get("cpu"), 2); // 1.000001m → 2m
        assert_eq!(p.usage.get("memory"), 2 * GI);
        assert_eq!(p.window.as_deref(), Some("30s"));
        assert_eq!(p.containers.len(), 2);
        assert_eq!(p.containers[0].1.get("cpu"), 2);
    }

    #[test]
    fn node_metrics_and_lists() {
        let dump = read_metrics(
            r#"{"kind": "NodeMetricsList", "items": [{"metadata": {"name": "n1"}, "usage": {"cpu": "1500000000n", "memory": "3670016Ki"}}]}"#,
        )
        .unwrap();
        assert_eq!(dump.nodes[0].usage.get("cpu"), 1500);
        assert_eq!(dump.nodes[0].usage.get("memory"), 3670016 * 1024);
        let dump = read_metrics(
            r#"{"kind": "List", "items": [
                {"kind": "NodeMetrics", "metadata": {"name": "n1"}, "usage": {"cpu": "1"}},
                {"kind": "PodMetrics", "metadata": {"name": "p"}, "containers": []}]}"#,
        )
        .unwrap();
        assert_eq!(dump.nodes.len(), 1);
        assert_eq!(dump.pods[0].namespace, "default");
        assert!(dump.pods[0].usage.is_empty());
    }

    #[test]
    fn wrong_files_and_repeated_objects_are_refused() {
        let err = |t: &str| read_metrics(t).unwrap_err().to_string();
        assert_eq!(
            err(r#"{"kind": "List", "items": [{"kind": "Node", "metadata": {"name": "n1"}}]}"#),
            "items[0] (Node): expected PodMetrics or NodeMetrics (a cluster dump? give it with --from)"
        );
        assert_eq!(
            err(r#"{"kind": "List", "items": [{"kind": "ConfigMap", "metadata": {"name": "x"}}]}"#),
            "items[0] (ConfigMap): expected PodMetrics or NodeMetrics"
        );
        assert_eq!(
            err(r#"{"kind": "PodMetricsList", "items": [
                {"metadata": {"name": "p", "namespace": "d"}, "containers": []},
                {"metadata": {"name": "p", "namespace": "d"}, "containers": []}]}"#),
            "items[1] (PodMetrics): d/p is also items[0]: one file holds one observation per object"
        );
        assert!(err("[]").contains("found an array"));
        assert!(
            read_pricing("[]")
                .unwrap_err()
                .to_string()
                .contains("expected a price table")
        );
        let twice = r#"{"table": [{"instanceType": "m5", "hourly": 1}, {"instanceType": "m5", "hourly": 2}]}"#;
        assert_eq!(
            read_pricing(twice).unwrap_err().to_string(),
            "pricing: table[1]: repeats table[0]: both price instance type m5"
        );
        assert!(
            read_pricing(r#"{"table": [{"instanceType": "m5", "hourly": 1.7e308}]}"#)
                .unwrap_err()
                .to_string()
                .contains("over the largest price accepted")
        );
    }

    #[test]
    fn errors_name_object_and_field() {
        let err = |t: &str| read_metrics(t).unwrap_err().to_string();
        assert_eq!(
            err(
                r#"{"kind": "PodMetricsList", "items": [{"metadata": {"name": "p", "namespace": "d"},
                "containers": [{"name": "a", "usage": {"cpu": "1m"}}, {"name": "b", "usage": {"memory": "12XB"}}]}]}"#
            ),
            "podmetrics d/p: containers[1].usage.memory: invalid quantity \"12XB\": unknown suffix \"XB\" in \"12XB\" (expected one of n u m k M G T P E Ki Mi Gi Ti Pi Ei or an exponent such as e3)"
        );
        assert_eq!(
            err(
                r#"{"kind": "NodeMetricsList", "items": [{"metadata": {"name": "n"}, "usage": {"cpu": true}}]}"#
            ),
            "nodemetrics n: usage.cpu: expected a quantity, found a boolean"
        );
        assert!(
            err(r#"{"kind": "PodList", "items": []}"#)
                .starts_with("metrics: kind: expected PodMetricsList or NodeMetricsList"),
        );
        assert!(err("[]").contains("found an array"));
        assert!(err("{").starts_with("input is not valid json"));
        assert_eq!(
            err(r#"{"kind": "PodMetricsList", "items": [{"metadata": {"namespace": "d"}}]}"#),
            "podmetrics items[0] in namespace d: metadata.name: missing or empty"
        );
        assert!(
            err(r#"{"kind": "PodMetricsList", "items": [{"metadata": {"name": "p"}, "containers": {}}]}"#)
                .starts_with("items[0] (PodMetrics): containers: invalid type: map"),
        );
    }

    fn spec() -> SnapshotSpec {
        let pod = |name: &str| PodSpec {
            namespace: "d".into(),
            name: name.into(),
            node_name: Some("n1".into()),
            ..Default::default()
        };
        SnapshotSpec {
            nodes: vec![NodeSpec {
                name: "n1".into(),
                allocatable: ResourceList::new()
                    .with("cpu", 4000)
                    .with("memory", 16 * GI),
                ready: true,
                ..Default::default()
            }],
            pods: vec![pod("a"), pod("b"), pod("c")],
            pdbs: vec![],
            ..Default::default()
        }
    }

    fn dump(pods: &[(&str, u64)], nodes: &[(&str, u64)]) -> MetricsDump {
        MetricsDump {
            pods: pods
                .iter()
                .map(|(n, cpu)| PodUsage {
                    namespace: "d".into(),
                    name: (*n).into(),
                    timestamp: None,
                    window: None,
                    usage: ResourceList::new().with("cpu", *cpu),
                    containers: vec![],
                })
                .collect(),
            nodes: nodes
                .iter()
                .map(|(n, cpu)| NodeUsage {
                    name: (*n).into(),
                    timestamp: None,
                    usage: ResourceList::new().with("cpu", *cpu),
                })
                .collect(),
        }
    }

    #[test]
    fn samples_accumulate_oldest_first() {
        let mut s = spec();
        let cov = apply_metrics(
            &mut s,
            &[
                dump(&[("a", 10), ("b", 5), ("ghost", 1)], &[("n1", 100)]),
                dump(&[("a", 30)], &[("n1", 200), ("gone", 1)]),
            ],
        );
        assert_eq!(
            cov,
            MetricsCoverage {
                pods_with_usage: 2,
                pods_without_usage: 1,
                nodes_with_usage: 1,
                unmatched: vec!["node gone".into(), "pod d/ghost".into()],
            }
        );
        let a = &s.pods[0];
        assert_eq!(a.usage.as_ref().unwrap().get("cpu"), 30);
        assert_eq!(
            a.usage_samples
                .iter()
                .map(|u| u.get("cpu"))
                .collect::<Vec<_>>(),
            [10, 30]
        );
        // One observation: usage only, no history.
        assert_eq!(s.pods[1].usage.as_ref().unwrap().get("cpu"), 5);
        assert!(s.pods[1].usage_samples.is_empty());
        assert_eq!(s.pods[2].usage, None);
        assert_eq!(s.nodes[0].usage.as_ref().unwrap().get("cpu"), 200);
    }

    #[test]
    fn pricing_file() {
        let p = read_pricing(
            r#"{"table": [{"instanceType": "m5.2xlarge", "zone": "a", "capacityType": "spot", "hourly": 0.15}], "cpuMonth": 20}"#,
        )
        .unwrap();
        assert_eq!(p.table[0].zone.as_deref(), Some("a"));
        assert_eq!((p.cpu_month, p.gib_month), (20.0, 4.0));
        let err = |t: &str| read_pricing(t).unwrap_err().to_string();
        assert!(
            err(r#"{"table": [{"instanceType": "x", "hourly": 1, "region": "eu"}]}"#)
                .starts_with("pricing: table[0].region: unknown field `region`"),
            "{}",
            err(r#"{"table": [{"instanceType": "x", "hourly": 1, "region": "eu"}]}"#)
        );
        assert_eq!(
            err(r#"{"table": [{"instanceType": "x", "hourly": -1}]}"#),
            "pricing: table[0] (x).hourly: -1 is not a finite, non-negative price"
        );
        assert!(err("{").starts_with("input is not valid json"));
        assert!(err(r#"{"table": []} x"#).starts_with("input is not valid json"));
    }
}
