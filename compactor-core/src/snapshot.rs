//! The validated, indexed cluster snapshot.

use std::collections::{BTreeMap, HashMap};

use crate::error::CoreError;
use crate::model::{
    HOSTNAME_LABEL, LabelSelector, NodeSelectorTerm, NodeSpec, PdbSpec, PodAffinityTerm, PodSpec,
    SnapshotSpec, VolumeSource,
};
use crate::resources::{Dimensions, PODS, ResourceList};

/// Label the API server puts on every namespace, holding its name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Checks the scheduling fields Kubernetes validates and the planner relies on: weights
/// 1–100, non-empty topology keys, `maxSkew` ≥ 1, `minDomains` ≥ 1, and `Gt` / `Lt` with
/// exactly one integer value.
///
/// # Errors
/// [`CoreError::InvalidField`] naming the pod and the field path.
fn validate_scheduling(p: &PodSpec) -> Result<(), CoreError> {
    let bad = |field: String, message: &str| CoreError::InvalidField {
        object: format!("pod {}", p.key()),
        field,
        message: message.to_owned(),
    };
    let weight = |w: i32, field: String| {
        if (1..=100).contains(&w) {
            Ok(())
        } else {
            Err(bad(field, &format!("weight {w} is outside 1-100")))
        }
    };
    let term = |t: &PodAffinityTerm, field: String| {
        if t.topology_key.is_empty() {
            return Err(bad(format!("{field}.topologyKey"), "must not be empty"));
        }
        for (sel, name) in [
            (t.label_selector.as_ref(), "labelSelector"),
            (t.namespace_selector.as_ref(), "namespaceSelector"),
        ] {
            if let Some((j, message)) = sel.and_then(label_selector_error) {
                return Err(bad(
                    format!("{field}.{name}.matchExpressions[{j}].values"),
                    message,
                ));
            }
        }
        Ok(())
    };
    if p.node_name.as_deref() == Some("") {
        return Err(bad(
            "nodeName".into(),
            "must not be empty (leave it out for a pod that is not bound to a node)",
        ));
    }
    let node_terms = |terms: &[NodeSelectorTerm], field: &str| {
        for (i, t) in terms.iter().enumerate() {
            for (list, r#where) in [
                (&t.match_expressions, "matchExpressions"),
                (&t.match_fields, "matchFields"),
            ] {
                for (j, r) in list.iter().enumerate() {
                    if let Err(message) = r.operator.check_values(&r.values) {
                        return Err(bad(format!("{field}[{i}].{where}[{j}].values"), message));
                    }
                }
            }
        }
        Ok(())
    };
    let selector = |sel: Option<&LabelSelector>, field: String| {
        let Some(sel) = sel else { return Ok(()) };
        label_selector_error(sel).map_or(Ok(()), |(j, message)| {
            Err(bad(
                format!("{field}.matchExpressions[{j}].values"),
                message,
            ))
        })
    };
    node_terms(&p.required_node_affinity, "requiredNodeAffinity")?;
    for (i, t) in p.preferred_node_affinity.iter().enumerate() {
        weight(t.weight, format!("preferredNodeAffinity[{i}].weight"))?;
        node_terms(
            std::slice::from_ref(&t.preference),
            &format!("preferredNodeAffinity[{i}].preference"),
        )?;
    }
    for (i, t) in p.pod_affinity.iter().enumerate() {
        term(t, format!("podAffinity[{i}]"))?;
    }
    for (i, t) in p.pod_anti_affinity.iter().enumerate() {
        term(t, format!("podAntiAffinity[{i}]"))?;
    }
    for (name, list) in [
        ("preferredPodAffinity", &p.preferred_pod_affinity),
        ("preferredPodAntiAffinity", &p.preferred_pod_anti_affinity),
    ] {
        for (i, t) in list.iter().enumerate() {
            weight(t.weight, format!("{name}[{i}].weight"))?;
            term(&t.pod_affinity_term, format!("{name}[{i}].podAffinityTerm"))?;
        }
    }
    for (i, c) in p.topology_spread_constraints.iter().enumerate() {
        let field = |f: &str| format!("topologySpreadConstraints[{i}].{f}");
        if c.max_skew == 0 {
            return Err(bad(field("maxSkew"), "must be at least 1"));
        }
        if c.topology_key.is_empty() {
            return Err(bad(field("topologyKey"), "must not be empty"));
        }
        if c.min_domains == Some(0) {
            return Err(bad(field("minDomains"), "must be at least 1"));
        }
        selector(c.label_selector.as_ref(), field("labelSelector"))?;
    }
    for v in &p.volumes {
        if let VolumeSource::PersistentVolumeClaim { node_affinity, .. } = &v.source {
            node_terms(node_affinity, &format!("volumes[{}].nodeAffinity", v.name))?;
        }
    }
    Ok(())
}

