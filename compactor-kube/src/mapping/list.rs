//! Whole inputs: the kubectl list, the core snapshot format, and [`SnapshotBuilder`], which
//! both the kubectl list and the live snapshot feed one object at a time.

use super::*;

/// Maps the JSON that `kubectl get nodes,pods,pdb,pvc,pv,namespaces,csinodes -A -o json`
/// prints: a `List` (kind `List` or a typed `NodeList`, `PodList`, …) whose items are Nodes,
/// Pods, PodDisruptionBudgets, Namespaces, PersistentVolumeClaims, PersistentVolumes and
/// CSINodes. The last four may be left out of the dump (`kubectl get nodes,pods,pdb -A -o
/// json`): the snapshot then lacks namespace labels, volumes and attach limits, and the
/// planner keeps the pods that depend on them where they are (`missing-input`).
///
/// - Nodes, Pods, PodDisruptionBudgets: [`node_spec`], [`pod_spec`], [`pdb_spec`].
///   PodDisruptionBudgets are read as policy/v1 and, with the v1beta1 meaning of an empty
///   selector, as policy/v1beta1;
/// - Namespaces: their labels go to [`SnapshotSpec::namespaces`] (for the
///   `namespaceSelector` of pod affinity terms);
/// - PersistentVolumeClaims and PersistentVolumes are not part of the snapshot: they give
///   each pod's `persistentVolumeClaim` volume its `node_affinity`, its CSI driver
///   (`spec.csi.driver` of the volume) and whether the claim's access modes include
///   `ReadWriteOncePod`. The claim is looked up in the pod's namespace, its
///   `spec.volumeName` names the PersistentVolume, and the volume's terms are
///   [`persistent_volume_node_affinity`]. A claim that is missing from the dump, not bound (no
///   `spec.volumeName`), or bound to a volume missing from the dump is marked `unresolved`
///   with the reason. The order of the items does not matter (volumes are resolved after
///   every item is read);
/// - CSINodes give their node's `attach_limits`: each driver's `allocatable.count` (a driver
///   without one has no limit); a node without a CSINode in the dump has `None`.
///
/// - ReplicaSets (apps/v1) and Jobs (batch/v1), when the dump has them (`kubectl get
///   …,replicasets,jobs`): a pod's workload is its ReplicaSet's Deployment or its Job's
///   CronJob as their owner references say, instead of the Deployment derived from the
///   `pod-template-hash` label (see [`SnapshotBuilder::add_owner`]).
///
/// Items of other kinds are skipped. Items of a typed list may omit `kind` and `apiVersion`
/// (as the API server's own list responses do); they take them from the list.
///
/// # Examples
/// ```
/// let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
///   "items": [
///     {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
///      "status": {"allocatable": {"cpu": "4", "memory": "16Gi"}, "conditions": [{"type": "Ready", "status": "True"}]}},
///     {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "web"}}},
///     {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "d", "name": "skipped"}}]});
/// let spec = compactor_kube::snapshot_from_kubectl_list(&list).unwrap();
/// assert_eq!(spec.nodes.len(), 1);
/// assert!(spec.pods.is_empty());
/// assert_eq!(spec.namespaces["shop"]["team"], "web");
/// ```
///
/// # Errors
/// - [`KubeError::Format`] when `value` is not an object whose kind ends in `List`;
/// - [`KubeError::Field`] when `items` is not an array;
/// - [`KubeError::Item`] naming `items[i] (Kind ns/name)` for an item that is not an object,
///   has no kind, or does not deserialize into its k8s-openapi type (with the field path and
///   serde's message), and for a second Namespace, PersistentVolumeClaim, PersistentVolume
///   or CSINode of the same name;
/// - [`KubeError::Field`] for a Namespace, PersistentVolumeClaim, PersistentVolume or CSINode
///   without `metadata.name`, and for a negative attach count;
/// - every error of [`node_spec`], [`pod_spec`], [`pdb_spec`] and
///   [`persistent_volume_node_affinity`].
///
/// # Complexity
/// O(size of the list).
pub fn snapshot_from_kubectl_list(value: &Value) -> Result<SnapshotSpec, KubeError> {
    let Some(list) = value.as_object() else {
        return Err(KubeError::Format {
            found: describe(value).to_owned(),
        });
    };
    let list_kind = list.get("kind").and_then(Value::as_str);
    let Some(list_kind) = list_kind.filter(|k| k.ends_with("List")) else {
        return Err(KubeError::Format {
            found: match list_kind {
                Some(kind) => format!("an object of kind {kind:?}"),
                None => "an object without a kind".to_owned(),
            },
        });
    };
    let items: &[Value] = match list.get("items") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(KubeError::Field {
                object: format!("kubectl {list_kind}"),
                field: "items".to_owned(),
                message: format!("expected an array, found {}", describe(other)),
            });
        }
    };
    // A typed list (NodeList, …) names the kind of its items.
    let item_kind = list_kind.strip_suffix("List").filter(|k| !k.is_empty());
    let list_api_version = list.get("apiVersion").and_then(Value::as_str);

    let mut builder = SnapshotBuilder::new();
    let duplicate = |index: usize, object: &str| KubeError::Item {
        index,
        object: object.to_owned(),
        message: "appears more than once in the list".to_owned(),
    };
    for (index, item) in items.iter().enumerate() {
        let Some(fields) = item.as_object() else {
            return Err(KubeError::Item {
                index,
                object: "?".to_owned(),
                message: format!("expected an object, found {}", describe(item)),
            });
        };
        let own_kind = fields.get("kind").and_then(Value::as_str);
        let kind = own_kind.or(item_kind);
        let api_version = match fields.get("apiVersion").and_then(Value::as_str) {
            Some(v) => Some(v),
            None if own_kind.is_none() => list_api_version,
            None => None,
        };
        let object = identity(kind.unwrap_or("object"), fields);
        let Some(kind) = kind else {
            return Err(KubeError::Item {
                index,
                object,
                message: "has no kind".to_owned(),
            });
        };
        let added = match kind {
            "Node" => builder.add_node(&deserialize_item(index, &object, item)?)?,
            "Pod" => builder.add_pod(&deserialize_item(index, &object, item)?)?,
            "PodDisruptionBudget" => match api_version {
                None | Some("policy/v1") => {
                    builder.add_pdb(&deserialize_item(index, &object, item)?)?
                }
                Some("policy/v1beta1") => {
                    // Same fields as v1; only the meaning of an empty selector differs.
                    let mut v1 = item.clone();
                    if let Some(fields) = v1.as_object_mut() {
                        fields.insert("apiVersion".to_owned(), Value::from("policy/v1"));
                    }
                    builder.add_pdb_v1beta1(&deserialize_item(index, &object, &v1)?)?
                }
                Some(other) => {
                    return Err(KubeError::Item {
                        index,
                        object,
                        message: format!(
                            "apiVersion: unsupported version {other:?} (expected policy/v1 or policy/v1beta1)"
                        ),
                    });
                }
            },
            "Namespace" => builder.add_namespace(&deserialize_item(index, &object, item)?)?,
            "PersistentVolumeClaim" => {
                builder.add_claim(&deserialize_item(index, &object, item)?)?
            }
            "PersistentVolume" => builder.add_volume(&deserialize_item(index, &object, item)?)?,
            "CSINode" => builder.add_csi_node(&deserialize_item(index, &object, item)?)?,
            "ReplicaSet" if api_version.is_none_or(|v| v == "apps/v1") => {
                let rs: ReplicaSet = deserialize_item(index, &object, item)?;
                builder.add_owner("ReplicaSet", &rs.metadata)?
            }
            "Job" if api_version.is_none_or(|v| v == "batch/v1") => {
                let job: Job = deserialize_item(index, &object, item)?;
                builder.add_owner("Job", &job.metadata)?
            }
            _ => true,
        };
        if !added {
            return Err(duplicate(index, &object));
        }
    }
    Ok(builder.finish())
}

