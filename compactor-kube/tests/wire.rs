//! Wire-level tests: the live snapshot and the executor against a scripted API server
//! (tower-test), checking the exact requests and the handling of each error code.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use compactor_core::Snapshot;
use compactor_core::plan::{PlanOptions, plan};
use compactor_kube::execute::{Outcome, execute};
use http::{Request, Response};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};

mod common;
use common::{Incoming, fast, list, merge_patch, node, status};

/// One request as the fake server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    uri: String,
    body: Value,
}

/// The fake API server's state.
struct Fake {
    nodes: Vec<Value>,
    pods: Vec<Value>,
    /// Answers to evictions, in order; `201` when empty.
    evictions: VecDeque<(u16, &'static str)>,
    /// Answers to the next node patches (before the real one is applied).
    patch_errors: VecDeque<(u16, &'static str)>,
    seen: Vec<Seen>,
    version: u64,
    replacements: u32,
}

fn pod(name: &str, uid: &str, node: &str, cpu: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"namespace": "shop", "name": name, "uid": uid,
            "creationTimestamp": "2026-12-01T00:00:00Z",
            "labels": {"app": "web", "pod-template-hash": "abc"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc",
                                 "uid": "rs", "controller": true}]},
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": "web",
                 "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}},
                 "readinessProbe": {"httpGet": {"path": "/", "port": 80}}}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"},
                                                        {"type": "PodScheduled", "status": "True"}]}})
}

impl Fake {
    fn new() -> Self {
        Self {
            nodes: vec![node("a"), node("b")],
            pods: vec![
                pod("web-abc-1", "u1", "a", "500m"),
                pod("web-abc-2", "u2", "b", "1"),
            ],
            evictions: VecDeque::new(),
            patch_errors: VecDeque::new(),
            seen: Vec::new(),
            version: 1,
            replacements: 0,
        }
    }