/// Refuses control and direction characters in the names and labels output shows (as
/// Kubernetes refuses them in names): a newline in a name would forge a line of the plan.
fn check_text(
    nodes: &[NodeSpec],
    pods: &[PodSpec],
    pdbs: &[PdbSpec],
    namespaces: &BTreeMap<String, BTreeMap<String, String>>,
) -> Result<(), CoreError> {
    use crate::text::{first_unprintable, printable};
    fn labels<'a>(
        prefix: &'a str,
        map: &'a BTreeMap<String, String>,
    ) -> impl Iterator<Item = (String, &'a str)> + 'a {
        map.iter().flat_map(move |(k, v)| {
            [
                (format!("{prefix} key {:?}", printable(k)), k.as_str()),
                (format!("{prefix}[{}]", printable(k)), v.as_str()),
            ]
        })
    }
    let check = |object: &dyn Fn() -> String, fields: &mut dyn Iterator<Item = (String, &str)>| {
        for (field, value) in fields {
            if let Some(c) = first_unprintable(value) {
                return Err(CoreError::InvalidField {
                    object: object(),
                    field,
                    message: format!("contains the control or direction character {c}"),
                });
            }
        }
        Ok(())
    };
    for n in nodes {
        let object = || format!("node {}", printable(&n.name));
        let mut fields = std::iter::once(("name".to_owned(), n.name.as_str()))
            .chain(labels("labels", &n.labels))
            .chain(
                n.annotations
                    .keys()
                    .map(|k| ("annotations key".to_owned(), k.as_str())),
            )
            .chain(n.taints.iter().enumerate().flat_map(|(i, t)| {
                [
                    (format!("taints[{i}].key"), t.key.as_str()),
                    (
                        format!("taints[{i}].value"),
                        t.value.as_deref().unwrap_or(""),
                    ),
                ]
            }));
        check(&object, &mut fields)?;
    }
    for p in pods {
        let object = || format!("pod {}/{}", printable(&p.namespace), printable(&p.name));
        let mut fields = [
            ("namespace".to_owned(), p.namespace.as_str()),
            ("name".to_owned(), p.name.as_str()),
            (
                "schedulerName".to_owned(),
                p.scheduler_name.as_deref().unwrap_or(""),
            ),
            (
                "priorityClassName".to_owned(),
                p.priority_class_name.as_deref().unwrap_or(""),
            ),
        ]
        .into_iter()
        .chain(p.owner.iter().flat_map(|o| {
            [
                ("owner.kind".to_owned(), o.kind.as_str()),
                ("owner.name".to_owned(), o.name.as_str()),
            ]
        }))
        .chain(labels("labels", &p.labels))
        .chain(
            p.annotations
                .keys()
                .map(|k| ("annotations key".to_owned(), k.as_str())),
        )
        .chain(p.volumes.iter().enumerate().flat_map(|(i, v)| {
            let (claim, driver) = match &v.source {
                VolumeSource::PersistentVolumeClaim {
                    claim_name,
                    csi_driver,
                    ..
                } => (claim_name.as_str(), csi_driver.as_deref().unwrap_or("")),
                _ => ("", ""),
            };
            [
                (format!("volumes[{i}].name"), v.name.as_str()),
                (format!("volumes[{i}].claimName"), claim),
                (format!("volumes[{i}].csiDriver"), driver),
            ]
        }))
        .chain(p.tolerations.iter().enumerate().flat_map(|(i, t)| {
            [
                (
                    format!("tolerations[{i}].key"),
                    t.key.as_deref().unwrap_or(""),
                ),
                (
                    format!("tolerations[{i}].value"),
                    t.value.as_deref().unwrap_or(""),
                ),
            ]
        }));
        check(&object, &mut fields)?;
    }
    for b in pdbs {
        let object = || {
            format!(
                "poddisruptionbudget {}/{}",
                printable(&b.namespace),
                printable(&b.name)
            )
        };
        let mut fields = [
            ("namespace".to_owned(), b.namespace.as_str()),
            ("name".to_owned(), b.name.as_str()),
        ]
        .into_iter();
        check(&object, &mut fields)?;
    }
    for (name, labels_of) in namespaces {
        let object = || format!("namespace {}", printable(name));
        let mut fields =
            std::iter::once(("name".to_owned(), name.as_str())).chain(labels("labels", labels_of));
        check(&object, &mut fields)?;
    }
    Ok(())
}

/// The first requirement of `sel` that Kubernetes' validation refuses, with why: `In` and
/// `NotIn` need values, `Exists` and `DoesNotExist` take none.
pub(crate) fn label_selector_error(sel: &LabelSelector) -> Option<(usize, &'static str)> {
    sel.match_expressions
        .iter()
        .enumerate()
        .find_map(|(j, r)| r.operator.check_values(&r.values).err().map(|m| (j, m)))
}

/// Default `pods` allocatable when a node does not state it (the kubelet's `maxPods` default).
pub const DEFAULT_MAX_PODS: u64 = 110;

/// Prefix of the dimension that counts a CSI driver's attached volumes (the driver's name
/// follows): a pod requests one per distinct claim of that driver, a node holds its CSINode's
/// limit (kube-scheduler's NodeVolumeLimits).
pub const ATTACH_PREFIX: &str = "attachable-volumes-csi-";

/// Attach capacity of a node for a driver its CSINode sets no limit for.
pub const NO_ATTACH_LIMIT: u64 = 1 << 20;

/// Per CSI driver, the distinct claims of `pod` it attaches, as a list keyed by
/// [`ATTACH_PREFIX`]`<driver>`.
pub(crate) fn attach_requests(pod: &PodSpec) -> ResourceList {
    let mut claims: std::collections::BTreeSet<(&str, &str)> = std::collections::BTreeSet::new();
    for v in &pod.volumes {
        if let VolumeSource::PersistentVolumeClaim {
            claim_name,
            csi_driver: Some(driver),
            ..
        } = &v.source
        {
            claims.insert((driver.as_str(), claim_name.as_str()));
        }
    }
    let mut out = ResourceList::new();
    for (driver, _) in claims {
        let key = format!("{ATTACH_PREFIX}{driver}");
        let count = out.get(&key) + 1;
        out.set(&key, count);
    }
    out
}

/// A node with its dense allocatable vector.
#[derive(Debug, Clone)]
pub struct Node {
    /// The node as given.
    pub spec: NodeSpec,
    /// Allocatable per dimension.
    pub allocatable: Vec<u64>,
}

