//! Safety thresholds (DESIGN §7). The numbers are part of the API.

use serde::{Deserialize, Serialize};

use crate::risk::RiskLevel;

/// A named safety threshold.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum SafetyLevel {
    /// 70 % cap, low risk only, 1 node per wave, 1 eviction in flight, 5 per minute.
    #[default]
    Conservative,
    /// 80 % cap, low and medium risk, 3 nodes per wave, 2 in flight, 10 per minute.
    Medium,
    /// 90 % cap, every risk (never stateful), 10 nodes per wave, 5 in flight, 30 per minute.
    Aggressive,
}

/// The limits a safety level stands for.
///
/// | level | cap on receiving nodes (CPU, memory, ephemeral storage) | auto-approved risks | nodes per wave | evictions in flight | evictions per minute |
/// |---|---|---|---|---|---|
/// | conservative | 70 % | low | 1 | 1 | 5 |
/// | medium | 80 % | low, medium | 3 | 2 | 10 |
/// | aggressive | 90 % | low, medium, high (never stateful) | 10 | 5 | 30 |
///
/// The cap applies to a node that receives pods: after the plan its requests stay at or below
/// the cap of its allocatable. Pod slots and extended resources are checked against
/// allocatable only. "Nodes drained per cycle" bounds how many nodes one wave of the plan
/// touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Thresholds {
    /// The level these numbers came from.
    pub level: SafetyLevel,
    /// Maximum utilisation, in percent of allocatable, of a node that receives pods.
    pub max_utilization_percent: u8,
    /// Highest risk level approved automatically in semi-auto mode.
    pub max_auto_risk: RiskLevel,
    /// Nodes drained per cycle (per wave of a plan).
    pub max_nodes_per_wave: u32,
    /// Evictions in flight at once (executor).
    pub max_evictions_in_flight: u32,
    /// Evictions per minute (executor).
    pub max_evictions_per_minute: u32,
}

impl SafetyLevel {
    /// All levels, mildest first.
    pub const ALL: [SafetyLevel; 3] = [
        SafetyLevel::Conservative,
        SafetyLevel::Medium,
        SafetyLevel::Aggressive,
    ];

    /// The documented numbers of this level.
    ///
    /// # Examples
    /// ```
    /// use compactor_core::safety::SafetyLevel;
    /// assert_eq!(SafetyLevel::Conservative.thresholds().max_utilization_percent, 70);
    /// assert_eq!(SafetyLevel::Aggressive.thresholds().max_nodes_per_wave, 10);
    /// ```
    pub fn thresholds(self) -> Thresholds {
        let (cap, risk, nodes, inflight, rate) = match self {
            SafetyLevel::Conservative => (70, RiskLevel::Low, 1, 1, 5),
            SafetyLevel::Medium => (80, RiskLevel::Medium, 3, 2, 10),
            SafetyLevel::Aggressive => (90, RiskLevel::High, 10, 5, 30),
        };
        Thresholds {
            level: self,
            max_utilization_percent: cap,
            max_auto_risk: risk,
            max_nodes_per_wave: nodes,
            max_evictions_in_flight: inflight,
            max_evictions_per_minute: rate,
        }
    }

    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            SafetyLevel::Conservative => "conservative",
            SafetyLevel::Medium => "medium",
            SafetyLevel::Aggressive => "aggressive",
        }
    }
}

impl Thresholds {
    /// The most a receiving node may hold in dimension `d` given its `allocatable`:
    /// `floor(allocatable × cap / 100)` for capped dimensions, `allocatable` otherwise.
    ///
    /// # Examples
    /// ```
    /// use compactor_core::safety::SafetyLevel;
    /// let t = SafetyLevel::Conservative.thresholds();
    /// assert_eq!(t.limit(0, 4000), 2800); // cpu: 70 % of 4 cores
    /// assert_eq!(t.limit(3, 110), 110);   // pods: allocatable
    /// ```
    pub fn limit(&self, d: usize, allocatable: u64) -> u64 {
        if crate::resources::Dimensions::is_capped(d) {
            let v = u128::from(allocatable) * u128::from(self.max_utilization_percent) / 100;
            // v <= allocatable, so it fits.
            u64::try_from(v).unwrap_or(allocatable)
        } else {
            allocatable
        }
    }
}
