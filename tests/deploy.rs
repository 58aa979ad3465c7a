//! The deployment manifests under deploy/: every YAML document parses, the controller's RBAC is
//! exactly the least privilege of DESIGN §12 (no wildcards, nothing on secrets, no pod delete,
//! the leader-election Lease only through a namespaced Role), the Deployment is hardened and
//! probed as the controller serves, and the kustomization lists every file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;
use serde_json::Value;

/// The namespace the controller, its plans, reports and Lease live in.
const NAMESPACE: &str = "kube-compactor";

/// One YAML document of a file under deploy/.
struct Doc {
    file: String,
    value: Value,
}

impl Doc {
    fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or_default()
    }

    fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or_default()
    }

    fn namespace(&self) -> Option<&str> {
        self.value["metadata"]["namespace"].as_str()
    }

    fn at(&self, pointer: &str) -> Result<&Value> {
        self.value.pointer(pointer).with_context(|| {
            format!(
                "{} {} ({}): no {pointer}",
                self.kind(),
                self.name(),
                self.file
            )
        })
    }

    fn str_at(&self, pointer: &str) -> Result<&str> {
        self.at(pointer)?.as_str().with_context(|| {
            format!(
                "{} {} ({}): {pointer} is not a string",
                self.kind(),
                self.name(),
                self.file
            )
        })
    }
}

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

/// The YAML files directly under deploy/, by name.
fn yaml_files() -> Result<BTreeSet<String>> {
    let dir = deploy_dir();
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            names.insert(name);
        }
    }
    Ok(names)
}

/// Every document of one file (multi-document YAML), empty documents left out.
fn documents_of(name: &str) -> Result<Vec<Doc>> {
    let path = deploy_dir().join(name);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut docs = Vec::new();
    for (i, document) in serde_yaml_ng::Deserializer::from_str(&text).enumerate() {
        let value = Value::deserialize(document)
            .with_context(|| format!("{name}: document {} is not valid YAML", i + 1))?;
        if !value.is_null() {
            docs.push(Doc {
                file: name.to_owned(),
                value,
            });
        }
    }
    Ok(docs)
}

/// Every document of every YAML file under deploy/ except the kustomization.
fn all_documents() -> Result<Vec<Doc>> {
    let mut docs = Vec::new();
    for name in yaml_files()? {
        if name != "kustomization.yaml" {
            docs.extend(documents_of(&name)?);
        }
    }
    Ok(docs)
}

/// The one document of `kind` named `name`.
fn find<'a>(docs: &'a [Doc], kind: &str, name: &str) -> Result<&'a Doc> {
    let mut found = docs.iter().filter(|d| d.kind() == kind && d.name() == name);
    let doc = found
        .next()
        .with_context(|| format!("no {kind} {name} under deploy/"))?;
    ensure!(found.next().is_none(), "two {kind} {name} under deploy/");
    Ok(doc)
}

/// The strings of a YAML list (an error for anything else).
fn strings<'a>(value: &'a Value, what: &str) -> Result<Vec<&'a str>> {
    value
        .as_array()
        .with_context(|| format!("{what} is not a list"))?
        .iter()
        .map(|v| {
            v.as_str()
                .with_context(|| format!("{what}: {v} is not a string"))
        })
        .collect()
}

/// One permission a rule grants: (API group, resource, verb), with the resource names it is
/// narrowed to (empty: any).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Grant {
    group: String,
    resource: String,
    verb: String,
    names: Vec<String>,
}

/// Every permission of a ClusterRole or Role, after checking that no rule uses a wildcard or a
/// non-resource URL.
fn grants(role: &Doc) -> Result<Vec<Grant>> {
    let who = format!("{} {}", role.kind(), role.name());
    let rules = role
        .at("/rules")?
        .as_array()
        .with_context(|| format!("{who}: rules is not a list"))?;
    ensure!(!rules.is_empty(), "{who} has no rules");
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let what = format!("{who} rule {}", i + 1);
        ensure!(
            rule.get("nonResourceURLs").is_none(),
            "{what}: nonResourceURLs"
        );
        let groups = strings(&rule["apiGroups"], &format!("{what} apiGroups"))?;
        let resources = strings(&rule["resources"], &format!("{what} resources"))?;
        let verbs = strings(&rule["verbs"], &format!("{what} verbs"))?;
        let names = match rule.get("resourceNames") {
            Some(v) => strings(v, &format!("{what} resourceNames"))?,
            None => Vec::new(),
        };
        for field in [&groups, &resources, &verbs] {
            ensure!(!field.is_empty(), "{what}: an empty list grants nothing");
        }
        for field in [&groups, &resources, &verbs, &names] {
            if let Some(w) = field.iter().find(|s| s.contains('*')) {
                bail!("{what}: wildcard {w:?}");
            }
        }
        for group in &groups {
            for resource in &resources {
                for verb in &verbs {
                    out.push(Grant {
                        group: (*group).to_owned(),
                        resource: (*resource).to_owned(),
                        verb: (*verb).to_owned(),
                        names: names.iter().map(|s| (*s).to_owned()).collect(),
                    });
                }
            }
        }
    }
    Ok(out)
}

