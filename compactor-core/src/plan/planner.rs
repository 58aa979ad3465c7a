//! The node-centric planner.

use crate::bounds;
use crate::cost::{HOURS_PER_MONTH, format_dollars};
use crate::error::CoreError;
use crate::fasthash::FastMap;
use crate::model::{EXCLUDE_ANNOTATION, VolumeSource};
use crate::packing::{StrategyKind, weighted_size, weights_for};
use crate::plan::blockers::{PodDisposition, classify_pod};
use crate::plan::interpod::Index;
use crate::plan::placement::{Packer, Preference, Room, StaticGroups};
use crate::plan::profile::SchedulerConfig;
use crate::plan::scheduler::{SchedulerSim, timed_no_execute};
use crate::plan::waves::assign_waves;
use crate::plan::{
    BlockingPod, DrainedNode, KeptNode, Move, Plan, PlanOptions, Reason, ReasonCode, Savings,
    Summary, TrafficSummary, Wave, WorkloadRef,
};
use crate::resources::Dimensions;
use crate::risk::{Risk, RiskFactor};
use crate::safety::SafetyLevel;
use crate::snapshot::Snapshot;
use crate::traffic::TrafficGraph;

/// Plans a consolidation of `snapshot`.
///
/// 1. Node rules: excluded, not Ready or cordoned nodes are never drained; pod rules
///    ([`classify_pod`]): a node with a blocking pod is kept, naming every blocking pod.
/// 2. The remaining candidates are tried one by one, emptiest first (normalised movable
///    requests ascending, then higher price, then name). A candidate is drained when every
///    movable pod of it — and of the nodes already drained, which are all cordoned before the
///    first eviction — can be placed on the kept nodes by the strategy under the safety cap.
///    Otherwise it is kept with the failing pod and what is short.
/// 3. The accepted candidates are replayed through kube-scheduler's prediction in eviction
///    order, all of them cordoned: a candidate whose pod would land over the cap, on a node
///    the plan may not use, or nowhere stays, cordoned while the plan runs (`cordon_only`),
///    and the others still drain.
/// 4. Evictions are split into waves by PodDisruptionBudget budgets and nodes per wave;
///    each move gets a risk; savings are the drained nodes' prices.
///
/// Deterministic: the same snapshot and options give the same plan (ties break by name).
///
/// # Examples
/// ```
/// use compactor_core::{Snapshot, model::*, plan::{plan, PlanOptions}, resources::ResourceList};
/// let node = |n: &str| NodeSpec { name: n.into(), allocatable: ResourceList::new().with("cpu", 4000).with("memory", 16 << 30), ready: true, ..Default::default() };
/// let pod = |n: &str, on: &str| PodSpec {
///     namespace: "shop".into(), name: n.into(), node_name: Some(on.into()),
///     owner: Some(OwnerRef { kind: "Deployment".into(), name: "web".into() }),
///     containers: vec![ContainerSpec { name: "app".into(), requests: ResourceList::new().with("cpu", 1000).with("memory", 4 << 30) }],
///     ..Default::default() };
/// let snap = Snapshot::new(SnapshotSpec { nodes: vec![node("a"), node("b")], pods: vec![pod("w1", "a"), pod("w2", "b")], pdbs: vec![], ..Default::default() }).unwrap();
/// let p = plan(&snap, &PlanOptions::default()).unwrap();
/// assert_eq!(p.drain.len(), 1);
/// assert_eq!(p.moves[0].to_node, "b");
/// ```
///
/// # Errors
/// [`CoreError::InvalidOption`] for invalid pricing or a scheduler configuration that
/// [`crate::plan::SchedulerConfig::validate`] refuses.
///
/// # Complexity
/// O(C · m · N · d) for C candidate nodes with m movable pods each over N nodes, plus a full
/// re-placement of the drain set when a candidate already received pods.
pub fn plan(snapshot: &Snapshot, options: &PlanOptions) -> Result<Plan, CoreError> {
    let found = plan_levels(snapshot, options)?;
    if options.strategy != StrategyKind::Search {
        return Ok(found);
    }
    // `search` never keeps more nodes than best fit: on a tie, best fit's plan.
    let plain = plan_levels(
        snapshot,
        &options.clone().with_strategy(StrategyKind::BestFit),
    )?;
    Ok(if plain.drain.len() >= found.drain.len() {
        Plan {
            strategy: StrategyKind::Search,
            ..plain
        }
    } else {
        found
    })
}

/// [`plan`] for one strategy: its plan at this threshold, or a stricter threshold's drain
/// set replayed here when that drains more.
fn plan_levels(snapshot: &Snapshot, options: &PlanOptions) -> Result<Plan, CoreError> {
    let mut best = plan_at(snapshot, options)?;
    // A looser threshold never keeps more nodes than a stricter one: a stricter plan's drain
    // set, replayed at this threshold with the same nodes cordoned, gives the same
    // predictions, now under a higher cap (waves are made anew for this threshold).
    for stricter in SafetyLevel::ALL
        .iter()
        .take_while(|level| **level != options.safety)
    {
        let strict = plan_at(snapshot, &options.clone().with_safety(*stricter))?;
        // Its nodes cordoned only may drain under this cap too.
        if strict.drain.len() + strict.cordon_only.len() <= best.drain.len() {
            continue;
        }
        let forced: Vec<usize> = strict
            .drain
            .iter()
            .map(|d| d.node.as_str())
            .chain(strict.cordon_only.iter().map(String::as_str))
            .filter_map(|name| snapshot.node_index(name))
            .collect();
        let replayed = plan_with(snapshot, options, Some(forced), Tuning::default())?;
        if replayed.drain.len() > best.drain.len() {
            best = replayed;
        }
    }
    Ok(best)
}

