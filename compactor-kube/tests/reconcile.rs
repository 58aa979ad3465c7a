//! Wire-level tests of the controller's reconcile: `controller::reconcile` against a fake API
//! server (tower-test) that stores nodes, pods, OptimizationConfig/MigrationPlan/
//! OptimizationReport objects and Events, checking per mode the exact requests made (and not
//! made), the stored status afterwards and the Event reasons posted.
//!
//! The fixture: nodes `a` and `b` (4 CPU each); Deployment `web` with `web-abc-1` (500m) and
//! `web-abc-3` (250m) on `a` and `web-abc-2` (1 CPU) on `b`, and a kube-system pod on `b`
//! (an excluded namespace: it never moves, so `b` stays). Every plan drains `a`, moving both
//! of its pods to `b` (low risk, not stateful); [`assert_fixture_plan`] pins that.

#![cfg(feature = "client")]
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use compactor_core::plan::Plan;
use compactor_kube::controller::{Context, Telemetry, reconcile};
use compactor_kube::crd::OptimizationConfig;
use compactor_kube::execute::{CORDONED_BY, EVICTIONS, marker, plan_id};
use jiff::Timestamp;
use kube::Client;
use kube::runtime::controller::Action;
use serde_json::{Value, json};

mod common;
use common::{Incoming, fast, list, merge_patch, node, status};

const NS: &str = "kube-compactor";
const CONFIG: &str = "test";
const PLANS: &str = "/apis/optimizer.io/v1alpha1/namespaces/kube-compactor/migrationplans";
const REPORTS: &str = "/apis/optimizer.io/v1alpha1/namespaces/kube-compactor/optimizationreports";
const CONFIG_STATUS: &str = "/apis/optimizer.io/v1alpha1/optimizationconfigs/test/status";
const SELECTOR: &str = "optimizer.io/config=test";
/// A schedule that names no time (the 30th of February): the config is analysed once (no
/// `lastAnalysis` yet) and never again, whatever the time the test runs at.
const NEVER: &str = "0 0 30 2 *";

/// One request as the fake server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// The path, without the query.
    path: String,
    /// The query, percent-decoded.
    query: String,
    content_type: String,
    body: Value,
}