/// A pod with its effective request and indices into the snapshot.
#[derive(Debug, Clone)]
pub struct Pod {
    /// The pod as given.
    pub spec: PodSpec,
    /// Effective request per dimension, including one pod slot (see [`effective_requests`]).
    pub request: Vec<u64>,
    /// Index of the node it is bound to.
    pub node: Option<usize>,
    /// Indices of the PDBs that cover it, in PDB order.
    pub pdbs: Vec<usize>,
    /// CPU and memory as kube-scheduler's scoring counts them (see [`scoring_requests`]).
    pub scoring: [u64; 2],
}

/// A validated snapshot: nodes sorted by name, pods by namespace/name, PDBs by namespace/name.
///
/// # Examples
/// ```
/// use compactor_core::{Snapshot, model::*, resources::ResourceList};
/// let spec = SnapshotSpec {
///     nodes: vec![NodeSpec { name: "n1".into(), allocatable: ResourceList::new().with("cpu", 4000).with("memory", 8 << 30), ready: true, ..Default::default() }],
///     pods: vec![PodSpec { namespace: "d".into(), name: "p".into(), node_name: Some("n1".into()), ..Default::default() }],
///     ..Default::default()
/// };
/// let snap = Snapshot::new(spec).unwrap();
/// assert_eq!(snap.nodes().len(), 1);
/// assert_eq!(snap.pods()[0].node, Some(0));
/// ```
#[derive(Debug, Clone)]
pub struct Snapshot {
    dims: Dimensions,
    nodes: Vec<Node>,
    pods: Vec<Pod>,
    pdbs: Vec<PdbSpec>,
    /// Requested amount per node per dimension (non-terminal pods), row-major.
    node_requested: Vec<u64>,
    /// Labels of every namespace named by a pod or given in the spec.
    namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// The namespaces the spec lists (whose labels are known).
    listed_namespaces: std::collections::BTreeSet<String>,
    /// The first schedulable Ready node whose CSINode the input lacks.
    without_csinode: Option<String>,
}