fn grants_any_name(grants: &[Grant], group: &str, resource: &str, verb: &str) -> bool {
    grants
        .iter()
        .any(|g| g.group == group && g.resource == resource && g.verb == verb && g.names.is_empty())
}

/// The ClusterRole's permissions, exactly: DESIGN §12 and the controller's contract.
const CLUSTER_PERMISSIONS: &[(&str, &[&str], &[&str])] = &[
    (
        "",
        &[
            "nodes",
            "pods",
            "namespaces",
            "persistentvolumeclaims",
            "persistentvolumes",
        ],
        &["get", "list", "watch"],
    ),
    (
        "policy",
        &["poddisruptionbudgets"],
        &["get", "list", "watch"],
    ),
    ("storage.k8s.io", &["csinodes"], &["get", "list", "watch"]),
    (
        "apps",
        &["replicasets", "deployments", "statefulsets", "daemonsets"],
        &["get", "list", "watch"],
    ),
    ("batch", &["jobs"], &["get", "list", "watch"]),
    ("metrics.k8s.io", &["pods", "nodes"], &["get", "list"]),
    ("", &["nodes"], &["patch"]),
    ("", &["pods/eviction"], &["create"]),
    ("", &["events"], &["create", "patch"]),
    ("events.k8s.io", &["events"], &["create", "patch"]),
    (
        "optimizer.io",
        &["optimizationconfigs"],
        &["get", "list", "watch", "patch"],
    ),
    (
        "optimizer.io",
        &["optimizationconfigs/status"],
        &["get", "patch", "update"],
    ),
    (
        "optimizer.io",
        &["migrationplans", "optimizationreports"],
        &[
            "get", "list", "watch", "create", "patch", "update", "delete",
        ],
    ),
    (
        "optimizer.io",
        &["migrationplans/status", "optimizationreports/status"],
        &["get", "patch", "update"],
    ),
];

fn triples(table: &[(&str, &[&str], &[&str])]) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for (group, resources, verbs) in table {
        for resource in *resources {
            for verb in *verbs {
                out.insert((
                    (*group).to_owned(),
                    (*resource).to_owned(),
                    (*verb).to_owned(),
                ));
            }
        }
    }
    out
}

#[test]
fn every_document_parses_and_names_itself() -> Result<()> {
    let docs = all_documents()?;
    ensure!(!docs.is_empty(), "no documents under deploy/");
    for doc in &docs {
        doc.str_at("/apiVersion")?;
        ensure!(
            !doc.kind().is_empty(),
            "{}: a document without kind",
            doc.file
        );
        ensure!(
            !doc.name().is_empty(),
            "{}: {} without metadata.name",
            doc.file,
            doc.kind()
        );
    }
    Ok(())
}

#[test]
fn objects_are_in_the_controller_namespace_or_cluster_scoped() -> Result<()> {
    const CLUSTER_SCOPED: &[&str] = &[
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "OptimizationConfig",
    ];
    for doc in &all_documents()? {
        let id = format!("{} {} ({})", doc.kind(), doc.name(), doc.file);
        if CLUSTER_SCOPED.contains(&doc.kind()) {
            ensure!(
                doc.namespace().is_none(),
                "{id} is cluster-scoped but names a namespace"
            );
        } else {
            ensure!(
                doc.namespace() == Some(NAMESPACE),
                "{id} is not in namespace {NAMESPACE}"
            );
        }
    }
    let docs = all_documents()?;
    find(&docs, "Namespace", NAMESPACE)?;
    find(&docs, "ServiceAccount", "kube-compactor")?;
    Ok(())
}

