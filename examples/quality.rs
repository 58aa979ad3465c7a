//! Quality harness: packs published vector bin packing instances with every strategy, checks
//! every solution with an independent validator, and compares with the known optima and the
//! published virtual best.
//!
//! ```sh
//! cargo run --release --example quality -- ../shared/benchdata/vectorpack
//! cargo run --release --example quality -- DIR --output json --budget 20000 --seed 1
//! RAYON_NUM_THREADS=1 cargo run --release --example quality -- DIR   # single-threaded
//! cargo run --release --example quality -- DIR --only Panigrahy/class7   # a subset
//! cargo run --release --example quality -- DIR --misses   # list where search is above OPT or over 1 s
//! cargo run --release --example quality -- DIR --solutions /tmp/solutions   # every packing
//! ```
//!
//! `--output json` gives the summary rows and one record per instance (path, items,
//! dimensions, the known optimum and bounds, and per strategy the bins and the time).
//! `--solutions DIR` writes every packing as `DIR/<instance path>.<strategy>.json`:
//! `{"instance", "strategy", "bins", "capacity", "items", "assignment"}`, where `items` are
//! the instance's items in file order (an item line with multiplicity k gives k items) and
//! `assignment[i]` is item i's bin (0-based), so that anyone can check them with their own
//! tools.
//!
//! DIR holds `.vbp` files (in any sub-folders: `Family/classK/name.vbp`) and tab-separated
//! summary files (`*summary*.csv` in DIR or a family folder) with the columns
//! `instance_name LB OPT best_overall …` (OPT −1 when unknown).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use compactor_core::bounds::martello_toth_l2;
use compactor_core::packing::{Instance, Packing, SearchOptions, StrategyKind, pack, pack_search};
use serde::Serialize;

#[derive(Debug, Clone, Copy)]
struct Known {
    lb: usize,
    opt: Option<usize>,
    best_overall: Option<usize>,
}

#[derive(Debug, Default, Clone, Serialize)]
struct Stats {
    instances: usize,
    known_opt: usize,
    sum_ratio_opt: f64,
    optimal: usize,
    within_one: usize,
    unknown_opt: usize,
    sum_ratio_lb: f64,
    sum_ms: f64,
    max_ms: f64,
    published_known: usize,
    sum_published_ratio: f64,
}

#[derive(Debug, Serialize)]
struct Row {
    family: String,
    class: String,
    strategy: String,
    instances: usize,
    mean_bins_over_opt: Option<f64>,
    share_optimal: Option<f64>,
    share_within_opt_plus_one: Option<f64>,
    mean_bins_over_lb_where_opt_unknown: Option<f64>,
    mean_ms: f64,
    max_ms: f64,
    published_virtual_best_over_opt: Option<f64>,
}

/// One instance's results, for `--output json`.
#[derive(Debug, Serialize)]
struct InstanceRecord {
    path: String,
    family: String,
    class: String,
    items: usize,
    dimensions: usize,
    optimum: Option<usize>,
    /// The larger of the summary's lower bound and our Martello–Toth L2.
    lower_bound: usize,
    published_best: Option<usize>,
    /// Per strategy: bins and milliseconds.
    results: BTreeMap<&'static str, StrategyResult>,
}

#[derive(Debug, Serialize)]
struct StrategyResult {
    bins: usize,
    ms: f64,
}

