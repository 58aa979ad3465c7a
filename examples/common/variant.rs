//! Variants of a kubectl dump, so that plans are judged on more than the files at hand: a
//! seeded sample of its nodes (with their pods) and a seeded share of its workload pods,
//! budget statuses recomputed for what is left.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};
use compactor_core::model::LabelSelector;
use compactor_core::testing::Rng;
use serde_json::Value;

/// How to derive a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// Keep this many nodes (a seeded sample), or all.
    pub nodes: Option<usize>,
    /// Keep this percentage of the pods that are not DaemonSet pods (a seeded draw).
    pub pods_percent: u64,
    /// Seed of both draws.
    pub seed: u64,
}

impl Variant {
    /// A short suffix naming the variant (`~n400-p80-s1`), empty for the dump itself.
    pub fn suffix(&self) -> String {
        if self.nodes.is_none() && self.pods_percent == 100 {
            return String::new();
        }
        let mut s = String::from("~");
        if let Some(n) = self.nodes {
            s.push_str(&format!("n{n}-"));
        }
        if self.pods_percent != 100 {
            s.push_str(&format!("p{}-", self.pods_percent));
        }
        s.push_str(&format!("s{}", self.seed));
        s
    }
}

/// The names of the nodes a sample keeps: `n` of `names` (sorted), by a seeded shuffle.
pub fn sample_nodes(mut names: Vec<String>, n: usize, seed: u64) -> BTreeSet<String> {
    names.sort();
    let mut rng = Rng::new(seed);
    for i in (1..names.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        names.swap(i, j);
    }
    names.into_iter().take(n).collect()
}

fn name(item: &Value) -> &str {
    item["metadata"]["name"].as_str().unwrap_or("")
}

