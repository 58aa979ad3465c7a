//! # compactor-core
//!
//! The pure planning core of kube-compactor: a Kubernetes cluster as plain data in, an
//! explained consolidation plan out. No I/O, no clock, no environment: time, seeds and
//! configuration are arguments, and the output is deterministic.
//!
//! ```
//! use compactor_core::{Snapshot, model::SnapshotSpec, plan::{plan, PlanOptions}};
//! let spec: SnapshotSpec = serde_json::from_str(r#"{
//!   "nodes": [
//!     {"name": "a", "allocatable": {"cpu": "4", "memory": "16Gi"}},
//!     {"name": "b", "allocatable": {"cpu": "4", "memory": "16Gi"}}],
//!   "pods": [
//!     {"namespace": "shop", "name": "web-1", "nodeName": "a", "owner": {"kind": "Deployment", "name": "web"},
//!      "containers": [{"name": "app", "requests": {"cpu": "500m", "memory": "1Gi"}}]},
//!     {"namespace": "shop", "name": "web-2", "nodeName": "b", "owner": {"kind": "Deployment", "name": "web"},
//!      "containers": [{"name": "app", "requests": {"cpu": "500m", "memory": "1Gi"}}]}]
//! }"#).unwrap();
//! let plan = plan(&Snapshot::new(spec).unwrap(), &PlanOptions::default()).unwrap();
//! assert_eq!(plan.drain.len(), 1);
//! assert_eq!(plan.kept[0].receives, 1);
//! ```
#![deny(missing_docs)]

/// The repository README's code examples, compiled by `cargo test` so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

pub mod analysis;
pub mod bounds;
pub mod constraints;
pub mod cost;
pub mod error;
mod fasthash;
pub mod model;
pub mod packing;
pub mod plan;
pub mod quantity;
pub mod resources;
pub mod risk;
mod rng;
pub mod safety;
pub mod snapshot;
#[cfg(feature = "test-util")]
pub mod testing;
pub mod text;
pub mod traffic;
pub mod verify;

pub use error::CoreError;
pub use plan::{Plan, PlanOptions};
pub use snapshot::Snapshot;
pub use traffic::{TrafficGraph, TrafficReport, TrafficSpec, pack_network};
