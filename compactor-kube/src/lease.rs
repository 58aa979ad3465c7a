//! Leader election through a `coordination.k8s.io/v1` Lease, so that of several controller
//! replicas exactly one acts (DESIGN §10).
//!
//! The rule, decided purely by [`decide`] from the Lease as read:
//! - no Lease: create it, holding it;
//! - held by us: renew it (`renewTime` = now);
//! - held by someone else whose `renewTime + leaseDurationSeconds` has passed, or held by
//!   nobody: take it over (`leaseTransitions` + 1);
//! - otherwise: wait, and read it again.
//!
//! Every write carries the `resourceVersion` that was read, so two replicas racing for an
//! expired Lease cannot both win: the API server answers the second with 409 Conflict.
//! A leader that cannot renew within the lease duration has lost: [`Elector::hold`] returns
//! and the process stops acting (the binary exits; its Deployment restarts it as a standby).
//! A standby takes over at most one lease duration (15 s by default) plus one retry period
//! after the leader died.
//!
//! # Examples
//! ```
//! use compactor_kube::lease::{decide, Decision};
//! use jiff::Timestamp;
//! let now: Timestamp = "2026-12-05T10:00:00Z".parse().unwrap();
//! assert_eq!(decide(None, "me", now), Decision::Create);
//! ```

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Client;
use kube::api::{Api, PostParams};

use crate::KubeError;

/// What to do with the Lease as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// There is none: create it.
    Create,
    /// We hold it: renew it.
    Renew,
    /// Nobody holds it, or its holder stopped renewing: take it.
    TakeOver,
    /// Someone else holds it until `until`.
    Wait {
        /// The holder.
        holder: String,
        /// When it expires unless renewed.
        until: Timestamp,
    },
}

/// The [`Decision`] for `me` at `now`, given the Lease's spec (`None`: there is no Lease).
///
/// A Lease without `renewTime` or `leaseDurationSeconds` counts as expired; one renewed in
/// the future (a skewed clock) waits until its stated expiry.
///
/// # Complexity
/// O(1).
pub fn decide(lease: Option<&LeaseSpec>, me: &str, now: Timestamp) -> Decision {
    let Some(spec) = lease else {
        return Decision::Create;
    };
    let holder = spec.holder_identity.as_deref().unwrap_or("");
    if holder == me {
        return Decision::Renew;
    }
    if holder.is_empty() {
        return Decision::TakeOver;
    }
    let (Some(renewed), Some(seconds)) = (spec.renew_time.as_ref(), spec.lease_duration_seconds)
    else {
        return Decision::TakeOver;
    };
    let until = renewed
        .0
        .checked_add(jiff::SignedDuration::from_secs(i64::from(seconds.max(0))))
        .unwrap_or(Timestamp::MAX);
    if now >= until {
        Decision::TakeOver
    } else {
        Decision::Wait {
            holder: holder.to_owned(),
            until,
        }
    }
}

/// Acquires and holds one Lease for one identity.
#[derive(Debug, Clone)]
pub struct Elector {
    api: Api<Lease>,
    name: String,
    identity: String,
    /// How long a Lease lasts without renewal.
    pub lease_duration: Duration,
    /// How often the holder renews, and a standby retries.
    pub retry_period: Duration,
}