fn is_daemon_pod(pod: &Value) -> bool {
    pod["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|o| o.iter().any(|r| r["kind"] == "DaemonSet"))
}

/// The budget selector `selector` as the core reads it (matchLabels and matchExpressions);
/// `None` for a null selector (it selects no pod) or one the core cannot read.
fn selector(selector: &Value) -> Option<LabelSelector> {
    if selector.is_null() {
        return None;
    }
    serde_json::from_value(selector.clone()).ok()
}

/// A pod's labels as the core's selectors take them (values that are not strings: none).
fn labels(pod: &Value) -> BTreeMap<String, String> {
    pod["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// `value` (an integer or a percentage string) of `total`, percentages rounded up as the
/// disruption controller does.
fn scaled(value: &Value, total: i64) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => {
            let pct: i64 = s.strip_suffix('%')?.parse().ok()?;
            Some((pct * total + 99) / 100)
        }
        _ => None,
    }
}

/// The variant of the kubectl List `dump`: nodes sampled, pods on dropped nodes and a
/// share of the others dropped, CSINodes of dropped nodes dropped, and every budget's
/// `disruptionsAllowed` recomputed from the Ready pods it still selects (a budget whose
/// selector or spec this cannot read allows none: in doubt, nothing is evicted under it).
///
/// # Errors
/// When `dump` is not a List with items.
pub fn derive(dump: &Value, variant: &Variant) -> Result<Value> {
    if variant.suffix().is_empty() {
        return Ok(dump.clone());
    }
    let items = dump["items"].as_array().context("not a kubectl List")?;
    let node_names: Vec<String> = items
        .iter()
        .filter(|i| i["kind"] == "Node")
        .map(|n| name(n).to_owned())
        .collect();
    if let Some(n) = variant.nodes
        && (n == 0 || n > node_names.len())
    {
        bail!(
            "--sample {n}: the dump has {} nodes; pick 1 to {0}",
            node_names.len()
        );
    }
    let kept = match variant.nodes {
        Some(n) => sample_nodes(node_names.clone(), n, variant.seed),
        None => node_names.into_iter().collect(),
    };
    let mut rng = Rng::new(variant.seed.wrapping_add(0x5eed));
    let mut out = Vec::new();
    for item in items {
        let keep = match item["kind"].as_str() {
            Some("Node") | Some("CSINode") => kept.contains(name(item)),
            Some("Pod") => {
                let node = item["spec"]["nodeName"].as_str();
                let on_kept = node.is_none_or(|n| kept.contains(n));
                // Draw for every pod, so the share kept does not depend on the sample.
                let drawn = rng.below(100) < variant.pods_percent;
                on_kept && (is_daemon_pod(item) || drawn)
            }
            _ => true,
        };
        if keep {
            out.push(item.clone());
        }
    }
    // Budgets: healthy pods now selected, against what the spec asks.
    let mut ready_by_ns: BTreeMap<&str, Vec<BTreeMap<String, String>>> = BTreeMap::new();
    for pod in out.iter().filter(|i| i["kind"] == "Pod") {
        let ready = pod["status"]["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        });
        if ready {
            ready_by_ns
                .entry(pod["metadata"]["namespace"].as_str().unwrap_or("default"))
                .or_default()
                .push(labels(pod));
        }
    }
    let mut statuses = Vec::new();
    for (k, pdb) in out.iter().enumerate() {
        if pdb["kind"] != "PodDisruptionBudget" {
            continue;
        }
        let ns = pdb["metadata"]["namespace"].as_str().unwrap_or("default");
        let spec = &pdb["spec"];
        let healthy: Option<i64> = selector(&spec["selector"]).map(|sel| {
            ready_by_ns.get(ns).map_or(0, |pods| {
                pods.iter().filter(|l| sel.matches(l)).count() as i64
            })
        });
        let allowed = healthy.and_then(|healthy| {
            let desired = match (spec.get("minAvailable"), spec.get("maxUnavailable")) {
                (Some(min), None) => scaled(min, healthy)?,
                (None, Some(max)) => healthy - scaled(max, healthy)?,
                _ => return None,
            };
            Some((healthy - desired).max(0))
        });
        statuses.push((k, allowed.unwrap_or(0), healthy.unwrap_or(0)));
    }
    for (k, allowed, healthy) in statuses {
        let status = &mut out[k]["status"];
        status["disruptionsAllowed"] = allowed.into();
        status["currentHealthy"] = healthy.into();
        status["expectedPods"] = healthy.into();
        status["desiredHealthy"] = (healthy - allowed).into();
    }
    let mut list = dump.clone();
    list["items"] = Value::Array(out);
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dump() -> Value {
        let node = |n: &str| json!({"kind": "Node", "metadata": {"name": n}});
        let pod = |n: &str, on: &str, app: &str| {
            json!({"kind": "Pod", "metadata": {"name": n, "namespace": "a", "labels": {"app": app}},
                   "spec": {"nodeName": on},
                   "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
        };
        json!({"kind": "List", "items": [
            node("n1"), node("n2"), node("n3"),
            pod("w1", "n1", "w"), pod("w2", "n2", "w"), pod("w3", "n3", "w"), pod("x1", "n1", "x"),
            {"kind": "PodDisruptionBudget", "metadata": {"name": "w", "namespace": "a"},
             "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "w"}}},
             "status": {"disruptionsAllowed": 1}},
            {"kind": "PodDisruptionBudget", "metadata": {"name": "x", "namespace": "a"},
             "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "x"}}},
             "status": {"disruptionsAllowed": 0}}
        ]})
    }

    /// The status of budget `name` in `list`.
    fn status(list: &Value, name: &str) -> Value {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == "PodDisruptionBudget" && super::name(i) == name)
            .unwrap()["status"]
            .clone()
    }

    fn count(list: &Value, kind: &str) -> usize {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == kind)
            .count()
    }

    #[test]
    fn samples_nodes_with_their_pods_and_recomputes_budgets() {
        let v = Variant {
            nodes: Some(2),
            pods_percent: 100,
            seed: 7,
        };
        let out = derive(&dump(), &v).unwrap();
        assert_eq!(count(&out, "Node"), 2);
        let nodes: BTreeSet<&str> = out["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == "Node")
            .map(name)
            .collect();
        for pod in out["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == "Pod")
        {
            assert!(nodes.contains(pod["spec"]["nodeName"].as_str().unwrap()));
        }
        // Same seed, same variant.
        assert_eq!(derive(&dump(), &v).unwrap(), out);
        // maxUnavailable 1 of the w pods left; minAvailable 50 % of the x pods left.
        let w = count(&out, "Pod") - usize::from(nodes.contains("n1"));
        assert_eq!(status(&out, "w")["currentHealthy"], w);
        assert_eq!(status(&out, "w")["disruptionsAllowed"], 1.min(w));
        let x = usize::from(nodes.contains("n1"));
        // 50 % of one pod rounds up to one: nothing may go.
        assert_eq!(status(&out, "x")["disruptionsAllowed"], 0);
        assert_eq!(status(&out, "x")["currentHealthy"], x);
    }

    #[test]
    fn budgets_use_set_based_selectors_and_a_null_selector_selects_nothing() {
        let mut list = dump();
        let items = list["items"].as_array_mut().unwrap();
        items.push(
            json!({"kind": "PodDisruptionBudget", "metadata": {"name": "e", "namespace": "a"},
            "spec": {"maxUnavailable": 2, "selector": {"matchExpressions":
                [{"key": "app", "operator": "In", "values": ["w", "x"]}]}}}),
        );
        items.push(
            json!({"kind": "PodDisruptionBudget", "metadata": {"name": "n", "namespace": "a"},
            "spec": {"maxUnavailable": 1, "selector": null}}),
        );
        // Every node kept: a variant, but every pod stays.
        let v = Variant {
            nodes: Some(3),
            pods_percent: 100,
            seed: 1,
        };
        let out = derive(&list, &v).unwrap();
        assert_eq!(status(&out, "e")["currentHealthy"], 4);
        assert_eq!(status(&out, "e")["disruptionsAllowed"], 2);
        assert_eq!(status(&out, "n")["currentHealthy"], 0);
        assert_eq!(status(&out, "n")["disruptionsAllowed"], 0);
    }

    #[test]
    fn drops_a_share_of_pods_and_refuses_impossible_samples() {
        let none = Variant {
            nodes: None,
            pods_percent: 0,
            seed: 1,
        };
        assert_eq!(count(&derive(&dump(), &none).unwrap(), "Pod"), 0);
        assert_eq!(none.suffix(), "~p0-s1");
        let all = Variant {
            nodes: None,
            pods_percent: 100,
            seed: 1,
        };
        assert_eq!(derive(&dump(), &all).unwrap(), dump());
        assert_eq!(all.suffix(), "");
        let err = derive(
            &dump(),
            &Variant {
                nodes: Some(4),
                ..all
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("the dump has 3 nodes"), "{err}");
    }
}
