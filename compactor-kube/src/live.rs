//! A snapshot of a live cluster, read through the API (the only I/O of this crate besides
//! the executor): the same objects and the same mapping as the kubectl import.
//!
//! - Nodes, Pods (all namespaces), PodDisruptionBudgets (policy/v1), Namespaces,
//!   PersistentVolumeClaims, PersistentVolumes, CSINodes, and the ReplicaSets and Jobs that
//!   resolve a pod to its Deployment or CronJob: nine lists, all concurrent, each paginated
//!   (`limit` [`PAGE_SIZE`] + `continue`). A page is mapped as it arrives and then dropped,
//!   so the raw objects of a list are never held all at once (see
//!   [`SnapshotBuilder`](crate::SnapshotBuilder)).
//! - A continue token that expired (410 Gone: the list took longer than etcd's compaction
//!   window) restarts that list from the beginning; its pages so far are discarded.
//! - metrics.k8s.io (PodMetrics, NodeMetrics) when the cluster serves it; else the usage is
//!   unknown and [`LiveSnapshot::metrics`] says why.
//!
//! ```no_run
//! # async fn demo() -> Result<(), compactor_kube::KubeError> {
//! let client = compactor_kube::live::connect(None, None).await?;
//! let live = compactor_kube::live::snapshot(&client).await?;
//! println!("{} nodes, {} pods", live.spec.nodes.len(), live.spec.pods.len());
//! # Ok(()) }
//! ```

use std::fmt::Debug;
use std::path::Path;

use compactor_core::model::SnapshotSpec;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::storage::v1::CSINode;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config, Resource};
use serde::de::DeserializeOwned;

use crate::error::KubeError;
use crate::mapping::SnapshotBuilder;
use crate::metrics::{MetricsDump, read_metrics};

/// Items per list request (`limit`). The API server returns at most this many per page and
/// a `continue` token for the rest.
pub const PAGE_SIZE: u32 = 500;

/// How long each metrics.k8s.io read may take: a registered aggregated API whose server is
/// down can otherwise hold the request for minutes.
pub const METRICS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What a live snapshot read.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LiveSnapshot {
    /// The cluster as the core sees it.
    pub spec: SnapshotSpec,
    /// The usage metrics.k8s.io served, or why there is none.
    pub metrics: Result<MetricsDump, String>,
    /// List requests made (pages of every list, metrics included).
    pub requests: u32,
}

/// A client from a kubeconfig file (`kubeconfig`; else `$KUBECONFIG` or `~/.kube/config`)
/// and context (`context`; else the current one), or, with neither given and no kubeconfig
/// found, the in-cluster service account.
///
/// # Errors
/// [`KubeError::Config`] when the kubeconfig cannot be read, names no such context, or no
/// configuration is found at all; the message says which.
///
/// # Complexity
/// Reads one file; no request is made.
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<Client, KubeError> {
    let options = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..KubeConfigOptions::default()
    };
    let config_error = |message: String| KubeError::Config { message };
    let config = match (kubeconfig, context) {
        (Some(path), _) => {
            let file = Kubeconfig::read_from(path).map_err(|e| config_error(e.to_string()))?;
            Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(|e| config_error(format!("{}: {e}", path.display())))?
        }
        (None, Some(_)) => Config::from_kubeconfig(&options)
            .await
            .map_err(|e| config_error(e.to_string()))?,
        (None, None) => Config::infer()
            .await
            .map_err(|e| config_error(e.to_string()))?,
    };
    Client::try_from(config).map_err(|e| config_error(e.to_string()))
}

/// Reads the cluster: every list of the module docs, concurrently and paginated, mapped into
/// one [`SnapshotSpec`], plus the metrics.k8s.io usage when served.
///
/// # Errors
/// - [`KubeError::Api`] for a list the API server refuses (403 names the missing RBAC
///   permission in its message) or a connection failure;
/// - every mapping error of [`SnapshotBuilder`] (an object the model cannot represent);
/// - [`KubeError::Field`] for an object listed twice.
///
/// # Complexity
/// One request per page of each list (objects / [`PAGE_SIZE`], rounded up, at least one);
/// memory: the snapshot plus one page per list in flight.
pub async fn snapshot(client: &Client) -> Result<LiveSnapshot, KubeError> {
    read(client, true).await
}

/// [`snapshot`] without the metrics.k8s.io reads (`metrics` is then `Err("not read")`): what
/// the executor uses before each eviction, where usage plays no part and an aggregated API
/// that is registered but down would make every read wait for its timeout.
///
/// # Errors
/// Those of [`snapshot`].
///
/// # Complexity
/// As [`snapshot`], less the two metrics requests.
pub async fn snapshot_without_metrics(client: &Client) -> Result<LiveSnapshot, KubeError> {
    read(client, false).await
}