/// Collects cluster objects one at a time into a [`SnapshotSpec`]: what
/// [`snapshot_from_kubectl_list`] does with a list's items, for callers that hold typed
/// objects (the live snapshot maps each page of a list as it arrives, so it never holds a
/// whole list of raw objects).
///
/// Claims, volumes, CSINodes and owners may arrive in any order: pods' volumes, nodes'
/// attach limits and pods' top controllers are resolved by [`SnapshotBuilder::finish`].
///
/// # Examples
/// ```
/// use k8s_openapi::api::core::v1::Node;
/// let node: Node = serde_json::from_value(serde_json::json!({
///     "metadata": {"name": "n1"},
///     "status": {"allocatable": {"cpu": "4", "memory": "16Gi"},
///                "conditions": [{"type": "Ready", "status": "True"}]}})).unwrap();
/// let mut builder = compactor_kube::SnapshotBuilder::new();
/// assert!(builder.add_node(&node).unwrap());
/// let spec = builder.finish();
/// assert_eq!(spec.nodes[0].name, "n1");
/// assert_eq!(spec.nodes[0].attach_limits, None); // no CSINode given
/// ```
///
/// # Errors
/// Each `add_*` method returns the errors of the mapping function of its kind
/// ([`node_spec`], [`pod_spec`], [`pdb_spec`], [`persistent_volume_node_affinity`]),
/// [`KubeError::Field`] for a Namespace, claim, volume, CSINode or owner without
/// `metadata.name` and for a negative attach count, and `Ok(false)` (nothing added) for a
/// second Namespace, claim, volume, CSINode or owner of the same name.
///
/// # Complexity
/// Each `add_*` is O(size of the object + log n); `finish` is O((pods + volumes) · log n).
#[derive(Debug, Default)]
pub struct SnapshotBuilder {
    spec: SnapshotSpec,
    /// Each pod's controller reference as written (kind, name), beside `spec.pods`.
    pod_controllers: Vec<Option<(String, String)>>,
    /// Claim namespace → claim name → the bound volume's name (if bound) and whether its
    /// access modes include ReadWriteOncePod.
    claims: BTreeMap<String, BTreeMap<String, (Option<String>, bool)>>,
    /// Volume name → where it can be used, and its CSI driver.
    volumes: BTreeMap<String, (Vec<NodeSelectorTerm>, Option<String>)>,
    /// Node name → its CSINode's attach limits per driver.
    csi_nodes: BTreeMap<String, BTreeMap<String, u64>>,
    /// (namespace, kind, name) of a ReplicaSet or Job → its own controller, if any.
    owners: BTreeMap<(String, String, String), Option<OwnerRef>>,
}