/// [`plan_with`] with the strategy's packing. `search` makes three plans — best fit with
/// the repair search; the same over most-room packing (the order kube-scheduler's
/// LeastAllocated scoring fills nodes in); and the first again with the prediction's ties
/// taken by node name — and keeps the one whose prediction drains the most nodes (ties: the
/// earlier), saying in a note when it is not the first.
fn plan_at(snapshot: &Snapshot, options: &PlanOptions) -> Result<Plan, CoreError> {
    let mut best = plan_with(snapshot, options, None, Tuning::default())?;
    if options.strategy != StrategyKind::Search {
        return Ok(best);
    }
    let first = best.drain.len();
    let tries = [
        (
            Tuning {
                rule: Some(&crate::packing::MostRoomDecreasing),
                ..Tuning::default()
            },
            "packed with the most-room rule (the order kube-scheduler's LeastAllocated scoring fills nodes in)",
        ),
        (
            Tuning {
                ties_by_name: true,
                ..Tuning::default()
            },
            "the prediction's drains with equally large pods taken in node name order",
        ),
    ];
    let mut won = None;
    for (tuning, what) in tries {
        let other = plan_with(snapshot, options, None, tuning)?;
        if other.drain.len() > best.drain.len() {
            best = other;
            won = Some(what);
        }
    }
    if let Some(what) = won {
        best.notes.push(format!(
            "search: {what}, whose drain set the scheduler prediction lets empty {} node(s) more than best fit's",
            best.drain.len() - first
        ));
    }
    Ok(best)
}

/// How one of `search`'s plans differs from the strategy's own.
#[derive(Clone, Copy, Default)]
struct Tuning {
    /// The packing's rule instead of the strategy's.
    rule: Option<&'static dyn crate::packing::Strategy>,
    /// The prediction takes drains whose largest pods are equal in node name order instead
    /// of the packing's.
    ties_by_name: bool,
}

