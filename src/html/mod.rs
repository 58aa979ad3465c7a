//! The self-contained HTML report of `analyze --output html` and `plan --output html`: one
//! file, inline CSS, inline SVG and a small inline script (sorting, filtering, collapsing);
//! no network, no external asset.
//!
//! The page opens with the overview, which fits the first screen, and ends with the node list:
//! 1. cards: nodes now → after the plan → lower bound, pods, cost now → after, the request
//!    share of every extended resource (GPUs), and for `analyze` the efficiency and the what-if;
//! 2. the distribution of nodes by request share, now and after the plan, per dimension
//!    ([`charts`]);
//! 3. node pools by instance type (and by the `--group-by` label): nodes, cost and request
//!    share (and usage, when known) now → after ([`pools`]);
//! 4. why nodes stay: kept nodes counted by reason code, each opening the list of its nodes
//!    ([`reasons`]);
//! 5. the plan in figures, then for `analyze` the what-if, utilisation and workloads
//!    ([`analysis`]);
//! 6. the node list, sortable and filterable, collapsed beyond the first rows: cards with bars
//!    for small clusters, compact rows for big ones ([`nodes`]).
//!
//! Every name and label value comes from the input and goes through [`escape`]; the script
//! reads them back only as text (never as markup).

mod analysis;
pub(crate) mod charts;
pub(crate) mod nodes;
pub(crate) mod pools;
pub(crate) mod reasons;

use std::fmt::Write;

use compactor_core::Snapshot;
use compactor_core::analysis::{Analysis, NodeAnalysis};
use compactor_core::cost::{HOURS_PER_MONTH, Pricing};
use compactor_core::model::INSTANCE_TYPE_LABEL;
use compactor_core::plan::{DrainedNode, KeptNode, Plan};
use compactor_core::resources::{Dimensions, human};

/// What a report shows: the snapshot, its plan, and for `analyze` the analysis.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Report<'a> {
    /// The snapshot the plan was made from (for `analyze`, with the usage applied).
    pub snapshot: &'a Snapshot,
    /// The plan (for `analyze`, `analysis.plan`).
    pub plan: &'a Plan,
    /// Where the snapshot came from (a file name, `live cluster`, the demo).
    pub source: &'a str,
    /// The node prices the plan used.
    pub pricing: &'a Pricing,
    /// The label whose values group nodes into pools (`--group-by`), besides the instance type.
    pub group_by: Option<&'a str>,
    /// The analysis, for `analyze`; `None` for `plan`.
    pub analysis: Option<&'a Analysis>,
}

/// Escapes text for HTML content and attribute values (control and direction characters
/// as `\n`, `\u{1b}`, …).
pub fn escape(s: &str) -> String {
    let s = compactor_core::text::printable(s);
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `n` with thousands separators: `1,523`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Dollars in a few characters, for tables: `$9,728`, `$858k`, `$2.00M`.
pub(crate) fn short_dollars(v: f64) -> String {
    let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
    if v < 10_000.0 {
        format!("${}", thousands(v.round() as u64))
    } else if v < 1_000_000.0 {
        format!("${:.0}k", v / 1_000.0)
    } else if v < 1_000_000_000.0 {
        format!("${:.2}M", v / 1_000_000.0)
    } else {
        format!("${:.2}B", v / 1_000_000_000.0)
    }
}

/// `part` as a whole percentage of `whole`; `None` when `whole` is zero.
pub(crate) fn percent(part: u64, whole: u64) -> Option<u64> {
    (whole > 0).then(|| {
        let p = (u128::from(part) * 100 + u128::from(whole) / 2) / u128::from(whole);
        u64::try_from(p).unwrap_or(u64::MAX)
    })
}

/// What the plan does with a node.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fate<'a> {
    /// Drained: its pods move, the node can go.
    Drained(&'a DrainedNode),
    /// Kept, with its reason; `true` when it is also cordoned while the plan runs.
    Kept(&'a KeptNode, bool),
    /// Neither (a plan that does not name the node; not made by this planner).
    Unknown,
}

impl Fate<'_> {
    /// The filter key: `drained`, the reason code, or `unknown`.
    pub(crate) fn key(&self) -> &'static str {
        match self {
            Fate::Drained(_) => "drained",
            Fate::Kept(k, _) => k.reason.code.as_str(),
            Fate::Unknown => "unknown",
        }
    }

    /// Whether the plan drains the node.
    pub(crate) fn drained(&self) -> bool {
        matches!(self, Fate::Drained(_))
    }
}

