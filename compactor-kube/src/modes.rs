//! What the controller may do with one move of a plan, by mode (DESIGN §10), safety threshold
//! (DESIGN §7: which risks semi-auto approves), safe window and approvals. Pure: the caller
//! supplies whether a window is open ([`crate::window::any_open`]).
//!
//! | mode | approved by a person | otherwise |
//! |---|---|---|
//! | observe | never executed (a report only) | never executed |
//! | manual | executed now (the person chose the time) | waits for approval |
//! | semi-auto | executed now | inside a window, when its risk is in the threshold's set and it is not stateful; else waits (window or approval) |
//! | full-auto | executed now | inside a window, unless stateful (never auto-approved); else waits |
//!
//! The threshold's risk set is compactor-core's table ([`Thresholds::max_auto_risk`]):
//! conservative approves low; medium low and medium; aggressive all three. Stateful moves (a StatefulSet pod or one with a PersistentVolumeClaim) are never
//! approved automatically, whatever the mode and threshold. Full-auto without
//! `confirmFullAuto` (which the API server already refuses) executes nothing.
//!
//! [`Thresholds::max_auto_risk`]: compactor_core::safety::Thresholds::max_auto_risk

use compactor_core::risk::RiskLevel;
use compactor_core::safety::SafetyLevel;

use crate::crd::Mode;

/// The facts about one move that the decision reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoveFacts {
    /// Its risk.
    pub risk: RiskLevel,
    /// A StatefulSet pod, or one with a PersistentVolumeClaim.
    pub stateful: bool,
    /// Approved by a person: the plan's `spec.approved`, or the pod in `approvedMigrations`.
    pub approved: bool,
}

/// What to do with a move now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Carry it out now.
    Execute,
    /// Wait for a person's approval.
    WaitForApproval,
    /// Approved automatically; wait until a safe window opens.
    WaitForWindow,
    /// Never carried out by this config (observe mode, or full-auto without confirmation).
    Never,
}

/// The [`Verdict`] for one move (see the [module documentation](self) for the table).
///
/// # Examples
/// ```
/// use compactor_core::{risk::RiskLevel, safety::SafetyLevel};
/// use compactor_kube::crd::Mode;
/// use compactor_kube::modes::{decide, MoveFacts, Verdict};
/// let facts = MoveFacts { risk: RiskLevel::Low, stateful: false, approved: false };
/// let semi = |open| decide(Mode::SemiAuto, false, SafetyLevel::Conservative, open, facts);
/// assert_eq!(semi(true), Verdict::Execute);
/// assert_eq!(semi(false), Verdict::WaitForWindow);
/// ```
///
/// # Complexity
/// O(1).
pub fn decide(
    mode: Mode,
    confirm_full_auto: bool,
    threshold: SafetyLevel,
    window_open: bool,
    facts: MoveFacts,
) -> Verdict {
    let automatic = match mode {
        Mode::Observe => return Verdict::Never,
        Mode::FullAuto if !confirm_full_auto => return Verdict::Never,
        _ if facts.approved => return Verdict::Execute,
        Mode::Manual => false,
        Mode::SemiAuto => !facts.stateful && facts.risk <= threshold.thresholds().max_auto_risk,
        Mode::FullAuto => !facts.stateful,
    };
    match (automatic, window_open) {
        (false, _) => Verdict::WaitForApproval,
        (true, true) => Verdict::Execute,
        (true, false) => Verdict::WaitForWindow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::{Execute, Never, WaitForApproval, WaitForWindow};

    /// mode × confirmation × threshold × window × risk × stateful × approval, written out by
    /// rule for the cases that differ, then checked over every combination.
    #[test]
    fn table_of_mode_window_risk_threshold() {
        use RiskLevel::{High, Low, Medium};
        use SafetyLevel::{Aggressive, Conservative};
        let f = |risk, stateful, approved| MoveFacts {
            risk,
            stateful,
            approved,
        };
        #[rustfmt::skip]
        let rows = [
            (Mode::Observe, true, Aggressive, true, f(Low, false, true), Never),
            (Mode::Manual, false, Conservative, false, f(High, true, true), Execute),
            (Mode::Manual, false, Aggressive, true, f(Low, false, false), WaitForApproval),
            (Mode::SemiAuto, false, Conservative, true, f(Low, false, false), Execute),
            (Mode::SemiAuto, false, Conservative, false, f(Low, false, false), WaitForWindow),
            (Mode::SemiAuto, false, Conservative, true, f(Medium, false, false), WaitForApproval),
            (Mode::SemiAuto, false, SafetyLevel::Medium, true, f(Medium, false, false), Execute),
            (Mode::SemiAuto, false, SafetyLevel::Medium, true, f(High, false, false), WaitForApproval),
            (Mode::SemiAuto, false, Aggressive, true, f(High, false, false), Execute),
            (Mode::SemiAuto, false, Aggressive, true, f(Low, true, false), WaitForApproval),
            (Mode::SemiAuto, false, Conservative, false, f(High, true, true), Execute),
            (Mode::FullAuto, false, Aggressive, true, f(Low, false, true), Never),
            (Mode::FullAuto, true, Conservative, true, f(High, false, false), Execute),
            (Mode::FullAuto, true, Conservative, false, f(High, false, false), WaitForWindow),
            (Mode::FullAuto, true, Aggressive, true, f(Low, true, false), WaitForApproval),
        ];
        for (mode, confirm, threshold, open, facts, want) in rows {
            assert_eq!(
                decide(mode, confirm, threshold, open, facts),
                want,
                "{mode:?} confirm={confirm} {threshold:?} open={open} {facts:?}"
            );
        }
        // Over every combination: the invariants the table stands for.
        for mode in [Mode::Observe, Mode::Manual, Mode::SemiAuto, Mode::FullAuto] {
            for confirm in [false, true] {
                for threshold in [Conservative, SafetyLevel::Medium, Aggressive] {
                    for open in [false, true] {
                        for risk in [Low, Medium, High] {
                            for stateful in [false, true] {
                                for approved in [false, true] {
                                    let v = decide(
                                        mode,
                                        confirm,
                                        threshold,
                                        open,
                                        f(risk, stateful, approved),
                                    );
                                    let blocked = mode == Mode::Observe
                                        || (mode == Mode::FullAuto && !confirm);
                                    assert_eq!(v == Never, blocked);
                                    if !blocked && approved {
                                        assert_eq!(v, Execute);
                                    }
                                    if !approved && v == Execute {
                                        // Executed without a person: in a window, never stateful.
                                        assert!(open && !stateful && mode != Mode::Manual);
                                    }
                                    let within = risk <= threshold.thresholds().max_auto_risk;
                                    if mode == Mode::SemiAuto && !approved && !within {
                                        assert_eq!(v, WaitForApproval);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
