//! PodDisruptionBudgets (policy/v1, and policy/v1beta1 read into the v1 type).

use super::*;

/// Maps a policy/v1 PodDisruptionBudget.
///
/// - `namespace` (`"default"` when absent), `name` (required);
/// - `selector`: `spec.selector`; `None` when absent (a null selector matches no pod, an
///   empty one every pod of the namespace, as in policy/v1);
/// - `disruptions_allowed`: `status.disruptionsAllowed`, except that it is **0** when
///   - there is no status yet — the disruption controller has not computed the budget, and the
///     Eviction API refuses evictions until it has;
///   - `status.observedGeneration` is older than `metadata.generation` — the status is stale,
///     and the Eviction API answers 429 until it is current;
///   - the value is negative — the Eviction API refuses those too.
///
/// `minAvailable` / `maxUnavailable` are not read: the computed status is what the Eviction
/// API enforces.
///
/// # Examples
/// ```
/// use k8s_openapi::api::policy::v1::PodDisruptionBudget;
/// let pdb: PodDisruptionBudget = serde_json::from_value(serde_json::json!({
///     "metadata": {"namespace": "shop", "name": "web-pdb"},
///     "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}},
///     "status": {"disruptionsAllowed": 1, "currentHealthy": 4, "desiredHealthy": 3, "expectedPods": 4}
/// })).unwrap();
/// let spec = compactor_kube::mapping::pdb_spec(&pdb).unwrap();
/// assert_eq!(spec.disruptions_allowed, 1);
/// assert_eq!(spec.selector.unwrap().match_labels["app"], "web");
/// ```
///
/// # Errors
/// - [`KubeError::Field`] when `metadata.name` is missing, or naming
///   `spec.selector.matchExpressions[i].operator` for an operator other than In, NotIn,
///   Exists, DoesNotExist.
///
/// # Complexity
/// O(size of the selector).
pub fn pdb_spec(pdb: &PodDisruptionBudget) -> Result<PdbSpec, KubeError> {
    map_pdb(pdb, false)
}

/// [`pdb_spec`] with the policy/v1beta1 meaning of an empty selector (no pod) when `v1beta1`.
pub(crate) fn map_pdb(pdb: &PodDisruptionBudget, v1beta1: bool) -> Result<PdbSpec, KubeError> {
    let meta = &pdb.metadata;
    let namespace = namespace_of(meta);
    let name = meta
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| KubeError::Field {
            object: format!("poddisruptionbudget in namespace {namespace}"),
            field: "metadata.name".to_owned(),
            message: "missing or empty".to_owned(),
        })?;
    let object = format!("poddisruptionbudget {namespace}/{name}");
    let selector = match pdb.spec.as_ref().and_then(|s| s.selector.as_ref()) {
        Some(s) => Some(label_selector(&object, "spec.selector", s)?),
        None => None,
    };
    // policy/v1beta1: an empty selector selects nothing.
    let selector = selector.filter(|s| !(v1beta1 && *s == LabelSelector::default()));
    let disruptions_allowed = match &pdb.status {
        None => 0,
        Some(status) => {
            let stale = matches!(
                (status.observed_generation, meta.generation),
                (Some(observed), Some(generation)) if observed < generation
            );
            if stale {
                0
            } else {
                u32::try_from(status.disruptions_allowed).unwrap_or(0)
            }
        }
    };
    Ok(PdbSpec {
        namespace,
        name,
        selector,
        disruptions_allowed,
    })
}