/// Everything the sections share, computed once.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    /// The report.
    pub r: Report<'a>,
    /// The dimensions shown: CPU, memory and every extended resource some node offers.
    pub dims: Vec<usize>,
    /// Requests per node (dense) after the plan (a drained node holds nothing).
    pub after: Vec<Vec<u64>>,
    /// The plan's verdict on each node, by snapshot index.
    pub fates: Vec<Fate<'a>>,
    /// The analysis of each node, by snapshot index (`analyze` only).
    pub analyzed: Vec<Option<&'a NodeAnalysis>>,
    /// Each node's price per month, by snapshot index.
    pub monthly: Vec<f64>,
    /// Whether some node's CPU or memory usage is known (`analyze` with metrics).
    pub usage: bool,
}

impl<'a> Ctx<'a> {
    /// Computes the shared figures.
    ///
    /// # Complexity
    /// O(nodes × (dimensions + log nodes) + moves × (log pods + dimensions)).
    pub(crate) fn new(r: Report<'a>) -> Self {
        let snap = r.snapshot;
        let plan = r.plan;
        let names = snap.dims();
        // The overview's dimensions, less the CSI attachment counts (not extended resources
        // a pod asks for by name).
        let dims: Vec<usize> = crate::overview::shown_dimensions(snap)
            .into_iter()
            .filter(|&d| names.label(d) == names.name(d))
            .collect();
        let after = crate::overview::requested_after(snap, plan);
        let mut fates = vec![Fate::Unknown; snap.nodes().len()];
        let cordon: std::collections::BTreeSet<&str> =
            plan.cordon_only.iter().map(String::as_str).collect();
        for k in &plan.kept {
            if let Some(i) = snap.node_index(&k.node) {
                fates[i] = Fate::Kept(k, cordon.contains(k.node.as_str()));
            }
        }
        for d in &plan.drain {
            if let Some(i) = snap.node_index(&d.node) {
                fates[i] = Fate::Drained(d);
            }
        }
        let mut analyzed = vec![None; snap.nodes().len()];
        if let Some(a) = r.analysis {
            for n in &a.nodes {
                if let Some(i) = snap.node_index(&n.node) {
                    analyzed[i] = Some(n);
                }
            }
        }
        let monthly = snap
            .nodes()
            .iter()
            .map(|n| r.pricing.hourly(&n.spec).0 * HOURS_PER_MONTH)
            .collect();
        let usage = analyzed.iter().flatten().any(|n| {
            [Dimensions::CPU, Dimensions::MEMORY]
                .iter()
                .any(|&d| n.resources.get(d).is_some_and(|f| f.used.is_some()))
        });
        Self {
            r,
            dims,
            after,
            fates,
            analyzed,
            monthly,
            usage,
        }
    }