impl Snapshot {
    /// Validates and indexes a snapshot.
    ///
    /// # Errors
    /// - [`CoreError::DuplicateNode`], [`CoreError::DuplicatePod`], [`CoreError::DuplicatePdb`];
    /// - [`CoreError::EmptyName`] for a nameless object;
    /// - [`CoreError::UnknownNode`] for a pod bound to a node that is not in the snapshot;
    /// - [`CoreError::ZeroAllocatable`] for a node without CPU, memory or pod slots;
    /// - [`CoreError::Overflow`] when a pod's or a node's total does not fit in 64 bits.
    ///
    /// # Complexity
    /// O((N + P) · d + P · (log B + B_ns)) where B_ns is the number of PDBs in the pod's
    /// namespace.
    pub fn new(spec: SnapshotSpec) -> Result<Self, CoreError> {
        let SnapshotSpec {
            mut nodes,
            mut pods,
            mut pdbs,
            namespaces: namespace_labels,
        } = spec;
        check_text(&nodes, &pods, &pdbs, &namespace_labels)?;
        // Unstable sorts are enough: equal keys are duplicates, which are rejected below.
        sort_by_name(&mut nodes, |n| ("", &n.name));
        sort_by_name(&mut pods, |p| (&p.namespace, &p.name));
        sort_by_name(&mut pdbs, |p| (&p.namespace, &p.name));

        for w in nodes.windows(2) {
            if w[0].name == w[1].name {
                return Err(CoreError::DuplicateNode {
                    node: w[0].name.clone(),
                });
            }
        }
        for w in pods.windows(2) {
            if w[0].namespace == w[1].namespace && w[0].name == w[1].name {
                return Err(CoreError::DuplicatePod { pod: w[0].key() });
            }
        }
        for w in pdbs.windows(2) {
            if w[0].namespace == w[1].namespace && w[0].name == w[1].name {
                return Err(CoreError::DuplicatePdb { pdb: w[0].key() });
            }
        }
        for b in &pdbs {
            if let Some((j, message)) = b.selector.as_ref().and_then(label_selector_error) {
                return Err(CoreError::InvalidField {
                    object: format!("poddisruptionbudget {}", b.key()),
                    field: format!("selector.matchExpressions[{j}].values"),
                    message: message.to_owned(),
                });
            }
        }
        if let Some(n) = nodes.iter().find(|n| n.name.is_empty()) {
            return Err(CoreError::EmptyName {
                object: format!(
                    "node with allocatable {}",
                    n.allocatable
                        .iter()
                        .map(|(k, v)| format!("{k} {}", crate::resources::human(k, v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        if let Some(p) = pods
            .iter()
            .find(|p| p.name.is_empty() || p.namespace.is_empty())
        {
            return Err(CoreError::EmptyName {
                object: format!("pod {:?}", p.key()),
            });
        }
        if let Some(p) = pdbs
            .iter()
            .find(|p| p.name.is_empty() || p.namespace.is_empty())
        {
            return Err(CoreError::EmptyName {
                object: format!("poddisruptionbudget {:?}", p.key()),
            });
        }

        // The API server refuses any other pod-level request; the model would drop it.
        for p in &pods {
            if let Some((name, _)) = p
                .pod_requests
                .iter()
                .find(|(name, _)| !crate::resources::is_pod_level_resource(name))
            {
                return Err(CoreError::InvalidField {
                    object: format!("pod {}", p.key()),
                    field: format!("podRequests.{name}"),
                    message: "only cpu, memory and hugepages-* can be requested at pod level"
                        .to_owned(),
                });
            }
        }

        let attach: Vec<ResourceList> = pods.iter().map(attach_requests).collect();
        let mut lists: Vec<&ResourceList> = nodes.iter().map(|n| &n.allocatable).collect();
        for (p, a) in pods.iter().zip(&attach) {
            lists.extend(p.containers.iter().map(|c| &c.requests));
            lists.extend(p.init_containers.iter().map(|c| &c.requests));
            lists.push(&p.overhead);
            lists.push(&p.pod_requests);
            lists.push(a);
        }
        let dims = Dimensions::from_lists(lists);
        // The first node a pod could be scheduled to whose CSINode the input lacks.
        let without_csinode = nodes
            .iter()
            .find(|n| n.ready && !n.unschedulable && n.attach_limits.is_none())
            .map(|n| n.name.clone());

        let pdb_index = PdbIndex::new(&pdbs);
        let mut built_nodes = Vec::with_capacity(nodes.len());
        for n in nodes {
            for resource in [crate::resources::CPU, crate::resources::MEMORY] {
                if n.allocatable.get(resource) == 0 {
                    return Err(CoreError::ZeroAllocatable {
                        node: n.name,
                        resource: resource.to_owned(),
                    });
                }
            }
            if n.allocatable.contains(PODS) && n.allocatable.get(PODS) == 0 {
                return Err(CoreError::ZeroAllocatable {
                    node: n.name,
                    resource: PODS.to_owned(),
                });
            }
            let mut spec = n;
            // The kubelet always sets the hostname label; hand-written snapshots may not.
            if !spec.labels.contains_key(HOSTNAME_LABEL) {
                spec.labels
                    .insert(HOSTNAME_LABEL.to_owned(), spec.name.clone());
            }
            let mut allocatable = dims.dense(&spec.allocatable);
            if !spec.allocatable.contains(PODS) {
                allocatable[Dimensions::PODS] = DEFAULT_MAX_PODS;
            }
            for (k, name) in dims.names().iter().enumerate() {
                if let Some(driver) = name.strip_prefix(ATTACH_PREFIX) {
                    allocatable[k] = spec
                        .attach_limits
                        .as_ref()
                        .and_then(|l| l.get(driver).copied())
                        .unwrap_or(NO_ATTACH_LIMIT);
                }
            }
            built_nodes.push(Node { spec, allocatable });
        }
        // Looked up only, never iterated: its order cannot reach the output.
        let node_index: HashMap<&str, usize> = built_nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.spec.name.as_str(), i))
            .collect();

        let d = dims.len();
        let mut node_requested = vec![0u64; built_nodes.len() * d];
        let mut built_pods = Vec::with_capacity(pods.len());
        let listed_namespaces = namespace_labels.keys().cloned().collect();
        let mut namespaces = namespace_labels;
        for (name, labels) in &mut namespaces {
            labels
                .entry(NAMESPACE_NAME_LABEL.to_owned())
                .or_insert_with(|| name.clone());
        }
        let mut scratch = Scratch::new(d);
        let mut scoring = vec![0u64; d];
        for (p, attach) in pods.into_iter().zip(attach) {
            validate_scheduling(&p)?;
            if !namespaces.contains_key(&p.namespace) {
                namespaces.insert(
                    p.namespace.clone(),
                    [(NAMESPACE_NAME_LABEL.to_owned(), p.namespace.clone())].into(),
                );
            }
            let node =
                match &p.node_name {
                    None => None,
                    Some(name) => Some(*node_index.get(name.as_str()).ok_or_else(|| {
                        CoreError::UnknownNode {
                            pod: p.key(),
                            node: name.clone(),
                        }
                    })?),
                };
            let mut request = vec![0u64; d];
            requests(&p, &dims, false, &mut scratch, &mut request)?;
            for (name, count) in attach.iter() {
                if let Some(k) = dims.index(name) {
                    request[k] = request[k].saturating_add(count);
                }
            }
            requests(&p, &dims, true, &mut scratch, &mut scoring)?;
            if let (Some(ni), false) = (node, p.phase.is_terminal()) {
                let row = &mut node_requested[ni * d..(ni + 1) * d];
                for (dim, (total, r)) in row.iter_mut().zip(&request).enumerate() {
                    *total = total.checked_add(*r).ok_or_else(|| CoreError::Overflow {
                        object: format!("node {}", built_nodes[ni].spec.name),
                        field: format!("sum of pod requests of {}", dims.name(dim)),
                    })?;
                }
            }
            let covering = pdb_index.covering(&pdbs, &p);
            built_pods.push(Pod {
                spec: p,
                request,
                node,
                pdbs: covering,
                scoring: [scoring[Dimensions::CPU], scoring[Dimensions::MEMORY]],
            });
        }

        Ok(Self {
            dims,
            nodes: built_nodes,
            pods: built_pods,
            pdbs,
            node_requested,
            namespaces,
            listed_namespaces,
            without_csinode,
        })
    }

    /// The first schedulable, Ready node (by name) whose CSINode the input lacks: where a CSI
    /// volume could be attached, and how many, is unknown there.
    pub fn node_without_csinode(&self) -> Option<&str> {
        self.without_csinode.as_deref()
    }

    /// The labels of namespace `ns` (every namespace of a pod is known; unknown ones give
    /// `None`).
    pub fn namespace_labels(&self, ns: &str) -> Option<&BTreeMap<String, String>> {
        self.namespaces.get(ns)
    }

    /// Whether the spec lists namespace `ns`, so that its labels are known (a namespace a pod
    /// names but the spec does not list has only its name label here, which may be wrong).
    pub fn namespace_listed(&self, ns: &str) -> bool {
        self.listed_namespaces.contains(ns)
    }

    /// The resource dimensions of this snapshot.
    pub fn dims(&self) -> &Dimensions {
        &self.dims
    }

    /// Nodes, sorted by name.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Pods, sorted by namespace/name.
    pub fn pods(&self) -> &[Pod] {
        &self.pods
    }

    /// PodDisruptionBudgets, sorted by namespace/name.
    pub fn pdbs(&self) -> &[PdbSpec] {
        &self.pdbs
    }

    /// Requested amounts on node `n` (all non-terminal pods bound to it), per dimension.
    pub fn requested(&self, n: usize) -> &[u64] {
        let d = self.dims.len();
        &self.node_requested[n * d..(n + 1) * d]
    }

    /// Index of the node called `name`.
    ///
    /// # Complexity
    /// O(log N).
    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes
            .binary_search_by(|n| n.spec.name.as_str().cmp(name))
            .ok()
    }

    /// Index of the pod `namespace/name`.
    ///
    /// # Complexity
    /// O(log P).
    pub fn pod_index(&self, namespace: &str, name: &str) -> Option<usize> {
        self.pods
            .binary_search_by(|p| {
                (p.spec.namespace.as_str(), p.spec.name.as_str()).cmp(&(namespace, name))
            })
            .ok()
    }

    /// Indices of the pods bound to each node, in pod order.
    ///
    /// # Complexity
    /// O(N + P).
    pub fn pods_by_node(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.nodes.len()];
        for (i, p) in self.pods.iter().enumerate() {
            if let Some(n) = p.node {
                out[n].push(i);
            }
        }
        out
    }
}

/// Sorts `items` by `(namespace, name)`, ties (duplicates) in no particular order.
///
/// Comparing the strings of large objects scattered in memory was most of
/// [`Snapshot::new`]'s time, so already sorted input (as `kubectl` lists objects) is only
/// checked, and otherwise a compact key is sorted: the namespace's rank among the distinct
/// namespaces and the name's first 16 bytes (zero-padded: a shorter key sorts first, as
/// strings do), the full names only when those are equal. Each item is then moved once.
///
/// # Complexity
/// O(n log n) comparisons, O(n) moves.
fn sort_by_name<T>(items: &mut [T], key: impl Fn(&T) -> (&str, &str)) {
    if items.windows(2).all(|w| key(&w[0]) <= key(&w[1])) {
        return;
    }
    let order = {
        let mut ranks: BTreeMap<&str, u32> = items.iter().map(|i| (key(i).0, 0)).collect();
        for (rank, r) in ranks.values_mut().enumerate() {
            *r = u32::try_from(rank).unwrap_or(u32::MAX);
        }
        let prefix = |name: &str| {
            let mut bytes = [0u8; 16];
            for (b, c) in bytes.iter_mut().zip(name.as_bytes()) {
                *b = *c;
            }
            u128::from_be_bytes(bytes)
        };
        let mut keyed: Vec<(u32, u128, usize)> = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let (ns, name) = key(item);
                (ranks.get(ns).copied().unwrap_or(0), prefix(name), i)
            })
            .collect();
        keyed.sort_unstable_by(|a, b| {
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then_with(|| key(&items[a.2]).1.cmp(key(&items[b.2]).1))
        });
        keyed
    };
    // dest[i]: where the item now at position i belongs.
    let mut dest = vec![0; order.len()];
    for (to, (_, _, from)) in order.into_iter().enumerate() {
        dest[from] = to;
    }
    for i in 0..items.len() {
        while dest[i] != i {
            let j = dest[i];
            items.swap(i, j);
            dest.swap(i, j);
        }
    }
}

/// PodDisruptionBudgets indexed by namespace and by one of their `matchLabels` pairs, so that
/// finding the PDBs of a pod does not scan every PDB.
struct PdbIndex<'a> {
    /// `(namespace, key, value)` → PDBs whose selector requires that label.
    by_label: BTreeMap<(&'a str, &'a str, &'a str), Vec<usize>>,
    /// namespace → PDBs without `matchLabels` (expressions only, or empty).
    unlabelled: BTreeMap<&'a str, Vec<usize>>,
}

impl<'a> PdbIndex<'a> {
    fn new(pdbs: &'a [PdbSpec]) -> Self {
        let mut by_label: BTreeMap<(&str, &str, &str), Vec<usize>> = BTreeMap::new();
        let mut unlabelled: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, b) in pdbs.iter().enumerate() {
            // A null selector covers nothing and is not indexed.
            let Some(sel) = &b.selector else { continue };
            match sel.match_labels.iter().next() {
                Some((k, v)) => by_label
                    .entry((b.namespace.as_str(), k.as_str(), v.as_str()))
                    .or_default()
                    .push(i),
                None => unlabelled.entry(b.namespace.as_str()).or_default().push(i),
            }
        }
        Self {
            by_label,
            unlabelled,
        }
    }

