//! Golden analyses: every figure checked against a hand computation (written next to it).

use compactor_core::Snapshot;
use compactor_core::analysis::{
    AnalysisOptions, Method, analyze, rightsized_spec, set_running_request,
};
use compactor_core::cost::PriceSource;
use compactor_core::model::{
    ContainerSpec, InitContainerSpec, NodeSpec, OwnerRef, PodSpec, SnapshotSpec,
};
use compactor_core::resources::ResourceList;

const MI: u64 = 1 << 20;
const GI: u64 = 1 << 30;

fn rl(cpu: u64, memory: u64) -> ResourceList {
    ResourceList::new().with("cpu", cpu).with("memory", memory)
}

fn node(name: &str, cpu: u64, memory: u64) -> NodeSpec {
    NodeSpec {
        name: name.into(),
        allocatable: rl(cpu, memory),
        ready: true,
        ..Default::default()
    }
}

fn pod(ns: &str, name: &str, on: &str, owner: Option<(&str, &str)>, req: ResourceList) -> PodSpec {
    PodSpec {
        namespace: ns.into(),
        name: name.into(),
        node_name: Some(on.into()),
        owner: owner.map(|(kind, name)| OwnerRef {
            kind: kind.into(),
            name: name.into(),
        }),
        containers: vec![ContainerSpec {
            name: "app".into(),
            requests: req,
        }],
        ..Default::default()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// Three nodes; a pod with a usage history, a bare pod with one point, a Deployment with one
/// measured and one unmeasured replica, an idle node with an unmeasured DaemonSet pod.
fn cluster() -> SnapshotSpec {
    let mut n1 = node("n1", 4000, 8 * GI);
    n1.usage = Some(rl(1200, 3 * GI));
    let mut hist = pod(
        "shop",
        "hist",
        "n1",
        Some(("Deployment", "hist")),
        rl(1000, 2 * GI),
    );
    hist.limits = rl(2000, 4 * GI);
    // cpu 10m, 20m, …, 100m; memory 256 MiB nine times, then 600 MiB.
    hist.usage_samples = (1..=10)
        .map(|i| rl(10 * i, if i == 10 { 600 * MI } else { 256 * MI }))
        .collect();
    let mut tiny = pod(
        "shop",
        "tiny",
        "n2",
        None,
        ResourceList::new().with("memory", 64 * MI),
    );
    tiny.usage = Some(rl(4, 10 * MI));
    let mut web1 = pod(
        "shop",
        "web-1",
        "n2",
        Some(("Deployment", "web")),
        rl(500, GI),
    );
    web1.usage = Some(rl(400, 900 * MI));
    let web2 = pod(
        "shop",
        "web-2",
        "n1",
        Some(("Deployment", "web")),
        rl(500, GI),
    );
    let ds = pod(
        "kube-system",
        "ds-n3",
        "n3",
        Some(("DaemonSet", "ds")),
        rl(100, 128 * MI),
    );
    SnapshotSpec {
        nodes: vec![n1, node("n2", 4000, 8 * GI), node("n3", 2000, 4 * GI)],
        pods: vec![hist, tiny, web1, web2, ds],
        pdbs: vec![],
        ..Default::default()
    }
}

#[test]
fn utilization_idle_fragmentation_efficiency_and_cost() {
    let snap = Snapshot::new(cluster()).unwrap();
    let a = analyze(&snap, &AnalysisOptions::default()).unwrap();

    // n1: hist 1000m/2Gi + web-2 500m/1Gi; its own NodeMetrics usage 1200m / 3 GiB.
    let n1 = &a.nodes[0];
    let cpu = n1.resource("cpu").unwrap();
    assert_eq!(
        (cpu.allocatable, cpu.requested, cpu.used),
        (4000, 1500, Some(1200))
    );
    assert!(close(cpu.request_percent.unwrap(), 37.5));
    assert!(close(cpu.usage_percent.unwrap(), 30.0));
    assert_eq!(cpu.unit, "millicores");
    let mem = n1.resource("memory").unwrap();
    assert_eq!((mem.requested, mem.used), (3 * GI, Some(3 * GI)));
    assert!(close(mem.usage_percent.unwrap(), 37.5));
    assert_eq!((n1.pods, n1.workload_pods, n1.idle), (2, 2, false));

    // n2: no NodeMetrics; both pods measured → the sum of the pods: 4m + 400m, 10 + 900 MiB.
    let n2 = &a.nodes[1];
    assert_eq!(n2.resource("cpu").unwrap().used, Some(404));
    assert_eq!(n2.resource("memory").unwrap().used, Some(910 * MI));
    assert!(close(
        n2.resource("cpu").unwrap().usage_percent.unwrap(),
        10.1
    ));
    assert!(close(
        n2.resource("memory").unwrap().request_percent.unwrap(),
        1088.0 / 8192.0 * 100.0
    ));

    // n3: only a DaemonSet pod, whose usage is unknown → idle, usage unknown (not zero).
    let n3 = &a.nodes[2];
    assert!(n3.idle);
    assert_eq!(n3.resource("cpu").unwrap().used, None);
    assert_eq!(n3.resource("cpu").unwrap().usage_percent, None);
    assert!(close(
        n3.resource("cpu").unwrap().request_percent.unwrap(),
        5.0
    ));

    // Cluster: one node unknown → cluster usage unknown.
    let c = &a.cluster;
    assert_eq!(
        (c.nodes, c.pods, c.unscheduled_pods, c.pods_with_usage),
        (3, 5, 0, 3)
    );
    assert_eq!(c.idle_nodes, ["n3"]);
    let cpu = c.resource("cpu").unwrap();
    assert_eq!(
        (cpu.allocatable, cpu.requested, cpu.used),
        (10_000, 2100, None)
    );
    assert!(close(cpu.request_percent.unwrap(), 21.0));
    let mem = c.resource("memory").unwrap();
    assert_eq!((mem.allocatable, mem.requested), (20 * GI, 4288 * MI));
    assert!(close(mem.request_percent.unwrap(), 20.9375));

    // Typical pod: lower median of [0, 500, 500, 1000] m and [64, 1024, 1024, 2048] MiB.
    let f = c.fragmentation.as_ref().unwrap();
    assert_eq!(
        (f.typical_cpu_millicores, f.typical_memory_bytes),
        (500, GI)
    );
    // n1 free 2500m / 5120 MiB → 5 fit, nothing stranded; n2 free 3500m / 7104 MiB → 6 fit,
    // 500m and 960 MiB stranded; n3 free 1900m / 3968 MiB → 3 fit, 400m and 896 MiB stranded.
    assert_eq!(f.typical_pods_that_fit, 14);
    assert_eq!(
        (f.free_cpu_millicores, f.stranded_cpu_millicores),
        (7900, 900)
    );
    assert_eq!(
        (f.free_memory_bytes, f.stranded_memory_bytes),
        (16_192 * MI, 1856 * MI)
    );
    assert!(close(f.cpu_percent, 900.0 / 7900.0 * 100.0));
    assert!(close(f.memory_percent, 1856.0 / 16192.0 * 100.0));

    // Efficiency: allocation 50 × (2100/10000 + 4288/20480) = 20.96875; usage of requests over
    // the measured pods (hist, tiny, web-1): cpu 504/1500 = 0.336, memory 1510/3136 MiB.
    let e = &c.efficiency;
    assert!(close(e.allocation_percent, 20.96875));
    let usage = (0.336 + 1510.0 / 3136.0) / 2.0 * 100.0;
    assert!(close(e.usage_of_requests_percent.unwrap(), usage));
    assert!(close(e.score, 20.96875 * usage / 100.0));

    // Cost by resource rates: 4 × $30 + 8 × $4 = $152 for n1 and n2, 2 × $30 + 4 × $4 = $76.
    assert!(close(n1.monthly_price, 152.0));
    assert_eq!(n1.price_source, PriceSource::Resources);
    assert!(close(a.nodes[2].monthly_price, 76.0));
    assert!(close(c.monthly_cost, 380.0));
    assert!(close(c.hourly_cost, 380.0 / 730.0));
    assert_eq!(c.monthly_cost_formatted, "$380.00");
}

#[test]
fn over_provisioning_and_recommendations() {
    let snap = Snapshot::new(cluster()).unwrap();
    let a = analyze(&snap, &AnalysisOptions::default()).unwrap();
    let names: Vec<String> = a
        .workloads
        .iter()
        .map(|w| format!("{}/{}/{}", w.namespace, w.kind, w.name))
        .collect();
    // The DaemonSet has no usage: not listed. Sorted by namespace, kind, name.
    assert_eq!(
        names,
        [
            "shop/Deployment/hist",
            "shop/Deployment/web",
            "shop/Pod/tiny"
        ]
    );

    // hist: history of 10 samples. Peak 100m of 1000m = 10 % < 30 % → over; of the 2000m limit 5 %.
    let hist = &a.workloads[0];
    assert_eq!((hist.replicas, hist.measured_pods), (1, 1));
    assert!(hist.over_provisioned);
    let cpu = hist.cpu.as_ref().unwrap();
    assert_eq!(
        (cpu.requested, cpu.used, cpu.limit),
        (1000, 100, Some(2000))
    );
    assert!(close(cpu.request_usage_percent.unwrap(), 10.0));
    assert!(close(cpu.limit_usage_percent.unwrap(), 5.0));
    assert!(cpu.over_requested && cpu.over_limit);
    // p90 (nearest rank: the 9th of 10) = 90m; × 1.15 = 103.5 → 104m.
    assert_eq!((cpu.recommended, cpu.method), (104, Method::Percentile));
    // memory: peak 600 MiB of 2 GiB = 29.296875 % < 30 % → over; p90 = 256 MiB × 1.15 =
    // 294.4 MiB, but never below the 600 MiB peak.
    let mem = hist.memory.as_ref().unwrap();
    assert_eq!((mem.requested, mem.used), (2 * GI, 600 * MI));
    assert!(close(mem.request_usage_percent.unwrap(), 29.296875));
    assert!(close(
        mem.limit_usage_percent.unwrap(),
        600.0 / 4096.0 * 100.0
    ));
    assert!(mem.over_requested);
    assert_eq!(mem.recommended, 600 * MI);

    // web: 2 replicas, 1 measured: 400m of 500m = 80 %, 900 MiB of 1 GiB; not over.
    let web = &a.workloads[1];
    assert_eq!((web.replicas, web.measured_pods), (2, 1));
    assert!(!web.over_provisioned);
    let cpu = web.cpu.as_ref().unwrap();
    assert!(close(cpu.request_usage_percent.unwrap(), 80.0));
    assert_eq!(cpu.limit, None);
    assert!(!cpu.over_limit);
    // One point: × 1.5 → 600m and 1350 MiB.
    assert_eq!((cpu.recommended, cpu.method), (600, Method::SinglePoint));
    assert_eq!(web.memory.as_ref().unwrap().recommended, 1350 * MI);

    // tiny: no CPU request (never "over" against nothing); memory 10 of 64 MiB = 15.625 % → over.
    // Floors: 4m × 1.5 = 6m → 10m; 10 MiB × 1.5 = 15 MiB → 32 MiB.
    let tiny = &a.workloads[2];
    let cpu = tiny.cpu.as_ref().unwrap();
    assert_eq!((cpu.requested, cpu.request_usage_percent), (0, None));
    assert!(!cpu.over_requested);
    assert_eq!(cpu.recommended, 10);
    let mem = tiny.memory.as_ref().unwrap();
    assert!(close(mem.request_usage_percent.unwrap(), 15.625));
    assert!(mem.over_requested && tiny.over_provisioned);
    assert_eq!(mem.recommended, 32 * MI);
    assert_eq!(a.over_provisioned().count(), 2);
}

#[test]
fn what_if_plans_with_recommended_requests() {
    let snap = Snapshot::new(cluster()).unwrap();
    let a = analyze(&snap, &AnalysisOptions::default()).unwrap();
    // Current plan: n3 holds only a DaemonSet pod; n2 is blocked by the bare pod tiny; n1's
    // pods (1500m, 3 GiB) fit on n2 (500m, 1088 MiB) under 70 % (2800m, 5734.4 MiB).
    let drained: Vec<&str> = a.plan.drain.iter().map(|d| d.node.as_str()).collect();
    assert_eq!(drained, ["n3", "n1"]);
    assert!(close(a.plan.savings.monthly, 76.0 + 152.0));
    // After the plan n2 holds 2000m and 4160 MiB; its usage after is unknown because web-2's
    // usage is unknown.
    let n2 = &a.nodes[1].after_plan;
    assert_eq!(
        (
            n2.drained,
            n2.receives,
            n2.cpu_requested_millicores,
            n2.memory_requested_bytes
        ),
        (false, 2, 2000, 4160 * MI)
    );
    assert_eq!((n2.cpu_used_millicores, n2.memory_used_bytes), (None, None));
    assert!(a.nodes[0].after_plan.drained);

    let w = a.what_if.as_ref().unwrap();
    // Right-sized: hist 104m/600Mi, web-1 and web-2 600m/1350Mi (replicas share the template),
    // tiny 10m/32Mi, the DaemonSet pod unchanged (100m/128Mi).
    assert_eq!(w.rightsized_pods, 4);
    assert_eq!(
        (w.cpu_requested_millicores, w.cpu_requested_after_millicores),
        (2100, 1414)
    );
    assert_eq!(
        (w.memory_requested_bytes, w.memory_requested_after_bytes),
        (4288 * MI, 3460 * MI)
    );
    assert_eq!(
        (
            w.nodes_drained,
            w.nodes_drained_after,
            w.additional_nodes_freed
        ),
        (2, 2, 0)
    );
    assert_eq!(w.drain, ["n3", "n1"]);
    assert!(close(w.additional_monthly_savings, 0.0));
    assert_eq!(w.additional_monthly_savings_formatted, "$0.00");
}

#[test]
fn right_sizing_can_cost_nodes() {
    // Two 4-CPU nodes; each pod requests 500m but uses 1000m. Now one node can go (1000m ≤
    // 2800m); with the recommended 1500m each, 3000m > 2800m: one node fewer freed, $184 less.
    let mk = |name: &str, on: &str| {
        let mut p = pod("d", name, on, Some(("Deployment", "w")), rl(500, GI));
        p.usage = Some(rl(1000, GI));
        p
    };
    let spec = SnapshotSpec {
        nodes: vec![node("a", 4000, 16 * GI), node("b", 4000, 16 * GI)],
        pods: vec![mk("p1", "a"), mk("p2", "b")],
        pdbs: vec![],
        ..Default::default()
    };
    let a = analyze(&Snapshot::new(spec).unwrap(), &AnalysisOptions::default()).unwrap();
    assert_eq!(a.plan.drain.len(), 1);
    let w = a.what_if.unwrap();
    assert_eq!(w.additional_nodes_freed, -1);
    // 4 × $30 + 16 × $4 = $184 per node and month.
    assert!(close(w.additional_monthly_savings, -184.0));
    assert_eq!(w.additional_monthly_savings_formatted, "-$184.00");
    assert!(
        a.workloads[0]
            .cpu
            .as_ref()
            .is_some_and(|c| c.recommended == 1500)
    );
}

#[test]
fn no_usage_means_unknown_and_no_what_if() {
    let mut spec = cluster();
    for p in &mut spec.pods {
        p.usage = None;
        p.usage_samples.clear();
    }
    spec.nodes[0].usage = None;
    let a = analyze(&Snapshot::new(spec).unwrap(), &AnalysisOptions::default()).unwrap();
    assert!(a.workloads.is_empty());
    assert!(a.what_if.is_none());
    assert!(
        a.nodes
            .iter()
            .all(|n| n.resources.iter().all(|r| r.used.is_none()))
    );
    assert_eq!(a.cluster.efficiency.usage_of_requests_percent, None);
    assert!(close(a.cluster.efficiency.score, 20.96875));
}

#[test]
fn spreading_over_containers() {
    let mut p = PodSpec {
        containers: vec![
            ContainerSpec {
                name: "app".into(),
                requests: rl(300, GI),
            },
            ContainerSpec {
                name: "log".into(),
                requests: ResourceList::new(),
            },
        ],
        init_containers: vec![
            InitContainerSpec {
                name: "migrate".into(),
                requests: rl(2000, GI),
                sidecar: false,
            },
            InitContainerSpec {
                name: "mesh".into(),
                requests: rl(100, GI),
                sidecar: true,
            },
        ],
        ..Default::default()
    };
    // 200m in proportion 300 : 0 : 100 → 150m, 0 (left unset), 50m; init container untouched.
    set_running_request(&mut p, "cpu", 200);
    assert_eq!(p.containers[0].requests.get("cpu"), 150);
    assert!(!p.containers[1].requests.contains("cpu"));
    assert_eq!(p.init_containers[1].requests.get("cpu"), 50);
    assert_eq!(p.init_containers[0].requests.get("cpu"), 2000);
    // No container requests ephemeral-storage: evenly, remainder first (3 targets: 4, 3, 3).
    set_running_request(&mut p, "ephemeral-storage", 10);
    assert_eq!(p.containers[0].requests.get("ephemeral-storage"), 4);
    assert_eq!(p.containers[1].requests.get("ephemeral-storage"), 3);
    assert_eq!(p.init_containers[1].requests.get("ephemeral-storage"), 3);
    // A pod-level request is replaced instead.
    p.pod_requests = ResourceList::new().with("memory", 4 * GI);
    set_running_request(&mut p, "memory", GI);
    assert_eq!(p.pod_requests.get("memory"), GI);
    assert_eq!(p.containers[0].requests.get("memory"), GI);
}

#[test]
fn rightsized_spec_keeps_unmeasured_workloads() {
    let snap = Snapshot::new(cluster()).unwrap();
    let a = analyze(&snap, &AnalysisOptions::default()).unwrap();
    let spec = rightsized_spec(&snap, &a.workloads);
    let get = |name: &str| spec.pods.iter().find(|p| p.name == name).unwrap();
    assert_eq!(get("ds-n3").containers[0].requests, rl(100, 128 * MI));
    assert_eq!(get("web-2").containers[0].requests, rl(600, 1350 * MI));
    assert_eq!(get("hist").limits, rl(2000, 4 * GI), "limits are kept");
    assert_eq!(get("hist").usage_samples.len(), 10, "usage is kept");
}

#[test]
fn invalid_options_are_rejected() {
    let snap = Snapshot::new(cluster()).unwrap();
    let err = |o: AnalysisOptions| analyze(&snap, &o).unwrap_err().to_string();
    assert_eq!(
        err({
            let mut o = AnalysisOptions::default();
            o.percentile = 0;
            o
        }),
        "invalid option analysis.percentile: 0 is not in 1..=100"
    );
    assert!(
        err({
            let mut o = AnalysisOptions::default();
            o.single_point_percent = 90;
            o
        })
        .starts_with("invalid option analysis.singlePointPercent: 90 is below 100")
    );
    let mut o = AnalysisOptions::default();
    o.plan.pricing.gib_month = f64::INFINITY;
    assert!(err(o).starts_with("invalid option pricing.gibMonth"));
}

#[test]
fn analysis_is_deterministic_and_serializes() {
    let mut reversed = cluster();
    reversed.pods.reverse();
    reversed.nodes.reverse();
    let a = analyze(
        &Snapshot::new(cluster()).unwrap(),
        &AnalysisOptions::default(),
    )
    .unwrap();
    let b = analyze(
        &Snapshot::new(reversed).unwrap(),
        &AnalysisOptions::default(),
    )
    .unwrap();
    let (ja, jb) = (
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap(),
    );
    assert_eq!(ja, jb);
    assert!(
        ja.contains(r#""used":null"#),
        "unknown usage is null, never 0"
    );
    assert!(!ja.contains("NaN"));
}