    /// The pool of node `i`: the `--group-by` label's value, else the instance type.
    pub(crate) fn pool(&self, i: usize) -> &'a str {
        pools::pool_of(&self.r.snapshot.nodes()[i].spec, self.r.group_by)
    }

    /// The instance type of node `i`, when labelled.
    pub(crate) fn instance_type(&self, i: usize) -> Option<&'a str> {
        self.r.snapshot.nodes()[i]
            .spec
            .labels
            .get(INSTANCE_TYPE_LABEL)
            .map(String::as_str)
    }

    /// A short name of dimension `d` for headers: `cpu`, `memory`, `nvidia.com/gpu`.
    pub(crate) fn dim_name(&self, d: usize) -> &'a str {
        self.r.snapshot.dims().name(d)
    }
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.2rem auto;max-width:1200px;color:#1f2933;padding:0 1rem}
h1{font-size:1.4rem;margin:0 0 .1rem}h2{font-size:1.1rem;margin:1.2rem 0 .4rem;border-bottom:1px solid #d9e2ec;padding-bottom:.25rem}
h3{font-size:.95rem;margin:.2rem 0}
.sub{color:#52606d;margin:0;font-size:.9rem}
.cards{display:flex;flex-wrap:wrap;gap:.6rem;margin:.7rem 0 0}
.card{border:1px solid #d9e2ec;border-radius:6px;padding:.45rem .8rem;min-width:130px}
.card b{display:block;font-size:1.25rem}.card span{color:#52606d;font-size:.8rem}
.card.good{border-color:#3ebd93;background:#effcf6}
.charts{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem}
.chart h3{font-weight:normal;font-size:.85rem;color:#52606d}.chart h3 b{color:#1f2933}
.duo{display:grid;grid-template-columns:minmax(0,1.75fr) minmax(0,1fr);gap:0 1.4rem}
@media (max-width:900px){.duo{grid-template-columns:minmax(0,1fr)}}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:.3rem 0;font-size:.85rem}
th,td{border-bottom:1px solid #e4e7eb;padding:.22rem .5rem;text-align:left;vertical-align:top}th{background:#f5f7fa;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.t{white-space:nowrap}
tr.total td{font-weight:600}
small{color:#52606d}
.toggle{display:none}label.all{color:#2680c2;cursor:pointer;font-size:.85rem}
.toggle:not(:checked)~.scroll tr.more{display:none}.toggle:checked~label.all{display:none}
details.reason{border-bottom:1px solid #e4e7eb;padding:.25rem 0}
details.reason summary{cursor:pointer;list-style-position:inside}
details.reason .cnt{display:inline-block;min-width:3.2em;text-align:right;font-weight:600;font-variant-numeric:tabular-nums}
details.reason code{font-size:.85rem}
.what{display:block;color:#52606d;font-size:.8rem;margin-left:4.4em}
.names{font-size:.8rem;color:#334e68;max-height:12rem;overflow-y:auto;margin:.3rem 0 .3rem 4.4em}
.meter{display:inline-block;width:70px;height:8px;background:#e4e7eb;border-radius:2px;vertical-align:middle;margin-left:.4rem}
.meter i{display:block;height:8px;background:#9fb3c8;border-radius:2px}
button{font:inherit;font-size:.8rem;border:1px solid #bcccdc;background:#f5f7fa;border-radius:4px;padding:.1rem .5rem;cursor:pointer}
details.reason button{margin-left:4.4em}
.controls{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center;font-size:.85rem;margin:.3rem 0}
.controls select,.controls input{font:inherit}
#items.rows td{white-space:nowrap;text-align:right;font-variant-numeric:tabular-nums}#items.rows td.t{text-align:left}#items.rows td.d{text-align:left;color:#c65d21;font-weight:600}
#items.rows td.why{white-space:normal;text-align:left;font-size:.78rem;color:#52606d;min-width:18em}
#items th[data-k]{cursor:pointer}
.node{border:1px solid #d9e2ec;border-radius:6px;margin:.5rem 0;padding:.35rem .8rem}
.node .why{font-size:.8rem;color:#52606d;margin:.1rem 0}
.badge{display:inline-block;font-size:.75rem;border-radius:3px;padding:0 .4rem;margin-left:.4rem;background:#e4e7eb;font-weight:normal}
.badge.drained{background:#f9703e;color:#fff}.badge.whatif{background:#3ebd93;color:#fff}.badge.idle{background:#829ab1;color:#fff}
.legend span{display:inline-block;margin-right:1rem;font-size:.8rem}
.sw{display:inline-block;width:12px;height:12px;vertical-align:middle;margin-right:.3rem;border-radius:2px}
svg text{font-size:11px;fill:#334e68}
";

/// Sorting, filtering and collapsing of the node list; the reason lists' buttons; and, with
/// `#selftest` in the URL, the top of every overview section (and of the node list), the
/// milliseconds since navigation, then the nodes the `drained` filter shows and whether
/// sorting by pods (descending) orders them, written into the `html` element's
/// `data-selftest` attribute and the title (for the headless-browser test). Names
/// are only ever read and compared as text.
const SCRIPT: &str = r#"(function(){
var $=function(id){return document.getElementById(id)};
var box=$('items');
if(box){
var items=Array.prototype.slice.call(box.querySelectorAll('[data-s]'));
var nm=function(el){return el.getAttribute('data-n')||el.cells[0].textContent};
var pool=function(el){var p=el.getAttribute('data-p');return p===null?el.cells[1].textContent:p};
var holder=items.length?items[0].parentNode:null;
var first=+box.getAttribute('data-first')||25;
var st=$('f-state'),pl=$('f-pool'),q=$('f-name'),so=$('f-sort'),dirb=$('f-dir'),allb=$('f-all'),cnt=$('f-count');
var dir=1,expanded=false;
$('controls').hidden=false;
var key=function(el,k){
if(k==='n')return nm(el);
if(k==='p')return pool(el);
if(k==='s')return el.getAttribute('data-s');
var v=(el.getAttribute('data-v')||'').split(',')[+k];
return v===undefined||v===''?-1:+v;};
var apply=function(init){
var s=st.value,p=pl.value,t=q.value.toLowerCase(),k=so.value;
var sorted=init===true?items:items.slice().sort(function(a,b){
var x=key(a,k),y=key(b,k);
var c=x<y?-1:x>y?1:0;
if(c===0){x=nm(a);y=nm(b);return x<y?-1:x>y?1:0;}
return c*dir;});
var match=0;
sorted.forEach(function(el){
if(init!==true)holder.appendChild(el);
var fs=el.getAttribute('data-s');
var ok=(s===''||(s==='kept'?fs!=='drained':s===fs))&&(p===''||pool(el)===p)&&(t===''||nm(el).toLowerCase().indexOf(t)>=0);
if(ok)match++;
el.hidden=!(ok&&(expanded||match<=first));});
cnt.textContent=match+' of '+items.length+' nodes'+(!expanded&&match>first?', first '+first+' shown':'');
allb.hidden=expanded||match<=first;
allb.textContent='show all '+match;
dirb.textContent=dir>0?'\u2191':'\u2193';};
var again=function(){apply();};
[st,pl,so].forEach(function(e){e.addEventListener('change',again)});
q.addEventListener('input',again);
dirb.addEventListener('click',function(){dir=-dir;apply();});
allb.addEventListener('click',function(){expanded=true;apply();});
Array.prototype.forEach.call(box.querySelectorAll('th[data-k]'),function(th){
th.addEventListener('click',function(){var k=th.getAttribute('data-k');if(so.value===k){dir=-dir;}else{so.value=k;dir=1;}apply();});});
Array.prototype.forEach.call(document.querySelectorAll('button[data-reason]'),function(b){
b.addEventListener('click',function(){st.value=b.getAttribute('data-reason');pl.value='';q.value='';expanded=true;apply();$('nodes').scrollIntoView();});});
apply(true);}
if(location.hash==='#selftest'){
var r=[];
['ov-cards','ov-dist','ov-pools','ov-reasons','nodes'].forEach(function(id){var e=$(id);r.push(id+':'+(e?Math.round(e.getBoundingClientRect().top+window.scrollY):-1));});
r.push('ms:'+Math.round(performance.now()));
if(box){
var shown=function(){return Array.prototype.filter.call(holder.children,function(e){return e.hasAttribute('data-s')&&!e.hidden})};
st.value='drained';expanded=true;apply();r.push('drained:'+shown().length);
st.value='';so.value='0';dir=-1;apply();
var v=shown().map(function(e){return key(e,'0')}),ok=v.length===items.length?1:0;
for(var i=1;i<v.length;i++){if(v[i]>v[i-1])ok=0;}
r.push('sorted:'+ok);}
document.documentElement.setAttribute('data-selftest',r.join(' '));
document.title='selftest '+r.join(' ');}
})();"#;

/// Ids of the overview sections, in page order; each is at the top of the page (the browser
/// test checks that they start within the first screen; the script's self-test lists them).
#[cfg(test)]
pub(crate) const OVERVIEW_IDS: [&str; 4] = ["ov-cards", "ov-dist", "ov-pools", "ov-reasons"];

fn card(html: &mut String, value: &str, label: &str, good: bool) {
    let _ = write!(
        html,
        r#"<div class="card{}"><b>{}</b><span>{}</span></div>"#,
        if good { " good" } else { "" },
        escape(value),
        escape(label)
    );
}

/// The cards: nodes now → after → lower bound, pods, cost, extended resources, and for
/// `analyze` the efficiency and the what-if.
fn cards(html: &mut String, c: &Ctx<'_>) {
    let plan = c.r.plan;
    let s = &plan.summary;
    html.push_str(r#"<section id="ov-cards"><div class="cards">"#);
    let bound = match &plan.cap_lower_bound {
        Some(cb) => format!(
            "nodes now → after the plan → lower bound ({} at the {} % cap)",
            thousands(u64::from(cb.nodes)),
            plan.thresholds.max_utilization_percent,
        ),
        None => "nodes now → after the plan → lower bound".to_owned(),
    };
    card(
        html,
        &format!(
            "{} → {} → {}",
            thousands(u64::from(s.nodes)),
            thousands(u64::from(s.nodes_after)),
            thousands(u64::from(plan.lower_bound.nodes))
        ),
        &bound,
        s.nodes_after < s.nodes,
    );
    card(
        html,
        &thousands(u64::from(s.pods)),
        &if s.unscheduled_pods > 0 {
            format!(
                "running pods ({} unscheduled, not planned)",
                thousands(u64::from(s.unscheduled_pods))
            )
        } else {
            "running pods".to_owned()
        },
        false,
    );
    card(
        html,
        &format!(
            "{} → {}",
            short_dollars(s.hourly_cost * HOURS_PER_MONTH),
            short_dollars((s.hourly_cost - plan.savings.hourly).max(0.0) * HOURS_PER_MONTH)
        ),
        &format!("per month now → after, {} saved", plan.savings.formatted),
        plan.savings.monthly > 0.0,
    );
    let names = c.r.snapshot.dims();
    for &d in c.dims.iter().filter(|&&d| d > Dimensions::PODS) {
        let name = names.name(d);
        let (req, alloc) = (s.requested.get(name), s.allocatable.get(name));
        card(
            html,
            &percent(req, alloc).map_or("-".to_owned(), |p| format!("{p} %")),
            &format!(
                "{name} requested: {} of {}",
                human(name, req),
                human(name, alloc)
            ),
            false,
        );
    }
    if let Some(a) = c.r.analysis {
        card(
            html,
            &format!("{:.1}", a.cluster.efficiency.score),
            "efficiency score (of 100)",
            false,
        );
        if let Some(w) = &a.what_if {
            card(
                html,
                &w.additional_monthly_savings_formatted,
                &format!(
                    "more per month after right-sizing ({} more node(s) freed)",
                    w.additional_nodes_freed
                ),
                w.additional_nodes_freed > 0,
            );
        }
    }
    html.push_str("</div></section>\n");
}

/// The plan in figures: strategy, cap, drained nodes, moves, waves, notes.
fn plan_section(html: &mut String, c: &Ctx<'_>) {
    let p = c.r.plan;
    let t = &p.thresholds;
    let evictions: u32 = p.waves.iter().map(|w| w.evictions).sum();
    let _ = write!(
        html,
        "<section id=\"plan\"><h2>The plan</h2>\n<p>Strategy <b>{}</b>, safety <b>{}</b>: receiving nodes stay at or below {} % of allocatable CPU, memory and ephemeral storage (GPUs and other extended resources: allocatable). It drains <b>{}</b> of {} nodes with {} evictions in {} wave(s) of at most {} node(s); {} kept node(s) are cordoned while it runs; {} prediction(s) tie between nodes. Gap to the lower bound at the cap: {} node(s) ({:.1} %). Every move, wave and prediction: <code>kube-compactor plan -o json</code>.</p>\n",
        escape(p.strategy.name()),
        escape(t.level.name()),
        t.max_utilization_percent,
        thousands(p.drain.len() as u64),
        thousands(u64::from(p.summary.nodes)),
        thousands(u64::from(evictions)),
        p.waves.len(),
        t.max_nodes_per_wave,
        p.cordon_only.len(),
        p.summary.tied_predictions,
        p.summary.gap_nodes,
        p.summary.gap_percent,
    );
    if let Some(tr) = &p.traffic {
        let _ = writeln!(
            html,
            "<p>Cross-node traffic: {:.1} % now → {:.1} % after the plan ({} traffic groups).</p>",
            tr.before.cross_node_share * 100.0,
            tr.after.cross_node_share * 100.0,
            tr.groups
        );
    }
    if !p.notes.is_empty() {
        html.push_str("<ul>");
        for n in &p.notes {
            let _ = write!(html, "<li>{}</li>", escape(n));
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</section>\n");
}

/// The whole page.
///
/// # Complexity
/// O(nodes × (dimensions + log nodes) + moves × (log pods + dimensions) + workloads); the
/// page grows linearly with the nodes (one compact row each beyond [`nodes::CARD_LIMIT`]).
pub(crate) fn render(report: &Report<'_>) -> String {
    let c = Ctx::new(*report);
    let what = if report.analysis.is_some() {
        "analysis"
    } else {
        "plan"
    };
    let nodes = report.snapshot.nodes().len();
    let mut html = String::with_capacity(4096 + nodes * 420);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>kube-compactor {what}: {src}</title><style>{STYLE}</style></head><body>\n<h1>kube-compactor {what}</h1><p class=\"sub\">{src} · {} nodes · strategy {}, safety {} · report only: nothing is changed in the cluster</p>\n",
        thousands(nodes as u64),
        escape(report.plan.strategy.name()),
        escape(report.plan.thresholds.level.name()),
        src = escape(report.source),
    );
    cards(&mut html, &c);
    charts::section(&mut html, &c);
    html.push_str("<div class=\"duo\">");
    pools::section(&mut html, &c);
    reasons::section(&mut html, &c);
    html.push_str("</div>\n");
    plan_section(&mut html, &c);
    if let Some(a) = report.analysis {
        analysis::sections(&mut html, a);
    }
    nodes::section(&mut html, &c);
    let _ = write!(html, "<script>{SCRIPT}</script>\n</body></html>\n");
    html
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use compactor_core::plan::{PlanOptions, plan};

    /// A report of `plan` on `snap` without an analysis (source `t`).
    pub(crate) fn report<'a>(
        snap: &'a Snapshot,
        plan: &'a Plan,
        pricing: &'a Pricing,
        group_by: Option<&'a str>,
    ) -> Report<'a> {
        Report {
            snapshot: snap,
            plan,
            source: "t",
            pricing,
            group_by,
            analysis: None,
        }
    }

    /// A small cluster whose names and labels try to break out of the markup: two m5 nodes
    /// (one drains onto the other), a GPU node with a GPU pod, a node without labels.
    pub(crate) fn hostile() -> Snapshot {
        let node = |n: &str, it: &str, gpu: bool| {
            let mut alloc = serde_json::json!({"cpu": "4", "memory": "16Gi"});
            if gpu {
                alloc["nvidia.com/gpu"] = serde_json::json!("2");
            }
            serde_json::json!({"name": n, "allocatable": alloc,
                "labels": {"node.kubernetes.io/instance-type": it,
                           "team": "<img src=x onerror=alert(1)>"}})
        };
        let pod = |name: &str, node: &str, cpu: &str, gpu: bool| {
            let mut requests = serde_json::json!({"cpu": cpu, "memory": "1Gi"});
            if gpu {
                requests["nvidia.com/gpu"] = serde_json::json!("1");
            }
            serde_json::json!({"namespace": "shop", "name": name, "nodeName": node,
                "owner": {"kind": "Deployment", "name": name}, "replicas": 3,
                "readinessProbe": true,
                "containers": [{"name": "c", "requests": requests}]})
        };
        let mut bare = node("x\"><script>alert(1)</script>", "m5.xlarge", false);
        bare["labels"] = serde_json::json!({});
        let spec = serde_json::from_value(serde_json::json!({
            "nodes": [node("a", "m5.xlarge", false), node("b", "m5.xlarge", false),
                      node("g", "g4dn.<b>xlarge</b>", true), bare],
            "pods": [pod("big", "a", "2", false), pod("small", "b", "500m", false),
                     pod("train", "g", "1", true),
                     pod("tiny", "x\"><script>alert(1)</script>", "100m", false)]
        }))
        .expect("spec");
        Snapshot::new(spec).expect("snapshot")
    }

    #[test]
    fn numbers_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1523), "1,523");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(short_dollars(9728.4), "$9,728");
        assert_eq!(short_dollars(857_888.0), "$858k");
        assert_eq!(short_dollars(2_000_016.0), "$2.00M");
        assert_eq!(short_dollars(-5.0), "$0");
        assert_eq!(short_dollars(f64::NAN), "$0");
        assert_eq!(percent(1, 3), Some(33));
        assert_eq!(percent(2, 3), Some(67));
        assert_eq!(percent(5, 0), None);
        assert_eq!(percent(u64::MAX, 1), Some(u64::MAX));
    }

    #[test]
    fn escape_covers_markup_quotes_and_control_characters() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("a\nb\u{202e}"), "a\\nb\\u{202e}");
    }

    #[test]
    fn untrusted_names_and_labels_never_reach_the_page_as_markup() {
        let snap = hostile();
        let p = plan(&snap, &PlanOptions::default()).expect("plan");
        for group_by in [None, Some("team"), Some("<i>\"")] {
            let html = render(&Report {
                snapshot: &snap,
                plan: &p,
                source: "<source>",
                pricing: &Pricing::default(),
                group_by,
                analysis: None,
            });
            assert_eq!(html.matches("<script").count(), 1, "only the report's own");
            assert!(!html.contains("<img"));
            assert!(!html.contains("<b>xlarge"));
            assert!(!html.contains("<source>"));
            assert!(!html.contains("<i>\""));
            assert!(html.contains("x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
            if group_by == Some("team") {
                assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
            }
        }
    }

    #[test]
    fn sections_come_in_order_overview_first() {
        let snap = hostile();
        let p = plan(&snap, &PlanOptions::default()).expect("plan");
        let html = render(&Report {
            snapshot: &snap,
            plan: &p,
            source: "test",
            pricing: &Pricing::default(),
            group_by: Some("team"),
            analysis: None,
        });
        let at = |id: &str| {
            html.find(&format!("id=\"{id}\""))
                .unwrap_or_else(|| panic!("no section {id}"))
        };
        let mut last = 0;
        for id in OVERVIEW_IDS.iter().copied().chain(["plan", "nodes"]) {
            assert!(at(id) > last, "{id} out of order");
            last = at(id);
        }
        // GPUs show: a card, a chart, a pool column.
        assert!(html.contains("nvidia.com/gpu requested: 1 of 2"));
        assert!(html.contains("data-dim=\"nvidia.com/gpu\""));
    }
}