/// [`plan`] at one threshold; with `forced`, the packing is skipped and these candidates are
/// replayed through the scheduler prediction (largest pod first, like every drain set);
/// `tuning` says where the plan departs from the strategy's own (see [`Tuning`]).
fn plan_with(
    snapshot: &Snapshot,
    options: &PlanOptions,
    forced: Option<Vec<usize>>,
    tuning: Tuning,
) -> Result<Plan, CoreError> {
    options.pricing.validate()?;
    options.scheduler.validate()?;
    crate::traffic::check_threshold(options.traffic_threshold)?;
    let thresholds = options.safety.thresholds();
    let nodes = snapshot.nodes();
    let n = nodes.len();
    let dims = snapshot.dims();
    let d = dims.len();

    // Node-level rules.
    let mut node_reason: Vec<Option<Reason>> = vec![None; n];
    let mut receiver = vec![false; n];
    for (i, node) in nodes.iter().enumerate() {
        let name = &node.spec.name;
        let excluded = node
            .spec
            .annotations
            .get(EXCLUDE_ANNOTATION)
            .is_some_and(|v| v == "true");
        // Excluded nodes are never drained but do receive pods: kube-scheduler uses them.
        receiver[i] = node.spec.ready && !node.spec.unschedulable;
        node_reason[i] = if excluded {
            Some(Reason {
                code: ReasonCode::NodeExcluded,
                message: format!("node {name} is annotated {EXCLUDE_ANNOTATION}: \"true\""),
            })
        } else if !node.spec.ready {
            Some(Reason {
                code: ReasonCode::NodeNotReady,
                message: format!("node {name} is not Ready"),
            })
        } else if node.spec.unschedulable {
            Some(Reason {
                code: ReasonCode::NodeCordoned,
                message: format!("node {name} is cordoned by someone else"),
            })
        } else {
            // Impossible input (the kubelet would have refused such a pod): in doubt, stay.
            // (Attachments over a lowered CSI limit are possible, and draining frees them.)
            (0..d)
                .find(|&k| {
                    snapshot.requested(i)[k] > node.allocatable[k]
                        && !dims.name(k).starts_with(crate::snapshot::ATTACH_PREFIX)
                })
                .map(|k| Reason {
                    code: ReasonCode::NodeOverCommitted,
                    message: format!(
                        "node {name} is over-committed: its pods request {} of {} allocatable",
                        dims.amount(k, snapshot.requested(i)[k]),
                        dims.amount(k, node.allocatable[k])
                    ),
                })
        };
    }

    let mut max_alloc = vec![0u64; d];
    for node in nodes {
        for (m, a) in max_alloc.iter_mut().zip(&node.allocatable) {
            *m = (*m).max(*a);
        }
    }
    let weights = weights_for(&max_alloc);

    // Pod-level rules.
    let by_node = snapshot.pods_by_node();
    let mut movable: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut daemon_pods = vec![0u32; n];
    let mut blocking: Vec<Vec<BlockingPod>> = vec![Vec::new(); n];
    for (i, pods) in by_node.iter().enumerate() {
        for &p in pods {
            match classify_pod(
                snapshot,
                &snapshot.pods()[p],
                &options.excluded_namespaces,
                &options.scheduler,
            ) {
                PodDisposition::DaemonSet => daemon_pods[i] += 1,
                PodDisposition::Terminal | PodDisposition::Terminating => {}
                PodDisposition::Blocks(reason) => blocking[i].push(BlockingPod {
                    pod: snapshot.pods()[p].spec.key(),
                    reason,
                }),
                PodDisposition::Movable => movable[i].push(p),
            }
        }
        let size = |p: &usize| weighted_size(&snapshot.pods()[*p].request, &weights);
        movable[i].sort_by(|a, b| size(b).total_cmp(&size(a)).then(a.cmp(b)));
    }
    let namespaces_in_doubt = namespace_selectors_in_doubt(snapshot, &mut movable, &mut blocking);

    let prices: Vec<_> = nodes
        .iter()
        .map(|node| options.pricing.hourly(&node.spec))
        .collect();
    let mut candidates: Vec<usize> = (0..n)
        .filter(|&i| node_reason[i].is_none() && blocking[i].is_empty())
        .collect();
    let load_of = |i: usize| -> f64 {
        movable[i]
            .iter()
            .map(|p| weighted_size(&snapshot.pods()[*p].request, &weights))
            .sum()
    };
    let loads: Vec<f64> = (0..n).map(load_of).collect();
    candidates.sort_by(|a, b| {
        loads[*a]
            .total_cmp(&loads[*b])
            .then(prices[*b].0.total_cmp(&prices[*a].0))
            .then(a.cmp(b))
    });

    let mut limit = Vec::with_capacity(n * d);
    for node in nodes {
        limit.extend(
            node.allocatable
                .iter()
                .enumerate()
                .map(|(dim, a)| thresholds.limit(dim, *a)),
        );
    }
    let cap = thresholds.max_utilization_percent;
    let mut fit_reason: Vec<Option<Reason>> = vec![None; n];

    // Inter-pod constraints of the pods that may move.
    let mut may_move = vec![false; snapshot.pods().len()];
    for list in &movable {
        for &p in list {
            may_move[p] = true;
        }
    }
    // Pending pods, in kube-scheduler's queue order.
    let pending = crate::plan::predict::pending_in_queue_order(snapshot);
    for &p in &pending {
        may_move[p] = true;
    }
    let allocatable: Vec<u64> = nodes
        .iter()
        .flat_map(|node| node.allocatable.iter().copied())
        .collect();
    let interpod = Index::new(snapshot, |p| may_move[p]);
    let statics = StaticGroups::new(snapshot);

    // Traffic: the network-aware strategy's partners, and the report.
    let traffic = match &options.traffic {
        Some(spec) => Some(TrafficGraph::build(
            snapshot,
            spec,
            options.traffic_threshold,
        )?),
        None => None,
    };
    let mut notes = Vec::new();
    let missing_input = || {
        blocking
            .iter()
            .flatten()
            .filter(|b| b.reason.code == ReasonCode::MissingInput)
    };
    let missing_csinodes = missing_input()
        .filter(|b| b.reason.message.contains(super::blockers::CSINODE_MISSING))
        .count();
    let missing_claims = missing_input().count() - namespaces_in_doubt - missing_csinodes;
    if namespaces_in_doubt > 0 {
        notes.push(format!(
            "{namespaces_in_doubt} pod(s) stay because a required pod (anti-)affinity term selects namespaces by label and the input has no labels for the namespaces involved (missing-input); {FULL_DUMP} carries them"
        ));
    }
    if missing_claims > 0 {
        notes.push(format!(
            "{missing_claims} pod(s) use PersistentVolumeClaims whose volume the input does not show (the claim or its PersistentVolume is missing, or it is not bound): they stay (missing-input); {FULL_DUMP} carries them"
        ));
    }
    if missing_csinodes > 0 {
        notes.push(format!(
            "{missing_csinodes} pod(s) use CSI volumes, and the input lacks the CSINode objects that give each node's attach limit: they stay (missing-input); {FULL_DUMP} carries them"
        ));
    }
    let preference = match options.strategy {
        StrategyKind::NetworkAware => match &traffic {
            Some(g) if g.graph().edge_count() > 0 => Preference::Traffic(g),
            Some(_) => {
                notes.push(format!(
                    "network-aware: no traffic edge reaches the {} B/s threshold; planned with best-fit",
                    options.traffic_threshold
                ));
                Preference::None
            }
            None => {
                notes.push(
                    "network-aware: no traffic data given (--traffic); planned with best-fit"
                        .to_owned(),
                );
                Preference::None
            }
        },
        StrategyKind::AffinityBased => Preference::Affinity,
        _ => Preference::None,
    };

    // Phase 1: the strategy's packing chooses the drain set.
    let room = Room {
        receiver: &receiver,
        limit: &limit,
        cap,
    };
    let mut packer = Packer::new(
        snapshot,
        room,
        &weights,
        tuning.rule.unwrap_or_else(|| options.strategy.strategy()),
        &interpod,
        &statics,
        preference,
    );
    let mut chosen: Vec<usize> = Vec::new();
    let mut searches = 0;
    if let Some(forced) = &forced {
        // Replaying a stricter threshold's candidates: the prediction decides; the packing
        // only records where it would put their pods, which the traffic report shows.
        let mut is_forced = vec![false; n];
        for &c in forced {
            is_forced[c] = true;
            if traffic.is_some() {
                let _ = packer.try_drain(c, &movable[c]);
            }
        }
        chosen.clone_from(forced);
        for &c in candidates.iter().filter(|&&c| !is_forced[c]) {
            fit_reason[c] = Some(Reason {
                code: ReasonCode::NoFit,
                message: format!(
                    "node {} was not tried: the drain set of a stricter threshold empties more nodes here, and this plan follows it",
                    nodes[c].spec.name
                ),
            });
        }
    }
    for c in candidates.into_iter().filter(|_| forced.is_none()) {
        if chosen.len() + 1 >= n {
            fit_reason[c] = Some(Reason {
                code: ReasonCode::LastNode,
                message: format!(
                    "node {} is the last node left; a plan never drains every node",
                    nodes[c].spec.name
                ),
            });
            continue;
        }
        match packer.try_drain(c, &movable[c]) {
            Ok(()) => chosen.push(c),
            Err(_)
                if searches < SEARCH_ATTEMPTS
                    && options.strategy == StrategyKind::Search
                    && packer.try_drain_by_search(
                        c,
                        &movable[c],
                        options.seed.wrapping_add(searches as u64),
                        SEARCH_BUDGET,
                    ) =>
            {
                searches += 1;
                chosen.push(c);
            }
            Err(reason) => {
                searches += usize::from(options.strategy == StrategyKind::Search);
                fit_reason[c] = Some(reason);
            }
        }
    }

    // Where the packing put every pod (for the traffic report only).
    let packed_at: Vec<Option<usize>> = match traffic {
        Some(_) => (0..snapshot.pods().len())
            .map(|p| packer.location(p))
            .collect(),
        None => Vec::new(),
    };
    drop(packer);

    // Phase 2: kube-scheduler's predicted placements must fit under the cap too. The drains
    // are replayed largest pod first (a stable sort: ties keep the packing's order), after
    // the nodes with no pod to move. kube-scheduler sends each replacement to the node with
    // the most room, so large pods placed early still find room under the cap that the
    // small ones, spread first, would have split between nodes — as in first-fit
    // decreasing (measured in docs/decisions.md, "The prediction replays the drain set
    // largest pod first").
    let largest = |c: usize| {
        movable[c].first().map_or(0.0, |p| {
            weighted_size(&snapshot.pods()[*p].request, &weights)
        })
    };
    if tuning.ties_by_name {
        chosen.sort_unstable();
    }
    chosen.sort_by(|a, b| {
        // Nodes with nothing to move first: they predict nothing.
        movable[*b]
            .is_empty()
            .cmp(&movable[*a].is_empty())
            .then(largest(*b).total_cmp(&largest(*a)))
    });
    let Validated {
        drain: drain_order,
        placed,
        tied,
        pending_placed,
        cordon_only,
        steer,
    } = validate(
        snapshot,
        chosen,
        &movable,
        room,
        (&interpod, &statics),
        &mut fit_reason,
        (&options.scheduler, &pending, &allocatable),
    );
    if pending_placed > 0 {
        notes.push(format!(
            "{pending_placed} pending pod(s) fit a node now: the prediction lets kube-scheduler place them first (higher priority first), so the replacements do not count on their room"
        ));
    }
    let steered: std::collections::BTreeSet<usize> = steer.iter().flatten().copied().collect();
    if !steered.is_empty() {
        notes.push(format!(
            "{} kept node(s) are cordoned during the plan to steer replacements off them (moves' cordonFirst): kube-scheduler would otherwise take them over the cap; they receive nothing new while the plan runs and are uncordoned when it is done",
            steered.len()
        ));
    }
    let once_pod = placed
        .iter()
        .filter(|(p, _)| {
            snapshot.pods()[*p].spec.volumes.iter().any(|v| {
                matches!(
                    v.source,
                    crate::model::VolumeSource::PersistentVolumeClaim {
                        read_write_once_pod: true,
                        ..
                    }
                )
            })
        })
        .count();
    if once_pod > 0 {
        notes.push(format!(
            "{once_pod} moved pod(s) use ReadWriteOncePod claims: kube-scheduler places each replacement only once its evicted pod is gone (until then it is Pending, which the executor waits for); the prediction assumes the replacements are scheduled in eviction order"
        ));
    }
    let percentage = options
        .scheduler
        .profile(crate::plan::profile::DEFAULT_SCHEDULER)
        .map_or(options.scheduler.percentage_of_nodes_to_score, |p| {
            options.scheduler.percentage(p)
        });
    let sampled = crate::plan::scheduler::feasible_nodes_to_find(n, percentage);
    if sampled < n && !placed.is_empty() {
        notes.push(format!(
            "kube-scheduler scores only the first {sampled} feasible nodes of {n} it finds, starting where its previous search stopped (percentageOfNodesToScore {}): each toNode is the best node of such a sample, and the real sample may differ; with percentageOfNodesToScore: 100 in the scheduler's configuration (and --percentage-of-nodes-to-score 100 here) predictions are exact",
            if percentage == 0 {
                "adaptive".to_owned()
            } else {
                percentage.to_string()
            }
        ));
    }
    let mut unmodelled: Vec<&str> = pending
        .iter()
        .filter_map(|&p| snapshot.pods()[p].spec.scheduler_name.as_deref())
        .filter(|name| options.scheduler.profile(name).is_none())
        .collect();
    unmodelled.sort_unstable();
    unmodelled.dedup();
    if !unmodelled.is_empty() {
        notes.push(format!(
            "pending pods are placed by scheduler(s) the prediction does not model ({}): where they land is unknown, and they may take room the replacements are predicted to use",
            unmodelled.join(", ")
        ));
    }
    let mut drained = vec![false; n];
    for &x in &drain_order {
        drained[x] = true;
    }

    // Waves, in eviction order.
    let evictions: Vec<(usize, &[usize])> = placed
        .iter()
        .map(|(p, _)| {
            let pod = &snapshot.pods()[*p];
            (pod.node.unwrap_or_default(), pod.pdbs.as_slice())
        })
        .collect();
    let allowed: Vec<u32> = snapshot
        .pdbs()
        .iter()
        .map(|b| b.disruptions_allowed)
        .collect();
    let wave_of = assign_waves(&evictions, &allowed, thresholds.max_nodes_per_wave);

    let owner_counts = moved_owner_counts(snapshot, &placed);
    let mut receives = vec![0u32; n];
    let mut moves = Vec::with_capacity(placed.len());
    let mut waves: Vec<Wave> = Vec::new();
    for ((((p, to), wave), tied), steer) in placed.iter().zip(&wave_of).zip(&tied).zip(&steer) {
        let pod = &snapshot.pods()[*p];
        let from = pod.node.unwrap_or_default();
        receives[*to] += 1;
        if waves.last().is_none_or(|w| w.index != *wave) {
            waves.push(Wave {
                index: *wave,
                nodes: Vec::new(),
                evictions: 0,
            });
        }
        if let Some(w) = waves.last_mut() {
            w.evictions += 1;
            if !w.nodes.contains(&nodes[from].spec.name) {
                w.nodes.push(nodes[from].spec.name.clone());
            }
        }
        moves.push(Move {
            namespace: pod.spec.namespace.clone(),
            pod: pod.spec.name.clone(),
            workload: pod.spec.owner.as_ref().map(|o| WorkloadRef {
                kind: o.kind.clone(),
                namespace: pod.spec.namespace.clone(),
                name: o.name.clone(),
            }),
            from_node: nodes[from].spec.name.clone(),
            to_node: nodes[*to].spec.name.clone(),
            tied_with: tied.iter().map(|&t| nodes[t].spec.name.clone()).collect(),
            cordon_first: steer.iter().map(|&t| nodes[t].spec.name.clone()).collect(),
            wave: *wave,
            risk: risk_of(snapshot, *p, &owner_counts),
            reason: format!("node {} is drained", nodes[from].spec.name),
        });
    }

    let drain: Vec<DrainedNode> = drain_order
        .iter()
        .map(|&i| DrainedNode {
            node: nodes[i].spec.name.clone(),
            evicted_pods: movable[i].len() as u32,
            daemon_set_pods: daemon_pods[i],
            hourly_price: prices[i].0,
            price_source: prices[i].1,
        })
        .collect();

    // Nodes that no plan could drain bound the node count from below.
    let fixed: Vec<bool> = (0..n)
        .map(|i| node_reason[i].is_some() || !blocking[i].is_empty())
        .collect();
    let mut lower_bound = bounds::continuous(snapshot, &fixed);
    let mut cap_lower_bound = bounds::continuous_at_cap(snapshot, &fixed, cap);
    if let Some((nodes, method)) = bounds::conflict_clique(snapshot) {
        for bound in [&mut lower_bound, &mut cap_lower_bound] {
            if nodes as u64 > u64::from(bound.nodes) {
                *bound = crate::plan::LowerBound {
                    nodes: nodes as u32,
                    method: method.clone(),
                    binding_dimension: "anti-affinity".to_owned(),
                };
            }
        }
    }

    let mut kept = Vec::new();
    for i in 0..n {
        if drained[i] {
            continue;
        }
        let blocking_pods = std::mem::take(&mut blocking[i]);
        let reason = node_reason[i]
            .clone()
            .or_else(|| {
                blocking_pods
                    .iter()
                    .min_by_key(|b| b.reason.code)
                    .map(|b| b.reason.clone())
            })
            .or_else(|| fit_reason[i].clone());
        // Every kept node was ruled out by a node rule, a blocking pod or a failed fit.
        let reason = reason.unwrap_or_else(|| Reason {
            code: ReasonCode::NoFit,
            message: format!("node {} could not be emptied", nodes[i].spec.name),
        });
        kept.push(KeptNode {
            node: nodes[i].spec.name.clone(),
            reason,
            blocking_pods,
            receives: receives[i],
        });
    }

    let hourly: f64 = drain.iter().map(|x| x.hourly_price).sum();
    let savings = Savings {
        hourly,
        monthly: hourly * HOURS_PER_MONTH,
        formatted: format_dollars(hourly * HOURS_PER_MONTH),
    };

    let mut requested = vec![0u64; d];
    let mut allocatable = vec![0u64; d];
    for (i, node) in nodes.iter().enumerate() {
        for (total, r) in requested.iter_mut().zip(snapshot.requested(i)) {
            *total = total.saturating_add(*r);
        }
        for (total, a) in allocatable.iter_mut().zip(&node.allocatable) {
            *total = total.saturating_add(*a);
        }
    }
    let bound_pods = snapshot
        .pods()
        .iter()
        .filter(|p| p.node.is_some() && !p.spec.phase.is_terminal())
        .count();
    let unscheduled = snapshot
        .pods()
        .iter()
        .filter(|p| p.node.is_none() && !p.spec.phase.is_terminal())
        .count();
    let summary = Summary {
        nodes: n as u32,
        nodes_after: (n - drain.len()) as u32,
        pods: bound_pods as u32,
        unscheduled_pods: unscheduled as u32,
        tied_predictions: tied.iter().filter(|t| !t.is_empty()).count() as u32,
        gap_nodes: (n - drain.len()).saturating_sub(cap_lower_bound.nodes as usize) as u32,
        gap_percent: ((n - drain.len()).saturating_sub(cap_lower_bound.nodes as usize) as f64
            * 100.0
            / f64::from(cap_lower_bound.nodes.max(1))),
        allocatable: dims.sparse(&allocatable),
        requested: dims.sparse(&requested),
        hourly_cost: prices.iter().map(|p| p.0).sum(),
    };

    let traffic = traffic.map(|g| {
        let before: Vec<Option<usize>> = snapshot.pods().iter().map(|p| p.node).collect();
        let mut after = before.clone();
        for (p, to) in &placed {
            after[*p] = Some(*to);
        }
        // The packing's placement counts only for the nodes the plan drains.
        let packed: Vec<Option<usize>> = (0..before.len())
            .map(|p| match before[p] {
                Some(n) if drained[n] && after[p] != before[p] => packed_at[p],
                _ => after[p],
            })
            .collect();
        TrafficSummary {
            before: g.cross_node(&before),
            after: g.cross_node(&after),
            packed: g.cross_node(&packed),
            groups: g.groups().len(),
        }
    });

    Ok(Plan {
        strategy: options.strategy,
        thresholds,
        summary,
        drain,
        cordon_only: cordon_only
            .iter()
            .map(|&x| nodes[x].spec.name.clone())
            .collect(),
        moves,
        waves,
        kept,
        lower_bound,
        cap_lower_bound: Some(cap_lower_bound),
        savings,
        traffic,
        notes,
        scheduler: options.scheduler.clone(),
    })
}

