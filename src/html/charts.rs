//! The distribution of nodes by request share, now and after the plan: one histogram of
//! 10 % buckets per shown dimension (CPU, memory, every extended resource), as inline SVG.

use std::fmt::Write;

use super::{Ctx, escape, thousands};

/// Buckets of a histogram: 0–10 %, 10–20 %, …, 90–100 %.
pub(crate) const BUCKETS: usize = 10;

/// The bucket of a node whose requests are `requested` of `allocatable`: `share × 10`
/// rounded down, so a bucket holds its lower edge (10 % is in 10–20 %); 100 % and more (an
/// over-committed node) are in the last. `None` when nothing is allocatable: the node does
/// not count in that dimension (a node without GPUs is not in the GPU histogram).
pub(crate) fn bucket(requested: u64, allocatable: u64) -> Option<usize> {
    if allocatable == 0 {
        return None;
    }
    let b = u128::from(requested) * BUCKETS as u128 / u128::from(allocatable);
    Some(usize::try_from(b).map_or(BUCKETS - 1, |b| b.min(BUCKETS - 1)))
}

/// Nodes per bucket of one dimension, now (every node that offers it) and after the plan
/// (the nodes that stay, with the moved pods on their predicted nodes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Histogram {
    /// Dimension index in the snapshot.
    pub dim: usize,
    /// Nodes per bucket now.
    pub now: [u32; BUCKETS],
    /// Nodes per bucket after the plan.
    pub after: [u32; BUCKETS],
}

impl Histogram {
    /// Nodes counted now.
    pub(crate) fn nodes_now(&self) -> u32 {
        self.now.iter().sum()
    }

    /// Nodes counted after the plan.
    pub(crate) fn nodes_after(&self) -> u32 {
        self.after.iter().sum()
    }
}

/// The histograms of the shown dimensions.
///
/// # Complexity
/// O(nodes × dimensions).
pub(crate) fn histograms(c: &Ctx<'_>) -> Vec<Histogram> {
    let snap = c.r.snapshot;
    c.dims
        .iter()
        .map(|&d| {
            let mut h = Histogram {
                dim: d,
                now: [0; BUCKETS],
                after: [0; BUCKETS],
            };
            for (i, node) in snap.nodes().iter().enumerate() {
                let alloc = node.allocatable[d];
                if let Some(b) = bucket(snap.requested(i)[d], alloc) {
                    h.now[b] += 1;
                }
                if !c.fates[i].drained()
                    && let Some(b) = bucket(c.after[i][d], alloc)
                {
                    h.after[b] += 1;
                }
            }
            h
        })
        .collect()
}

/// Colours of the two series.
const NOW: &str = "#9fb3c8";
const AFTER: &str = "#334e68";

/// One histogram as SVG: a pair of bars per bucket (now, after), a scale line at the
/// tallest bar, the share on the x axis; every bar has a tooltip with its count.
pub(crate) fn svg(out: &mut String, h: &Histogram, name: &str) {
    const W: f64 = 330.0;
    const H: f64 = 130.0;
    const X0: f64 = 30.0;
    const TOP: f64 = 12.0;
    const BASE: f64 = 112.0;
    let slot = (W - X0 - 6.0) / BUCKETS as f64;
    let max = h
        .now
        .iter()
        .chain(&h.after)
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let y = |n: u32| BASE - (BASE - TOP) * f64::from(n) / f64::from(max);
    let _ = write!(
        out,
        r##"<svg width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" aria-label="{name}: nodes by request share, now and after the plan"><line x1="{X0}" x2="{xe:.0}" y1="{BASE}" y2="{BASE}" stroke="#9aa5b1"/><line x1="{X0}" x2="{xe:.0}" y1="{TOP}" y2="{TOP}" stroke="#e4e7eb" stroke-dasharray="3,2"/><text x="{tx}" y="{ty}" text-anchor="end">{max}</text><text x="{tx}" y="{BASE}" text-anchor="end">0</text>"##,
        xe = W - 6.0,
        tx = X0 - 4.0,
        ty = TOP + 4.0,
        name = escape(name),
        max = thousands(u64::from(max)),
    );
    for b in 0..BUCKETS {
        let x = X0 + slot * b as f64;
        let bw = (slot - 6.0) / 2.0;
        for (k, (n, colour)) in [(h.now[b], NOW), (h.after[b], AFTER)]
            .into_iter()
            .enumerate()
        {
            if n == 0 {
                continue;
            }
            let top = y(n).min(BASE - 1.0);
            let _ = write!(
                out,
                r#"<rect x="{:.1}" y="{top:.1}" width="{bw:.1}" height="{:.1}" fill="{colour}"><title>{}–{} %: {} node(s) {}</title></rect>"#,
                x + 3.0 + bw * k as f64,
                BASE - top,
                b * 10,
                b * 10 + 10,
                thousands(u64::from(n)),
                if k == 0 { "now" } else { "after the plan" },
            );
        }
    }
    for b in (0..=BUCKETS).step_by(2) {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.0}" text-anchor="{}">{}{}</text>"#,
            X0 + slot * b as f64 + if b == BUCKETS { 6.0 } else { 0.0 },
            BASE + 13.0,
            if b == BUCKETS { "end" } else { "middle" },
            b * 10,
            if b == BUCKETS { " %" } else { "" }
        );
    }
    out.push_str("</svg>");
}