    /// Indices of the PDBs covering `pod`, ascending.
    fn covering(&self, pdbs: &[PdbSpec], pod: &PodSpec) -> Vec<usize> {
        let ns = pod.namespace.as_str();
        let mut out: Vec<usize> = self
            .unlabelled
            .get(ns)
            .into_iter()
            .flatten()
            .copied()
            .collect();
        for (k, v) in &pod.labels {
            if let Some(list) = self.by_label.get(&(ns, k.as_str(), v.as_str())) {
                out.extend(list);
            }
        }
        out.retain(|i| pdbs[*i].covers(pod));
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// A pod's effective request as kube-scheduler computes it, per dimension:
/// `max(Σ app containers + Σ sidecars, max over init containers i of (request_i + sidecars
/// started before i)) + overhead`, plus one pod slot. A pod-level request (`podRequests`)
/// replaces the container arithmetic for its resource.
///
/// # Errors
/// [`CoreError::Overflow`] when a sum does not fit in 64 bits.
///
/// # Complexity
/// O((containers + init containers) · d).
pub fn effective_requests(pod: &PodSpec, dims: &Dimensions) -> Result<Vec<u64>, CoreError> {
    let mut out = vec![0; dims.len()];
    requests(pod, dims, false, &mut Scratch::new(dims.len()), &mut out)?;
    Ok(out)
}

/// kube-scheduler's default CPU request (millicores) for scoring a container that sets none.
pub const DEFAULT_SCORING_CPU: u64 = 100;
/// kube-scheduler's default memory request (bytes) for scoring a container that sets none.
pub const DEFAULT_SCORING_MEMORY: u64 = 200 << 20;

/// CPU and memory as kube-scheduler's scoring counts them: like [`effective_requests`], but a
/// container that sets no CPU or memory request counts 100m / 200 MiB.
///
/// # Errors
/// [`CoreError::Overflow`] when a sum does not fit in 64 bits.
pub fn scoring_requests(pod: &PodSpec, dims: &Dimensions) -> Result<[u64; 2], CoreError> {
    let mut out = vec![0; dims.len()];
    requests(pod, dims, true, &mut Scratch::new(dims.len()), &mut out)?;
    Ok([out[Dimensions::CPU], out[Dimensions::MEMORY]])
}

/// Per-dimension work vectors of [`requests`], reused from pod to pod.
struct Scratch {
    /// One container's request.
    one: Vec<u64>,
    app: Vec<u64>,
    sidecars: Vec<u64>,
    init_peak: Vec<u64>,
    /// The first sum that overflowed, per dimension.
    failed: Vec<Option<&'static str>>,
}

impl Scratch {
    fn new(d: usize) -> Self {
        Self {
            one: vec![0; d],
            app: vec![0; d],
            sidecars: vec![0; d],
            init_peak: vec![0; d],
            failed: vec![None; d],
        }
    }
}

/// `list` as a dense vector into `out`; with `scoring_defaults`, a list without CPU or memory
/// counts the scoring default for it.
fn dense_into(list: &ResourceList, dims: &Dimensions, scoring_defaults: bool, out: &mut [u64]) {
    out.fill(0);
    let (mut cpu, mut memory) = (false, false);
    for (name, amount) in list.iter() {
        if let Some(k) = dims.index(name) {
            out[k] = amount;
            cpu |= k == Dimensions::CPU;
            memory |= k == Dimensions::MEMORY;
        }
    }
    if scoring_defaults {
        if !cpu {
            out[Dimensions::CPU] = DEFAULT_SCORING_CPU;
        }
        if !memory {
            out[Dimensions::MEMORY] = DEFAULT_SCORING_MEMORY;
        }
    }
}

/// The request arithmetic of [`effective_requests`] for every dimension at once: each list is
/// read once (not looked up per dimension). Every dimension's sums run in the same order as a
/// dimension-by-dimension computation and stop at their first overflow; the error reported is
/// that of the lowest failing dimension, as one dimension after another would meet it.
fn requests(
    pod: &PodSpec,
    dims: &Dimensions,
    scoring_defaults: bool,
    s: &mut Scratch,
    out: &mut [u64],
) -> Result<(), CoreError> {
    let d = dims.len();
    let Scratch {
        one,
        app,
        sidecars,
        init_peak,
        failed,
    } = s;
    app.fill(0);
    sidecars.fill(0);
    init_peak.fill(0);
    failed.fill(None);
    for c in &pod.containers {
        dense_into(&c.requests, dims, scoring_defaults, one);
        for k in 0..d {
            if failed[k].is_none() {
                match app[k].checked_add(one[k]) {
                    Some(v) => app[k] = v,
                    None => failed[k] = Some("sum of container requests"),
                }
            }
        }
    }
    for c in &pod.init_containers {
        dense_into(&c.requests, dims, scoring_defaults, one);
        for k in 0..d {
            if failed[k].is_none() {
                match sidecars[k].checked_add(one[k]) {
                    Some(with_sidecars) if c.sidecar => sidecars[k] = with_sidecars,
                    Some(with_sidecars) => init_peak[k] = init_peak[k].max(with_sidecars),
                    None => failed[k] = Some("init container requests"),
                }
            }
        }
    }
    for k in 0..d {
        if failed[k].is_none() {
            match app[k].checked_add(sidecars[k]) {
                Some(v) => out[k] = v.max(init_peak[k]),
                None => failed[k] = Some("sum of container requests"),
            }
        }
    }
    // A pod-level request replaces the container arithmetic (and its overflows).
    for (name, amount) in pod.pod_requests.iter() {
        if let Some(k) = dims.index(name) {
            out[k] = amount;
            failed[k] = None;
        }
    }
    dense_into(&pod.overhead, dims, false, one);
    for k in 0..d {
        if failed[k].is_none() {
            match out[k].checked_add(one[k]) {
                Some(v) => out[k] = v,
                None => failed[k] = Some("overhead"),
            }
        }
        if let Some(field) = failed[k] {
            return Err(CoreError::Overflow {
                object: format!("pod {}", pod.key()),
                field: format!("{field} of {}", dims.name(k)),
            });
        }
    }
    out[Dimensions::PODS] = 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContainerSpec, InitContainerSpec};

    fn rl(cpu: u64, mem: u64) -> ResourceList {
        ResourceList::new().with("cpu", cpu).with("memory", mem)
    }

    fn node(name: &str) -> NodeSpec {
        NodeSpec {
            name: name.into(),
            allocatable: rl(4000, 8 << 30),
            ready: true,
            ..Default::default()
        }
    }

    fn pod(name: &str, node: &str) -> PodSpec {
        PodSpec {
            namespace: "d".into(),
            name: name.into(),
            node_name: Some(node.into()),
            containers: vec![ContainerSpec {
                name: "c".into(),
                requests: rl(100, 1 << 20),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn effective_request_follows_the_scheduler() {
        let dims = Dimensions::from_lists([]);
        let p = PodSpec {
            containers: vec![
                ContainerSpec {
                    name: "a".into(),
                    requests: rl(100, 100),
                },
                ContainerSpec {
                    name: "b".into(),
                    requests: rl(200, 50),
                },
            ],
            init_containers: vec![
                InitContainerSpec {
                    name: "side".into(),
                    requests: rl(50, 10),
                    sidecar: true,
                },
                InitContainerSpec {
                    name: "migrate".into(),
                    requests: rl(500, 20),
                    sidecar: false,
                },
            ],
            overhead: rl(10, 1),
            ..Default::default()
        };
        // cpu: max(300 + 50, 50 + 500) + 10 = 560; memory: max(150 + 10, 10 + 20) + 1 = 161
        assert_eq!(effective_requests(&p, &dims).unwrap(), vec![560, 161, 0, 1]);
        // Pod-level requests replace the container arithmetic for their resource only.
        let mut pod_level = p.clone();
        pod_level.pod_requests = ResourceList::new().with("cpu", 1000);
        assert_eq!(
            effective_requests(&pod_level, &dims).unwrap(),
            vec![1010, 161, 0, 1]
        );
    }

    #[test]
    fn scoring_defaults_apply_per_container_without_a_request() {
        let dims = Dimensions::from_lists([]);
        let p = PodSpec {
            containers: vec![
                ContainerSpec {
                    name: "a".into(),
                    requests: ResourceList::new(),
                },
                ContainerSpec {
                    name: "b".into(),
                    requests: ResourceList::new().with("cpu", 0),
                },
                ContainerSpec {
                    name: "c".into(),
                    requests: ResourceList::new().with("memory", 5),
                },
            ],
            ..Default::default()
        };
        // cpu: a defaults (100), b set to 0, c defaults (100); memory: a, b default, c is 5.
        assert_eq!(
            scoring_requests(&p, &dims).unwrap(),
            [200, 2 * DEFAULT_SCORING_MEMORY + 5]
        );
        assert_eq!(effective_requests(&p, &dims).unwrap()[..2], [0, 5]);
    }

    #[test]
    fn validation_errors_name_the_object() {
        let spec = |nodes, pods| SnapshotSpec {
            nodes,
            pods,
            pdbs: vec![],
            ..Default::default()
        };
        let err = Snapshot::new(spec(vec![node("a"), node("a")], vec![])).unwrap_err();
        assert_eq!(err.to_string(), "duplicate node a");
        let err =
            Snapshot::new(spec(vec![node("a")], vec![pod("p", "a"), pod("p", "a")])).unwrap_err();
        assert_eq!(err.to_string(), "duplicate pod d/p");
        let err = Snapshot::new(spec(vec![node("a")], vec![pod("p", "b")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod d/p is bound to node b, which is not in the snapshot"
        );
        let mut zero = node("z");
        zero.allocatable = rl(0, 1);
        let err = Snapshot::new(spec(vec![zero], vec![])).unwrap_err();
        assert_eq!(err.to_string(), "node z has zero allocatable cpu");
        let mut big = pod("big", "a");
        big.containers.push(ContainerSpec {
            name: "x".into(),
            requests: rl(u64::MAX, 0),
        });
        let err = Snapshot::new(spec(vec![node("a")], vec![big])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "overflow in pod d/big: sum of container requests of cpu"
        );
        let mut huge = pod("h1", "a");
        huge.containers[0].requests = rl(u64::MAX, 0);
        let err = Snapshot::new(spec(vec![node("a")], vec![huge, pod("h2", "a")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "overflow in node a: sum of pod requests of cpu"
        );
        let mut storage = pod("s", "a");
        storage.pod_requests = ResourceList::new().with("storage", 1 << 30);
        let err = Snapshot::new(spec(vec![node("a")], vec![storage])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod d/s: invalid podRequests.storage: only cpu, memory and hugepages-* can be requested at pod level"
        );
        // A pod-level hugepages request is a dimension even when no node or container names it.
        let mut huge_pages = pod("hp", "a");
        huge_pages.pod_requests = ResourceList::new().with("hugepages-2Mi", 2 << 20);
        let snap = Snapshot::new(spec(vec![node("a")], vec![huge_pages])).unwrap();
        let k = snap.dims().index("hugepages-2Mi").unwrap();
        assert_eq!(snap.requested(0)[k], 2 << 20);
        let mut unbound = pod("u", "a");
        unbound.node_name = Some(String::new());
        let err = Snapshot::new(spec(vec![node("a")], vec![unbound])).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("pod d/u: invalid nodeName: must not be empty"),
            "{err}"
        );
        let selector = |operator, values: &[&str]| crate::model::LabelSelector {
            match_expressions: vec![crate::model::SelectorRequirement {
                key: "app".into(),
                operator,
                values: values.iter().map(|v| (*v).to_owned()).collect(),
            }],
            ..Default::default()
        };
        let mut anti = pod("anti", "a");
        anti.pod_anti_affinity.push(PodAffinityTerm {
            label_selector: Some(selector(crate::model::SelectorOperator::In, &[])),
            topology_key: "h".into(),
            ..Default::default()
        });
        let err = Snapshot::new(spec(vec![node("a")], vec![anti])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod d/anti: invalid podAntiAffinity[0].labelSelector.matchExpressions[0].values: In and NotIn need at least one value"
        );
        let mut with_pdb = spec(vec![node("a")], vec![]);
        with_pdb.pdbs.push(PdbSpec {
            namespace: "d".into(),
            name: "b".into(),
            selector: Some(selector(crate::model::SelectorOperator::Exists, &["x"])),
            disruptions_allowed: 1,
        });
        let err = Snapshot::new(with_pdb).unwrap_err();
        assert_eq!(
            err.to_string(),
            "poddisruptionbudget d/b: invalid selector.matchExpressions[0].values: Exists and DoesNotExist take no values"
        );
    }

    /// The compact-key sort orders like a plain sort of `(namespace, name)`: shared and long
    /// prefixes, names past 16 bytes, NUL bytes, duplicates, sorted and reversed input.
    #[test]
    fn sort_by_name_matches_a_plain_sort() {
        let mut rng = crate::rng::Rng::new(5);
        let parts = [
            "",
            "a",
            "ab",
            "a\0",
            "app-",
            "app-1234567890123",
            "app-12345678901234567",
            "z",
        ];
        for case in 0..40 {
            let mut items: Vec<(String, String)> = (0..1 + case * 7)
                .map(|_| {
                    let pick =
                        |rng: &mut crate::rng::Rng| parts[rng.below(parts.len() as u64) as usize];
                    let ns = pick(&mut rng).to_owned();
                    let name = format!("{}{}{}", pick(&mut rng), pick(&mut rng), rng.below(3));
                    (ns, name)
                })
                .collect();
            if case % 5 == 1 {
                items.sort();
            } else if case % 5 == 2 {
                items.sort();
                items.reverse();
            }
            let mut expected = items.clone();
            expected.sort();
            sort_by_name(&mut items, |(ns, name)| (ns, name));
            assert_eq!(items, expected, "case {case}");
        }
    }

    /// The dimension-by-dimension arithmetic the single-pass [`requests`] replaced.
    fn reference(
        pod: &PodSpec,
        dims: &Dimensions,
        scoring_defaults: bool,
    ) -> Result<Vec<u64>, CoreError> {
        let overflow = |field: &str, dim: usize| CoreError::Overflow {
            object: format!("pod {}", pod.key()),
            field: format!("{field} of {}", dims.name(dim)),
        };
        let get = |list: &ResourceList, name: &str| -> u64 {
            match name {
                crate::resources::CPU if scoring_defaults && !list.contains(name) => {
                    DEFAULT_SCORING_CPU
                }
                crate::resources::MEMORY if scoring_defaults && !list.contains(name) => {
                    DEFAULT_SCORING_MEMORY
                }
                _ => list.get(name),
            }
        };
        let d = dims.len();
        let mut out = vec![0u64; d];
        for (dim, slot) in out.iter_mut().enumerate() {
            let name = dims.name(dim);
            let containers = if pod.pod_requests.contains(name) {
                pod.pod_requests.get(name)
            } else {
                let mut app: u64 = 0;
                for c in &pod.containers {
                    app = app
                        .checked_add(get(&c.requests, name))
                        .ok_or_else(|| overflow("sum of container requests", dim))?;
                }
                let mut sidecars: u64 = 0;
                let mut init_peak: u64 = 0;
                for c in &pod.init_containers {
                    let with_sidecars = sidecars
                        .checked_add(get(&c.requests, name))
                        .ok_or_else(|| overflow("init container requests", dim))?;
                    if c.sidecar {
                        sidecars = with_sidecars;
                    } else {
                        init_peak = init_peak.max(with_sidecars);
                    }
                }
                app.checked_add(sidecars)
                    .ok_or_else(|| overflow("sum of container requests", dim))?
                    .max(init_peak)
            };
            *slot = containers
                .checked_add(pod.overhead.get(name))
                .ok_or_else(|| overflow("overhead", dim))?;
        }
        out[Dimensions::PODS] = 1;
        Ok(out)
    }

    /// The single pass gives the per-dimension arithmetic's requests and its first overflow,
    /// on random pods with amounts near 2⁶⁴, sidecars, pod-level requests and overheads.
    #[test]
    fn requests_match_the_per_dimension_arithmetic() {
        let mut rng = crate::rng::Rng::new(11);
        let names = ["cpu", "memory", "pods", "nvidia.com/gpu", "example.com/x"];
        let list = |rng: &mut crate::rng::Rng| {
            let mut l = ResourceList::new();
            for n in names {
                match rng.below(4) {
                    0 => {}
                    1 => l.set(n, u64::MAX - rng.below(3)),
                    _ => l.set(n, rng.below(1000)),
                }
            }
            l
        };
        let dims = Dimensions::from_lists([&ResourceList::new().with("nvidia.com/gpu", 1)]);
        for case in 0..2000 {
            let p = PodSpec {
                containers: (0..rng.below(3))
                    .map(|_| ContainerSpec {
                        name: "c".into(),
                        requests: list(&mut rng),
                    })
                    .collect(),
                init_containers: (0..rng.below(3))
                    .map(|_| InitContainerSpec {
                        name: "i".into(),
                        requests: list(&mut rng),
                        sidecar: rng.chance(50),
                    })
                    .collect(),
                pod_requests: if rng.chance(30) {
                    list(&mut rng)
                } else {
                    ResourceList::new()
                },
                overhead: if rng.chance(30) {
                    list(&mut rng)
                } else {
                    ResourceList::new()
                },
                ..Default::default()
            };
            for scoring in [false, true] {
                let mut out = vec![0; dims.len()];
                let got = requests(&p, &dims, scoring, &mut Scratch::new(dims.len()), &mut out)
                    .map(|()| out);
                assert_eq!(
                    got,
                    reference(&p, &dims, scoring),
                    "case {case} scoring {scoring}"
                );
            }
        }
    }

    #[test]
    fn sorted_and_indexed() {
        let s = Snapshot::new(SnapshotSpec {
            nodes: vec![node("b"), node("a")],
            pods: vec![pod("z", "b"), pod("y", "a")],
            pdbs: vec![],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(s.nodes()[0].spec.name, "a");
        assert_eq!(s.pods()[0].spec.name, "y");
        assert_eq!(s.node_index("b"), Some(1));
        assert_eq!(s.pod_index("d", "z"), Some(1));
        assert_eq!(s.requested(1)[0], 100);
        assert_eq!(s.nodes()[0].allocatable[Dimensions::PODS], DEFAULT_MAX_PODS);
        assert_eq!(s.pods_by_node(), vec![vec![0], vec![1]]);
    }
}
