//! Pods: requests and limits, owners, scheduling constraints, volumes.

use super::*;

/// Maps a Pod.
///
/// - `namespace`: `metadata.namespace`, `"default"` when absent or empty; `name` required;
/// - `node_name`: `spec.nodeName`;
/// - `phase`: `status.phase`; absent or empty → `Pending`;
/// - `owner`: the owner reference with `controller: true` (the first one, should there be
///   several). A ReplicaSet named `<deployment>-<hash>`, where `<hash>` is the pod's
///   `pod-template-hash` label, is reported as `Deployment <deployment>`; every other owner
///   keeps its kind and name (a DaemonSet stays a DaemonSet, a static pod's mirror is owned by
///   its `Node`). `replicas` is left unknown;
/// - `priority` (absent → 0), `priority_class_name`, `labels`, `annotations`: as given;
/// - `schedulerName`: kept when it is not `default-scheduler`;
/// - containers and init containers: `resources.requests`, where a resource that has a limit
///   but no request gets the limit as its request — the API server applies that default when
///   it admits a pod, so this only matters for objects that did not go through it (manifests,
///   dry runs) and keeps them consistent with what the scheduler will see. An init container
///   with `restartPolicy: Always` is a sidecar. Ephemeral containers are ignored (the
///   scheduler does not count them);
/// - `overhead`: `spec.overhead` (no limit fallback);
/// - volumes: `persistentVolumeClaim` → claim (its `node_affinity` is left empty: the claim
///   and its volume are other objects, which [`snapshot_from_kubectl_list`] resolves),
///   `emptyDir` → emptyDir (memory-backed when `medium: Memory`), `hostPath` → hostPath,
///   anything else (generic `ephemeral` volumes included: a recreated pod gets a new claim)
///   → other;
/// - `readiness_probe`: there is at least one app container and every app container has a
///   `readinessProbe`;
/// - `limits`: for each resource that every app container limits, the sum of the limits
///   (used by the analyzer only); `usage` is left unknown (see [`crate::metrics`]);
/// - `tolerations`: `spec.tolerations` (operator absent → Equal; `tolerationSeconds` kept);
///   `node_selector`: `spec.nodeSelector`;
/// - `required_node_affinity`: the `nodeSelectorTerms` of
///   `spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution`;
///   `preferred_node_affinity`: `…nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution`
///   (weight and preference term);
/// - `pod_affinity` / `pod_anti_affinity`: the `requiredDuringSchedulingIgnoredDuringExecution`
///   terms of `spec.affinity.podAffinity` / `podAntiAffinity`; `preferred_pod_affinity` /
///   `preferred_pod_anti_affinity`: their `preferredDuringSchedulingIgnoredDuringExecution`
///   terms with their weights. A term keeps `labelSelector` (absent → `None`, which matches
///   no pod), `namespaces`, `namespaceSelector` (absent → `None`, `{}` → every namespace) and
///   `topologyKey`. `matchLabelKeys` and `mismatchLabelKeys` are not read: when it admits a
///   pod the API server (1.31 and later, MatchLabelKeysInPodAffinity) merges them into
///   `labelSelector` as `key In [value]` / `key NotIn [value]`, so the selector of a pod read
///   from a cluster already holds them; for a manifest that did not go through the API
///   server the selector is taken as written (broader than Kubernetes would make it);
/// - `topology_spread_constraints`: `spec.topologySpreadConstraints` with every field:
///   `maxSkew`, `topologyKey`, `whenUnsatisfiable` (absent → DoNotSchedule),
///   `labelSelector` (absent → `None`), `minDomains`, `matchLabelKeys`,
///   `nodeAffinityPolicy` (absent → Honor) and `nodeTaintsPolicy` (absent → Ignore);
/// - `host_ports`: every `ports[]` entry with a non-zero `hostPort` of the app containers and
///   of the sidecar init containers (protocol absent → TCP, `hostIP` absent or empty →
///   `0.0.0.0`).
///
/// # Examples
/// ```
/// use k8s_openapi::api::core::v1::Pod;
/// use compactor_core::model::OwnerRef;
/// let pod: Pod = serde_json::from_value(serde_json::json!({
///     "metadata": {"namespace": "shop", "name": "web-7d4b9c8f6d-x2x4p",
///                  "labels": {"app": "web", "pod-template-hash": "7d4b9c8f6d"},
///                  "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
///                      "name": "web-7d4b9c8f6d", "uid": "1", "controller": true}]},
///     "spec": {"nodeName": "n1", "containers": [{"name": "app",
///         "resources": {"requests": {"cpu": "250m"}, "limits": {"cpu": "1", "memory": "512Mi"}}}]},
///     "status": {"phase": "Running"}
/// })).unwrap();
/// let spec = compactor_kube::mapping::pod_spec(&pod).unwrap();
/// assert_eq!(spec.owner, Some(OwnerRef { kind: "Deployment".into(), name: "web".into() }));
/// assert_eq!(spec.containers[0].requests.get("cpu"), 250);
/// assert_eq!(spec.containers[0].requests.get("memory"), 512 << 20); // from the limit
/// ```
///
/// # Errors
/// - [`KubeError::Field`] when `metadata.name` is missing or `status.phase` is not one of
///   Pending, Running, Succeeded, Failed, Unknown;
/// - [`KubeError::Quantity`] naming `pod ns/name: spec.containers[i].resources.requests.<res>`
///   (or `.limits.<res>` when the limit is used, `spec.initContainers[i]…`, `spec.overhead.<res>`);
/// - [`KubeError::Field`] for an unknown toleration operator or effect, node selector
///   operator, port protocol, or a `hostPort` outside 1–65535, naming the field;
/// - [`KubeError::Field`] naming the field for a scheduling value Kubernetes would not
///   accept: a preferred term's `weight` outside 1–100, a label selector operator other than
///   In, NotIn, Exists, DoesNotExist (`…labelSelector.matchExpressions[j].operator`, also in
///   `namespaceSelector`), an empty `topologyKey`, a `maxSkew` below 1, a `minDomains` below
///   1, an unknown `whenUnsatisfiable`, `nodeAffinityPolicy` or `nodeTaintsPolicy`.
///
/// # Complexity
/// O(size of the pod object).
pub fn pod_spec(pod: &Pod) -> Result<PodSpec, KubeError> {
    let meta = &pod.metadata;
    let namespace = namespace_of(meta);
    let name = meta
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| KubeError::Field {
            object: format!("pod in namespace {namespace}"),
            field: "metadata.name".to_owned(),
            message: "missing or empty".to_owned(),
        })?;
    let object = format!("pod {namespace}/{name}");
    let labels = meta.labels.clone().unwrap_or_default();

    let phase = match pod.status.as_ref().and_then(|s| s.phase.as_deref()) {
        None | Some("") => PodPhase::Pending,
        Some(raw) => parse_phase(raw).ok_or_else(|| KubeError::Field {
            object: object.clone(),
            field: "status.phase".to_owned(),
            message: format!(
                "unknown phase {raw:?} (expected Pending, Running, Succeeded, Failed or Unknown)"
            ),
        })?,
    };
    let owner = controller_owner(
        meta.owner_references.as_deref().unwrap_or_default(),
        &labels,
    );

    let spec = pod.spec.as_ref();
    let app: &[Container] = spec.map(|s| s.containers.as_slice()).unwrap_or_default();
    let init: &[Container] = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default();

    let mut containers = Vec::with_capacity(app.len());
    for (i, c) in app.iter().enumerate() {
        containers.push(ContainerSpec {
            name: c.name.clone(),
            requests: container_requests(&object, &format!("spec.containers[{i}]"), c)?,
        });
    }
    let mut init_containers = Vec::with_capacity(init.len());
    for (i, c) in init.iter().enumerate() {
        init_containers.push(InitContainerSpec {
            name: c.name.clone(),
            requests: container_requests(&object, &format!("spec.initContainers[{i}]"), c)?,
            sidecar: c.restart_policy.as_deref() == Some("Always"),
        });
    }
    let overhead = match spec.and_then(|s| s.overhead.as_ref()) {
        Some(list) => parse_list(&object, "spec.overhead", list)?,
        None => ResourceList::new(),
    };
    let pod_requests = match spec
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
    {
        Some(list) => {
            if let Some(name) = list.keys().find(|n| !is_pod_level_resource(n)) {
                return Err(KubeError::Field {
                    object,
                    field: format!("spec.resources.requests.{name}"),
                    message: "only cpu, memory and hugepages-* can be requested at pod level"
                        .to_owned(),
                });
            }
            parse_list(&object, "spec.resources.requests", list)?
        }
        None => ResourceList::new(),
    };
    let volumes = spec
        .and_then(|s| s.volumes.as_deref())
        .unwrap_or_default()
        .iter()
        .map(volume_spec)
        .collect();
    let mut tolerations = Vec::new();
    for (i, t) in spec
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let operator = match t.operator.as_deref() {
            None | Some("") | Some("Equal") => TolerationOperator::Equal,
            Some("Exists") => TolerationOperator::Exists,
            Some(other) => {
                return Err(KubeError::Field {
                    object,
                    field: format!("spec.tolerations[{i}].operator"),
                    message: format!("unknown operator {other:?} (expected Equal or Exists)"),
                });
            }
        };
        let effect = match t.effect.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(taint_effect(
                &object,
                &format!("spec.tolerations[{i}].effect"),
                raw,
            )?),
        };
        tolerations.push(Toleration {
            key: t.key.clone().filter(|k| !k.is_empty()),
            operator,
            value: t.value.clone().filter(|v| !v.is_empty()),
            effect,
            toleration_seconds: t.toleration_seconds,
        });
    }
    let affinity = spec.and_then(|s| s.affinity.as_ref());
    let node_affinity = affinity.and_then(|a| a.node_affinity.as_ref());
    let required_node_affinity = node_selector_terms(
        &object,
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
        node_affinity
            .and_then(|n| {
                n.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .map(|sel| sel.node_selector_terms.as_slice())
            .unwrap_or_default(),
    )?;
    let mut preferred_node_affinity = Vec::new();
    for (i, t) in node_affinity
        .and_then(|n| {
            n.preferred_during_scheduling_ignored_during_execution
                .as_deref()
        })
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let path = format!(
            "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[{i}]"
        );
        preferred_node_affinity.push(PreferredSchedulingTerm {
            weight: weight(&object, &format!("{path}.weight"), t.weight)?,
            preference: node_selector_term(&object, &format!("{path}.preference"), &t.preference)?,
        });
    }
    let pod_affinity = affinity.and_then(|a| a.pod_affinity.as_ref());
    let pod_anti_affinity = affinity.and_then(|a| a.pod_anti_affinity.as_ref());
    let (required_pod_affinity, preferred_pod_affinity) = pod_affinity_terms(
        &object,
        "spec.affinity.podAffinity",
        pod_affinity.and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_deref()
        }),
        pod_affinity.and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_deref()
        }),
    )?;
    let (required_pod_anti_affinity, preferred_pod_anti_affinity) = pod_affinity_terms(
        &object,
        "spec.affinity.podAntiAffinity",
        pod_anti_affinity.and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_deref()
        }),
        pod_anti_affinity.and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_deref()
        }),
    )?;
    let mut topology_spread_constraints = Vec::new();
    for (i, c) in spec
        .and_then(|s| s.topology_spread_constraints.as_deref())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        topology_spread_constraints.push(topology_spread_constraint(
            &object,
            &format!("spec.topologySpreadConstraints[{i}]"),
            c,
        )?);
    }
    let mut host_ports = Vec::new();
    let with_ports = app
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("spec.containers[{i}]"), c))
        .chain(
            init.iter()
                .enumerate()
                .filter(|(_, c)| c.restart_policy.as_deref() == Some("Always"))
                .map(|(i, c)| (format!("spec.initContainers[{i}]"), c)),
        );
    for (path, c) in with_ports {
        for (j, port) in c.ports.as_deref().unwrap_or_default().iter().enumerate() {
            let Some(hp) = port.host_port.filter(|p| *p != 0) else {
                continue;
            };
            let field = format!("{path}.ports[{j}]");
            let port_number =
                u16::try_from(hp)
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| KubeError::Field {
                        object: object.clone(),
                        field: format!("{field}.hostPort"),
                        message: format!("{hp} is not a port number (1-65535)"),
                    })?;
            let protocol = match port.protocol.as_deref() {
                None | Some("") | Some("TCP") => Protocol::Tcp,
                Some("UDP") => Protocol::Udp,
                Some("SCTP") => Protocol::Sctp,
                Some(other) => {
                    return Err(KubeError::Field {
                        object,
                        field: format!("{field}.protocol"),
                        message: format!("unknown protocol {other:?} (expected TCP, UDP or SCTP)"),
                    });
                }
            };
            host_ports.push(HostPort {
                port: port_number,
                protocol,
                host_ip: port
                    .host_ip
                    .clone()
                    .filter(|ip| !ip.is_empty())
                    .unwrap_or_else(|| "0.0.0.0".to_owned()),
            });
        }
    }

    Ok(PodSpec {
        // An empty nodeName is no binding (the pod is Pending), as the API server reads it.
        node_name: spec
            .and_then(|s| s.node_name.clone())
            .filter(|n| !n.is_empty()),
        phase,
        terminating: meta.deletion_timestamp.is_some(),
        owner,
        replicas: None,
        priority: spec.and_then(|s| s.priority).unwrap_or(0),
        priority_class_name: spec.and_then(|s| s.priority_class_name.clone()),
        scheduler_name: spec
            .and_then(|s| s.scheduler_name.clone())
            .filter(|n| !n.is_empty() && n != compactor_core::plan::DEFAULT_SCHEDULER),
        annotations: meta.annotations.clone().unwrap_or_default(),
        readiness_probe: !app.is_empty() && app.iter().all(|c| c.readiness_probe.is_some()),
        labels,
        containers,
        init_containers,
        overhead,
        pod_requests,
        volumes,
        limits: pod_limits(&object, app)?,
        usage: None,
        usage_samples: Vec::new(),
        images: init
            .iter()
            .chain(app)
            .filter_map(|c| c.image.clone())
            .filter(|i| !i.is_empty())
            .collect(),
        tolerations,
        node_selector: spec
            .and_then(|s| s.node_selector.clone())
            .unwrap_or_default(),
        required_node_affinity,
        host_ports,
        preferred_node_affinity,
        pod_affinity: required_pod_affinity,
        pod_anti_affinity: required_pod_anti_affinity,
        preferred_pod_affinity,
        preferred_pod_anti_affinity,
        topology_spread_constraints,
        namespace,
        name,
    })
}