impl Seen {
    fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The fake API server's state.
struct Fake {
    nodes: Vec<Value>,
    pods: Vec<Value>,
    config: Value,
    plans: Vec<Value>,
    reports: Vec<Value>,
    /// Event bodies, POSTed or PATCHed, in order.
    events: Vec<Value>,
    seen: Vec<Seen>,
    /// Requests the fake does not serve (answered 405): must stay empty.
    unexpected: Vec<String>,
    version: u64,
    created: u32,
    replacements: u32,
}

/// A pod of Deployment `app` (ReplicaSet `app-abc`) in `namespace`.
fn pod(namespace: &str, app: &str, name: &str, node: &str, cpu: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"namespace": namespace, "name": name, "uid": format!("uid-{name}"),
            "creationTimestamp": "2026-12-01T00:00:00Z",
            "labels": {"app": app, "pod-template-hash": "abc"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                 "name": format!("{app}-abc"), "uid": format!("rs-{app}"),
                                 "controller": true}]},
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": "web",
                 "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}},
                 "readinessProbe": {"httpGet": {"path": "/", "port": 80}}}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"},
                                                        {"type": "PodScheduled", "status": "True"}]}})
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn name_of(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

impl Fake {
    fn new(config_spec: Value) -> Self {
        Self {
            nodes: vec![node("a"), node("b")],
            pods: vec![
                pod("shop", "web", "web-abc-1", "a", "500m"),
                pod("shop", "web", "web-abc-2", "b", "1"),
                pod("shop", "web", "web-abc-3", "a", "250m"),
                // kube-system is excluded (the default): its pods never move, so b stays.
                pod("kube-system", "dns", "dns-abc-1", "b", "100m"),
            ],
            config: json!({"apiVersion": "optimizer.io/v1alpha1", "kind": "OptimizationConfig",
                "metadata": {"name": CONFIG, "uid": "config-uid", "generation": 1,
                             "resourceVersion": "1", "creationTimestamp": "2026-12-01T00:00:00Z"},
                "spec": config_spec}),
            plans: Vec::new(),
            reports: Vec::new(),
            events: Vec::new(),
            seen: Vec::new(),
            unexpected: Vec::new(),
            version: 1,
            created: 0,
            replacements: 0,
        }
    }

    fn next_version(&mut self) -> String {
        self.version += 1;
        self.version.to_string()
    }

    /// The stored config, as the controller's reflector would hand it over.
    fn config(&self) -> OptimizationConfig {
        serde_json::from_value(self.config.clone()).unwrap()
    }

    fn node(&self, name: &str) -> &Value {
        self.nodes.iter().find(|n| name_of(n) == name).unwrap()
    }

    fn node_mut(&mut self, name: &str) -> &mut Value {
        self.nodes.iter_mut().find(|n| name_of(n) == name).unwrap()
    }

    fn pod_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .pods
            .iter()
            .map(|p| format!("{}@{}", name_of(p), p["spec"]["nodeName"].as_str().unwrap()))
            .collect();
        names.sort();
        names
    }

    /// Forgets the requests and Events seen so far (before the step a test looks at).
    fn reset(&mut self) {
        self.seen.clear();
        self.events.clear();
    }

    /// Evicts `namespace/name`: the pod goes, and its ReplicaSet's replacement is bound, Ready,
    /// to the first schedulable node (kube-scheduler in a two-node cluster).
    fn evict(&mut self, namespace: &str, name: &str) -> bool {
        let Some(i) = self
            .pods
            .iter()
            .position(|p| p["metadata"]["namespace"] == namespace && p["metadata"]["name"] == name)
        else {
            return false;
        };
        let gone = self.pods.remove(i);
        self.replacements += 1;
        let target = self
            .nodes
            .iter()
            .find(|n| n["spec"]["unschedulable"] != json!(true))
            .map(|n| name_of(n).to_owned())
            .unwrap();
        let mut new = gone.clone();
        new["metadata"]["name"] = json!(format!("web-abc-r{}", self.replacements));
        new["metadata"]["uid"] = json!(format!("r{}", self.replacements));
        new["metadata"]["creationTimestamp"] = json!("2026-12-02T00:00:00Z");
        new["spec"]["nodeName"] = json!(target);
        self.pods.push(new);
        true
    }

    /// Creates a namespaced custom object (a name from `generateName`, a uid, a
    /// creationTimestamp; the status subresource ignores `status` on create).
    fn create(&mut self, kind: &str, mut object: Value) -> (u16, Value) {
        self.created += 1;
        if object["metadata"]["name"].as_str().is_none() {
            let Some(prefix) = object["metadata"]["generateName"].as_str() else {
                return status(422, "metadata.name or generateName is required");
            };
            object["metadata"]["name"] = json!(format!("{prefix}{}", self.created));
        }
        let name = name_of(&object).to_owned();
        let store = if kind == "plans" {
            &self.plans
        } else {
            &self.reports
        };
        if store.iter().any(|o| name_of(o) == name) {
            return status(409, "already exists");
        }
        let version = self.next_version();
        let now = Timestamp::now().round(jiff::Unit::Second).unwrap();
        let meta = object["metadata"].as_object_mut().unwrap();
        meta.insert("namespace".to_owned(), json!(NS));
        meta.insert("uid".to_owned(), json!(format!("uid-{name}")));
        meta.insert("resourceVersion".to_owned(), json!(version));
        meta.insert("generation".to_owned(), json!(1));
        meta.insert("creationTimestamp".to_owned(), json!(now.to_string()));
        object.as_object_mut().unwrap().remove("status");
        if kind == "plans" {
            self.plans.push(object.clone());
        } else {
            self.reports.push(object.clone());
        }
        (201, object)
    }

    /// The objects of `store` the label selector of `query` picks; only `key=value` is
    /// understood (anything else is a 400, failing the test).
    fn select(store: &[Value], query: &str) -> Result<Vec<Value>, (u16, Value)> {
        let selector = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("labelSelector="))
            .ok_or_else(|| status(400, "no label selector"))?;
        let (key, value) = selector
            .split_once('=')
            .filter(|(k, _)| !k.contains([',', '!']))
            .ok_or_else(|| status(400, "unsupported selector"))?;
        Ok(store
            .iter()
            .filter(|o| o["metadata"]["labels"][key] == value)
            .cloned()
            .collect())
    }

    fn answer(&mut self, method: &str, path: &str, query: &str, body: &Value) -> (u16, Value) {
        let plan_status = path
            .strip_prefix(PLANS)
            .and_then(|p| p.strip_prefix('/'))
            .and_then(|p| p.strip_suffix("/status"));
        let report_name = path.strip_prefix(REPORTS).and_then(|p| p.strip_prefix('/'));
        let events_ns = path
            .strip_prefix("/apis/events.k8s.io/v1/namespaces/")
            .and_then(|p| p.split_once('/'));
        match (method, path) {
            // The core objects the snapshot and the executor read and write.
            ("GET", "/api/v1/nodes") => list("NodeList", "v1", &self.nodes),
            ("GET", "/api/v1/pods") => list("PodList", "v1", &self.pods),
            ("GET", p) if p.starts_with("/api/v1/namespaces/") && p.ends_with("/pods") => {
                let ns = p["/api/v1/namespaces/".len()..p.len() - "/pods".len()].to_owned();
                let pods: Vec<Value> = self
                    .pods
                    .iter()
                    .filter(|p| p["metadata"]["namespace"] == ns.as_str())
                    .cloned()
                    .collect();
                list("PodList", "v1", &pods)
            }
            (
                "GET",
                "/apis/policy/v1/poddisruptionbudgets"
                | "/api/v1/namespaces"
                | "/api/v1/persistentvolumeclaims"
                | "/api/v1/persistentvolumes"
                | "/apis/storage.k8s.io/v1/csinodes"
                | "/apis/apps/v1/replicasets"
                | "/apis/batch/v1/jobs",
            ) => list("List", "v1", &[]),
            ("GET", p) if p.starts_with("/apis/metrics.k8s.io/") => status(404, "not found"),
            ("GET", p) if p.starts_with("/api/v1/nodes/") => {
                let name = &p["/api/v1/nodes/".len()..];
                match self.nodes.iter().find(|n| name_of(n) == name) {
                    Some(n) => (200, n.clone()),
                    None => status(404, "not found"),
                }
            }
            ("PATCH", p) if p.starts_with("/api/v1/nodes/") => {
                let name = p["/api/v1/nodes/".len()..].to_owned();
                let version = self.next_version();
                let Some(n) = self.nodes.iter_mut().find(|n| name_of(n) == name) else {
                    return status(404, "not found");
                };
                if let Some(rv) = body["metadata"]["resourceVersion"].as_str()
                    && n["metadata"]["resourceVersion"] != rv
                {
                    return status(409, "the object has been modified");
                }
                merge_patch(n, body);
                n["metadata"]["resourceVersion"] = json!(version);
                (200, n.clone())
            }
            ("POST", p) if p.starts_with("/api/v1/namespaces/") && p.ends_with("/eviction") => {
                let rest = &p["/api/v1/namespaces/".len()..p.len() - "/eviction".len()];
                let (ns, name) = rest.split_once("/pods/").unwrap();
                let (ns, name) = (ns.to_owned(), name.to_owned());
                if self.evict(&ns, &name) {
                    (
                        201,
                        json!({"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 201}),
                    )
                } else {
                    status(404, "not found")
                }
            }
            // The custom resources.
            ("GET", PLANS) => match Self::select(&self.plans, query) {
                Ok(items) => list("MigrationPlanList", "optimizer.io/v1alpha1", &items),
                Err(e) => e,
            },
            ("POST", PLANS) => self.create("plans", body.clone()),
            ("PATCH", _) if plan_status.is_some() => {
                let name = plan_status.unwrap().to_owned();
                let version = self.next_version();
                let Some(plan) = self.plans.iter_mut().find(|p| name_of(p) == name) else {
                    return status(404, "not found");
                };
                merge_patch(&mut plan["status"], &body["status"]);
                plan["metadata"]["resourceVersion"] = json!(version);
                (200, plan.clone())
            }
            ("GET", REPORTS) => match Self::select(&self.reports, query) {
                Ok(items) => list("OptimizationReportList", "optimizer.io/v1alpha1", &items),
                Err(e) => e,
            },
            ("POST", REPORTS) => self.create("reports", body.clone()),
            ("DELETE", _) if report_name.is_some_and(|n| !n.contains('/')) => {
                let name = report_name.unwrap();
                match self.reports.iter().position(|r| name_of(r) == name) {
                    Some(i) => (200, self.reports.remove(i)),
                    None => status(404, "not found"),
                }
            }
            ("PATCH", CONFIG_STATUS) => {
                merge_patch(&mut self.config["status"], &body["status"]);
                self.config["metadata"]["resourceVersion"] = json!(self.next_version());
                (200, self.config.clone())
            }
            // Events: stored, echoed.
            ("POST", _) if events_ns.is_some_and(|(_, rest)| rest == "events") => {
                self.events.push(body.clone());
                (201, body.clone())
            }
            ("PATCH", _) if events_ns.is_some_and(|(_, rest)| rest.starts_with("events/")) => {
                self.events.push(body.clone());
                (200, body.clone())
            }
            _ => {
                self.unexpected.push(format!("{method} {path}?{query}"));
                status(405, "unexpected request")
            }
        }
    }

    // What the tests look at.

    fn lines(&self) -> Vec<String> {
        self.seen.iter().map(Seen::line).collect()
    }

    /// Every write but the plan status updates (whose interleaving with the executor's
    /// writes depends on scheduling) and the Events (see [`Fake::reasons`]).
    fn writes(&self) -> Vec<String> {
        self.seen
            .iter()
            .filter(|s| s.method != "GET")
            .filter(|s| !(s.path.starts_with(PLANS) && s.path.ends_with("/status")))
            .filter(|s| !s.path.starts_with("/apis/events.k8s.io/"))
            .map(Seen::line)
            .collect()
    }

    fn evictions(&self) -> Vec<&Seen> {
        self.seen
            .iter()
            .filter(|s| s.path.ends_with("/eviction"))
            .collect()
    }

    fn node_patches(&self) -> Vec<&Seen> {
        self.seen
            .iter()
            .filter(|s| s.method == "PATCH" && s.path.starts_with("/api/v1/nodes/"))
            .collect()
    }

    /// The plan status updates: (phase, executedMigrations, message).
    fn plan_updates(&self) -> Vec<(String, u64, String)> {
        self.seen
            .iter()
            .filter(|s| s.path.starts_with(PLANS) && s.path.ends_with("/status"))
            .map(|s| {
                let st = &s.body["status"];
                (
                    st["phase"].as_str().unwrap_or_default().to_owned(),
                    st["executedMigrations"].as_u64().unwrap_or_default(),
                    st["message"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// The Events posted: `reason Kind/name`, in order.
    fn reasons(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|e| {
                format!(
                    "{} {}/{}",
                    e["reason"].as_str().unwrap_or_default(),
                    e["regarding"]["kind"].as_str().unwrap_or_default(),
                    e["regarding"]["name"].as_str().unwrap_or_default()
                )
            })
            .collect()
    }

    fn plan(&self) -> &Value {
        assert_eq!(self.plans.len(), 1, "one plan: {:#?}", self.plans);
        &self.plans[0]
    }
}

/// A client whose requests the fake answers, until the test drops it.
fn serve(fake: Arc<Mutex<Fake>>) -> Client {
    common::serve(move |r: Incoming| {
        let path = r.uri.path().to_owned();
        let query = percent_decode(r.uri.query().unwrap_or_default());
        let mut f = fake.lock().unwrap();
        f.seen.push(Seen {
            method: r.method.clone(),
            path: path.clone(),
            query: query.clone(),
            content_type: r.content_type,
            body: r.body.clone(),
        });
        f.answer(&r.method, &path, &query, &r.body)
    })
}

/// A fake holding a config of `spec`, a client on it and the controller's context.
fn setup(spec: Value) -> (Arc<Mutex<Fake>>, Arc<Context>) {
    let fake = Arc::new(Mutex::new(Fake::new(spec)));
    let client = serve(fake.clone());
    let ctx = Context::new(client, NS, "test", Arc::new(Telemetry::default())).with_execute(fast());
    (fake, Arc::new(ctx))
}

/// One reconcile of the stored config (with the status the previous ones left); every
/// request served, every PATCH a JSON merge patch.
async fn step(fake: &Arc<Mutex<Fake>>, ctx: &Arc<Context>) -> Action {
    let config = {
        let mut f = fake.lock().unwrap();
        f.reset();
        Arc::new(f.config())
    };
    let action = reconcile(config, ctx.clone()).await.unwrap();
    let f = fake.lock().unwrap();
    assert!(f.unexpected.is_empty(), "unexpected: {:?}", f.unexpected);
    for s in f.seen.iter().filter(|s| s.method == "PATCH") {
        assert_eq!(s.content_type, "application/merge-patch+json", "{s:?}");
    }
    action
}

/// Two windows covering the whole day in UTC (half-open: 00:00–12:00 and 12:00–24:00).
fn always_open() -> Value {
    json!([{"start": "00:00", "end": "12:00"}, {"start": "12:00", "end": "00:00"}])
}

/// One hour of window starting two hours from now (UTC): closed now and for two hours.
fn closed_now() -> Value {
    let now = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC);
    let start = now
        .checked_add(jiff::SignedDuration::from_hours(2))
        .unwrap();
    let end = now
        .checked_add(jiff::SignedDuration::from_hours(3))
        .unwrap();
    let hm = |z: &jiff::Zoned| format!("{:02}:{:02}", z.hour(), z.minute());
    json!([{"start": hm(&start), "end": hm(&end), "timeZone": "UTC"}])
}

/// The plan every config makes on the fixture: drain `a`, both of its pods to `b`, low risk.
fn assert_fixture_plan(plan: &Value) {
    assert_eq!(plan["spec"]["drainNodes"], json!(["a"]), "{plan:#}");
    let moves: Vec<String> = plan["spec"]["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{} {}->{} {}",
                m["pod"].as_str().unwrap(),
                m["fromNode"].as_str().unwrap(),
                m["toNode"].as_str().unwrap(),
                m["risk"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        moves,
        ["shop/web-abc-1 a->b low", "shop/web-abc-3 a->b low"],
        "{plan:#}"
    );
    assert_eq!(plan["spec"]["highestRisk"], "low");
    let core: Plan = serde_json::from_value(plan["spec"]["plan"].clone()).unwrap();
    assert_eq!(core.moves.len(), 2);
    assert!(core.moves.iter().all(|m| !m.risk.is_stateful()));
}

/// The plan's core id (the executor's marker and eviction records carry it).
fn id_of(plan: &Value) -> String {
    let core: Plan = serde_json::from_value(plan["spec"]["plan"].clone()).unwrap();
    plan_id(&core)
}

/// A plan status saying the first move waits for a safe window.
fn assert_waits_for_a_window(status: &Value) {
    let message = status["message"].as_str().unwrap();
    assert!(
        message.starts_with("shop/web-abc-1 ") && message.ends_with("waiting for a safe window"),
        "{status:#}"
    );
}

/// The eviction body the executor must send for `pod`.
fn eviction(pod: &str) -> Value {
    json!({"apiVersion": "policy/v1", "kind": "Eviction",
           "metadata": {"name": pod, "namespace": "shop"}})
}

/// The first reconcile of an acting config: a report and a plan (not yet stepped).
async fn first_reconcile_creates_the_plan(fake: &Arc<Mutex<Fake>>, ctx: &Arc<Context>) -> String {
    step(fake, ctx).await;
    let f = fake.lock().unwrap();
    let plan = f.plan().clone();
    assert_fixture_plan(&plan);
    let name = name_of(&plan).to_owned();
    assert_eq!(name, "test-2", "the report is test-1");
    assert_eq!(
        plan["metadata"]["labels"],
        json!({"optimizer.io/config": CONFIG})
    );
    assert_eq!(plan["metadata"]["ownerReferences"][0]["uid"], "config-uid");
    assert_eq!(plan["spec"]["config"], CONFIG);
    assert_eq!(plan["spec"]["approved"], false);
    assert_eq!(plan["status"]["phase"], "Pending");
    assert_eq!(plan["status"]["totalMigrations"], 2);
    assert_eq!(plan["status"]["executedMigrations"], 0);
    assert_eq!(
        plan["status"]["message"],
        "waiting for approval or a safe window"
    );
    assert_eq!(
        f.reasons(),
        [
            "AnalysisCompleted OptimizationConfig/test",
            "MigrationPlanCreated MigrationPlan/test-2",
            "MigrationPlanCreated OptimizationConfig/test",
        ]
    );
    assert_eq!(
        f.writes(),
        [
            format!("POST {REPORTS}"),
            format!("POST {PLANS}"),
            format!("PATCH {CONFIG_STATUS}"),
            format!("PATCH {CONFIG_STATUS}"),
        ]
    );
    // The config's Events in `default` (it is cluster-scoped), the plan's in its namespace.
    let events: Vec<&str> = f
        .seen
        .iter()
        .filter(|s| s.path.starts_with("/apis/events.k8s.io/"))
        .map(|s| s.path.as_str())
        .collect();
    assert_eq!(
        events,
        [
            "/apis/events.k8s.io/v1/namespaces/default/events",
            "/apis/events.k8s.io/v1/namespaces/kube-compactor/events",
            "/apis/events.k8s.io/v1/namespaces/default/events",
        ]
    );
    assert!(f.events.iter().all(|e| e["type"] == "Normal"));
    assert_eq!(f.config["status"]["lastPlan"], "test-2");
    assert_eq!(f.config["status"]["lastReport"], "test-1");
    assert!(f.evictions().is_empty() && f.node_patches().is_empty());
    name
}

/// After a part that drained `a`: what the cluster and the plan must look like.
fn assert_completed(f: &Fake) {
    let plan = f.plan();
    let st = &plan["status"];
    assert_eq!(st["phase"], "Completed", "{st:#}");
    assert_eq!(st["executedMigrations"], 2);
    assert_eq!(st["totalMigrations"], 2);
    assert_eq!(st["completedNodes"], json!(["a"]));
    assert_eq!(st["executingNodes"], json!([]));
    let results: Vec<String> = st["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["pod"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
                r["landedOn"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        results,
        ["shop/web-abc-1 Landed b", "shop/web-abc-3 Landed b"],
        "{st:#}"
    );
    assert!(
        st["message"]
            .as_str()
            .unwrap()
            .starts_with("completed: 2 eviction(s)"),
        "{st:#}"
    );
    // The cluster: a cordoned by the plan and empty; the replacements on b.
    let id = id_of(plan);
    let a = f.node("a");
    assert_eq!(a["spec"]["unschedulable"], true);
    assert_eq!(
        a["metadata"]["annotations"][CORDONED_BY],
        json!(marker(&id))
    );
    assert_eq!(
        a["metadata"]["annotations"][EVICTIONS],
        json!(format!("{id} shop/web-abc-1,shop/web-abc-3"))
    );
    assert!(f.node("b")["spec"].get("unschedulable").is_none());
    assert_eq!(
        f.pod_names(),
        ["dns-abc-1@b", "web-abc-2@b", "web-abc-r1@b", "web-abc-r2@b"]
    );
    assert_eq!(f.config["status"]["phase"], "Idle");
}

/// The writes of a reconcile that carries out the whole plan (after its creation): the
/// cordon, the write-ahead record and the eviction per pod, and the config's phase.
fn assert_full_execution(f: &Fake) {
    assert_eq!(
        f.writes(),
        [
            "PATCH /api/v1/nodes/a",
            "PATCH /api/v1/nodes/a",
            "POST /api/v1/namespaces/shop/pods/web-abc-1/eviction",
            "PATCH /api/v1/nodes/a",
            "POST /api/v1/namespaces/shop/pods/web-abc-3/eviction",
            &format!("PATCH {CONFIG_STATUS}"),
        ]
    );
    let id = id_of(f.plan());
    let patches = f.node_patches();
    assert_eq!(patches[0].body["spec"]["unschedulable"], true);
    assert_eq!(
        patches[0].body["metadata"]["annotations"][CORDONED_BY],
        json!(marker(&id))
    );
    assert_eq!(
        patches[1].body["metadata"]["annotations"][EVICTIONS],
        json!(format!("{id} shop/web-abc-1"))
    );
    assert_eq!(
        patches[2].body["metadata"]["annotations"][EVICTIONS],
        json!(format!("{id} shop/web-abc-1,shop/web-abc-3"))
    );
    assert!(
        patches
            .iter()
            .all(|p| p.content_type == "application/merge-patch+json")
    );
    let evictions = f.evictions();
    assert_eq!(evictions[0].body, eviction("web-abc-1"));
    assert_eq!(evictions[1].body, eviction("web-abc-3"));
    // The plan's status as it went: started, one result per eviction, completed.
    let phases: Vec<(String, u64)> = f
        .plan_updates()
        .into_iter()
        .map(|(phase, n, _)| (phase, n))
        .collect();
    assert_eq!(
        phases,
        [
            ("Executing".to_owned(), 0),
            ("Executing".to_owned(), 1),
            ("Executing".to_owned(), 2),
            ("Completed".to_owned(), 2),
        ]
    );
    assert_eq!(
        f.reasons(),
        [
            "MigrationStarted MigrationPlan/test-2",
            "MigrationCompleted MigrationPlan/test-2",
        ]
    );
    assert!(f.seen.iter().all(|s| s.method != "DELETE"));
}

/// Observe: a report owned by the config, the config's figures, an AnalysisCompleted Event,
/// the config's older report beyond `reportHistory` deleted (not another config's); no plan,
/// no cordon, no eviction.
#[tokio::test]
async fn observe_writes_a_report_and_status_and_never_acts() {
    let (fake, ctx) = setup(json!({"mode": "observe", "reportHistory": 1,
                                   "safeWindows": always_open()}));
    {
        let mut f = fake.lock().unwrap();
        let old = |name: &str, config: &str| {
            json!({"apiVersion": "optimizer.io/v1alpha1", "kind": "OptimizationReport",
                "metadata": {"name": name, "namespace": NS, "labels": {"optimizer.io/config": config}},
                "spec": {"config": config, "generatedAt": "2020-01-01T00:00:00Z"}})
        };
        f.reports.push(old("test-old", CONFIG));
        f.reports.push(old("other-old", "other"));
    }
    let before = Timestamp::now();
    step(&fake, &ctx).await;
    let after = Timestamp::now();
    let f = fake.lock().unwrap();
    assert_eq!(
        f.writes(),
        [
            format!("POST {REPORTS}"),
            format!("DELETE {REPORTS}/test-old"),
            format!("PATCH {CONFIG_STATUS}"),
            format!("PATCH {CONFIG_STATUS}"),
        ]
    );
    assert_eq!(f.reasons(), ["AnalysisCompleted OptimizationConfig/test"]);
    // Config events are cluster-scoped objects' events: in `default`.
    assert!(
        f.seen
            .iter()
            .any(|s| s.line() == "POST /apis/events.k8s.io/v1/namespaces/default/events")
    );
    // The lists carry the config's label selector.
    let lists: Vec<&Seen> = f
        .seen
        .iter()
        .filter(|s| s.method == "GET" && (s.path == PLANS || s.path == REPORTS))
        .collect();
    assert_eq!(lists.len(), 2, "plans once, reports once");
    assert!(
        lists
            .iter()
            .all(|s| s.query.contains(&format!("labelSelector={SELECTOR}"))),
        "{lists:?}"
    );
    // The report.
    let names: Vec<&str> = f.reports.iter().map(name_of).collect();
    assert_eq!(names, ["other-old", "test-1"]);
    let report = &f.reports[1];
    assert_eq!(report["metadata"]["namespace"], NS);
    assert_eq!(report["metadata"]["generateName"], "test-");
    assert_eq!(
        report["metadata"]["labels"],
        json!({"optimizer.io/config": CONFIG})
    );
    assert_eq!(
        report["metadata"]["ownerReferences"],
        json!([{"apiVersion": "optimizer.io/v1alpha1", "kind": "OptimizationConfig",
                        "name": CONFIG, "uid": "config-uid", "controller": true,
        }])
    );
    let c = &report["spec"]["consolidation"];
    assert_eq!(
        (
            c["feasible"].clone(),
            c["currentNodes"].clone(),
            c["requiredNodes"].clone()
        ),
        (json!(true), json!(2), json!(1)),
        "{report:#}"
    );
    assert_eq!(report["spec"]["config"], CONFIG);
    // The config's status.
    let st = &f.config["status"];
    assert_eq!(st["phase"], "Idle");
    assert_eq!(st["lastReport"], "test-1");
    assert_eq!(st["nodeCount"], 2);
    assert_eq!(st["workloadCount"], 1);
    assert_eq!(st["observedGeneration"], 1);
    assert!(st.get("lastPlan").is_none());
    assert_eq!(st["conditions"][0]["type"], "Analyzed");
    assert_eq!(st["conditions"][0]["status"], "True");
    let last: Timestamp = st["lastAnalysis"].as_str().unwrap().parse().unwrap();
    assert!(before <= last && last <= after, "{last}");
    let next: Timestamp = st["nextAnalysis"].as_str().unwrap().parse().unwrap();
    assert!(next > last && next.as_second() % 3600 == 0, "{next}");
    // Never acts.
    assert!(f.plans.is_empty());
    assert!(f.seen.iter().all(|s| s.path != PLANS || s.method == "GET"));
    assert!(f.evictions().is_empty());
    assert!(f.node_patches().is_empty());
    assert_eq!(
        f.pod_names(),
        ["dns-abc-1@b", "web-abc-1@a", "web-abc-2@b", "web-abc-3@a"]
    );
}

/// Manual: a plan waiting for approval (nothing touched, reconciled again or not); once
/// approved it is carried out in full; a further reconcile does nothing.
#[tokio::test]
async fn manual_waits_for_approval_then_executes_once() {
    let (fake, ctx) = setup(json!({"mode": "manual", "schedule": NEVER,
                                   "safeWindows": always_open()}));
    let name = first_reconcile_creates_the_plan(&fake, &ctx).await;
    assert_eq!(
        fake.lock().unwrap().config["status"]["phase"],
        "WaitingForApproval"
    );
    // Reconciled again without approval, inside a window: waits, touches nothing, and looks
    // again in a minute.
    assert_eq!(
        step(&fake, &ctx).await,
        Action::requeue(Duration::from_secs(60))
    );
    {
        let f = fake.lock().unwrap();
        assert_eq!(f.writes(), [format!("PATCH {CONFIG_STATUS}")]);
        assert_eq!(
            f.plan_updates(),
            [(
                "Pending".to_owned(),
                0,
                "waiting for approval of shop/web-abc-1".to_owned()
            )]
        );
        assert!(f.reasons().is_empty());
        assert_eq!(f.plan()["status"]["phase"], "Pending");
        assert_eq!(f.config["status"]["phase"], "WaitingForApproval");
        assert!(f.lines().iter().all(|l| !l.contains("/api/v1/nodes/")));
    }
    // Approved: carried out.
    fake.lock().unwrap().plans[0]["spec"]["approved"] = json!(true);
    // Nothing left open, no analysis scheduled: nothing to wake up for.
    assert_eq!(step(&fake, &ctx).await, Action::await_change());
    {
        let f = fake.lock().unwrap();
        assert_eq!(name_of(f.plan()), name);
        assert_full_execution(&f);
        assert_completed(&f);
    }
    // Once more: nothing left to do.
    assert_eq!(step(&fake, &ctx).await, Action::await_change());
    let f = fake.lock().unwrap();
    assert_eq!(
        f.lines(),
        [format!("GET {PLANS}"), format!("PATCH {CONFIG_STATUS}")]
    );
    assert!(f.reasons().is_empty());
    assert_completed(&f);
}

/// Semi-auto inside an open window: the low-risk plan is carried out without approval.
#[tokio::test]
async fn semi_auto_executes_a_low_risk_plan_inside_a_window() {
    let (fake, ctx) = setup(json!({"mode": "semi-auto", "schedule": NEVER,
                                   "safeWindows": always_open()}));
    first_reconcile_creates_the_plan(&fake, &ctx).await;
    step(&fake, &ctx).await;
    let f = fake.lock().unwrap();
    assert_eq!(f.plan()["spec"]["approved"], false);
    assert_full_execution(&f);
    assert_completed(&f);
}

/// Semi-auto outside every window: the plan waits, saying so; nothing is touched.
#[tokio::test]
async fn semi_auto_waits_outside_the_window() {
    let (fake, ctx) = setup(json!({"mode": "semi-auto", "schedule": NEVER,
                                   "safeWindows": closed_now()}));
    first_reconcile_creates_the_plan(&fake, &ctx).await;
    for _ in 0..2 {
        assert_eq!(
            step(&fake, &ctx).await,
            Action::requeue(Duration::from_secs(60))
        );
        let f = fake.lock().unwrap();
        assert_eq!(f.writes(), [format!("PATCH {CONFIG_STATUS}")]);
        assert!(f.reasons().is_empty());
        let st = &f.plan()["status"];
        // Approved by the mode (every move may run automatically), waiting for a window.
        assert_eq!(st["phase"], "Approved");
        assert_eq!(f.config["status"]["phase"], "PlanApproved");
        assert_waits_for_a_window(st);
        assert!(f.lines().iter().all(|l| !l.contains("/api/v1/nodes/")));
        assert_eq!(
            f.pod_names(),
            ["dns-abc-1@b", "web-abc-1@a", "web-abc-2@b", "web-abc-3@a"]
        );
    }
    // The second reconcile found the message already written: no plan update at all.
    assert!(fake.lock().unwrap().plan_updates().is_empty());
}

/// Full-auto without confirmFullAuto (which the API server's CEL would refuse): never
/// carried out, inside a window and even approved by a person.
#[tokio::test]
async fn full_auto_without_confirmation_never_executes() {
    let (fake, ctx) = setup(json!({"mode": "full-auto", "confirmFullAuto": false,
                                   "schedule": NEVER, "safeWindows": always_open()}));
    first_reconcile_creates_the_plan(&fake, &ctx).await;
    for approved in [false, true] {
        fake.lock().unwrap().plans[0]["spec"]["approved"] = json!(approved);
        step(&fake, &ctx).await;
        let f = fake.lock().unwrap();
        assert_eq!(f.writes(), [format!("PATCH {CONFIG_STATUS}")]);
        assert!(f.reasons().is_empty());
        assert!(f.evictions().is_empty());
        assert!(f.lines().iter().all(|l| !l.contains("/api/v1/nodes/")));
        let st = &f.plan()["status"];
        assert_eq!(
            st["message"],
            "full-auto mode without confirmFullAuto: true never carries plans out"
        );
        // Approved by a person or not, it is never carried out: it stays Pending.
        assert_eq!(st["phase"], "Pending");
        assert_eq!(st["executedMigrations"], 0);
    }
    assert_eq!(
        fake.lock().unwrap().pod_names(),
        ["dns-abc-1@b", "web-abc-1@a", "web-abc-2@b", "web-abc-3@a"]
    );
}

/// Full-auto with confirmFullAuto inside a window: carried out without approval.
#[tokio::test]
async fn full_auto_confirmed_executes_inside_a_window() {
    let (fake, ctx) = setup(json!({"mode": "full-auto", "confirmFullAuto": true,
                                   "schedule": NEVER, "safeWindows": always_open()}));
    first_reconcile_creates_the_plan(&fake, &ctx).await;
    step(&fake, &ctx).await;
    let f = fake.lock().unwrap();
    assert_full_execution(&f);
    assert_completed(&f);
}

/// Full-auto with confirmFullAuto outside every window: waits.
#[tokio::test]
async fn full_auto_confirmed_waits_outside_the_window() {
    let (fake, ctx) = setup(json!({"mode": "full-auto", "confirmFullAuto": true,
                                   "schedule": NEVER, "safeWindows": closed_now()}));
    first_reconcile_creates_the_plan(&fake, &ctx).await;
    step(&fake, &ctx).await;
    let f = fake.lock().unwrap();
    assert_eq!(f.writes(), [format!("PATCH {CONFIG_STATUS}")]);
    assert!(f.lines().iter().all(|l| !l.contains("/api/v1/nodes/")));
    assert_waits_for_a_window(&f.plan()["status"]);
    assert!(f.evictions().is_empty());
}

/// A cancelled plan (approved too, window open) ends Cancelled; nothing is touched, and it
/// stays so.
#[tokio::test]
async fn a_cancelled_plan_is_cancelled_and_never_executed() {
    let (fake, ctx) = setup(json!({"mode": "manual", "schedule": NEVER,
                                   "safeWindows": always_open()}));
    first_reconcile_creates_the_plan(&fake, &ctx).await;
    {
        let mut f = fake.lock().unwrap();
        f.plans[0]["spec"]["approved"] = json!(true);
        f.plans[0]["spec"]["cancelled"] = json!(true);
    }
    assert_eq!(step(&fake, &ctx).await, Action::await_change());
    {
        let f = fake.lock().unwrap();
        assert_eq!(f.writes(), [format!("PATCH {CONFIG_STATUS}")]);
        assert_eq!(
            f.plan_updates(),
            [(
                "Cancelled".to_owned(),
                0,
                "cancelled by spec.cancelled".to_owned()
            )]
        );
        assert_eq!(f.reasons(), ["MigrationCancelled MigrationPlan/test-2"]);
        assert!(f.lines().iter().all(|l| !l.contains("/api/v1/nodes")));
        assert_eq!(f.plan()["status"]["phase"], "Cancelled");
        assert_eq!(f.config["status"]["phase"], "Idle");
    }
    step(&fake, &ctx).await;
    let f = fake.lock().unwrap();
    assert_eq!(f.writes(), [format!("PATCH {CONFIG_STATUS}")]);
    assert!(f.plan_updates().is_empty() && f.reasons().is_empty());
    assert_eq!(
        f.pod_names(),
        ["dns-abc-1@b", "web-abc-1@a", "web-abc-2@b", "web-abc-3@a"]
    );
}

/// A plan past its expiresAt (approved, window open) ends Expired; nothing is touched.
#[tokio::test]
async fn an_expired_plan_is_expired_and_never_executed() {
    let (fake, ctx) = setup(json!({"mode": "manual", "schedule": NEVER,
                                   "safeWindows": always_open()}));
    first_reconcile_creates_the_plan(&fake, &ctx).await;
    {
        let mut f = fake.lock().unwrap();
        f.plans[0]["spec"]["approved"] = json!(true);
        f.plans[0]["spec"]["expiresAt"] = json!("2020-01-01T00:00:00Z");
    }
    step(&fake, &ctx).await;
    let f = fake.lock().unwrap();
    assert_eq!(f.writes(), [format!("PATCH {CONFIG_STATUS}")]);
    let updates = f.plan_updates();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].0, "Expired");
    assert!(
        updates[0].2.starts_with("expired at 2020-01-01T00:00:00Z"),
        "{updates:?}"
    );
    assert_eq!(f.reasons(), ["MigrationPlanExpired MigrationPlan/test-2"]);
    assert!(f.lines().iter().all(|l| !l.contains("/api/v1/nodes")));
    assert_eq!(f.plan()["status"]["phase"], "Expired");
    assert_eq!(f.config["status"]["phase"], "Idle");
    assert_eq!(
        f.pod_names(),
        ["dns-abc-1@b", "web-abc-1@a", "web-abc-2@b", "web-abc-3@a"]
    );
}

/// What a controller stopped right after the first eviction of a part leaves: the plan
/// approved and Executing with executingNodes [a], node a cordoned with the plan's marker and
/// the eviction of web-abc-1 recorded, web-abc-1 replaced on b; with `recorded` its result in
/// the plan's status too (stopped after the progress update, else just before it).
fn stopped_after_the_first_eviction(fake: &Arc<Mutex<Fake>>, recorded: bool) {
    let mut f = fake.lock().unwrap();
    let id = id_of(f.plan());
    let a = f.node_mut("a");
    a["spec"]["unschedulable"] = json!(true);
    a["metadata"]["annotations"] = json!({
        CORDONED_BY: marker(&id),
        EVICTIONS: format!("{id} shop/web-abc-1"),
    });
    assert!(f.evict("shop", "web-abc-1"));
    let plan = &mut f.plans[0];
    plan["spec"]["approved"] = json!(true);
    merge_patch(
        &mut plan["status"],
        &json!({"phase": "Executing", "executingNodes": ["a"],
                "message": "carrying out 2 move(s) draining a"}),
    );
    if recorded {
        merge_patch(
            &mut plan["status"],
            &json!({"executedMigrations": 1,
                "results": [{"pod": "shop/web-abc-1", "status": "Evicted",
                             "message": "evicted from a", "timestamp": "2026-12-05T10:00:00Z"}]}),
        );
    }
}

/// The resumed part: no cordon (a is cordoned by this plan already), no second eviction of
/// web-abc-1; the record and the eviction of web-abc-3; completed, without MigrationStarted.
fn assert_resumed(f: &Fake) {
    let id = id_of(f.plan());
    assert_eq!(
        f.writes(),
        [
            "PATCH /api/v1/nodes/a",
            "POST /api/v1/namespaces/shop/pods/web-abc-3/eviction",
            &format!("PATCH {CONFIG_STATUS}"),
        ]
    );
    assert_eq!(f.evictions()[0].body, eviction("web-abc-3"));
    assert_eq!(
        f.node_patches()[0].body,
        json!({"metadata": {"annotations": {EVICTIONS: format!("{id} shop/web-abc-1,shop/web-abc-3")}}})
    );
    assert_eq!(
        f.plan_updates().first().map(|u| u.2.as_str()),
        Some("resuming 2 move(s) draining a")
    );
    assert_eq!(f.reasons(), ["MigrationCompleted MigrationPlan/test-2"]);
    let st = &f.plan()["status"];
    assert_eq!(st["phase"], "Completed", "{st:#}");
    assert_eq!(st["completedNodes"], json!(["a"]));
    assert_eq!(st["executingNodes"], json!([]));
    assert_eq!(
        f.pod_names(),
        ["dns-abc-1@b", "web-abc-2@b", "web-abc-r1@b", "web-abc-r2@b"]
    );
    assert_eq!(f.config["status"]["phase"], "Idle");
}

/// A controller stopped after the first eviction of a part and its progress update: the next
/// reconcile resumes that part, evicts web-abc-3 only and completes the plan.
#[tokio::test]
async fn an_executing_plan_is_resumed_without_a_second_eviction() {
    let (fake, ctx) = setup(json!({"mode": "manual", "schedule": NEVER,
                                   "safeWindows": always_open()}));
    first_reconcile_creates_the_plan(&fake, &ctx).await;
    stopped_after_the_first_eviction(&fake, true);
    step(&fake, &ctx).await;
    let f = fake.lock().unwrap();
    assert_resumed(&f);
    let phases: Vec<(String, u64)> = f.plan_updates().into_iter().map(|u| (u.0, u.1)).collect();
    assert_eq!(
        phases,
        [
            ("Executing".to_owned(), 1),
            ("Executing".to_owned(), 2),
            ("Completed".to_owned(), 2),
        ]
    );
    let st = &f.plan()["status"];
    assert_eq!(st["executedMigrations"], 2);
    assert_eq!(st["totalMigrations"], 2);
    let results: Vec<(&str, &str)> = st["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["pod"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        results,
        [("shop/web-abc-1", "Evicted"), ("shop/web-abc-3", "Landed")]
    );
}

/// Stopped after the first eviction but before its progress update (the window the
/// write-ahead record exists for): resumed without a second eviction, and the completed plan
/// accounts for both moves.
#[tokio::test]
async fn a_plan_resumed_before_its_progress_update_counts_every_move() {
    let (fake, ctx) = setup(json!({"mode": "manual", "schedule": NEVER,
                                   "safeWindows": always_open()}));
    first_reconcile_creates_the_plan(&fake, &ctx).await;
    stopped_after_the_first_eviction(&fake, false);
    step(&fake, &ctx).await;
    let f = fake.lock().unwrap();
    assert_resumed(&f);
    let st = &f.plan()["status"];
    let mut pods: Vec<&str> = st["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["pod"].as_str().unwrap())
        .collect();
    pods.sort_unstable();
    assert_eq!(pods, ["shop/web-abc-1", "shop/web-abc-3"], "{st:#}");
    assert_eq!(st["executedMigrations"], st["totalMigrations"], "{st:#}");
}
