//! Why nodes stay: the kept nodes counted by reason code ([`crate::overview::kept_by_reason`]),
//! each count opening the list of its nodes, with a button that shows them in the node list.

use std::fmt::Write;

use super::{Ctx, escape, thousands};

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
    for (reason, nodes) in &reasons {
        let code = escape(reason.as_str());
        let _ = write!(
            html,
            r#"<details class="reason" data-reason="{code}"><summary><span class="cnt">{}</span> <code>{code}</code><span class="meter"><i style="width:{:.0}%"></i></span><span class="what">{}</span></summary><p class="names">"#,
            thousands(nodes.len() as u64),
            nodes.len() as f64 * 100.0 / kept as f64,
            escape(reason.meaning()),
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
    use compactor_core::plan::{PlanOptions, plan};

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
                .find(&format!(
                    r#"<details class="reason" data-reason="{}">"#,
                    code.as_str()
                ))
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