/// A preferred term's weight, which Kubernetes keeps within 1–100.
pub(crate) fn weight(object: &str, field: &str, weight: i32) -> Result<i32, KubeError> {
    if (1..=100).contains(&weight) {
        Ok(weight)
    } else {
        Err(KubeError::Field {
            object: object.to_owned(),
            field: field.to_owned(),
            message: format!("weight {weight} is outside 1-100"),
        })
    }
}

/// The required and preferred terms of a `podAffinity` or `podAntiAffinity` found at `base`.
pub(crate) fn pod_affinity_terms(
    object: &str,
    base: &str,
    required: Option<&[KubePodAffinityTerm]>,
    preferred: Option<&[KubeWeightedPodAffinityTerm]>,
) -> Result<(Vec<PodAffinityTerm>, Vec<WeightedPodAffinityTerm>), KubeError> {
    let mut req = Vec::new();
    for (i, t) in required.unwrap_or_default().iter().enumerate() {
        req.push(pod_affinity_term(
            object,
            &format!("{base}.requiredDuringSchedulingIgnoredDuringExecution[{i}]"),
            t,
        )?);
    }
    let mut pref = Vec::new();
    for (i, t) in preferred.unwrap_or_default().iter().enumerate() {
        let path = format!("{base}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
        pref.push(WeightedPodAffinityTerm {
            weight: weight(object, &format!("{path}.weight"), t.weight)?,
            pod_affinity_term: pod_affinity_term(
                object,
                &format!("{path}.podAffinityTerm"),
                &t.pod_affinity_term,
            )?,
        });
    }
    Ok((req, pref))
}

/// One inter-pod (anti-)affinity term found at `path`. `matchLabelKeys` and
/// `mismatchLabelKeys` are not read: the API server merges them into `labelSelector` when it
/// admits the pod (MatchLabelKeysInPodAffinity, on by default since 1.31).
pub(crate) fn pod_affinity_term(
    object: &str,
    path: &str,
    term: &KubePodAffinityTerm,
) -> Result<PodAffinityTerm, KubeError> {
    if term.topology_key.is_empty() {
        return Err(KubeError::Field {
            object: object.to_owned(),
            field: format!("{path}.topologyKey"),
            message: "missing or empty".to_owned(),
        });
    }
    Ok(PodAffinityTerm {
        label_selector: term
            .label_selector
            .as_ref()
            .map(|s| label_selector(object, &format!("{path}.labelSelector"), s))
            .transpose()?,
        namespaces: term.namespaces.clone().unwrap_or_default(),
        namespace_selector: term
            .namespace_selector
            .as_ref()
            .map(|s| label_selector(object, &format!("{path}.namespaceSelector"), s))
            .transpose()?,
        topology_key: term.topology_key.clone(),
    })
}

/// One `spec.topologySpreadConstraints[]` entry found at `path`.
pub(crate) fn topology_spread_constraint(
    object: &str,
    path: &str,
    c: &KubeTopologySpreadConstraint,
) -> Result<TopologySpreadConstraint, KubeError> {
    let bad = |field: &str, message: String| KubeError::Field {
        object: object.to_owned(),
        field: format!("{path}.{field}"),
        message,
    };
    let max_skew = u32::try_from(c.max_skew)
        .ok()
        .filter(|s| *s >= 1)
        .ok_or_else(|| bad("maxSkew", format!("{} is not at least 1", c.max_skew)))?;
    if c.topology_key.is_empty() {
        return Err(bad("topologyKey", "missing or empty".to_owned()));
    }
    let when_unsatisfiable = match c.when_unsatisfiable.as_str() {
        // Required by the API; DoNotSchedule is its documented default and the stricter one.
        "" | "DoNotSchedule" => WhenUnsatisfiable::DoNotSchedule,
        "ScheduleAnyway" => WhenUnsatisfiable::ScheduleAnyway,
        other => {
            return Err(bad(
                "whenUnsatisfiable",
                format!("unknown value {other:?} (expected DoNotSchedule or ScheduleAnyway)"),
            ));
        }
    };
    let min_domains = match c.min_domains {
        None => None,
        Some(n) => Some(
            u32::try_from(n)
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| bad("minDomains", format!("{n} is not at least 1")))?,
        ),
    };
    let policy = |field: &str, raw: Option<&str>, default| match raw {
        None | Some("") => Ok(default),
        Some("Honor") => Ok(NodeInclusionPolicy::Honor),
        Some("Ignore") => Ok(NodeInclusionPolicy::Ignore),
        Some(other) => Err(bad(
            field,
            format!("unknown policy {other:?} (expected Honor or Ignore)"),
        )),
    };
    Ok(TopologySpreadConstraint {
        max_skew,
        topology_key: c.topology_key.clone(),
        when_unsatisfiable,
        label_selector: c
            .label_selector
            .as_ref()
            .map(|s| label_selector(object, &format!("{path}.labelSelector"), s))
            .transpose()?,
        min_domains,
        match_label_keys: c.match_label_keys.clone().unwrap_or_default(),
        node_affinity_policy: policy(
            "nodeAffinityPolicy",
            c.node_affinity_policy.as_deref(),
            NodeInclusionPolicy::Honor,
        )?,
        node_taints_policy: policy(
            "nodeTaintsPolicy",
            c.node_taints_policy.as_deref(),
            NodeInclusionPolicy::Ignore,
        )?,
    })
}