#[test]
fn cluster_role_is_least_privilege() -> Result<()> {
    let docs = all_documents()?;
    let roles: Vec<&Doc> = docs.iter().filter(|d| d.kind() == "ClusterRole").collect();
    ensure!(
        roles.len() == 1,
        "expected one ClusterRole, found {}",
        roles.len()
    );
    let role = find(&docs, "ClusterRole", "kube-compactor")?;
    let granted = grants(role)?;

    for g in &granted {
        ensure!(
            !(g.resource == "secrets" || g.resource.starts_with("secrets/")),
            "the ClusterRole grants {} on {}",
            g.verb,
            g.resource
        );
        ensure!(
            !(g.group.is_empty()
                && g.resource == "pods"
                && (g.verb == "delete" || g.verb == "deletecollection")),
            "the ClusterRole grants {} on pods: pods leave only through evictions",
            g.verb
        );
        ensure!(
            g.group != "coordination.k8s.io" && g.resource != "leases",
            "the ClusterRole grants {} on leases: leader election belongs in the namespaced Role",
            g.verb
        );
        ensure!(
            g.names.is_empty(),
            "unexpected resourceNames in the ClusterRole"
        );
    }
    ensure!(
        grants_any_name(&granted, "", "pods/eviction", "create"),
        "the ClusterRole does not grant create on pods/eviction"
    );
    ensure!(
        grants_any_name(&granted, "", "nodes", "patch"),
        "the ClusterRole does not grant patch on nodes"
    );

    // Exactly the contract: nothing missing, nothing more.
    let actual: BTreeSet<(String, String, String)> = granted
        .iter()
        .map(|g| (g.group.clone(), g.resource.clone(), g.verb.clone()))
        .collect();
    let expected = triples(CLUSTER_PERMISSIONS);
    let missing: Vec<_> = expected.difference(&actual).collect();
    let extra: Vec<_> = actual.difference(&expected).collect();
    ensure!(
        missing.is_empty() && extra.is_empty(),
        "ClusterRole kube-compactor: missing (group, resource, verb) {missing:?}; not in the contract {extra:?}"
    );

    let binding = find(&docs, "ClusterRoleBinding", "kube-compactor")?;
    ensure!(binding.str_at("/roleRef/kind")? == "ClusterRole");
    ensure!(binding.str_at("/roleRef/name")? == "kube-compactor");
    check_subject(binding)?;
    Ok(())
}

/// A binding's only subject is the controller's service account.
fn check_subject(binding: &Doc) -> Result<()> {
    let subjects = binding
        .at("/subjects")?
        .as_array()
        .context("subjects is not a list")?;
    ensure!(
        subjects.len() == 1,
        "{} {}: expected one subject",
        binding.kind(),
        binding.name()
    );
    let s = &subjects[0];
    ensure!(
        s["kind"] == "ServiceAccount"
            && s["name"] == "kube-compactor"
            && s["namespace"] == NAMESPACE,
        "{} {}: the subject is not ServiceAccount {NAMESPACE}/kube-compactor: {s}",
        binding.kind(),
        binding.name()
    );
    Ok(())
}

#[test]
fn leases_only_through_a_namespaced_role() -> Result<()> {
    let docs = all_documents()?;
    let roles: Vec<&Doc> = docs.iter().filter(|d| d.kind() == "Role").collect();
    ensure!(roles.len() == 1, "expected one Role, found {}", roles.len());
    let role = roles[0];
    ensure!(
        role.namespace() == Some(NAMESPACE),
        "the Role is not in {NAMESPACE}"
    );
    let granted = grants(role)?;
    for g in &granted {
        ensure!(
            g.group == "coordination.k8s.io" && g.resource == "leases",
            "the leader-election Role grants {} on {}/{}",
            g.verb,
            g.group,
            g.resource
        );
        ensure!(
            g.names.is_empty() || g.names == ["kube-compactor"],
            "the Role names leases other than kube-compactor: {:?}",
            g.names
        );
    }
    let verbs: BTreeSet<&str> = granted.iter().map(|g| g.verb.as_str()).collect();
    ensure!(
        verbs == BTreeSet::from(["create", "get", "update"]),
        "the Role grants {verbs:?} on leases, expected create, get, update"
    );
    // `create` cannot be narrowed by name; it must not be narrowed (it would never match).
    ensure!(grants_any_name(
        &granted,
        "coordination.k8s.io",
        "leases",
        "create"
    ));

    let bindings: Vec<&Doc> = docs.iter().filter(|d| d.kind() == "RoleBinding").collect();
    ensure!(
        bindings.len() == 1,
        "expected one RoleBinding, found {}",
        bindings.len()
    );
    let binding = bindings[0];
    ensure!(binding.namespace() == Some(NAMESPACE));
    ensure!(binding.str_at("/roleRef/kind")? == "Role");
    ensure!(binding.str_at("/roleRef/name")? == role.name());
    check_subject(binding)?;
    Ok(())
}

