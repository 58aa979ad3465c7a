//! What the wire-level tests share: a scripted API server behind a tower-test mock, and the
//! small fixtures both fakes answer with.

#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of it; a failed unwrap fails the test

use std::time::Duration;

use compactor_kube::execute::ExecuteOptions;
use http::{Request, Response};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};

/// One request as the fake receives it.
pub struct Incoming {
    pub method: String,
    pub uri: http::Uri,
    pub content_type: String,
    pub body: Value,
}

/// A client whose every request `answer` answers (status code, JSON body), until the test
/// drops the client.
pub fn serve(mut answer: impl FnMut(Incoming) -> (u16, Value) + Send + 'static) -> Client {
    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    tokio::spawn(async move {
        while let Some((request, send)) = handle.next_request().await {
            let method = request.method().to_string();
            let uri = request.uri().clone();
            let content_type = request
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let bytes = request.into_body().collect_bytes().await.unwrap();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let (code, json) = answer(Incoming {
                method,
                uri,
                content_type,
                body,
            });
            send.send_response(
                Response::builder()
                    .status(code)
                    .body(Body::from(serde_json::to_vec(&json).unwrap()))
                    .unwrap(),
            );
        }
    });
    Client::new(service, "default")
}

/// Executor options with short deadlines and polls.
pub fn fast() -> ExecuteOptions {
    ExecuteOptions::default()
        .with_deadlines(
            Duration::from_secs(5),
            Duration::from_secs(5),
            Duration::from_secs(1),
        )
        .with_timing(Duration::from_millis(5), Duration::from_millis(5))
}

pub fn status(code: u16, message: &str) -> (u16, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": "Whatever", "code": code}),
    )
}

pub fn list(kind: &str, api_version: &str, items: &[Value]) -> (u16, Value) {
    (
        200,
        json!({"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": "1"},
               "items": items}),
    )
}

pub fn node(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "resourceVersion": "1", "labels": {"kubernetes.io/hostname": name}},
        "spec": {},
        "status": {"allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                   "conditions": [{"type": "Ready", "status": "True"}]}})
}

/// JSON merge patch (RFC 7386): objects merge, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let t = target.as_object_mut().unwrap();
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}
