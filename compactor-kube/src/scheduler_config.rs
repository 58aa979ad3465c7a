//! A real `KubeSchedulerConfiguration` (`kubescheduler.config.k8s.io/v1`, the file given to
//! `kube-scheduler --config`) read into the core's [`SchedulerConfig`].
//!
//! Modelled, per profile (each pod by its `schedulerName`):
//! - `percentageOfNodesToScore`, global and per profile;
//! - score plugins enabled, disabled and weighted through `plugins.multiPoint` and
//!   `plugins.score`, merged with the defaults as kube-scheduler v1.34 merges them (a plugin
//!   re-enabled under `score` takes that weight; a weight of 0 counts as 1);
//! - `NodeResourcesFit` `scoringStrategy`: `LeastAllocated`, `MostAllocated`,
//!   `RequestedToCapacityRatio` with its `shape`, and the `resources` with their weights;
//! - `NodeResourcesBalancedAllocation` `resources`;
//! - `InterPodAffinity` `hardPodAffinityWeight` and `ignorePreferredTermsOfExistingPods`.
//!
//! Refused with an error naming the field, because the prediction would silently differ
//! from the real scheduler (in doubt, no plan): `extenders`; out-of-tree or non-default
//! plugins; disabling a plugin that also filters (TaintToleration, NodeAffinity,
//! NodeResourcesFit, PodTopologySpread, InterPodAffinity, …) anywhere but under `score`;
//! changes to the other extension points (except disabling `DefaultPreemption` under
//! `postFilter`); `NodeResourcesFit` `ignoredResources` / `ignoredResourceGroups`;
//! `PodTopologySpread` `defaultingType: List`; `NodeAffinity` `addedAffinity`. Fields that do
//! not change where a pod lands (`leaderElection`, `clientConnection`, back-off times,
//! `DefaultPreemption` and `VolumeBinding` arguments, …) are accepted and ignored. Unknown
//! fields are errors, as kube-scheduler's strict decoding makes them.

use std::collections::BTreeMap;

use compactor_core::plan::{
    DEFAULT_SCHEDULER, FitStrategy, ResourceWeight, SchedulerConfig, SchedulerProfile,
    ScoreWeights, ShapePoint,
};
use serde::Deserialize;
use serde_json::Value;

use crate::KubeError;

const OBJECT: &str = "KubeSchedulerConfiguration";
const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";

/// kube-scheduler v1.34's default `multiPoint` plugins with their weights (0: none given).
const DEFAULT_PLUGINS: [(&str, i32); 18] = [
    ("SchedulingGates", 0),
    ("PrioritySort", 0),
    ("NodeUnschedulable", 0),
    ("NodeName", 0),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodePorts", 0),
    ("NodeResourcesFit", 1),
    ("VolumeRestrictions", 0),
    ("NodeVolumeLimits", 0),
    ("VolumeBinding", 0),
    ("VolumeZone", 0),
    ("PodTopologySpread", 2),
    ("InterPodAffinity", 2),
    ("DefaultPreemption", 0),
    ("NodeResourcesBalancedAllocation", 1),
    ("ImageLocality", 1),
    ("DefaultBinder", 0),
];