/// The port number a probe's `port` means: a number, or the name of a container port.
fn probe_port(container: &Value, port: &Value) -> Result<u64> {
    if let Some(n) = port.as_u64() {
        return Ok(n);
    }
    let name = port
        .as_str()
        .context("probe port is neither a number nor a name")?;
    container["ports"]
        .as_array()
        .context("the container has no ports")?
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["containerPort"].as_u64())
        .with_context(|| format!("no container port named {name}"))
}

/// A security setting as it applies to the container: its own, else the pod's.
fn effective<'a>(container: &'a Value, pod: &'a Value, field: &str) -> &'a Value {
    if container[field].is_null() {
        &pod[field]
    } else {
        &container[field]
    }
}

#[test]
fn deployment_is_hardened_and_probed() -> Result<()> {
    let docs = all_documents()?;
    let deploy = find(&docs, "Deployment", "kube-compactor")?;
    ensure!(
        deploy.at("/spec/replicas")?.as_u64() == Some(2),
        "replicas is not 2"
    );
    ensure!(deploy.str_at("/spec/template/spec/serviceAccountName")? == "kube-compactor");

    let pod_sc = deploy.at("/spec/template/spec/securityContext")?;
    let containers = deploy
        .at("/spec/template/spec/containers")?
        .as_array()
        .context("containers is not a list")?;
    ensure!(containers.len() == 1, "expected one container");
    let c = &containers[0];
    let sc = &c["securityContext"];
    let applied = |field: &str| effective(sc, pod_sc, field);
    ensure!(applied("runAsNonRoot") == true, "runAsNonRoot is not true");
    ensure!(applied("runAsUser") == 65532, "runAsUser is not 65532");
    ensure!(
        applied("seccompProfile")["type"] == "RuntimeDefault",
        "the seccomp profile is not RuntimeDefault"
    );
    ensure!(
        sc["readOnlyRootFilesystem"] == true,
        "the root filesystem is writable"
    );
    ensure!(
        sc["allowPrivilegeEscalation"] == false,
        "allowPrivilegeEscalation is not false"
    );
    ensure!(sc["privileged"] != true, "the container is privileged");
    ensure!(
        strings(&sc["capabilities"]["drop"], "capabilities.drop")? == ["ALL"],
        "capabilities.drop is not [ALL]"
    );
    ensure!(
        sc["capabilities"]["add"].is_null(),
        "the container adds capabilities"
    );

    ensure!(
        c["image"] == "kube-compactor:dev",
        "image is {}",
        c["image"]
    );
    ensure!(
        strings(&c["args"], "args")? == ["controller"],
        "args are not [controller]"
    );
    for (var, field) in [
        ("POD_NAMESPACE", "metadata.namespace"),
        ("POD_NAME", "metadata.name"),
    ] {
        let env = c["env"]
            .as_array()
            .context("the container has no env")?
            .iter()
            .find(|e| e["name"] == var)
            .with_context(|| format!("no env {var}"))?;
        ensure!(
            env["valueFrom"]["fieldRef"]["fieldPath"] == field,
            "{var} does not come from {field} (downward API)"
        );
    }

    let resources = &c["resources"];
    ensure!(
        resources["requests"]["cpu"] == "100m",
        "cpu request is not 100m"
    );
    ensure!(
        resources["requests"]["memory"] == "128Mi",
        "memory request is not 128Mi"
    );
    ensure!(
        resources["limits"]["cpu"].is_string() && resources["limits"]["memory"].is_string(),
        "cpu and memory limits are not both set"
    );

    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let get = &c[probe]["httpGet"];
        ensure!(get["path"] == path, "{probe} path is not {path}");
        ensure!(
            probe_port(c, &get["port"])? == 8080,
            "{probe} is not on port 8080"
        );
    }
    let ports: BTreeSet<u64> = c["ports"]
        .as_array()
        .context("the container has no ports")?
        .iter()
        .filter_map(|p| p["containerPort"].as_u64())
        .collect();
    ensure!(
        ports == BTreeSet::from([8080, 8081]),
        "container ports are {ports:?}, expected 8080 (health) and 8081 (metrics)"
    );

    // The pods carry the selector's labels.
    let selector = deploy
        .at("/spec/selector/matchLabels")?
        .as_object()
        .context("matchLabels is not a map")?;
    let labels = deploy.at("/spec/template/metadata/labels")?;
    for (k, v) in selector {
        ensure!(&labels[k] == v, "pod label {k} does not match the selector");
    }
    Ok(())
}