/// In doubt, the pod stays: a required pod (anti-)affinity term with a `namespaceSelector`
/// cannot be judged without the labels of the namespaces involved. A movable pod blocks its
/// node (`missing-input`) when its own required terms select namespaces by label and some
/// namespace with pods has no labels in the input, or when an existing pod's required
/// anti-affinity term selects namespaces by label, its label selector matches the pod, and the
/// pod's namespace has no labels in the input.
///
/// # Complexity
/// O(P · t) for t such terms.
fn namespace_selectors_in_doubt(
    snapshot: &Snapshot,
    movable: &mut [Vec<usize>],
    blocking: &mut [Vec<BlockingPod>],
) -> usize {
    let mut count = 0;
    let pods = snapshot.pods();
    let uses_ns_selector = |t: &crate::model::PodAffinityTerm| t.namespace_selector.is_some();
    // Existing pods' required anti-affinity terms that pick namespaces by label.
    let targeting: Vec<(&str, &crate::model::PodAffinityTerm)> = pods
        .iter()
        .filter(|p| p.node.is_some() && !p.spec.phase.is_terminal())
        .flat_map(|p| {
            p.spec
                .pod_anti_affinity
                .iter()
                .filter(|t| uses_ns_selector(t))
                .map(move |t| (p.spec.name.as_str(), t))
        })
        .collect();
    let unknown_namespace = pods
        .iter()
        .map(|p| p.spec.namespace.as_str())
        .find(|ns| !snapshot.namespace_listed(ns));
    for (i, list) in movable.iter_mut().enumerate() {
        list.retain(|&p| {
            let spec = &pods[p].spec;
            let own = spec
                .pod_affinity
                .iter()
                .chain(&spec.pod_anti_affinity)
                .any(&uses_ns_selector);
            let why = if own && let Some(ns) = unknown_namespace {
                Some(format!(
                    "its required pod affinity or anti-affinity selects namespaces by label, and the input has no labels for namespace {ns}"
                ))
            } else if !snapshot.namespace_listed(&spec.namespace) {
                targeting
                    .iter()
                    .find(|(_, t)| {
                        t.label_selector
                            .as_ref()
                            .is_some_and(|s| s.matches(&spec.labels))
                    })
                    .map(|(owner, _)| {
                        format!(
                            "pod {owner}'s anti-affinity selects namespaces by label, and the input has no labels for namespace {}",
                            spec.namespace
                        )
                    })
            } else {
                None
            };
            match why {
                Some(why) => {
                    blocking[i].push(BlockingPod {
                        pod: spec.key(),
                        reason: Reason {
                            code: ReasonCode::MissingInput,
                            message: format!(
                                "{}: {why} (dump Namespace objects too: kubectl get …,namespaces)",
                                spec.key()
                            ),
                        },
                    });
                    count += 1;
                    false
                }
                None => true,
            }
        });
    }
    count
}

