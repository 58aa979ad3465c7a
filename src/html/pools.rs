//! Node pools now and after the plan: by instance type, and by the `--group-by` label. The
//! figures are [`crate::overview::pools`] (the table output's); the page adds the usage of
//! CPU and memory when `analyze` knows it.

use std::collections::BTreeMap;
use std::fmt::Write;

use compactor_core::resources::Dimensions;

use super::{Ctx, escape, percent, short_dollars, thousands};
use crate::overview::Pool;

/// Pools shown before "show all".
pub(crate) const FIRST_POOLS: usize = 8;

pub(crate) use crate::overview::pool_of;

/// Used CPU and memory of a pool, now (every node) and after the plan (the nodes that stay);
/// `None` where any node's usage is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolUsage {
    /// CPU, memory used now.
    pub now: [Option<u64>; 2],
    /// CPU, memory used after the plan.
    pub after: [Option<u64>; 2],
}

/// The usage of every pool by `label`, when the report has an analysis.
///
/// # Complexity
/// O(nodes × log pools).
pub(crate) fn usage(c: &Ctx<'_>, label: Option<&str>) -> Option<BTreeMap<String, PoolUsage>> {
    c.r.analysis?;
    let mut out: BTreeMap<String, PoolUsage> = BTreeMap::new();
    let add = |a: Option<u64>, b: Option<u64>| a.zip(b).map(|(a, b)| a.saturating_add(b));
    for (i, node) in c.r.snapshot.nodes().iter().enumerate() {
        let u = out
            .entry(pool_of(&node.spec, label).to_owned())
            .or_insert(PoolUsage {
                now: [Some(0); 2],
                after: [Some(0); 2],
            });
        let n = c.analyzed[i];
        for (k, d) in [Dimensions::CPU, Dimensions::MEMORY]
            .into_iter()
            .enumerate()
        {
            let now = n.and_then(|n| n.resources.get(d)).and_then(|f| f.used);
            u.now[k] = add(u.now[k], now);
        }
        if !c.fates[i].drained() {
            let after = n.map(|n| &n.after_plan);
            u.after[0] = add(u.after[0], after.and_then(|a| a.cpu_used_millicores));
            u.after[1] = add(u.after[1], after.and_then(|a| a.memory_used_bytes));
        }
    }
    Some(out)
}

/// The pools by `label` (`None`: the instance type), most nodes first, then by name; and
/// the cluster total.
pub(crate) fn ordered(c: &Ctx<'_>, label: Option<&str>) -> (Pool, Vec<Pool>) {
    let mut pools = crate::overview::pools(c.r.snapshot, c.r.plan, c.r.pricing, label);
    pools.sort_by(|a, b| b.nodes.cmp(&a.nodes).then_with(|| a.name.cmp(&b.name)));
    let mut total = Pool::empty("all nodes", c.r.snapshot.dims().len());
    for p in &pools {
        total.add(p);
    }
    (total, pools)
}

/// `40 → 54 %`, `5 % → -` (every node of the pool drained), `-` (the pool lacks the resource).
pub(crate) fn now_after(now: Option<u64>, after: Option<u64>) -> String {
    match (now, after) {
        (Some(n), Some(a)) => format!("{n} → {a} %"),
        (Some(n), None) => format!("{n} % → -"),
        (None, Some(a)) => format!("- → {a} %"),
        (None, None) => "-".to_owned(),
    }
}