/// The distribution section.
pub(crate) fn section(html: &mut String, c: &Ctx<'_>) {
    let _ = write!(
        html,
        r#"<section id="ov-dist"><h2>Nodes by request share, now and after the plan</h2><p class="legend"><span><i class="sw" style="background:{NOW}"></i>now</span><span><i class="sw" style="background:{AFTER}"></i>after the plan (the nodes that stay)</span><span>requests of the node's pods ÷ allocatable, in 10 % buckets; a node is counted where it has the resource</span></p><div class="charts">"#
    );
    for h in histograms(c) {
        let name = c.dim_name(h.dim);
        let _ = write!(
            html,
            r#"<figure class="chart" data-dim="{n}" style="margin:0"><h3><b>{n}</b> · {} nodes now, {} after</h3>"#,
            thousands(u64::from(h.nodes_now())),
            thousands(u64::from(h.nodes_after())),
            n = escape(name),
        );
        svg(html, &h, name);
        html.push_str("</figure>");
    }
    html.push_str("</div></section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::tests::hostile;
    use compactor_core::cost::Pricing;
    use compactor_core::plan::{PlanOptions, plan};

    #[test]
    fn buckets_are_ten_percent_wide_lower_edge_in() {
        assert_eq!(bucket(0, 100), Some(0));
        assert_eq!(bucket(9, 100), Some(0));
        assert_eq!(bucket(10, 100), Some(1));
        assert_eq!(bucket(699, 1000), Some(6));
        assert_eq!(bucket(70, 100), Some(7));
        assert_eq!(bucket(99, 100), Some(9));
        assert_eq!(bucket(100, 100), Some(9));
        assert_eq!(bucket(250, 100), Some(9), "over-committed: last bucket");
        assert_eq!(bucket(u64::MAX, 1), Some(9), "no overflow");
        assert_eq!(bucket(5, 0), None, "nothing allocatable: not counted");
        assert_eq!(bucket(0, 0), None);
    }

    #[test]
    fn histograms_count_every_node_that_has_the_resource() {
        let snap = hostile();
        let p = plan(&snap, &PlanOptions::default()).expect("plan");
        let pricing = Pricing::default();
        let c = Ctx::new(crate::html::tests::report(&snap, &p, &pricing, None));
        let hs = histograms(&c);
        let names: Vec<&str> = hs.iter().map(|h| c.dim_name(h.dim)).collect();
        assert_eq!(names, ["cpu", "memory", "nvidia.com/gpu"]);
        let kept = 4 - p.drain.len() as u32;
        for h in &hs[..2] {
            assert_eq!((h.nodes_now(), h.nodes_after()), (4, kept));
        }
        // a: 2 of 4 CPU = 50 %; b: 500m = 12.5 %; g: 1 of 4 = 25 %; x: 100m = 2.5 %.
        assert_eq!(hs[0].now, [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]);
        // Only g has GPUs: 1 of 2 requested, now and after.
        assert_eq!(hs[2].now, [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(hs[2].after, hs[2].now);
        let mut svg_text = String::new();
        svg(&mut svg_text, &hs[0], "cpu");
        let bars = hs[0]
            .now
            .iter()
            .chain(&hs[0].after)
            .filter(|&&n| n > 0)
            .count();
        assert_eq!(svg_text.matches("<rect").count(), bars);
        assert_eq!(svg_text.matches("<title>").count(), bars);
    }
}
