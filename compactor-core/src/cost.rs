//! Node prices (DESIGN §8).
//!
//! The hourly price of a node comes from, in order: the pricing table by instance type (the
//! most specific matching entry: instance type + zone + capacity type beats instance type
//! alone), the node annotation `optimizer.io/hourly-cost`, else per-resource rates
//! (defaults $30 per vCPU-month and $4 per GiB-month of allocatable). Monthly = hourly × 730.

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::model::{
    CAPACITY_TYPE_LABEL, HOURLY_COST_ANNOTATION, INSTANCE_TYPE_LABEL, NodeSpec, ZONE_LABEL,
};
use crate::resources::{CPU, MEMORY};

/// Hours in a month, as cloud price sheets count them.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// One row of a price table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceEntry {
    /// `node.kubernetes.io/instance-type`.
    pub instance_type: String,
    /// Zone (`topology.kubernetes.io/zone`); any zone when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Capacity type (`karpenter.sh/capacity-type`: on-demand, spot); any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_type: Option<String>,
    /// Dollars per hour.
    pub hourly: f64,
}

/// The largest price accepted, in dollars (per hour for table rows, per month for the
/// resource rates): larger figures are mistakes, and their monthly sums would overflow.
pub const MAX_PRICE: f64 = 1e9;

/// How nodes are priced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pricing {
    /// Price table; empty by default.
    #[serde(default)]
    pub table: Vec<PriceEntry>,
    /// Dollars per vCPU per month for nodes priced by resources.
    #[serde(default = "default_cpu_month")]
    pub cpu_month: f64,
    /// Dollars per GiB of memory per month for nodes priced by resources.
    #[serde(default = "default_gib_month")]
    pub gib_month: f64,
}

fn default_cpu_month() -> f64 {
    30.0
}

fn default_gib_month() -> f64 {
    4.0
}

impl Default for Pricing {
    fn default() -> Self {
        Self {
            table: Vec::new(),
            cpu_month: default_cpu_month(),
            gib_month: default_gib_month(),
        }
    }
}

/// Where a node's price came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PriceSource {
    /// The pricing table.
    Table,
    /// The `optimizer.io/hourly-cost` annotation.
    Annotation,
    /// Per-resource rates.
    Resources,
}

impl Pricing {
    /// Checks that every number is finite and not negative.
    ///
    /// # Errors
    /// [`CoreError::InvalidOption`] naming the offending entry.
    pub fn validate(&self) -> Result<(), CoreError> {
        let bad = |field: String, v: f64| CoreError::InvalidOption {
            field,
            message: if v.is_finite() && v >= 0.0 {
                format!("{v} is over the largest price accepted ({MAX_PRICE:e} dollars)")
            } else {
                format!("{v} is not a finite, non-negative price")
            },
        };
        let ok = |v: f64| v.is_finite() && (0.0..=MAX_PRICE).contains(&v);
        for (name, v) in [
            ("pricing.cpuMonth", self.cpu_month),
            ("pricing.gibMonth", self.gib_month),
        ] {
            if !ok(v) {
                return Err(bad(name.to_owned(), v));
            }
        }
        let mut seen: std::collections::BTreeMap<(&str, Option<&str>, Option<&str>), usize> =
            std::collections::BTreeMap::new();
        for (i, e) in self.table.iter().enumerate() {
            if !ok(e.hourly) {
                return Err(bad(
                    format!("pricing.table[{i}] ({}).hourly", e.instance_type),
                    e.hourly,
                ));
            }
            let key = (
                e.instance_type.as_str(),
                e.zone.as_deref(),
                e.capacity_type.as_deref(),
            );
            if let Some(first) = seen.insert(key, i) {
                return Err(CoreError::InvalidOption {
                    field: format!("pricing.table[{i}]"),
                    message: format!(
                        "repeats table[{first}]: both price instance type {}{}{}",
                        e.instance_type,
                        e.zone
                            .as_deref()
                            .map_or(String::new(), |z| format!(" in zone {z}")),
                        e.capacity_type
                            .as_deref()
                            .map_or(String::new(), |c| format!(" ({c})"))
                    ),
                });
            }
        }
        Ok(())
    }

    /// The hourly price of `node` and where it came from. An annotation that is not a finite,
    /// non-negative number up to [`MAX_PRICE`] is ignored (and the next source used).
    ///
    /// # Examples
    /// ```
    /// use compactor_core::{cost::{Pricing, PriceSource}, model::NodeSpec, resources::ResourceList};
    /// let node = NodeSpec { name: "n".into(), allocatable: ResourceList::new().with("cpu", 4000).with("memory", 16 << 30), ..Default::default() };
    /// let (hourly, source) = Pricing::default().hourly(&node);
    /// assert_eq!(source, PriceSource::Resources);
    /// assert!((hourly * 730.0 - (4.0 * 30.0 + 16.0 * 4.0)).abs() < 1e-9);
    /// ```
    ///
    /// # Complexity
    /// O(table size).
    pub fn hourly(&self, node: &NodeSpec) -> (f64, PriceSource) {
        if let Some(itype) = node.labels.get(INSTANCE_TYPE_LABEL) {
            let zone = node.labels.get(ZONE_LABEL);
            let ctype = node.labels.get(CAPACITY_TYPE_LABEL);
            if let Some(e) = self.most_specific(itype, zone, ctype) {
                return (e.hourly, PriceSource::Table);
            }
        }
        if let Some(v) = node
            .annotations
            .get(HOURLY_COST_ANNOTATION)
            .and_then(|s| s.trim().parse::<f64>().ok())
            && v.is_finite()
            && (0.0..=MAX_PRICE).contains(&v)
        {
            return (v, PriceSource::Annotation);
        }
        let cores = node.allocatable.get(CPU) as f64 / 1000.0;
        let gib = node.allocatable.get(MEMORY) as f64 / (1u64 << 30) as f64;
        (
            (cores * self.cpu_month + gib * self.gib_month) / HOURS_PER_MONTH,
            PriceSource::Resources,
        )
    }