fn row(html: &mut String, c: &Ctx<'_>, p: &Pool, usage: Option<&PoolUsage>, class: &str) {
    let month = compactor_core::cost::HOURS_PER_MONTH;
    let _ = write!(
        html,
        r#"<tr{class}><td>{}</td><td class="num">{} → {}</td><td class="num">{} → {}</td>"#,
        escape(&p.name),
        thousands(u64::from(p.nodes)),
        thousands(u64::from(p.nodes - p.drained)),
        short_dollars(p.hourly_now * month),
        short_dollars(p.hourly_after * month),
    );
    for &d in &c.dims {
        let (now, after) = (
            percent(p.requested_now[d], p.allocatable_now[d]),
            percent(p.requested_after[d], p.allocatable_after[d]),
        );
        let _ = write!(html, r#"<td class="num">{}"#, now_after(now, after));
        if let Some(u) = usage.filter(|_| d <= Dimensions::MEMORY) {
            let k = d;
            let pct = |v: Option<u64>, alloc: u64| {
                v.and_then(|v| percent(v, alloc))
                    .map_or("?".to_owned(), |p| p.to_string())
            };
            if u.now[k].is_some() || u.after[k].is_some() {
                let _ = write!(
                    html,
                    "<br><small>used {} → {} %</small>",
                    pct(u.now[k], p.allocatable_now[d]),
                    pct(u.after[k], p.allocatable_after[d])
                );
            }
        }
        html.push_str("</td>");
    }
    html.push_str("</tr>");
}

/// One pool table; `label` None is the instance type.
fn table(html: &mut String, c: &Ctx<'_>, label: Option<&str>, id: &str) {
    let (total, pools) = ordered(c, label);
    let usage = usage(c, label);
    let by = label.map_or("instance type".to_owned(), |l| {
        format!("label <code>{}</code>", escape(l))
    });
    let _ = write!(
        html,
        r#"<div><h3>By {by} ({} pools)</h3><input type="checkbox" class="toggle" id="{id}">"#,
        pools.len()
    );
    html.push_str(
        r#"<div class="scroll"><table><tr><th>pool</th><th class="num">nodes</th><th class="num">$/month</th>"#,
    );
    for &d in &c.dims {
        let _ = write!(html, r#"<th class="num">{}</th>"#, escape(c.dim_name(d)));
    }
    html.push_str("</tr>");
    let total_usage = usage.as_ref().map(|u| {
        u.values().fold(
            PoolUsage {
                now: [Some(0); 2],
                after: [Some(0); 2],
            },
            |mut acc, p| {
                for k in 0..2 {
                    acc.now[k] = acc.now[k].zip(p.now[k]).map(|(a, b)| a.saturating_add(b));
                    acc.after[k] = acc.after[k]
                        .zip(p.after[k])
                        .map(|(a, b)| a.saturating_add(b));
                }
                acc
            },
        )
    });
    row(html, c, &total, total_usage.as_ref(), r#" class="total""#);
    for (k, p) in pools.iter().enumerate() {
        let u = usage.as_ref().and_then(|u| u.get(&p.name));
        row(
            html,
            c,
            p,
            u,
            if k >= FIRST_POOLS {
                r#" class="more""#
            } else {
                ""
            },
        );
    }
    html.push_str("</table></div>");
    if pools.len() > FIRST_POOLS {
        let _ = write!(
            html,
            r#"<label class="all" for="{id}">show all {} pools</label>"#,
            pools.len()
        );
    }
    html.push_str("</div>\n");
}

/// The pools section: by the `--group-by` label (when given), then by instance type.
pub(crate) fn section(html: &mut String, c: &Ctx<'_>) {
    let _ = write!(
        html,
        r#"<section id="ov-pools"><h2>Node pools</h2><p class="sub">nodes, cost per month, and requests ÷ allocatable per dimension{}, now → after the plan</p>"#,
        if c.usage {
            " (used ÷ allocatable below)"
        } else {
            ""
        }
    );
    if let Some(label) = c.r.group_by {
        table(html, c, Some(label), "pools-label");
    }
    table(html, c, None, "pools-type");
    html.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::{Report, tests::hostile};
    use crate::overview::NO_LABEL;
    use compactor_core::cost::Pricing;
    use compactor_core::plan::{PlanOptions, plan};

    #[test]
    fn usage_is_added_when_the_analysis_knows_it() {
        let node = |n: &str| {
            serde_json::json!({"name": n, "allocatable": {"cpu": "4", "memory": "16Gi"},
                "labels": {"node.kubernetes.io/instance-type": "m5.xlarge"}})
        };
        let pod = |name: &str, node: &str| {
            serde_json::json!({"namespace": "shop", "name": name, "nodeName": node,
                "owner": {"kind": "Deployment", "name": "web"}, "replicas": 3,
                "readinessProbe": true, "usage": {"cpu": "1", "memory": "4Gi"},
                "containers": [{"name": "c", "requests": {"cpu": "1", "memory": "4Gi"}}]})
        };
        let spec = serde_json::from_value(serde_json::json!({
            "nodes": [node("a"), node("b")], "pods": [pod("w1", "a"), pod("w2", "b")]
        }))
        .expect("spec");
        let snap = compactor_core::Snapshot::new(spec).expect("snapshot");
        let a = compactor_core::analysis::analyze(&snap, &Default::default()).expect("analysis");
        assert_eq!(
            a.plan.drain.len(),
            1,
            "2 CPU of 4 after: under the 70 % cap"
        );
        let pricing = Pricing::default();
        let c = Ctx::new(Report {
            snapshot: &snap,
            plan: &a.plan,
            source: "t",
            pricing: &pricing,
            group_by: None,
            analysis: Some(&a),
        });
        assert!(c.usage);
        let u = usage(&c, None).expect("usage");
        // The used CPU and memory move with the pods: the same total on half the nodes.
        assert_eq!(u["m5.xlarge"].now, [Some(2000), Some(8 << 30)]);
        assert_eq!(u["m5.xlarge"].after, u["m5.xlarge"].now);
        let mut html = String::new();
        section(&mut html, &c);
        assert!(html.contains("<small>used 25 → 50 %</small>"), "{html}");
    }

    #[test]
    fn shares_read_now_then_after() {
        assert_eq!(now_after(Some(40), Some(54)), "40 → 54 %");
        assert_eq!(now_after(Some(5), None), "5 % → -");
        assert_eq!(now_after(None, Some(3)), "- → 3 %");
        assert_eq!(now_after(None, None), "-");
    }

    #[test]
    fn pools_are_ordered_by_size_and_add_up_to_the_total() {
        let snap = hostile();
        let p = plan(&snap, &PlanOptions::default()).expect("plan");
        let pricing = Pricing::default();
        let report = crate::html::tests::report(&snap, &p, &pricing, Some("team"));
        let c = Ctx::new(report);
        let (total, by_type) = ordered(&c, None);
        let names: Vec<(&str, u32)> = by_type.iter().map(|p| (p.name.as_str(), p.nodes)).collect();
        assert_eq!(
            names,
            [("m5.xlarge", 2), (NO_LABEL, 1), ("g4dn.<b>xlarge</b>", 1)]
        );
        assert_eq!(total.nodes, 4);
        assert_eq!(total.drained as usize, p.drain.len());
        assert!((total.hourly_now - total.hourly_after - p.savings.hourly).abs() < 1e-9);
        let (_, by_team) = ordered(&c, Some("team"));
        let names: Vec<(&str, u32)> = by_team.iter().map(|p| (p.name.as_str(), p.nodes)).collect();
        assert_eq!(names, [("<img src=x onerror=alert(1)>", 3), (NO_LABEL, 1)]);
        // Without an analysis there is no usage to show.
        assert!(usage(&c, None).is_none());

        let mut html = String::new();
        section(&mut html, &c);
        assert!(html.find("label <code>team</code>") < html.find("By instance type"));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("show all"), "three pools: nothing collapsed");
    }

    #[test]
    fn pools_beyond_the_first_are_collapsed() {
        let nodes: Vec<serde_json::Value> = (0..12)
            .map(|i| {
                serde_json::json!({"name": format!("n{i:02}"),
                    "allocatable": {"cpu": "4", "memory": "8Gi"},
                    "labels": {"node.kubernetes.io/instance-type": format!("t{}", i % 10)}})
            })
            .collect();
        let spec = serde_json::from_value(serde_json::json!({"nodes": nodes})).expect("spec");
        let snap = compactor_core::Snapshot::new(spec).expect("snapshot");
        let p = plan(&snap, &PlanOptions::default()).expect("plan");
        let pricing = Pricing::default();
        let c = Ctx::new(crate::html::tests::report(&snap, &p, &pricing, None));
        let mut html = String::new();
        section(&mut html, &c);
        assert_eq!(
            html.matches(r#"<tr class="more">"#).count(),
            10 - FIRST_POOLS
        );
        assert!(html.contains("show all 10 pools"));
        // Two pools of 2 nodes come first (t0, t1), then the others by name.
        let t0 = html.find("<td>t0</td>").expect("t0");
        let t1 = html.find("<td>t1</td>").expect("t1");
        let t2 = html.find("<td>t2</td>").expect("t2");
        assert!(t0 < t1 && t1 < t2);
    }
}