impl SnapshotBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a Node ([`node_spec`]). Always `Ok(true)` when it maps: two nodes of one name
    /// are reported by [`compactor_core::Snapshot::new`].
    ///
    /// # Errors
    /// Those of [`node_spec`].
    pub fn add_node(&mut self, node: &Node) -> Result<bool, KubeError> {
        self.spec.nodes.push(node_spec(node)?);
        Ok(true)
    }

    /// Adds a Pod ([`pod_spec`]); its top controller is resolved by [`Self::finish`] when
    /// its ReplicaSet or Job was added with [`Self::add_owner`].
    ///
    /// # Errors
    /// Those of [`pod_spec`].
    pub fn add_pod(&mut self, pod: &Pod) -> Result<bool, KubeError> {
        self.spec.pods.push(pod_spec(pod)?);
        let controller = pod
            .metadata
            .owner_references
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|r| r.controller == Some(true))
            .map(|r| (r.kind.clone(), r.name.clone()));
        self.pod_controllers.push(controller);
        Ok(true)
    }

    /// Adds a policy/v1 PodDisruptionBudget ([`pdb_spec`]).
    ///
    /// # Errors
    /// Those of [`pdb_spec`].
    pub fn add_pdb(&mut self, pdb: &PodDisruptionBudget) -> Result<bool, KubeError> {
        self.spec.pdbs.push(map_pdb(pdb, false)?);
        Ok(true)
    }

    /// Adds a policy/v1beta1 PodDisruptionBudget, read into the v1 type (the fields are
    /// the same): an empty selector selects no pod.
    ///
    /// # Errors
    /// Those of [`pdb_spec`].
    pub fn add_pdb_v1beta1(&mut self, pdb: &PodDisruptionBudget) -> Result<bool, KubeError> {
        self.spec.pdbs.push(map_pdb(pdb, true)?);
        Ok(true)
    }

    /// Adds a Namespace's labels (for `namespaceSelector`s). `Ok(false)` for a second one
    /// of the same name.
    ///
    /// # Errors
    /// [`KubeError::Field`] without `metadata.name`.
    pub fn add_namespace(&mut self, ns: &Namespace) -> Result<bool, KubeError> {
        let name = required_name(&ns.metadata, "namespace")?;
        let labels = ns.metadata.labels.clone().unwrap_or_default();
        Ok(self.spec.namespaces.insert(name, labels).is_none())
    }

    /// Adds a PersistentVolumeClaim: the volume it is bound to, and whether it is
    /// ReadWriteOncePod. `Ok(false)` for a second one of the same namespace and name.
    ///
    /// # Errors
    /// [`KubeError::Field`] without `metadata.name`.
    pub fn add_claim(&mut self, pvc: &PersistentVolumeClaim) -> Result<bool, KubeError> {
        let namespace = namespace_of(&pvc.metadata);
        let name = required_name(
            &pvc.metadata,
            &format!("persistentvolumeclaim in namespace {namespace}"),
        )?;
        let spec = pvc.spec.as_ref();
        let rwop = spec
            .and_then(|s| s.access_modes.as_deref())
            .unwrap_or_default()
            .iter()
            .any(|m| m == "ReadWriteOncePod");
        let volume = spec
            .and_then(|s| s.volume_name.clone())
            .filter(|v| !v.is_empty());
        Ok(self
            .claims
            .entry(namespace)
            .or_default()
            .insert(name, (volume, rwop))
            .is_none())
    }

    /// Adds a PersistentVolume: where it can be used
    /// ([`persistent_volume_node_affinity`]) and its CSI driver. `Ok(false)` for a second
    /// one of the same name.
    ///
    /// # Errors
    /// Those of [`persistent_volume_node_affinity`]; [`KubeError::Field`] without
    /// `metadata.name`.
    pub fn add_volume(&mut self, pv: &PersistentVolume) -> Result<bool, KubeError> {
        let terms = persistent_volume_node_affinity(pv)?;
        let name = required_name(&pv.metadata, "persistentvolume")?;
        let driver = pv
            .spec
            .as_ref()
            .and_then(|s| s.csi.as_ref())
            .map(|c| c.driver.clone());
        Ok(self.volumes.insert(name, (terms, driver)).is_none())
    }

    /// Adds a CSINode: its node's attach limit per driver (`allocatable.count`; a driver
    /// without one has no limit). `Ok(false)` for a second one of the same name.
    ///
    /// # Errors
    /// [`KubeError::Field`] without `metadata.name` or for a negative count.
    pub fn add_csi_node(&mut self, node: &CSINode) -> Result<bool, KubeError> {
        let name = required_name(&node.metadata, "csinode")?;
        let mut limits = BTreeMap::new();
        for (i, driver) in node.spec.drivers.iter().enumerate() {
            let Some(count) = driver.allocatable.as_ref().and_then(|a| a.count) else {
                continue; // no limit for this driver
            };
            let count = u64::try_from(count).map_err(|_| KubeError::Field {
                object: format!("csinode {name}"),
                field: format!("spec.drivers[{i}].allocatable.count"),
                message: format!("{count} is negative"),
            })?;
            limits.insert(driver.name.clone(), count);
        }
        Ok(self.csi_nodes.insert(name, limits).is_none())
    }

    /// Adds an intermediate owner (`kind` ReplicaSet or Job) by its metadata: a pod it
    /// controls gets that owner's own controller (Deployment, CronJob) as its workload, or
    /// the owner itself when it has none. Without it, a ReplicaSet's Deployment is derived
    /// from the `pod-template-hash` label and a Job stays the workload. `Ok(false)` for a
    /// second one of the same kind, namespace and name.
    ///
    /// # Errors
    /// [`KubeError::Field`] without `metadata.name`.
    pub fn add_owner(&mut self, kind: &str, meta: &ObjectMeta) -> Result<bool, KubeError> {
        let namespace = namespace_of(meta);
        let name = required_name(
            meta,
            &format!("{} in namespace {namespace}", kind.to_lowercase()),
        )?;
        let controller = meta
            .owner_references
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|r| r.controller == Some(true))
            .map(|r| OwnerRef {
                kind: r.kind.clone(),
                name: r.name.clone(),
            });
        Ok(self
            .owners
            .insert((namespace, kind.to_owned(), name), controller)
            .is_none())
    }

    /// Takes in everything `other` collected (the live snapshot fills one builder per list
    /// concurrently, then merges them). Objects of a name `self` already has are replaced.
    pub fn merge(&mut self, other: SnapshotBuilder) {
        self.spec.nodes.extend(other.spec.nodes);
        self.spec.pods.extend(other.spec.pods);
        self.spec.pdbs.extend(other.spec.pdbs);
        self.spec.namespaces.extend(other.spec.namespaces);
        self.pod_controllers.extend(other.pod_controllers);
        for (namespace, claims) in other.claims {
            self.claims.entry(namespace).or_default().extend(claims);
        }
        self.volumes.extend(other.volumes);
        self.csi_nodes.extend(other.csi_nodes);
        self.owners.extend(other.owners);
    }

    /// The snapshot: pods' claims resolved against the claims and volumes added (a claim
    /// that is missing, unbound or bound to a missing volume is marked `unresolved` with
    /// the reason), nodes' attach limits from their CSINodes (`None` without one), pods'
    /// owners resolved through the owners added.
    pub fn finish(mut self) -> SnapshotSpec {
        for node in &mut self.spec.nodes {
            node.attach_limits = self.csi_nodes.remove(&node.name);
        }
        for (pod, controller) in self.spec.pods.iter_mut().zip(&self.pod_controllers) {
            if let Some((kind, name)) = controller {
                let key = (pod.namespace.clone(), kind.clone(), name.clone());
                if let Some(owner) = self.owners.get(&key) {
                    pod.owner = Some(owner.clone().unwrap_or_else(|| OwnerRef {
                        kind: kind.clone(),
                        name: name.clone(),
                    }));
                }
            }
            let pod_claims = self.claims.get(&pod.namespace);
            for volume in &mut pod.volumes {
                if let VolumeSource::PersistentVolumeClaim {
                    claim_name,
                    node_affinity,
                    unresolved,
                    csi_driver,
                    read_write_once_pod,
                } = &mut volume.source
                {
                    let claim = format!("PersistentVolumeClaim {}/{claim_name}", pod.namespace);
                    let found = pod_claims.and_then(|c| c.get(claim_name.as_str()));
                    *read_write_once_pod = found.is_some_and(|(_, rwop)| *rwop);
                    match found {
                        None => *unresolved = Some(format!("{claim} is not in the input")),
                        Some((None, _)) => *unresolved = Some(format!("{claim} is not bound")),
                        Some((Some(volume_name), _)) => match self.volumes.get(volume_name) {
                            None => {
                                *unresolved = Some(format!(
                                    "{claim} is bound to PersistentVolume {volume_name}, which is not in the input"
                                ));
                            }
                            Some((terms, driver)) => {
                                node_affinity.clone_from(terms);
                                csi_driver.clone_from(driver);
                                *unresolved = None;
                            }
                        },
                    }
                }
            }
        }
        self.spec
    }
}