    fn most_specific(
        &self,
        itype: &str,
        zone: Option<&String>,
        ctype: Option<&String>,
    ) -> Option<&PriceEntry> {
        let mut best: Option<(usize, &PriceEntry)> = None;
        for e in self.table.iter().filter(|e| e.instance_type == itype) {
            if e.zone.as_ref().is_some_and(|z| Some(z) != zone)
                || e.capacity_type.as_ref().is_some_and(|c| Some(c) != ctype)
            {
                continue;
            }
            let rank = usize::from(e.zone.is_some()) + usize::from(e.capacity_type.is_some());
            if best.is_none_or(|(r, _)| rank > r) {
                best = Some((rank, e));
            }
        }
        best.map(|(_, e)| e)
    }
}

/// Formats dollars for people: `$1,234.56`.
///
/// # Examples
/// ```
/// assert_eq!(compactor_core::cost::format_dollars(1234.5), "$1,234.50");
/// assert_eq!(compactor_core::cost::format_dollars(0.0), "$0.00");
/// ```
pub fn format_dollars(v: f64) -> String {
    let cents = (v * 100.0).round() as i64;
    let (sign, cents) = if cents < 0 {
        ("-", -cents)
    } else {
        ("", cents)
    };
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}${grouped}.{:02}", cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::ResourceList;

    fn node(labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> NodeSpec {
        NodeSpec {
            name: "n".into(),
            allocatable: ResourceList::new().with(CPU, 2000).with(MEMORY, 8 << 30),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            annotations: annotations
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn table_beats_annotation_beats_resources() {
        let pricing = Pricing {
            table: vec![
                PriceEntry {
                    instance_type: "m5.large".into(),
                    zone: None,
                    capacity_type: None,
                    hourly: 0.096,
                },
                PriceEntry {
                    instance_type: "m5.large".into(),
                    zone: Some("a".into()),
                    capacity_type: Some("spot".into()),
                    hourly: 0.04,
                },
                PriceEntry {
                    instance_type: "m5.large".into(),
                    zone: Some("b".into()),
                    capacity_type: None,
                    hourly: 0.1,
                },
            ],
            ..Pricing::default()
        };
        let it = (INSTANCE_TYPE_LABEL, "m5.large");
        assert_eq!(
            pricing.hourly(&node(&[it], &[(HOURLY_COST_ANNOTATION, "1")])),
            (0.096, PriceSource::Table)
        );
        assert_eq!(
            pricing.hourly(&node(
                &[it, (ZONE_LABEL, "a"), (CAPACITY_TYPE_LABEL, "spot")],
                &[]
            )),
            (0.04, PriceSource::Table)
        );
        assert_eq!(
            pricing.hourly(&node(&[it, (ZONE_LABEL, "a")], &[])),
            (0.096, PriceSource::Table)
        );
        assert_eq!(
            pricing.hourly(&node(&[it, (ZONE_LABEL, "b")], &[])),
            (0.1, PriceSource::Table)
        );
        assert_eq!(
            pricing.hourly(&node(
                &[(INSTANCE_TYPE_LABEL, "other")],
                &[(HOURLY_COST_ANNOTATION, "0.25")]
            )),
            (0.25, PriceSource::Annotation)
        );
        let (h, s) = pricing.hourly(&node(&[], &[(HOURLY_COST_ANNOTATION, "NaN")]));
        assert_eq!(s, PriceSource::Resources);
        // 2 vCPU × $30 + 8 GiB × $4 = $92 per month.
        assert!((h * HOURS_PER_MONTH - 92.0).abs() < 1e-9);
    }

    #[test]
    fn invalid_prices_are_rejected() {
        let p = Pricing {
            cpu_month: f64::NAN,
            ..Pricing::default()
        };
        assert_eq!(
            p.validate().unwrap_err().to_string(),
            "invalid option pricing.cpuMonth: NaN is not a finite, non-negative price"
        );
        let p = Pricing {
            table: vec![PriceEntry {
                instance_type: "x".into(),
                zone: None,
                capacity_type: None,
                hourly: -1.0,
            }],
            ..Pricing::default()
        };
        assert!(
            p.validate()
                .unwrap_err()
                .to_string()
                .contains("pricing.table[0] (x).hourly")
        );
    }
}