#[test]
fn metrics_service_selects_the_controller() -> Result<()> {
    let docs = all_documents()?;
    let services: Vec<&Doc> = docs.iter().filter(|d| d.kind() == "Service").collect();
    ensure!(services.len() == 1, "expected one Service");
    let svc = services[0];
    let ports = svc.at("/spec/ports")?.as_array().context("ports")?;
    ensure!(
        ports.iter().any(|p| p["port"] == 8081),
        "the Service does not expose 8081"
    );
    ensure!(svc.str_at("/metadata/annotations/prometheus.io~1scrape")? == "true");
    ensure!(svc.str_at("/metadata/annotations/prometheus.io~1port")? == "8081");
    ensure!(svc.str_at("/metadata/annotations/prometheus.io~1path")? == "/metrics");
    let deploy = find(&docs, "Deployment", "kube-compactor")?;
    let labels = deploy.at("/spec/template/metadata/labels")?;
    let selector = svc
        .at("/spec/selector")?
        .as_object()
        .context("selector is not a map")?;
    ensure!(!selector.is_empty(), "the Service selects every pod");
    for (k, v) in selector {
        ensure!(
            &labels[k] == v,
            "the Service selector {k} misses the controller's pods"
        );
    }
    Ok(())
}

#[test]
fn default_config_observes_and_matches_the_crd() -> Result<()> {
    let docs = all_documents()?;
    let config = find(&docs, "OptimizationConfig", "default")?;
    ensure!(config.str_at("/apiVersion")? == "optimizer.io/v1alpha1");
    ensure!(
        config.str_at("/spec/mode")? == "observe",
        "the default config does not observe"
    );
    ensure!(config.str_at("/spec/safetyThreshold")? == "conservative");
    ensure!(
        config.str_at("/spec/schedule")?.split(' ').count() == 5,
        "the schedule is not five cron fields"
    );

    // Every field is one the CRD declares (the API server would prune an unknown field
    // silently), with a value among its enum.
    let crd = find(
        &docs,
        "CustomResourceDefinition",
        "optimizationconfigs.optimizer.io",
    )?;
    let properties = crd
        .at("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties")?
        .as_object()
        .context("the CRD's spec properties")?;
    let spec = config
        .at("/spec")?
        .as_object()
        .context("spec is not a map")?;
    for (field, value) in spec {
        let schema = properties
            .get(field)
            .with_context(|| format!("OptimizationConfig has no field spec.{field}"))?;
        if let Some(allowed) = schema["enum"].as_array() {
            ensure!(
                allowed.contains(value),
                "spec.{field}: {value} is not one of {allowed:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn kustomization_lists_every_file() -> Result<()> {
    let docs = documents_of("kustomization.yaml")?;
    ensure!(docs.len() == 1, "kustomization.yaml is not one document");
    let k = &docs[0];
    ensure!(k.kind() == "Kustomization");
    ensure!(
        k.str_at("/namespace")? == NAMESPACE,
        "the kustomization's namespace is not {NAMESPACE}"
    );
    let resources = strings(k.at("/resources")?, "resources")?;
    let listed: BTreeSet<String> = resources.iter().map(|s| (*s).to_owned()).collect();
    ensure!(
        listed.len() == resources.len(),
        "a resource is listed twice"
    );
    for name in &listed {
        ensure!(
            deploy_dir().join(name).is_file(),
            "kustomization.yaml lists {name}, which does not exist"
        );
    }
    let mut files = yaml_files()?;
    files.remove("kustomization.yaml");
    let unlisted: Vec<&String> = files.difference(&listed).collect();
    ensure!(
        unlisted.is_empty(),
        "not listed in kustomization.yaml: {unlisted:?}"
    );
    ensure!(listed.contains("crds.yaml"), "the CRDs are not installed");

    // The image the Deployment names is the one `images:` overrides.
    let images = k
        .at("/images")?
        .as_array()
        .context("images is not a list")?;
    ensure!(
        images.iter().any(|i| i["name"] == "kube-compactor"),
        "no images entry for kube-compactor"
    );
    Ok(())
}
