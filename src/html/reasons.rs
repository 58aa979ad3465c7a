//! Why nodes stay: the kept nodes counted by reason code ([`crate::overview::kept_by_reason`]),
//! each count opening the list of its nodes, with a button that shows them in the node list.

use std::fmt::Write;

use super::{Ctx, escape, thousands};

/// What a reason code means, in a line.
pub(crate) fn meaning(code: &str) -> &'static str {
    match code {
        "mirror-pod" => "a static (mirror) pod runs there: the Eviction API cannot evict it",
        "opt-out" => {
            "a pod opts out of eviction (optimizer.io/exclude, safe-to-evict: false, do-not-disrupt)"
        }
        "namespace-excluded" => "a pod runs in an excluded namespace",
        "no-controller" => "a pod has no controller: nothing would recreate it",
        "system-critical" => "a system-critical pod runs there",
        "kube-system-no-pdb" => "a kube-system pod has no PodDisruptionBudget",
        "local-storage" => "a pod keeps data on the node (hostPath, disk emptyDir)",
        "missing-input" => {
            "a pod's volume claim or volume is missing from the input: in doubt, it stays"
        }
        "multiple-pdbs" => "a pod is covered by several PodDisruptionBudgets (eviction fails)",
        "pdb-exhausted" => "a pod's PodDisruptionBudget allows no disruption now",
        "no-fit" => "its pods fit on no node that stays, under the safety cap",
        "scheduler-over-cap" => {
            "kube-scheduler would put a moved pod over the cap: cordoned while the plan runs"
        }
        "scheduler-off-plan" => {
            "kube-scheduler would put a moved pod where the plan may not: cordoned while the plan runs"
        }
        "node-excluded" => "the node is annotated optimizer.io/exclude",
        "node-not-ready" => "the node is not Ready",
        "node-cordoned" => "the node is cordoned by someone else",
        "node-over-committed" => "its pods request more than the node's allocatable",
        "last-node" => "the last node: a plan never drains every node",
        "scheduler-not-modelled" => "a pod names a scheduler the prediction does not model",
        "other-part" => "drained by another part of the plan",
        _ => "",
    }
}

/// The section.
pub(crate) fn section(html: &mut String, c: &Ctx<'_>) {
    let plan = c.r.plan;
    let reasons = crate::overview::kept_by_reason(plan);
    let total = plan.summary.nodes;
    let _ = write!(
        html,
        r#"<section id="ov-reasons"><h2>Why nodes stay</h2><p class="sub">{} of {} nodes stay, {} are drained{}. Open a reason for its nodes.</p>"#,
        thousands(plan.kept.len() as u64),
        thousands(u64::from(total)),
        thousands(plan.drain.len() as u64),
        if plan.cordon_only.is_empty() {
            String::new()
        } else {
            format!(
                "; {} of the kept are cordoned while the plan runs",
                thousands(plan.cordon_only.len() as u64)
            )
        },
    );
    if reasons.is_empty() {
        html.push_str("<p>No node stays.</p>");
    }
    let kept = plan.kept.len().max(1);
    for (raw, nodes) in &reasons {
        let code = escape(raw);
        let _ = write!(
            html,
            r#"<details class="reason" data-reason="{code}"><summary><span class="cnt">{}</span> <code>{code}</code><span class="meter"><i style="width:{:.0}%"></i></span><span class="what">{}</span></summary><p class="names">"#,
            thousands(nodes.len() as u64),
            nodes.len() as f64 * 100.0 / kept as f64,
            escape(meaning(raw)),
        );
        for (k, n) in nodes.iter().enumerate() {
            if k > 0 {
                html.push_str(", ");
            }
            html.push_str(&escape(n));
        }
        let _ = write!(
            html,
            r#"</p><button type="button" data-reason="{code}">show them in the node list, with the reasons</button></details>"#
        );
    }
    html.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::tests::hostile;
    use compactor_core::cost::Pricing;
    use compactor_core::plan::{PlanOptions, ReasonCode, plan};

    #[test]
    fn every_reason_code_has_a_meaning() {
        use ReasonCode::*;
        for code in [
            MirrorPod,
            OptOut,
            NamespaceExcluded,
            NoController,
            SystemCritical,
            KubeSystemNoPdb,
            LocalStorage,
            MissingInput,
            MultiplePdbs,
            PdbExhausted,
            NoFit,
            SchedulerOverCap,
            SchedulerOffPlan,
            NodeExcluded,
            NodeNotReady,
            NodeCordoned,
            NodeOverCommitted,
            LastNode,
            SchedulerNotModelled,
            OtherPart,
        ] {
            assert!(!meaning(code.as_str()).is_empty(), "{}", code.as_str());
        }
        assert_eq!(meaning("something-new"), "");
    }

    #[test]
    fn kept_nodes_are_counted_and_listed_by_reason() {
        let snap = hostile();
        let p = plan(&snap, &PlanOptions::default()).expect("plan");
        let pricing = Pricing::default();
        let c = Ctx::new(crate::html::tests::report(&snap, &p, &pricing, None));
        let mut html = String::new();
        section(&mut html, &c);
        let by = crate::overview::kept_by_reason(&p);
        assert!(!by.is_empty());
        assert_eq!(html.matches("<details").count(), by.len());
        for (code, nodes) in &by {
            let at = html
                .find(&format!(r#"<details class="reason" data-reason="{code}">"#))
                .expect("a details per code");
            let count = format!(r#"<span class="cnt">{}</span>"#, nodes.len());
            assert_eq!(html[at..].find(&count).map(|i| i < 80), Some(true));
        }
        // A hostile node name, when kept, is listed escaped.
        assert!(!html.contains("<script"));
        let hostile_kept = p.kept.iter().any(|k| k.node.contains('<'));
        assert_eq!(html.contains("x&quot;&gt;&lt;script&gt;"), hostile_kept);
    }
}