/// The pod's limits: for each resource that every app container limits, the sum of the
/// limits (the analyzer compares usage with it). Errors name `spec.containers[i].resources.limits.<res>`.
pub(crate) fn pod_limits(object: &str, app: &[Container]) -> Result<ResourceList, KubeError> {
    let mut per_container = Vec::with_capacity(app.len());
    for (i, c) in app.iter().enumerate() {
        per_container.push(match c.resources.as_ref().and_then(|r| r.limits.as_ref()) {
            Some(list) => parse_list(
                object,
                &format!("spec.containers[{i}].resources.limits"),
                list,
            )?,
            None => ResourceList::new(),
        });
    }
    let Some((first, rest)) = per_container.split_first() else {
        return Ok(ResourceList::new());
    };
    let mut out = ResourceList::new();
    for (resource, amount) in first.iter() {
        if rest.iter().all(|l| l.contains(resource)) {
            let total = rest
                .iter()
                .try_fold(amount, |acc, l| acc.checked_add(l.get(resource)));
            // A sum beyond 64 bits is as good as no limit.
            if let Some(total) = total {
                out.set(resource, total);
            }
        }
    }
    Ok(out)
}

pub(crate) fn parse_phase(raw: &str) -> Option<PodPhase> {
    Some(match raw {
        "Pending" => PodPhase::Pending,
        "Running" => PodPhase::Running,
        "Succeeded" => PodPhase::Succeeded,
        "Failed" => PodPhase::Failed,
        "Unknown" => PodPhase::Unknown,
        _ => return None,
    })
}