/// Candidates the `search` strategy tries to empty by repacking after best fit failed.
const SEARCH_ATTEMPTS: usize = 32;
/// Moves of each such attempt.
const SEARCH_BUDGET: u64 = 2_000;

/// What the scheduler replay of [`validate`] keeps.
struct Validated {
    /// The drain order.
    drain: Vec<usize>,
    /// `(pod, predicted node)` in eviction order.
    placed: Vec<(usize, usize)>,
    /// For each of those, the other nodes tied with the prediction.
    tied: Vec<Vec<usize>>,
    /// Pending pods the replay let kube-scheduler place first, on the room they would take.
    pending_placed: usize,
    /// Candidates kept, but cordoned while the plan runs.
    cordon_only: Vec<usize>,
    /// For each placement, the nodes cordoned right before its eviction (steering).
    steer: Vec<Vec<usize>>,
}

/// Most nodes cordoned to steer one replacement off nodes it would take over the cap.
const STEERS_PER_POD: usize = 16;
/// The same when a failed candidate is tried again at the end of the order (see
/// [`validate`]; measured in docs/decisions.md, "Steering").
const RETRY_STEERS_PER_POD: usize = 64;

/// The dump command whose output holds everything the planner reads.
const FULL_DUMP: &str =
    "a dump made with `kubectl get nodes,pods,pdb,pvc,pv,namespaces,csinodes -A -o json`";

