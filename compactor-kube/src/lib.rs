//! # compactor-kube
//!
//! The Kubernetes adapter of kube-compactor.
//!
//! - [`mapping`] (pure) maps Kubernetes API objects (k8s-openapi types, or the JSON `kubectl
//!   get nodes,pods,pdb,pvc,pv,namespaces,csinodes -A -o json` prints) into the
//!   [`compactor_core`] model; [`SnapshotBuilder`] takes them one at a time;
//! - [`live`] reads the same objects from a cluster through the API (kube + tokio);
//! - [`controller`] runs the operator on the custom resources of [`crd`], one replica at a
//!   time ([`lease`]);
//! - [`execute`] carries a plan out: its steps and API calls are computed purely
//!   ([`execute::steps`], [`execute::dry_run`]), then performed by [`execute::execute`].
//!
//! ```
//! use compactor_core::{Snapshot, plan::{plan, PlanOptions}};
//! let text = r#"{"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [
//!   {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
//!    "status": {"allocatable": {"cpu": "3920m", "memory": "15551676Ki", "pods": "110"},
//!               "conditions": [{"type": "Ready", "status": "True"}]}},
//!   {"apiVersion": "v1", "kind": "Pod",
//!    "metadata": {"namespace": "shop", "name": "web-7d4b9c8f6d-x2x4p",
//!                 "labels": {"app": "web", "pod-template-hash": "7d4b9c8f6d"},
//!                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
//!                     "name": "web-7d4b9c8f6d", "uid": "u1", "controller": true}]},
//!    "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "web:1",
//!             "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}}}]},
//!    "status": {"phase": "Running"}}]}"#;
//! let spec = compactor_kube::read_snapshot(text).unwrap();
//! assert_eq!(spec.pods[0].owner.as_ref().unwrap().kind, "Deployment");
//! let plan = plan(&Snapshot::new(spec).unwrap(), &PlanOptions::default()).unwrap();
//! assert!(plan.drain.is_empty()); // one node: nowhere to move to
//! ```
//!
//! Errors are one enum, [`KubeError`], whose messages name the object and the field path.
#![deny(missing_docs)]

#[cfg(feature = "client")]
pub mod controller;
#[cfg(feature = "client")]
pub mod crd;
pub mod error;
#[cfg(feature = "client")]
pub mod execute;
#[cfg(feature = "client")]
pub mod lease;
#[cfg(feature = "client")]
pub mod live;
pub mod mapping;
pub mod metrics;
#[cfg(feature = "client")]
pub mod modes;
#[cfg(feature = "client")]
pub mod schedule;
pub mod scheduler_config;
#[cfg(feature = "client")]
pub mod window;

pub use error::KubeError;
pub use mapping::{SnapshotBuilder, read_snapshot, snapshot_from_kubectl_list};
pub use scheduler_config::scheduler_config;