/// Default plugins that only score (or only preempt): disabling them everywhere changes no
/// filter.
const DISABLE_ANYWHERE: [&str; 3] = [
    "NodeResourcesBalancedAllocation",
    "ImageLocality",
    "DefaultPreemption",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Raw {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    percentage_of_nodes_to_score: Option<i64>,
    #[serde(default)]
    profiles: Vec<RawProfile>,
    #[serde(default)]
    extenders: Vec<Value>,
    // Accepted, no effect on where pods land.
    #[serde(default, rename = "parallelism")]
    _parallelism: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "leaderElection")]
    _leader_election: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "clientConnection")]
    _client_connection: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "enableProfiling")]
    _enable_profiling: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "enableContentionProfiling")]
    _enable_contention_profiling: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "podInitialBackoffSeconds")]
    _pod_initial_backoff_seconds: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "podMaxBackoffSeconds")]
    _pod_max_backoff_seconds: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "delayCacheUntilActive")]
    _delay_cache_until_active: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawProfile {
    scheduler_name: Option<String>,
    percentage_of_nodes_to_score: Option<i64>,
    #[serde(default)]
    plugins: Option<RawPlugins>,
    #[serde(default)]
    plugin_config: Vec<RawPluginConfig>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawPlugins {
    #[serde(default)]
    multi_point: RawPluginSet,
    #[serde(default)]
    score: RawPluginSet,
    #[serde(default)]
    pre_enqueue: RawPluginSet,
    #[serde(default)]
    queue_sort: RawPluginSet,
    #[serde(default)]
    pre_filter: RawPluginSet,
    #[serde(default)]
    filter: RawPluginSet,
    #[serde(default)]
    post_filter: RawPluginSet,
    #[serde(default)]
    pre_score: RawPluginSet,
    #[serde(default)]
    reserve: RawPluginSet,
    #[serde(default)]
    permit: RawPluginSet,
    #[serde(default)]
    pre_bind: RawPluginSet,
    #[serde(default)]
    bind: RawPluginSet,
    #[serde(default)]
    post_bind: RawPluginSet,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPluginSet {
    #[serde(default)]
    enabled: Vec<RawPlugin>,
    #[serde(default)]
    disabled: Vec<RawPlugin>,
}

impl RawPluginSet {
    fn is_empty(&self) -> bool {
        self.enabled.is_empty() && self.disabled.is_empty()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlugin {
    name: String,
    #[serde(default)]
    weight: Option<i32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPluginConfig {
    name: String,
    #[serde(default)]
    args: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FitArgs {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    ignored_resources: Vec<String>,
    #[serde(default)]
    ignored_resource_groups: Vec<String>,
    scoring_strategy: Option<RawStrategy>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawStrategy {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    resources: Vec<RawResource>,
    requested_to_capacity_ratio: Option<RawRatio>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResource {
    name: String,
    #[serde(default)]
    weight: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRatio {
    #[serde(default)]
    shape: Vec<ShapePoint>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BalancedArgs {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    resources: Vec<RawResource>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InterPodArgs {
    api_version: Option<String>,
    kind: Option<String>,
    hard_pod_affinity_weight: Option<i64>,
    #[serde(default)]
    ignore_preferred_terms_of_existing_pods: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SpreadArgs {
    api_version: Option<String>,
    kind: Option<String>,
    defaulting_type: Option<String>,
    #[serde(default)]
    default_constraints: Vec<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NodeAffinityArgs {
    api_version: Option<String>,
    kind: Option<String>,
    added_affinity: Option<Value>,
}

fn field(field: impl Into<String>, message: impl Into<String>) -> KubeError {
    KubeError::Field {
        object: OBJECT.into(),
        field: field.into(),
        message: message.into(),
    }
}

fn decode<T: serde::de::DeserializeOwned>(value: &Value, at: &str) -> Result<T, KubeError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." || path.is_empty() {
            at.to_owned()
        } else if at.is_empty() {
            path
        } else {
            format!("{at}.{path}")
        };
        field(path, e.inner().to_string())
    })
}

fn percentage(value: Option<i64>, at: &str) -> Result<Option<u32>, KubeError> {
    value
        .map(|p| {
            u32::try_from(p)
                .ok()
                .filter(|p| *p <= 100)
                .ok_or_else(|| field(at, format!("{p} is not in 0–100")))
        })
        .transpose()
}

/// Reads a `KubeSchedulerConfiguration` (as JSON; YAML read into a [`serde_json::Value`]
/// first) into the core's [`SchedulerConfig`].
///
/// # Example
/// ```
/// let yaml = serde_json::json!({
///     "apiVersion": "kubescheduler.config.k8s.io/v1",
///     "kind": "KubeSchedulerConfiguration",
///     "profiles": [{"schedulerName": "default-scheduler",
///         "pluginConfig": [{"name": "NodeResourcesFit",
///             "args": {"scoringStrategy": {"type": "MostAllocated"}}}]}]});
/// let config = compactor_kube::scheduler_config(&yaml).unwrap();
/// let p = config.profile("default-scheduler").unwrap();
/// assert_eq!(p.fit.strategy, compactor_core::plan::FitStrategy::MostAllocated);
/// ```
///
/// # Errors
/// [`KubeError::Field`] naming the field: another `apiVersion` or `kind`, an unknown field, a
/// value out of kube-scheduler's range, or a setting the prediction does not model (see the
/// module documentation).
///
/// # Complexity
/// O(size of the configuration).
pub fn scheduler_config(value: &Value) -> Result<SchedulerConfig, KubeError> {
    let raw: Raw = decode(value, "")?;
    if raw.api_version.as_deref() != Some(API_VERSION) {
        return Err(field(
            "apiVersion",
            format!(
                "expected {API_VERSION}, got {}",
                raw.api_version
                    .as_deref()
                    .map_or("none".into(), |v| format!("{v:?}"))
            ),
        ));
    }
    if raw.kind.as_deref() != Some(OBJECT) {
        return Err(field(
            "kind",
            format!(
                "expected {OBJECT}, got {}",
                raw.kind
                    .as_deref()
                    .map_or("none".into(), |v| format!("{v:?}"))
            ),
        ));
    }
    if !raw.extenders.is_empty() {
        return Err(field(
            "extenders",
            "scheduler extenders are not modelled: their filters and scores are unknown",
        ));
    }
    let global = percentage(raw.percentage_of_nodes_to_score, "percentageOfNodesToScore")?;
    let mut profiles = Vec::new();
    if raw.profiles.is_empty() {
        profiles.push(SchedulerProfile::default());
    }
    for (i, p) in raw.profiles.iter().enumerate() {
        profiles.push(profile(p, &format!("profiles[{i}]"))?);
    }
    let config = SchedulerConfig::default()
        .with_percentage_of_nodes_to_score(global.unwrap_or(0))
        .with_profiles(profiles);
    config
        .validate()
        .map_err(|e| field("profiles", e.to_string()))?;
    Ok(config)
}

fn profile(raw: &RawProfile, at: &str) -> Result<SchedulerProfile, KubeError> {
    let name = raw
        .scheduler_name
        .clone()
        .unwrap_or_else(|| DEFAULT_SCHEDULER.into());
    let mut p = SchedulerProfile::named(&name);
    p.percentage_of_nodes_to_score = percentage(
        raw.percentage_of_nodes_to_score,
        &format!("{at}.percentageOfNodesToScore"),
    )?;
    let empty = RawPlugins::default();
    let plugins = raw.plugins.as_ref().unwrap_or(&empty);
    p.weights = weights(plugins, &format!("{at}.plugins"))?;
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (k, c) in raw.plugin_config.iter().enumerate() {
        let here = format!("{at}.pluginConfig[{k}]");
        if let Some(first) = seen.insert(&c.name, k) {
            return Err(field(
                format!("{here}.name"),
                format!(
                    "{} is configured twice (also pluginConfig[{first}])",
                    c.name
                ),
            ));
        }
        let args = c.args.clone().unwrap_or(Value::Object(Default::default()));
        let args_at = format!("{here}.args");
        plugin_args(&mut p, &c.name, &args, &args_at)?;
    }
    Ok(p)
}

fn plugin_args(
    p: &mut SchedulerProfile,
    name: &str,
    args: &Value,
    at: &str,
) -> Result<(), KubeError> {
    match name {
        "NodeResourcesFit" => {
            let a: FitArgs = decode(args, at)?;
            let _ = (a.api_version, a.kind);
            if !a.ignored_resources.is_empty() || !a.ignored_resource_groups.is_empty() {
                return Err(field(
                    format!("{at}.ignoredResources"),
                    "ignored resources change which pods fit where, which is not modelled",
                ));
            }
            if let Some(s) = a.scoring_strategy {
                let at = format!("{at}.scoringStrategy");
                p.fit.strategy = match s.kind.as_deref() {
                    Some("LeastAllocated") => FitStrategy::LeastAllocated,
                    Some("MostAllocated") => FitStrategy::MostAllocated,
                    Some("RequestedToCapacityRatio") => {
                        let shape = s.requested_to_capacity_ratio.map(|r| r.shape);
                        match shape {
                            Some(shape) if !shape.is_empty() => {
                                FitStrategy::RequestedToCapacityRatio { shape }
                            }
                            _ => {
                                return Err(field(
                                    format!("{at}.requestedToCapacityRatio.shape"),
                                    "at least one point is needed for RequestedToCapacityRatio",
                                ));
                            }
                        }
                    }
                    other => {
                        return Err(field(
                            format!("{at}.type"),
                            format!(
                                "{} is not LeastAllocated, MostAllocated or RequestedToCapacityRatio",
                                other.map_or("none".into(), |o| format!("{o:?}"))
                            ),
                        ));
                    }
                };
                if !s.resources.is_empty() {
                    p.fit.resources = s
                        .resources
                        .into_iter()
                        .map(|r| ResourceWeight {
                            weight: if r.weight == 0 { 1 } else { r.weight },
                            name: r.name,
                        })
                        .collect();
                }
            }
        }
        "NodeResourcesBalancedAllocation" => {
            let a: BalancedArgs = decode(args, at)?;
            let _ = (a.api_version, a.kind);
            if !a.resources.is_empty() {
                for (k, r) in a.resources.iter().enumerate() {
                    if r.weight != 0 && r.weight != 1 {
                        return Err(field(
                            format!("{at}.resources[{k}].weight"),
                            format!("{} must be 1", r.weight),
                        ));
                    }
                }
                p.balanced_resources = a.resources.into_iter().map(|r| r.name).collect();
            }
        }
        "InterPodAffinity" => {
            let a: InterPodArgs = decode(args, at)?;
            let _ = (a.api_version, a.kind);
            p.hard_pod_affinity_weight = a.hard_pod_affinity_weight.unwrap_or(1);
            p.ignore_preferred_terms_of_existing_pods = a.ignore_preferred_terms_of_existing_pods;
        }
        "PodTopologySpread" => {
            let a: SpreadArgs = decode(args, at)?;
            let _ = (a.api_version, a.kind);
            match a.defaulting_type.as_deref() {
                None | Some("System") if a.default_constraints.is_empty() => {}
                None | Some("System") => {
                    return Err(field(
                        format!("{at}.defaultConstraints"),
                        "must be empty with defaultingType System",
                    ));
                }
                Some("List") => {
                    return Err(field(
                        format!("{at}.defaultingType"),
                        "List (cluster-level default constraints) is not modelled; the prediction knows kube-scheduler's System defaults",
                    ));
                }
                Some(other) => {
                    return Err(field(
                        format!("{at}.defaultingType"),
                        format!("{other:?} is not System or List"),
                    ));
                }
            }
        }
        "NodeAffinity" => {
            let a: NodeAffinityArgs = decode(args, at)?;
            let _ = (a.api_version, a.kind);
            if a.added_affinity.is_some() {
                return Err(field(
                    format!("{at}.addedAffinity"),
                    "a profile-wide node affinity is not modelled",
                ));
            }
        }
        // Preemption, volume binding timeouts and dynamic resources do not change the
        // node a schedulable pod is given.
        "DefaultPreemption" | "VolumeBinding" | "DynamicResources" => {}
        other => {
            return Err(field(
                at.trim_end_matches(".args").to_owned() + ".name",
                format!("arguments of plugin {other:?} are not modelled"),
            ));
        }
    }
    Ok(())
}

/// The score weights kube-scheduler v1.34 ends up with for `plugins`.
fn weights(plugins: &RawPlugins, at: &str) -> Result<ScoreWeights, KubeError> {
    let others = [
        ("preEnqueue", &plugins.pre_enqueue),
        ("queueSort", &plugins.queue_sort),
        ("preFilter", &plugins.pre_filter),
        ("filter", &plugins.filter),
        ("preScore", &plugins.pre_score),
        ("reserve", &plugins.reserve),
        ("permit", &plugins.permit),
        ("preBind", &plugins.pre_bind),
        ("bind", &plugins.bind),
        ("postBind", &plugins.post_bind),
    ];
    for (name, set) in others {
        if !set.is_empty() {
            return Err(field(
                format!("{at}.{name}"),
                "changes to this extension point are not modelled",
            ));
        }
    }
    let post = &plugins.post_filter;
    if !post.enabled.is_empty()
        || post
            .disabled
            .iter()
            .any(|d| d.name != "DefaultPreemption" && d.name != "*")
    {
        return Err(field(
            format!("{at}.postFilter"),
            "only disabling DefaultPreemption is modelled here",
        ));
    }
    // multiPoint: the defaults merged with the profile's set.
    let mp = &plugins.multi_point;
    let mp_disabled: Vec<&str> = mp.disabled.iter().map(|d| d.name.as_str()).collect();
    for (k, name) in mp_disabled.iter().enumerate() {
        let filters = *name == "*" || !DISABLE_ANYWHERE.contains(name);
        if filters {
            return Err(field(
                format!("{at}.multiPoint.disabled[{k}]"),
                format!(
                    "disabling {name} also changes kube-scheduler's filters, which is not modelled (disable scoring under plugins.score instead)"
                ),
            ));
        }
    }
    for (k, e) in mp.enabled.iter().enumerate() {
        if !DEFAULT_PLUGINS.iter().any(|(n, _)| *n == e.name) {
            return Err(field(
                format!("{at}.multiPoint.enabled[{k}].name"),
                format!(
                    "plugin {:?} is not one of kube-scheduler's default plugins; its filters and scores are not modelled",
                    e.name
                ),
            ));
        }
        check_weight(e, &format!("{at}.multiPoint.enabled[{k}].weight"))?;
    }
    // Defaults not disabled, each replaced in place by the profile's entry of that name;
    // then the profile's other entries (a default it disabled and enabled again).
    let mut multi_point: Vec<(&str, i32)> = Vec::new();
    for &(name, weight) in &DEFAULT_PLUGINS {
        if mp_disabled.contains(&name) {
            continue;
        }
        let weight = mp
            .enabled
            .iter()
            .find(|e| e.name == name)
            .map_or(weight, |e| e.weight.unwrap_or(0));
        multi_point.push((name, weight));
    }
    for e in &mp.enabled {
        if !multi_point.iter().any(|(n, _)| *n == e.name) {
            multi_point.push((&e.name, e.weight.unwrap_or(0)));
        }
    }
    // score: explicit entries win; "*" or a name under disabled drops multiPoint's.
    let score = &plugins.score;
    let all_off = score.disabled.iter().any(|d| d.name == "*");
    let mut weights = ScoreWeights::none();
    for (k, e) in score.enabled.iter().enumerate() {
        check_weight(e, &format!("{at}.score.enabled[{k}].weight"))?;
        let Some(w) = weights.by_name_mut(&e.name) else {
            return Err(field(
                format!("{at}.score.enabled[{k}].name"),
                format!(
                    "score plugin {:?} is not modelled (modelled: TaintToleration, NodeAffinity, NodeResourcesFit, PodTopologySpread, InterPodAffinity, NodeResourcesBalancedAllocation, ImageLocality)",
                    e.name
                ),
            ));
        };
        *w = one_if_zero(e.weight.unwrap_or(0));
    }
    for (name, weight) in multi_point {
        let disabled = all_off || score.disabled.iter().any(|d| d.name == name);
        let explicit = score.enabled.iter().any(|e| e.name == name);
        if disabled || explicit {
            continue;
        }
        if let Some(w) = weights.by_name_mut(name) {
            *w = one_if_zero(weight);
        }
    }
    Ok(weights)
}

fn check_weight(p: &RawPlugin, at: &str) -> Result<(), KubeError> {
    match p.weight {
        Some(w) if w < 0 => Err(field(at, format!("{w} is negative"))),
        _ => Ok(()),
    }
}

/// A score weight of 0 counts as 1 (kube-scheduler: "a weight of zero is not permitted").
fn one_if_zero(weight: i32) -> u32 {
    u32::try_from(weight).ok().filter(|w| *w > 0).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(profiles: Value) -> Value {
        json!({"apiVersion": API_VERSION, "kind": OBJECT, "profiles": profiles})
    }

    #[test]
    fn no_profiles_is_the_default() {
        let c = scheduler_config(&json!({"apiVersion": API_VERSION, "kind": OBJECT,
            "percentageOfNodesToScore": 100, "leaderElection": {"leaderElect": false},
            "clientConnection": {"kubeconfig": "/k"}}))
        .unwrap();
        assert_eq!(c.percentage_of_nodes_to_score, 100);
        assert_eq!(c.profiles, vec![SchedulerProfile::default()]);
    }

    #[test]
    fn bin_packing_profile() {
        let c = scheduler_config(&config(json!([
            {"schedulerName": "default-scheduler"},
            {"schedulerName": "packer", "percentageOfNodesToScore": 50,
             "plugins": {"score": {"disabled": [{"name": "NodeResourcesBalancedAllocation"}],
                                   "enabled": [{"name": "NodeResourcesFit", "weight": 5}]}},
             "pluginConfig": [{"name": "NodeResourcesFit", "args": {
                "apiVersion": API_VERSION, "kind": "NodeResourcesFitArgs",
                "scoringStrategy": {"type": "RequestedToCapacityRatio",
                    "resources": [{"name": "cpu", "weight": 2}, {"name": "nvidia.com/gpu"}],
                    "requestedToCapacityRatio": {"shape": [
                        {"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}]}}}}]}
        ])))
        .unwrap();
        assert_eq!(c.profiles[0], SchedulerProfile::default());
        let p = c.profile("packer").unwrap();
        assert_eq!(c.percentage(p), 50);
        assert_eq!(p.weights.node_resources_fit, 5);
        assert_eq!(p.weights.node_resources_balanced_allocation, 0);
        assert_eq!(p.weights.taint_toleration, 3);
        assert_eq!(p.fit.resources[1].weight, 1, "weight 0 counts as 1");
        assert!(matches!(
            p.fit.strategy,
            FitStrategy::RequestedToCapacityRatio { .. }
        ));
    }

    #[test]
    fn score_star_keeps_only_what_is_enabled_again() {
        let c = scheduler_config(&config(json!([{
            "plugins": {"score": {"disabled": [{"name": "*"}],
                                  "enabled": [{"name": "NodeResourcesFit"}]},
                        "multiPoint": {"enabled": [{"name": "ImageLocality", "weight": 4}]}}
        }])))
        .unwrap();
        let w = c.profiles[0].weights;
        assert_eq!(w.node_resources_fit, 1);
        assert_eq!(
            (w.taint_toleration, w.image_locality, w.pod_topology_spread),
            (0, 0, 0)
        );
        let c = scheduler_config(&config(json!([{
            "plugins": {"multiPoint": {"enabled": [{"name": "ImageLocality", "weight": 4}],
                                       "disabled": [{"name": "NodeResourcesBalancedAllocation"}]}}
        }])))
        .unwrap();
        let w = c.profiles[0].weights;
        assert_eq!(
            (
                w.image_locality,
                w.node_resources_balanced_allocation,
                w.node_affinity
            ),
            (4, 0, 2)
        );
    }

    #[test]
    fn unmodelled_settings_name_their_field() {
        let cases = [
            (
                json!({"apiVersion": "kubescheduler.config.k8s.io/v1beta3", "kind": OBJECT}),
                "apiVersion",
            ),
            (
                json!({"apiVersion": API_VERSION, "kind": OBJECT, "extenders": [{"urlPrefix": "http://x"}]}),
                "extenders",
            ),
            (
                json!({"apiVersion": API_VERSION, "kind": OBJECT, "percentageOfNodesToscore": 5}),
                "percentageOfNodesToscore",
            ),
            (
                config(
                    json!([{"plugins": {"multiPoint": {"disabled": [{"name": "TaintToleration"}]}}}]),
                ),
                "profiles[0].plugins.multiPoint.disabled[0]",
            ),
            (
                config(json!([{"plugins": {"filter": {"disabled": [{"name": "NodePorts"}]}}}])),
                "profiles[0].plugins.filter",
            ),
            (
                config(
                    json!([{"plugins": {"multiPoint": {"enabled": [{"name": "Coscheduling"}]}}}]),
                ),
                "profiles[0].plugins.multiPoint.enabled[0].name",
            ),
            (
                config(
                    json!([{"pluginConfig": [{"name": "NodeResourcesFit", "args": {"scoringStrategy": {"type": "Balanced"}}}]}]),
                ),
                "profiles[0].pluginConfig[0].args.scoringStrategy.type",
            ),
            (
                config(
                    json!([{"pluginConfig": [{"name": "PodTopologySpread", "args": {"defaultingType": "List", "defaultConstraints": []}}]}]),
                ),
                "profiles[0].pluginConfig[0].args.defaultingType",
            ),
            (
                config(
                    json!([{"pluginConfig": [{"name": "NodeResourcesFit", "args": {"scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "cpu", "weight": 101}]}}}]}]),
                ),
                "profiles",
            ),
            (
                config(json!([{"schedulerName": "a"}, {"schedulerName": "a"}])),
                "profiles",
            ),
            (
                config(
                    json!([{"pluginConfig": [{"name": "NodeResourcesFit", "args": {"scoringStrategy": {"typo": 1}}}]}]),
                ),
                "profiles[0].pluginConfig[0].args.scoringStrategy",
            ),
        ];
        for (value, want) in cases {
            match scheduler_config(&value) {
                Err(KubeError::Field { field, message, .. }) => {
                    assert!(
                        field.starts_with(want),
                        "{value}: field {field:?} ({message}), wanted {want:?}"
                    )
                }
                other => panic!("{value}: {other:?}"),
            }
        }
    }
}