/// Simulates kube-scheduler over the evictions of the candidates in `drain`, in order. Every
/// candidate is cordoned before the first eviction and stays cordoned while the plan runs, so
/// each prediction is made against exactly that. A candidate one of whose pods would land over
/// the cap, on a node the plan may not use, or nowhere is not drained: its placements are
/// undone and it stays, still cordoned (it is then listed in the plan's `cordonOnly`, and
/// uncordoned when the plan is done), so that the predictions before and after it hold. A
/// failure costs that one node, never the ones after it. Returns the drained nodes in order,
/// the nodes kept but cordoned, `(pod, predicted node)` in eviction order, and for each of
/// those the other nodes tied with the prediction.
///
/// # Complexity
/// O(E · S · d) for E evictions tried and S nodes searched per pod (at most the adaptive
/// `numFeasibleNodesToFind`, see [`super::scheduler`]): a single pass.
fn validate(
    snapshot: &Snapshot,
    candidates: Vec<usize>,
    movable: &[Vec<usize>],
    room: Room<'_>,
    (interpod, statics): (&Index, &StaticGroups),
    fit_reason: &mut [Option<Reason>],
    (scheduler, pending, allocatable): (&SchedulerConfig, &[usize], &[u64]),
) -> Validated {
    let Room {
        receiver,
        limit,
        cap,
    } = room;
    let mut cordoned = vec![false; receiver.len()];
    for &x in &candidates {
        cordoned[x] = true;
    }
    let mut sim = SchedulerSim::new(snapshot, interpod, statics, scheduler);
    // Pending pods first: kube-scheduler places any that fit before (and, by priority, ahead
    // of) the replacements, so their room is not there for ours. In doubt — a snapshot does
    // not say why a pod is pending — every one that fits takes its room.
    let mut pending_placed = 0;
    for &p in pending {
        if sim
            .place(p, |i| cordoned[i], |_| None, allocatable, 100)
            .is_ok()
        {
            // Its room is taken; but whether it really is scheduled first is a guess, so it
            // counts for no inter-pod rule (it could relax a spread or an affinity).
            sim.forget_constraints(p);
            pending_placed += 1;
        }
    }
    let mut drain = Vec::new();
    let mut cordon_only = Vec::new();
    let mut placed = Vec::new();
    let mut tied = Vec::new();
    let mut steer = Vec::new();
    // Tries to empty candidate `x`: its pods' predictions, or why one fails (with the sim
    // left as it was).
    // Tries to empty candidate `x`: its pods' predictions, each with the nodes cordoned just
    // before its eviction to steer it off nodes it would take over the cap; or why one fails
    // (with the sim and the cordons left as they were).
    let attempt = |sim: &mut SchedulerSim<'_>,
                   cordoned: &mut Vec<bool>,
                   x: usize,
                   steers: usize|
     -> Result<Vec<(usize, super::scheduler::Prediction, Vec<usize>)>, Reason> {
        let position = sim.position();
        let mut trial: Vec<(usize, super::scheduler::Prediction, Vec<usize>)> = Vec::new();
        let mut steered: Vec<usize> = Vec::new();
        for &p in &movable[x] {
            let mut steer = Vec::new();
            // Why the pod fails without steering: the reason a failed candidate gives.
            let mut first: Option<Reason> = None;
            loop {
                let before = sim.position();
                // Every candidate is cordoned; excluded nodes are open to kube-scheduler.
                let off_plan = |i: usize| {
                    let node = &snapshot.nodes()[i].spec;
                    if cordoned[i] {
                        Some("cordoned by this plan".to_owned())
                    } else if node.unschedulable {
                        Some("cordoned by someone else".to_owned())
                    } else if !receiver[i] {
                        Some("not Ready".to_owned())
                    } else {
                        timed_no_execute(&snapshot.pods()[p].spec, node).map(|(taint, s)| {
                            format!("tainted {taint}, which the pod tolerates for {s} s only (tolerationSeconds): it would be evicted again")
                        })
                    }
                };
                // After a steer only a cordon changed: the search resumes.
                let predicted = if steer.is_empty() {
                    sim.place(p, |i| cordoned[i], off_plan, limit, cap)
                } else {
                    sim.place_again(p, |i| cordoned[i], off_plan, limit, cap)
                };
                match predicted {
                    Ok(to) => {
                        trial.push((p, to, steer));
                        break;
                    }
                    Err(reason) => {
                        sim.unplace(p, None);
                        let reason = first.take().unwrap_or(reason);
                        let over = sim.over_cap().filter(|&y| !cordoned[y]);
                        if let (Some(y), true) = (over, steer.len() < steers) {
                            // Cordon y right before this eviction: kube-scheduler then
                            // places the replacement elsewhere, and y stays under the cap.
                            sim.rewind(before);
                            cordoned[y] = true;
                            steer.push(y);
                            steered.push(y);
                            first = Some(reason);
                            continue;
                        }
                        for (q, to, _) in trial.into_iter().rev() {
                            sim.unplace(q, Some(to.node));
                        }
                        for y in steered {
                            cordoned[y] = false;
                        }
                        sim.rewind(position);
                        return Err(reason);
                    }
                }
            }
        }
        Ok(trial)
    };
    let mut queue = candidates;
    let mut first_failure: std::collections::BTreeMap<usize, Reason> =
        std::collections::BTreeMap::new();
    // A candidate that fails gets one more chance at the end of the order, once every
    // other placement is made: it is cordoned all along, so no earlier prediction changes.
    // There its pods may be steered further: no drain comes after it whose room the extra
    // steering cordons would take.
    for (round, steers) in [STEERS_PER_POD, RETRY_STEERS_PER_POD]
        .into_iter()
        .enumerate()
    {
        cordon_only.clear();
        for x in std::mem::take(&mut queue) {
            match attempt(&mut sim, &mut cordoned, x, steers) {
                Ok(trial) => {
                    drain.push(x);
                    for (p, to, cordon_first) in trial {
                        placed.push((p, to.node));
                        tied.push(to.tied);
                        steer.push(cordon_first);
                    }
                }
                Err(reason) => {
                    // The first failure, in the candidates' own order, explains the node.
                    first_failure.entry(x).or_insert(reason);
                    cordon_only.push(x);
                }
            }
        }
        if cordon_only.is_empty() || round > 0 {
            break;
        }
        queue.clone_from(&cordon_only);
    }
    // With nothing drained there are no predictions to protect: nothing is cordoned.
    let protect = !drain.is_empty();
    for &x in &cordon_only {
        let mut reason = first_failure
            .remove(&x)
            .expect("a failed candidate has its reason");
        if protect {
            reason.message.push_str(
                "; the node stays, cordoned while the plan runs so that the other predictions hold",
            );
        }
        fit_reason[x] = Some(reason);
    }
    if !protect {
        cordon_only.clear();
    }
    Validated {
        drain,
        steer,
        cordon_only,
        placed,
        tied,
        pending_placed,
    }
}