async fn read(client: &Client, with_metrics: bool) -> Result<LiveSnapshot, KubeError> {
    let (nodes, pods, pdbs, namespaces, claims, volumes, csi_nodes, replica_sets, jobs, metrics) =
        tokio::try_join!(
            list_into(Api::<Node>::all(client.clone()), SnapshotBuilder::add_node),
            list_into(Api::<Pod>::all(client.clone()), SnapshotBuilder::add_pod),
            list_into(
                Api::<PodDisruptionBudget>::all(client.clone()),
                SnapshotBuilder::add_pdb
            ),
            list_into(
                Api::<Namespace>::all(client.clone()),
                SnapshotBuilder::add_namespace
            ),
            list_into(
                Api::<PersistentVolumeClaim>::all(client.clone()),
                SnapshotBuilder::add_claim
            ),
            list_into(
                Api::<PersistentVolume>::all(client.clone()),
                SnapshotBuilder::add_volume
            ),
            list_into(
                Api::<CSINode>::all(client.clone()),
                SnapshotBuilder::add_csi_node
            ),
            list_into(Api::<ReplicaSet>::all(client.clone()), |b, rs| b
                .add_owner("ReplicaSet", &rs.metadata)),
            list_into(Api::<Job>::all(client.clone()), |b, job| b
                .add_owner("Job", &job.metadata)),
            async {
                if with_metrics {
                    usage(client).await
                } else {
                    Ok((Err("not read".to_owned()), 0))
                }
            },
        )?;
    let mut requests = metrics.1;
    let mut builder = SnapshotBuilder::new();
    for (part, pages) in [
        nodes,
        pods,
        pdbs,
        namespaces,
        claims,
        volumes,
        csi_nodes,
        replica_sets,
        jobs,
    ] {
        builder.merge(part);
        requests += pages;
    }
    Ok(LiveSnapshot {
        spec: builder.finish(),
        metrics: metrics.0,
        requests,
    })
}

/// The first request of each list [`snapshot`] makes, in its order (further pages follow
/// `continue`), and the two metrics reads: what a dry run prints for the re-validation.
pub fn snapshot_calls() -> Vec<String> {
    let lists = [
        "/api/v1/nodes",
        "/api/v1/pods",
        "/apis/policy/v1/poddisruptionbudgets",
        "/api/v1/namespaces",
        "/api/v1/persistentvolumeclaims",
        "/api/v1/persistentvolumes",
        "/apis/storage.k8s.io/v1/csinodes",
        "/apis/apps/v1/replicasets",
        "/apis/batch/v1/jobs",
    ];
    let mut out: Vec<String> = lists
        .iter()
        .map(|p| format!("GET {p}?limit={PAGE_SIZE}"))
        .collect();
    out.push("GET /apis/metrics.k8s.io/v1beta1/pods".to_owned());
    out.push("GET /apis/metrics.k8s.io/v1beta1/nodes".to_owned());
    out
}

/// Lists every object of `api` page by page into a builder of its own with `add`; restarts
/// on 410 Gone. Returns the builder and the number of requests made.
async fn list_into<K>(
    api: Api<K>,
    add: impl Fn(&mut SnapshotBuilder, &K) -> Result<bool, KubeError>,
) -> Result<(SnapshotBuilder, u32), KubeError>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let plural = K::plural(&()).into_owned();
    let mut builder = SnapshotBuilder::new();
    let mut params = ListParams::default().limit(PAGE_SIZE);
    let mut requests = 0u32;
    let mut restarts = 0u32;
    loop {
        requests += 1;
        let page = match api.list(&params).await {
            Ok(page) => page,
            Err(kube::Error::Api(status)) if status.code == 410 && restarts < 3 => {
                // The continue token expired: start over, dropping what was read.
                restarts += 1;
                builder = SnapshotBuilder::new();
                params = ListParams::default().limit(PAGE_SIZE);
                continue;
            }
            Err(e) => return Err(KubeError::api(format!("list {plural}"), &e)),
        };
        for item in &page.items {
            if !add(&mut builder, item)? {
                return Err(KubeError::Field {
                    object: format!(
                        "{} {}",
                        K::kind(&()).to_lowercase(),
                        item.meta().name.as_deref().unwrap_or("<unnamed>")
                    ),
                    field: "metadata.name".to_owned(),
                    message: "listed twice".to_owned(),
                });
            }
        }
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => return Ok((builder, requests)),
        }
    }
}

/// PodMetrics and NodeMetrics from metrics.k8s.io, or why there are none: not served (404,
/// 503: no metrics-server), refused (403), or not readable.
async fn usage(client: &Client) -> Result<(Result<MetricsDump, String>, u32), KubeError> {
    let mut dump = MetricsDump::default();
    let mut requests = 0;
    for path in ["pods", "nodes"] {
        let url = format!("/apis/metrics.k8s.io/v1beta1/{path}");
        let request = http::Request::get(&url)
            .body(Vec::new())
            .map_err(|e| KubeError::Config {
                message: format!("{url}: {e}"),
            })?;
        requests += 1;
        let answer = tokio::time::timeout(METRICS_TIMEOUT, client.request_text(request)).await;
        let Ok(answer) = answer else {
            let why = format!(
                "metrics.k8s.io {path}: no answer within {} s (is metrics-server running?)",
                METRICS_TIMEOUT.as_secs()
            );
            return Ok((Err(why), requests));
        };
        let text = match answer {
            Ok(text) => text,
            Err(kube::Error::Api(status)) => {
                let why = match status.code {
                    404 | 503 => "metrics.k8s.io is not served (no metrics-server)".to_owned(),
                    403 => format!("metrics.k8s.io {path}: forbidden: {}", status.message),
                    code => format!("metrics.k8s.io {path}: {code} {}", status.message),
                };
                return Ok((Err(why), requests));
            }
            Err(e) => return Err(KubeError::api(format!("get {url}"), &e)),
        };
        match read_metrics(&text) {
            Ok(part) => {
                dump.pods.extend(part.pods);
                dump.nodes.extend(part.nodes);
            }
            Err(e) => return Ok((Err(format!("metrics.k8s.io {path}: {e}")), requests)),
        }
    }
    Ok((Ok(dump), requests))
}