struct Args {
    dir: PathBuf,
    only: Vec<String>,
    json: bool,
    /// Where to write every packing.
    solutions: Option<PathBuf>,
    /// Print one line per instance where `search` is above the known optimum.
    misses: bool,
    options: SearchOptions,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut dir = None;
    let mut json = false;
    let mut only = Vec::new();
    let mut misses = false;
    let mut solutions = None;
    let mut options = SearchOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--output" => match args.next().as_deref() {
                Some("json") => json = true,
                Some("table") => json = false,
                other => bail!("--output takes table or json, not {other:?}"),
            },
            "--budget" => {
                options.budget = args
                    .next()
                    .context("--budget needs a number")?
                    .parse()
                    .context("--budget")?
            }
            "--work" => {
                options.work_limit = args
                    .next()
                    .context("--work needs a number")?
                    .parse()
                    .context("--work")?
            }
            "--misses" => misses = true,
            "--solutions" => {
                solutions = Some(PathBuf::from(
                    args.next().context("--solutions needs a folder")?,
                ))
            }
            "--only" => only.push(args.next().context("--only needs a path fragment")?),
            "--seed" => {
                options.seed = args
                    .next()
                    .context("--seed needs a number")?
                    .parse()
                    .context("--seed")?
            }
            _ if dir.is_none() && !a.starts_with("--") => dir = Some(PathBuf::from(a)),
            _ => bail!(
                "unexpected argument {a:?}; usage: quality DIR [--output table|json] [--budget N] [--work N] [--seed S] [--only FRAGMENT] [--misses] [--solutions DIR]"
            ),
        }
    }
    Ok(Args {
        dir: dir.context(
            "usage: quality DIR [--output table|json] [--budget N] [--work N] [--seed S] [--only FRAGMENT] [--misses] [--solutions DIR]",
        )?,
        json,
        solutions,
        only,
        misses,
        options,
    })
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let known = read_summaries(&args.dir)?;
    let mut files = Vec::new();
    collect_vbp(&args.dir, 0, &mut files)?;
    files.sort();
    if !args.only.is_empty() {
        files.retain(|f| {
            args.only
                .iter()
                .any(|o| f.to_string_lossy().contains(o.as_str()))
        });
    }
    if files.is_empty() {
        bail!("{}: no .vbp files found", args.dir.display());
    }
    let strategies = ["first-fit", "best-fit", "search"];
    let mut stats: BTreeMap<(String, String, &str), Stats> = BTreeMap::new();
    let mut rejected = 0;
    let mut records = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(&args.dir).unwrap_or(path);
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let family = if parts.len() > 1 {
            parts[0].clone()
        } else {
            dir_name(&args.dir)
        };
        let class = if parts.len() > 2 {
            parts[parts.len() - 2].clone()
        } else {
            "-".into()
        };
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        let instance = match Instance::parse_vbp(&text, expected_items(&name)) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("skipped {}: {e}", path.display());
                rejected += 1;
                continue;
            }
        };
        let k = known
            .get(&(family.clone(), name.clone()))
            .or_else(|| known.get(&(String::new(), name.clone())))
            .copied();
        let our_lb = martello_toth_l2(&instance.items, &instance.capacity);
        let mut record = InstanceRecord {
            path: rel.to_string_lossy().into_owned(),
            family: family.clone(),
            class: class.clone(),
            items: instance.items.len(),
            dimensions: instance.capacity.len(),
            optimum: k.and_then(|k| k.opt),
            lower_bound: k.map_or(our_lb, |k| k.lb.max(our_lb)),
            published_best: k.and_then(|k| k.best_overall),
            results: BTreeMap::new(),
        };
        for strategy in strategies {
            let t = Instant::now();
            let packing = match strategy {
                "first-fit" => pack(&instance.items, &instance.capacity, StrategyKind::FirstFit)?,
                "best-fit" => pack(&instance.items, &instance.capacity, StrategyKind::BestFit)?,
                _ => {
                    let r = pack_search(&instance.items, &instance.capacity, args.options)?;
                    let ms = t.elapsed().as_secs_f64() * 1e3;
                    let opt = k.and_then(|k| k.opt);
                    let above = opt.is_some_and(|opt| r.packing.bins > opt);
                    if args.misses && (above || ms > 1000.0) {
                        eprintln!(
                            "{} {family}/{name}: {} bins, OPT {}, our LB {}, {ms:.0} ms, {} moves, {} work, start {}",
                            if above { "miss" } else { "slow" },
                            r.packing.bins,
                            opt.map_or("unknown".into(), |o| o.to_string()),
                            r.lower_bound,
                            r.moves,
                            r.work,
                            r.start_rule
                        );
                    }
                    r.packing
                }
            };
            let ms = t.elapsed().as_secs_f64() * 1e3;
            if let Err(e) = check(&instance, &packing) {
                bail!(
                    "{}: {strategy} produced an invalid packing: {e}",
                    path.display()
                );
            }
            if let Some(opt) = k.and_then(|k| k.opt)
                && packing.bins < opt
            {
                bail!(
                    "{}: {strategy} used {} bins, below the known optimum {opt}",
                    path.display(),
                    packing.bins
                );
            }
            record.results.insert(
                strategy,
                StrategyResult {
                    bins: packing.bins,
                    ms,
                },
            );
            if let Some(dir) = &args.solutions {
                write_solution(dir, rel, strategy, &instance, &packing)?;
            }
            for key in [
                (family.clone(), class.clone(), strategy),
                (family.clone(), "all".to_owned(), strategy),
            ] {
                let s = stats.entry(key).or_default();
                s.instances += 1;
                s.sum_ms += ms;
                s.max_ms = s.max_ms.max(ms);
                match k.and_then(|k| k.opt) {
                    Some(opt) => {
                        s.known_opt += 1;
                        s.sum_ratio_opt += packing.bins as f64 / opt as f64;
                        s.optimal += usize::from(packing.bins == opt);
                        s.within_one += usize::from(packing.bins <= opt + 1);
                        if let Some(best) = k.and_then(|k| k.best_overall) {
                            s.published_known += 1;
                            s.sum_published_ratio += best as f64 / opt as f64;
                        }
                    }
                    None => {
                        let lb = k.map_or(our_lb, |k| k.lb.max(our_lb)).max(1);
                        s.unknown_opt += 1;
                        s.sum_ratio_lb += packing.bins as f64 / lb as f64;
                    }
                }
            }
        }
        records.push(record);
    }
    let rows: Vec<Row> = stats
        .into_iter()
        .map(|((family, class, strategy), s)| Row {
            family,
            class,
            strategy: strategy.to_owned(),
            instances: s.instances,
            mean_bins_over_opt: (s.known_opt > 0).then(|| s.sum_ratio_opt / s.known_opt as f64),
            share_optimal: (s.known_opt > 0).then(|| s.optimal as f64 / s.known_opt as f64),
            share_within_opt_plus_one: (s.known_opt > 0)
                .then(|| s.within_one as f64 / s.known_opt as f64),
            mean_bins_over_lb_where_opt_unknown: (s.unknown_opt > 0)
                .then(|| s.sum_ratio_lb / s.unknown_opt as f64),
            mean_ms: s.sum_ms / s.instances.max(1) as f64,
            max_ms: s.max_ms,
            published_virtual_best_over_opt: (s.published_known > 0)
                .then(|| s.sum_published_ratio / s.published_known as f64),
        })
        .collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "budget": args.options.budget, "work_limit": args.options.work_limit, "seed": args.options.seed, "rejected_files": rejected, "lower_bound": "max(summary LB, Martello-Toth L2 per dimension)", "rows": rows,
                "instances": records
            }))?
        );
        return Ok(());
    }
    let f = |v: Option<f64>, pct: bool| match v {
        None => "-".to_owned(),
        Some(x) if pct => format!("{:.1} %", x * 100.0),
        Some(x) => format!("{x:.4}"),
    };
    println!(
        "{:<10} {:<7} {:<10} {:>5} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "family",
        "class",
        "strategy",
        "n",
        "bins/OPT",
        "optimal",
        "<=OPT+1",
        "bins/LB",
        "mean ms",
        "max ms",
        "published"
    );
    for r in &rows {
        println!(
            "{:<10} {:<7} {:<10} {:>5} {:>9} {:>8} {:>9} {:>9} {:>9.2} {:>9.2} {:>10}",
            r.family,
            r.class,
            r.strategy,
            r.instances,
            f(r.mean_bins_over_opt, false),
            f(r.share_optimal, true),
            f(r.share_within_opt_plus_one, true),
            f(r.mean_bins_over_lb_where_opt_unknown, false),
            r.mean_ms,
            r.max_ms,
            f(r.published_virtual_best_over_opt, false)
        );
    }
    println!(
        "budget {} moves or {} units of work, seed {}; {} files rejected by validation; published = virtual best of 351 heuristics (best_overall / OPT); bins/LB where OPT is unknown, LB = the larger of the summary's LB and our Martello-Toth L2 per dimension",
        args.options.budget, args.options.work_limit, args.options.seed, rejected
    );
    Ok(())
}