/// Requests of one container, a resource with only a limit taking the limit.
pub(crate) fn container_requests(
    object: &str,
    path: &str,
    container: &Container,
) -> Result<ResourceList, KubeError> {
    let resources = container.resources.as_ref();
    let requests = resources.and_then(|r| r.requests.as_ref());
    let mut out = match requests {
        Some(list) => parse_list(object, &format!("{path}.resources.requests"), list)?,
        None => ResourceList::new(),
    };
    if let Some(limits) = resources.and_then(|r| r.limits.as_ref()) {
        for (resource, value) in limits {
            if !out.contains(resource) {
                let field = format!("{path}.resources.limits.{resource}");
                out.set(resource, parse_quantity(object, field, resource, value)?);
            }
        }
    }
    Ok(out)
}

pub(crate) fn controller_owner(
    refs: &[OwnerReference],
    labels: &BTreeMap<String, String>,
) -> Option<OwnerRef> {
    let owner = refs.iter().find(|r| r.controller == Some(true))?;
    if owner.kind == "ReplicaSet" {
        let deployment = labels
            .get(POD_TEMPLATE_HASH_LABEL)
            .filter(|hash| !hash.is_empty())
            .and_then(|hash| owner.name.strip_suffix(hash.as_str()))
            .and_then(|rest| rest.strip_suffix('-'))
            .filter(|name| !name.is_empty());
        if let Some(deployment) = deployment {
            return Some(OwnerRef {
                kind: "Deployment".to_owned(),
                name: deployment.to_owned(),
            });
        }
    }
    Some(OwnerRef {
        kind: owner.kind.clone(),
        name: owner.name.clone(),
    })
}

pub(crate) fn volume_spec(volume: &Volume) -> VolumeSpec {
    let source = if let Some(pvc) = &volume.persistent_volume_claim {
        VolumeSource::PersistentVolumeClaim {
            claim_name: pvc.claim_name.clone(),
            node_affinity: Vec::new(),
            // Resolved against the list's claims and volumes, when there is a list.
            unresolved: Some(format!(
                "PersistentVolumeClaim {} is not in the input",
                pvc.claim_name
            )),
            csi_driver: None,
            read_write_once_pod: false,
        }
    } else if let Some(dir) = &volume.empty_dir {
        VolumeSource::EmptyDir {
            memory: dir.medium.as_deref() == Some("Memory"),
        }
    } else if let Some(host) = &volume.host_path {
        VolumeSource::HostPath {
            path: host.path.clone(),
        }
    } else {
        VolumeSource::Other
    };
    VolumeSpec {
        name: volume.name.clone(),
        source,
    }
}