/// Pods per owner `(namespace, kind, name)`, counted only for the owners of moved pods.
fn moved_owner_counts<'a>(
    snapshot: &'a Snapshot,
    placed: &[(usize, usize)],
) -> FastMap<(&'a str, &'a str, &'a str), u32> {
    let key = |p: &'a crate::snapshot::Pod| {
        p.spec
            .owner
            .as_ref()
            .map(|o| (p.spec.namespace.as_str(), o.kind.as_str(), o.name.as_str()))
    };
    // Looked up only, never iterated.
    let mut counts: FastMap<(&str, &str, &str), u32> = placed
        .iter()
        .filter_map(|(p, _)| key(&snapshot.pods()[*p]))
        .map(|k| (k, 0))
        .collect();
    for p in snapshot
        .pods()
        .iter()
        .filter(|p| !p.spec.phase.is_terminal())
    {
        if let Some(count) = key(p).and_then(|k| counts.get_mut(&k)) {
            *count += 1;
        }
    }
    counts
}

/// Risk of evicting pod `p` (DESIGN §7).
fn risk_of(snapshot: &Snapshot, p: usize, owner_counts: &FastMap<(&str, &str, &str), u32>) -> Risk {
    let pod = &snapshot.pods()[p];
    let spec = &pod.spec;
    let mut factors = Vec::new();
    let has_pvc = spec
        .volumes
        .iter()
        .any(|v| matches!(v.source, VolumeSource::PersistentVolumeClaim { .. }));
    if has_pvc || spec.owner.as_ref().is_some_and(|o| o.kind == "StatefulSet") {
        factors.push(RiskFactor::Stateful);
    }
    let replicas = spec.replicas.unwrap_or_else(|| {
        spec.owner
            .as_ref()
            .and_then(|o| {
                owner_counts
                    .get(&(spec.namespace.as_str(), o.kind.as_str(), o.name.as_str()))
                    .copied()
            })
            .unwrap_or(1)
    });
    if replicas <= 1 {
        factors.push(RiskFactor::SingleReplica);
    }
    if !spec.readiness_probe {
        factors.push(RiskFactor::NoReadinessProbe);
    }
    if spec
        .volumes
        .iter()
        .any(|v| v.source == VolumeSource::EmptyDir { memory: false })
    {
        factors.push(RiskFactor::EmptyDirData);
    }
    if let Some(node) = pod.node.map(|n| &snapshot.nodes()[n]) {
        let large = (0..snapshot.dims().len())
            .filter(|d| *d != Dimensions::PODS)
            .any(|d| {
                u128::from(pod.request[d]) * 4 > u128::from(node.allocatable[d])
                    && pod.request[d] > 0
            });
        if large {
            factors.push(RiskFactor::LargePod);
        }
    }
    if pod.pdbs.is_empty() {
        factors.push(RiskFactor::NoPdb);
    }
    Risk::from_factors(factors)
}