/// Writes `packing` of `instance` (at `rel` under the instance folder) as
/// `dir/<rel without .vbp>.<strategy>.json`.
fn write_solution(
    dir: &Path,
    rel: &Path,
    strategy: &str,
    instance: &Instance,
    packing: &Packing,
) -> anyhow::Result<()> {
    let mut path = dir.join(rel);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.set_file_name(format!("{stem}.{strategy}.json"));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| parent.display().to_string())?;
    }
    let body = serde_json::json!({
        "instance": rel.to_string_lossy(),
        "strategy": strategy,
        "bins": packing.bins,
        "capacity": instance.capacity,
        "items": instance.items,
        "assignment": packing.assignment,
    });
    std::fs::write(&path, serde_json::to_string(&body)?).with_context(|| path.display().to_string())
}

fn dir_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "instances".into())
}

/// `classK_N_D_S` → N.
fn expected_items(name: &str) -> Option<usize> {
    let parts: Vec<&str> = name.split('_').collect();
    (parts.len() == 4).then(|| parts[1].parse().ok()).flatten()
}

/// Independent check: every item in one bin, bins numbered densely, no bin over capacity.
fn check(instance: &Instance, p: &Packing) -> Result<(), String> {
    if p.assignment.len() != instance.items.len() {
        return Err(format!(
            "{} assignments for {} items",
            p.assignment.len(),
            instance.items.len()
        ));
    }
    let mut load = vec![vec![0u64; instance.capacity.len()]; p.bins];
    for (i, (item, b)) in instance.items.iter().zip(&p.assignment).enumerate() {
        let bin = load
            .get_mut(*b)
            .ok_or_else(|| format!("item {i} in bin {b} of {}", p.bins))?;
        for (l, x) in bin.iter_mut().zip(item) {
            *l += x;
        }
    }
    for (b, l) in load.iter().enumerate() {
        if l.iter().all(|x| *x == 0) && !instance.items.is_empty() {
            return Err(format!("bin {b} is empty"));
        }
        if let Some(k) = l.iter().zip(&instance.capacity).position(|(x, c)| x > c) {
            return Err(format!("bin {b} is over capacity in dimension {k}"));
        }
    }
    Ok(())
}