/// Reads a snapshot from text in either accepted format:
///
/// 1. the kubectl list JSON (`kubectl get nodes,pods,pdb,pvc,pv,namespaces,csinodes -A -o json`,
///    `kubectl get nodes,pods,pdb -A -o json`, or the list of a single
///    resource type such as `kubectl get nodes -o json`), recognised by a `kind` ending in
///    `List`; see [`snapshot_from_kubectl_list`];
/// 2. the kube-compactor snapshot JSON ([`compactor_core::model::SnapshotSpec`]), recognised
///    by a `nodes` field and no `kind`.
///
/// # Examples
/// ```
/// let core = compactor_kube::read_snapshot(r#"{"nodes": [{"name": "n1", "allocatable": {"cpu": "4", "memory": "16Gi"}}]}"#).unwrap();
/// let kubectl = compactor_kube::read_snapshot(r#"{"apiVersion": "v1", "kind": "List", "items": [
///   {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
///    "status": {"allocatable": {"cpu": "4", "memory": "16Gi"}, "conditions": [{"type": "Ready", "status": "True"}]}}]}"#).unwrap();
/// assert_eq!(core, kubectl);
/// let err = compactor_kube::read_snapshot(r#"{"pods": []}"#).unwrap_err();
/// assert!(err.to_string().contains("expected either a kubectl list"));
/// ```
///
/// # Errors
/// - [`KubeError::Json`] when the text is not JSON;
/// - [`KubeError::Format`] when it is JSON in neither format (the message names both);
/// - [`KubeError::Snapshot`] naming the path (`pods[3].containers[0].requests: resource cpu:
///   …`) for an invalid kube-compactor snapshot;
/// - every error of [`snapshot_from_kubectl_list`] for a kubectl list.
///
/// # Complexity
/// O(len) time. The format is detected by a first pass that skips values without building
/// them; only the kubectl format builds a `serde_json::Value` of the whole document.
pub fn read_snapshot(text: &str) -> Result<SnapshotSpec, KubeError> {
    /// The fields that tell the formats apart; everything else is skipped.
    #[derive(Deserialize)]
    struct Probe {
        kind: Option<Value>,
        nodes: Option<IgnoredAny>,
    }
    let json_error = |e: serde_json::Error| KubeError::Json {
        message: e.to_string(),
    };
    if !text.trim_start().starts_with('{') {
        // Not an object (a derived struct would also accept an array): say which.
        serde_json::from_str::<IgnoredAny>(text).map_err(json_error)?;
        return Err(KubeError::Format {
            found: "a JSON value that is not an object".to_owned(),
        });
    }
    let probe: Probe = serde_json::from_str(text).map_err(json_error)?;
    match (&probe.kind, &probe.nodes) {
        (Some(Value::String(kind)), _)
            if matches!(kind.as_str(), "PodMetricsList" | "NodeMetricsList") =>
        {
            Err(KubeError::Format {
                found: format!(
                    "a {kind}: usage from metrics.k8s.io, which `analyze --metrics` reads"
                ),
            })
        }
        (Some(Value::String(kind)), _) if kind.ends_with("List") => {
            let value: Value = serde_json::from_str(text).map_err(json_error)?;
            let spec = snapshot_from_kubectl_list(&value)?;
            if spec.nodes.is_empty() {
                // Nothing to plan: most likely the wrong file.
                let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
                for item in value["items"].as_array().into_iter().flatten() {
                    *kinds
                        .entry(item["kind"].as_str().unwrap_or("(no kind)"))
                        .or_default() += 1;
                }
                let listed: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
                return Err(KubeError::Format {
                    found: if listed.is_empty() {
                        format!("a {kind} without items")
                    } else {
                        format!("a {kind} without any Node ({})", listed.join(", "))
                    },
                });
            }
            Ok(spec)
        }
        (None, Some(_)) => {
            let mut de = serde_json::Deserializer::from_str(text);
            let spec: SnapshotSpec =
                serde_path_to_error::deserialize(&mut de).map_err(|e| KubeError::Snapshot {
                    path: e.path().to_string(),
                    message: e.into_inner().to_string(),
                })?;
            de.end().map_err(json_error)?;
            Ok(spec)
        }
        (Some(Value::String(kind)), _) => Err(KubeError::Format {
            found: format!("an object of kind {kind:?}"),
        }),
        (Some(other), _) => Err(KubeError::Format {
            found: format!("an object whose kind is {}", describe(other)),
        }),
        (None, None) => Err(KubeError::Format {
            found: "an object with neither \"kind\" nor \"nodes\"".to_owned(),
        }),
    }
}

/// Deserializes one list item into its k8s-openapi type; errors carry the path inside it.
pub(crate) fn deserialize_item<'a, T: Deserialize<'a>>(
    index: usize,
    object: &str,
    item: &'a Value,
) -> Result<T, KubeError> {
    serde_path_to_error::deserialize(item).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        KubeError::Item {
            index,
            object: object.to_owned(),
            message: if path == "." {
                inner.to_string()
            } else {
                format!("{path}: {inner}")
            },
        }
    })
}

/// `Kind ns/name`, or `Kind name` without a namespace, as far as the raw item tells.
pub(crate) fn identity(kind: &str, fields: &serde_json::Map<String, Value>) -> String {
    let meta = fields.get("metadata");
    let text = |key: &str| {
        meta.and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let name = text("name").unwrap_or("<unnamed>");
    match text("namespace") {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