impl Elector {
    /// An elector for Lease `name` in `namespace`, as `identity` (the pod name), with a 15 s
    /// lease renewed every 5 s.
    pub fn new(client: Client, namespace: &str, name: &str, identity: &str) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            name: name.to_owned(),
            identity: identity.to_owned(),
            lease_duration: Duration::from_secs(15),
            retry_period: Duration::from_secs(5),
        }
    }

    /// With these timings.
    pub fn with_timing(mut self, lease_duration: Duration, retry_period: Duration) -> Self {
        self.lease_duration = lease_duration;
        self.retry_period = retry_period;
        self
    }

    /// Tries once: `Ok(true)` when we hold the Lease afterwards, `Ok(false)` when someone
    /// else does (or won a race for it).
    ///
    /// # Errors
    /// [`KubeError::Api`] when the Lease cannot be read or written (403: the RBAC lacks
    /// leases; 409 is a lost race, not an error).
    pub async fn try_acquire(&self) -> Result<bool, KubeError> {
        let now = Timestamp::now();
        let current = self
            .api
            .get_opt(&self.name)
            .await
            .map_err(|e| KubeError::api(format!("get lease {}", self.name), &e))?;
        let decision = decide(
            current.as_ref().and_then(|l| l.spec.as_ref()),
            &self.identity,
            now,
        );
        let seconds = i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX);
        let result = match (decision, current) {
            (Decision::Wait { .. }, _) => return Ok(false),
            (Decision::Create, _) => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(self.name.clone()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(LeaseSpec {
                        holder_identity: Some(self.identity.clone()),
                        lease_duration_seconds: Some(seconds),
                        acquire_time: Some(MicroTime(now)),
                        renew_time: Some(MicroTime(now)),
                        lease_transitions: Some(0),
                        ..LeaseSpec::default()
                    }),
                };
                self.api.create(&PostParams::default(), &lease).await
            }
            (decision, Some(mut lease)) => {
                let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
                if decision == Decision::TakeOver {
                    spec.holder_identity = Some(self.identity.clone());
                    spec.acquire_time = Some(MicroTime(now));
                    spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
                }
                spec.lease_duration_seconds = Some(seconds);
                spec.renew_time = Some(MicroTime(now));
                // `lease` keeps the resourceVersion read: a concurrent write makes this 409.
                self.api
                    .replace(&self.name, &PostParams::default(), &lease)
                    .await
            }
            (_, None) => return Ok(false),
        };
        match result {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(KubeError::api(format!("write lease {}", self.name), &e)),
        }
    }

    /// Waits until this identity holds the Lease, trying every retry period.
    ///
    /// # Errors
    /// As [`Elector::try_acquire`].
    pub async fn acquire(&self) -> Result<(), KubeError> {
        while !self.try_acquire().await? {
            tokio::time::sleep(self.retry_period).await;
        }
        Ok(())
    }

    /// Gives the Lease up (holder cleared) when this identity holds it, so that a standby
    /// takes over at its next try instead of after the lease duration.
    ///
    /// # Errors
    /// [`KubeError::Api`] when the Lease cannot be read or written; a lost race (409) is not
    /// an error.
    pub async fn release(&self) -> Result<(), KubeError> {
        let Some(mut lease) = self
            .api
            .get_opt(&self.name)
            .await
            .map_err(|e| KubeError::api(format!("get lease {}", self.name), &e))?
        else {
            return Ok(());
        };
        let Some(spec) = lease.spec.as_mut() else {
            return Ok(());
        };
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
            Err(e) => Err(KubeError::api(format!("release lease {}", self.name), &e)),
        }
    }

    /// Renews the Lease every retry period for as long as it can; returns why leadership
    /// was lost (another holder, or no successful renewal within the lease duration). The
    /// caller must stop acting at once.
    pub async fn hold(&self) -> String {
        let mut last_renewal = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(self.retry_period).await;
            match self.try_acquire().await {
                Ok(true) => last_renewal = tokio::time::Instant::now(),
                Ok(false) => {
                    return format!("lease {} was taken by another replica", self.name);
                }
                Err(e) => {
                    // Stop before the lease can expire under us: a standby may take it then.
                    if last_renewal.elapsed() + self.retry_period >= self.lease_duration {
                        return format!("lease {} not renewed in time: {e}", self.name);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(holder: Option<&str>, renewed: Option<&str>, seconds: Option<i32>) -> LeaseSpec {
        LeaseSpec {
            holder_identity: holder.map(str::to_owned),
            renew_time: renewed.map(|t| MicroTime(t.parse().unwrap())),
            lease_duration_seconds: seconds,
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn decisions() {
        let now: Timestamp = "2026-12-05T10:00:00Z".parse().unwrap();
        let at = |s: &LeaseSpec| decide(Some(s), "b", now);
        assert_eq!(decide(None, "b", now), Decision::Create);
        assert_eq!(
            at(&spec(Some("b"), Some("2026-12-05T09:00:00Z"), Some(15))),
            Decision::Renew
        );
        assert_eq!(
            at(&spec(Some("a"), Some("2026-12-05T09:59:50Z"), Some(15))),
            Decision::Wait {
                holder: "a".to_owned(),
                until: "2026-12-05T10:00:05Z".parse().unwrap()
            }
        );
        // Expiry is exact: renewed 15 s ago with a 15 s lease is expired.
        assert_eq!(
            at(&spec(Some("a"), Some("2026-12-05T09:59:45Z"), Some(15))),
            Decision::TakeOver
        );
        assert_eq!(at(&spec(None, None, None)), Decision::TakeOver);
        assert_eq!(at(&spec(Some(""), None, Some(15))), Decision::TakeOver);
        assert_eq!(at(&spec(Some("a"), None, Some(15))), Decision::TakeOver);
        // A holder whose clock runs ahead keeps the lease until its stated expiry.
        assert!(matches!(
            at(&spec(Some("a"), Some("2026-12-05T10:01:00Z"), Some(15))),
            Decision::Wait { .. }
        ));
    }
}