fn collect_vbp(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("{}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() && depth < 4 {
            collect_vbp(&path, depth + 1, out)?;
        } else if path.extension().is_some_and(|e| e == "vbp") {
            out.push(path);
        }
    }
    Ok(())
}

/// Known values by `(family, instance)`; the family is the summary file name up to
/// `_summary` (`New_summary_known.csv` → `New`), or empty.
fn read_summaries(dir: &Path) -> anyhow::Result<BTreeMap<(String, String), Known>> {
    let mut out = BTreeMap::new();
    let mut candidates: Vec<PathBuf> = Vec::new();
    let mut scan = |d: &Path| -> anyhow::Result<()> {
        if let Ok(entries) = std::fs::read_dir(d) {
            for e in entries {
                let p = e?.path();
                let name = p
                    .file_name()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if name.ends_with(".csv") && name.contains("summary") {
                    candidates.push(p);
                }
            }
        }
        Ok(())
    };
    scan(dir)?;
    if let Some(parent) = dir.parent() {
        scan(parent)?;
    }
    for path in candidates {
        let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
        let file = path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let family = file
            .split("_summary")
            .next()
            .filter(|f| *f != file)
            .unwrap_or("")
            .to_owned();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
        let col = |name: &str| header.iter().position(|h| h.trim() == name);
        let (Some(ci), Some(cl), Some(co)) = (col("instance_name"), col("LB"), col("OPT")) else {
            bail!(
                "{}: expected tab-separated columns instance_name, LB, OPT",
                path.display()
            );
        };
        let cb = col("best_overall");
        for (no, line) in lines.enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let cells: Vec<&str> = line.split('\t').collect();
            let num = |c: usize| -> anyhow::Result<i64> {
                cells
                    .get(c)
                    .context("missing column")?
                    .trim()
                    .parse::<i64>()
                    .context("not an integer")
            };
            let row = || -> anyhow::Result<Known> {
                let opt = num(co)?;
                Ok(Known {
                    lb: usize::try_from(num(cl)?).unwrap_or(0),
                    opt: usize::try_from(opt).ok().filter(|_| opt > 0),
                    best_overall: cb
                        .and_then(|c| num(c).ok())
                        .and_then(|v| usize::try_from(v).ok()),
                })
            };
            let known = row().with_context(|| format!("{}:{}", path.display(), no + 2))?;
            out.insert((family.clone(), cells[ci].trim().to_owned()), known);
        }
    }
    Ok(out)
}