    fn answer(&mut self, method: &str, uri: &str, body: &Value) -> (u16, Value) {
        let path = uri.split('?').next().unwrap_or(uri);
        match (method, path) {
            ("GET", "/api/v1/nodes") => list("NodeList", "v1", &self.nodes),
            ("GET", "/api/v1/pods") | ("GET", "/api/v1/namespaces/shop/pods") => {
                list("PodList", "v1", &self.pods)
            }
            ("GET", p) if p.starts_with("/apis/metrics.k8s.io") => status(404, "not found"),
            ("GET", p) if p.starts_with("/api/v1/nodes/") => {
                let name = &p["/api/v1/nodes/".len()..];
                match self.nodes.iter().find(|n| n["metadata"]["name"] == name) {
                    Some(n) => (200, n.clone()),
                    None => status(404, "not found"),
                }
            }
            ("PATCH", p) if p.starts_with("/api/v1/nodes/") => {
                if let Some((code, message)) = self.patch_errors.pop_front() {
                    return status(code, message);
                }
                let name = p["/api/v1/nodes/".len()..].to_owned();
                self.version += 1;
                let version = self.version.to_string();
                let n = self
                    .nodes
                    .iter_mut()
                    .find(|n| n["metadata"]["name"] == name.as_str())
                    .unwrap();
                // RFC 7386: a null removes the annotation or the unschedulable field.
                merge_patch(n, body);
                n["metadata"]["resourceVersion"] = json!(version);
                (200, n.clone())
            }
            ("POST", p) if p.ends_with("/eviction") => {
                let name = p.trim_end_matches("/eviction").rsplit('/').next().unwrap();
                if let Some((code, message)) = self.evictions.pop_front() {
                    return status(code, message);
                }
                let Some(i) = self.pods.iter().position(|p| p["metadata"]["name"] == name) else {
                    return status(404, "not found");
                };
                let gone = self.pods.remove(i);
                self.replacements += 1;
                let mut new = pod(
                    &format!("web-abc-r{}", self.replacements),
                    &format!("r{}", self.replacements),
                    "b",
                    gone["spec"]["containers"][0]["resources"]["requests"]["cpu"]
                        .as_str()
                        .unwrap(),
                );
                new["metadata"]["creationTimestamp"] = json!("2026-12-02T00:00:00Z");
                self.pods.push(new);
                (
                    201,
                    json!({"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 201}),
                )
            }
            ("GET", _) => list("List", "v1", &[]),
            _ => status(405, "unexpected request"),
        }
    }
}

/// A client whose requests the fake answers, until the test drops it.
fn serve(fake: Arc<Mutex<Fake>>) -> Client {
    common::serve(move |r: Incoming| {
        let uri = r.uri.to_string();
        let mut f = fake.lock().unwrap();
        f.seen.push(Seen {
            method: r.method.clone(),
            uri: uri.clone(),
            body: r.body.clone(),
        });
        f.answer(&r.method, &uri, &r.body)
    })
}

async fn plan_from(client: &Client) -> compactor_core::plan::Plan {
    let live = compactor_kube::live::snapshot(client).await.unwrap();
    let p = plan(&Snapshot::new(live.spec).unwrap(), &PlanOptions::default()).unwrap();
    assert_eq!(p.moves.len(), 1, "the fixture drains node a: {p:?}");
    p
}

#[tokio::test]
async fn executes_with_exact_requests_and_retries_429_and_409() {
    let fake = Arc::new(Mutex::new(Fake::new()));
    let client = serve(fake.clone());
    let p = plan_from(&client).await;
    {
        let mut f = fake.lock().unwrap();
        f.seen.clear();
        f.evictions.push_back((
            429,
            "Cannot evict pod as it would violate the pod's disruption budget.",
        ));
        f.evictions.push_back((
            409,
            "Operation cannot be fulfilled on poddisruptionbudgets.policy \"web\": the object has been modified",
        ));
        f.patch_errors
            .push_back((409, "the object has been modified"));
    }
    let mut lines = Vec::new();
    let report = execute(&client, &p, &fast(), &mut |l| lines.push(l.to_string()))
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Completed, "{lines:?}");
    assert_eq!(report.evictions, 1);
    assert_eq!(report.fidelity.on_predicted, 1, "{report:?}");
    let f = fake.lock().unwrap();
    let evictions: Vec<&Seen> = f
        .seen
        .iter()
        .filter(|s| s.uri.ends_with("/eviction"))
        .collect();
    assert_eq!(
        evictions.len(),
        3,
        "a 429, a 409 (pod re-read: still there), then accepted"
    );
    // The 409 made the executor read the namespace's pods again before retrying.
    let second = f
        .seen
        .iter()
        .position(|s| s.uri.ends_with("/eviction"))
        .unwrap()
        + 2;
    assert!(
        f.seen[second]
            .uri
            .starts_with("/api/v1/namespaces/shop/pods?"),
        "{:?}",
        &f.seen[second - 1..second + 2]
    );
    for e in &evictions {
        assert_eq!(e.method, "POST");
        assert_eq!(e.uri, "/api/v1/namespaces/shop/pods/web-abc-1/eviction");
        assert_eq!(
            e.body,
            json!({"apiVersion": "policy/v1", "kind": "Eviction",
                   "metadata": {"name": "web-abc-1", "namespace": "shop"}})
        );
    }
    // The cordon: a 409 first, then the node read again and patched with its new version.
    let patches: Vec<&Seen> = f.seen.iter().filter(|s| s.method == "PATCH").collect();
    assert_eq!(patches[0].uri, "/api/v1/nodes/a");
    assert_eq!(patches[0].body["spec"]["unschedulable"], json!(true));
    assert_eq!(patches[1].body["metadata"]["resourceVersion"], json!("1"));
    let marker = format!("kube-compactor/{}", report.plan_id);
    assert_eq!(
        patches[1].body["metadata"]["annotations"]["optimizer.io/cordoned-by"],
        json!(marker)
    );
    // The record precedes the eviction.
    let record = f
        .seen
        .iter()
        .position(|s| s.body["metadata"]["annotations"]["optimizer.io/evictions"].is_string())
        .unwrap();
    let first_eviction = f
        .seen
        .iter()
        .position(|s| s.uri.ends_with("/eviction"))
        .unwrap();
    assert!(record < first_eviction);
    // Node a stays cordoned, marked; nothing was deleted.
    assert!(f.seen.iter().all(|s| s.method != "DELETE"));
    assert_eq!(f.nodes[0]["spec"]["unschedulable"], json!(true));
}

#[tokio::test]
async fn several_budgets_stop_and_uncordon() {
    let fake = Arc::new(Mutex::new(Fake::new()));
    let client = serve(fake.clone());
    let p = plan_from(&client).await;
    fake.lock().unwrap().evictions.push_back((
        500,
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
    ));
    let report = execute(&client, &p, &fast(), &mut |_| {}).await.unwrap();
    let Outcome::Stopped { reason } = &report.outcome else {
        panic!("{report:?}")
    };
    assert!(reason.contains("several PodDisruptionBudgets"), "{reason}");
    assert_eq!(report.uncordoned, ["a"]);
    let f = fake.lock().unwrap();
    assert!(
        f.nodes[0]["spec"].get("unschedulable").is_none(),
        "{:?}",
        f.nodes[0]
    );
    assert!(
        f.nodes[0]["metadata"]["annotations"]
            .get("optimizer.io/cordoned-by")
            .is_none()
    );
}

#[tokio::test]
async fn a_pod_already_gone_counts_as_done() {
    let fake = Arc::new(Mutex::new(Fake::new()));
    let client = serve(fake.clone());
    let p = plan_from(&client).await;
    fake.lock()
        .unwrap()
        .evictions
        .push_back((404, "pods \"web-abc-1\" not found"));
    let mut lines = Vec::new();
    let report = execute(&client, &p, &fast(), &mut |l| lines.push(l.to_string()))
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Completed, "{lines:?}");
    assert_eq!(report.evictions, 0);
    assert!(
        lines.iter().any(|l| l.contains("already gone")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn a_budget_that_never_allows_stops_at_the_deadline() {
    let fake = Arc::new(Mutex::new(Fake::new()));
    let client = serve(fake.clone());
    let p = plan_from(&client).await;
    for _ in 0..10_000 {
        fake.lock().unwrap().evictions.push_back((
            429,
            "Cannot evict pod as it would violate the pod's disruption budget.",
        ));
    }
    let options = fast().with_deadlines(
        Duration::from_millis(200),
        Duration::from_secs(5),
        Duration::from_secs(1),
    );
    let report = execute(&client, &p, &options, &mut |_| {}).await.unwrap();
    let Outcome::Stopped { reason } = &report.outcome else {
        panic!("{report:?}")
    };
    assert!(
        reason.contains("still refused") && reason.contains("429"),
        "{reason}"
    );
    assert_eq!(report.uncordoned, ["a"]);
}

#[tokio::test]
async fn a_stale_plan_is_refused_without_a_write() {
    let fake = Arc::new(Mutex::new(Fake::new()));
    let client = serve(fake.clone());
    let p = plan_from(&client).await;
    {
        let mut f = fake.lock().unwrap();
        f.pods.retain(|p| p["metadata"]["name"] != "web-abc-1");
        f.seen.clear();
    }
    let report = execute(&client, &p, &fast(), &mut |_| {}).await.unwrap();
    let Outcome::Refused { reasons } = &report.outcome else {
        panic!("{report:?}")
    };
    assert_eq!(reasons, &["pod shop/web-abc-1 is gone"]);
    assert!(fake.lock().unwrap().seen.iter().all(|s| s.method == "GET"));
}

#[tokio::test]
async fn a_rerun_resumes_from_the_record_and_never_evicts_twice() {
    let fake = Arc::new(Mutex::new(Fake::new()));
    let client = serve(fake.clone());
    let p = plan_from(&client).await;
    let first = execute(&client, &p, &fast(), &mut |_| {}).await.unwrap();
    assert_eq!(first.evictions, 1);
    // The same plan again (a rerun after a crash past the eviction): nothing is evicted.
    fake.lock().unwrap().seen.clear();
    let second = execute(&client, &p, &fast(), &mut |_| {}).await.unwrap();
    assert_eq!(second.outcome, Outcome::Completed, "{second:?}");
    assert_eq!((second.evictions, second.resumed), (0, 1));
    assert!(
        fake.lock()
            .unwrap()
            .seen
            .iter()
            .all(|s| !s.uri.ends_with("/eviction"))
    );
}

/// Pods served in pages of two; the first continue token expires once (410): the list
/// starts over and the snapshot has every pod once.
#[tokio::test]
async fn pagination_and_410_relist() {
    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen2 = seen.clone();
    tokio::spawn(async move {
        let mut expired_once = false;
        while let Some((request, send)) = handle.next_request().await {
            let uri = request.uri().to_string();
            seen2.lock().unwrap().push(uri.clone());
            let path = uri.split('?').next().unwrap().to_owned();
            let page = |items: Vec<Value>, next: Option<&str>| {
                json!({"kind": "PodList", "apiVersion": "v1",
                       "metadata": {"resourceVersion": "7", "continue": next}, "items": items})
            };
            let (code, body) = if path == "/api/v1/pods" {
                if !uri.contains("continue=") {
                    (
                        200,
                        page(
                            vec![pod("p1", "1", "a", "1"), pod("p2", "2", "a", "1")],
                            Some("t1"),
                        ),
                    )
                } else if !expired_once {
                    expired_once = true;
                    status(410, "The provided continue parameter is too old")
                } else {
                    (200, page(vec![pod("p3", "3", "a", "1")], None))
                }
            } else if path == "/api/v1/nodes" {
                list("NodeList", "v1", &[node("a")])
            } else if path.starts_with("/apis/metrics.k8s.io") {
                status(503, "service unavailable")
            } else {
                list("List", "v1", &[])
            };
            send.send_response(
                Response::builder()
                    .status(code)
                    .body(Body::from(serde_json::to_vec(&body).unwrap()))
                    .unwrap(),
            );
        }
    });
    let client = Client::new(service, "default");
    let live = compactor_kube::live::snapshot(&client).await.unwrap();
    let names: Vec<&str> = live.spec.pods.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["p1", "p2", "p3"]);
    assert!(live.metrics.unwrap_err().contains("not served"));
    let seen = seen.lock().unwrap();
    let pods: Vec<&String> = seen
        .iter()
        .filter(|u| u.starts_with("/api/v1/pods"))
        .collect();
    assert_eq!(pods.len(), 4, "page 1, 410, page 1 again, page 2: {pods:?}");
    assert!(pods.iter().all(|u| u.contains("limit=500")));
    assert!(pods[1].contains("continue=t1") && pods[3].contains("continue=t1"));
    assert_eq!(live.requests, 9 + 3 + 1);
}
