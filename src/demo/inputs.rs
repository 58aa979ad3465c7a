//! The demo's traffic and price table, the defaults of `plan --traffic` and `--pricing` when
//! the embedded demo cluster is planned (`kube-compactor demo traffic`, `demo pricing`).

use compactor_core::cost::{PriceEntry, Pricing};
use compactor_core::traffic::{Endpoint, TrafficEdgeSpec, TrafficSpec};

/// Traffic between the demo's workloads, bytes per second: a shop behind an ingress (envoy →
/// frontend → api → cart, recommendations → search), a checkout that calls payments, a ledger
/// on its database and sessions on their cache. Replies are larger than requests. Workloads
/// are named `namespace/Kind/name`; the database and the cache are named as pods
/// (`namespace/name`), to show both forms.
pub fn traffic() -> TrafficSpec {
    let w = |s: &str| Endpoint::Workload(s.to_owned());
    let p = |s: &str| Endpoint::Pod(s.to_owned());
    let envoy = || w("ingress/Deployment/envoy");
    let frontend = || w("shop/Deployment/frontend");
    let web = || w("shop/Deployment/web");
    let api = || w("shop/Deployment/api");
    let cart = || w("shop/Deployment/cart");
    let checkout = || w("shop/Deployment/checkout");
    let recommendations = || w("shop/Deployment/recommendations");
    let query = || w("search/Deployment/query");
    let elasticsearch = || w("search/StatefulSet/elasticsearch");
    let gateway = || w("payments/Deployment/gateway");
    let fraud = || w("payments/Deployment/fraud");
    let ledger = || w("payments/Deployment/ledger");
    let postgres = || p("data/postgres-0");
    let sessions = || w("auth/Deployment/sessions");
    let cache = || p("shop/session-cache-5d8f7-q2x9z");
    let keycloak = || w("auth/Deployment/keycloak");
    // (from, to, bytes per second)
    let edges: Vec<(Endpoint, Endpoint, f64)> = vec![
        (envoy(), frontend(), 3_200_000.0),
        (frontend(), envoy(), 18_000_000.0),
        (envoy(), web(), 1_100_000.0),
        (web(), envoy(), 9_500_000.0),
        (frontend(), api(), 1_500_000.0),
        (api(), frontend(), 6_000_000.0),
        (web(), api(), 900_000.0),
        (api(), web(), 3_600_000.0),
        (api(), cart(), 400_000.0),
        (cart(), api(), 900_000.0),
        (api(), recommendations(), 250_000.0),
        (recommendations(), api(), 1_200_000.0),
        (recommendations(), query(), 600_000.0),
        (query(), recommendations(), 2_400_000.0),
        (query(), elasticsearch(), 800_000.0),
        (elasticsearch(), query(), 5_000_000.0),
        (checkout(), cart(), 150_000.0),
        (cart(), checkout(), 450_000.0),
        (checkout(), gateway(), 120_000.0),
        (gateway(), checkout(), 60_000.0),
        (gateway(), fraud(), 200_000.0),
        (fraud(), gateway(), 50_000.0),
        (gateway(), ledger(), 300_000.0),
        (ledger(), gateway(), 90_000.0),
        (ledger(), postgres(), 1_800_000.0),
        (postgres(), ledger(), 4_200_000.0),
        (sessions(), cache(), 700_000.0),
        (cache(), sessions(), 2_100_000.0),
        (web(), keycloak(), 80_000.0),
        (keycloak(), web(), 160_000.0),
    ];
    TrafficSpec {
        edges: edges
            .into_iter()
            .map(|(from, to, bytes_per_second)| TrafficEdgeSpec {
                from,
                to,
                bytes_per_second,
            })
            .collect(),
    }
}

/// The demo's price table: on-demand hourly prices of its instance types (Linux, eu-west-1,
/// as AWS listed them; illustrative), and a cheaper row for its spot m5.2xlarge nodes
/// (`karpenter.sh/capacity-type: spot`). The per-resource rates stay the defaults, for nodes
/// the table does not price.
pub fn pricing() -> Pricing {
    let row = |instance_type: &str, capacity_type: Option<&str>, hourly: f64| PriceEntry {
        instance_type: instance_type.to_owned(),
        zone: None,
        capacity_type: capacity_type.map(str::to_owned),
        hourly,
    };
    Pricing {
        table: vec![
            row("m5.large", None, 0.107),
            row("m5.xlarge", None, 0.214),
            row("m5.2xlarge", None, 0.428),
            row("m5.2xlarge", Some("spot"), 0.171),
            row("g4dn.xlarge", None, 0.587),
        ],
        ..Pricing::default()
    }
}
