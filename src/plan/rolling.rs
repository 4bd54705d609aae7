//! How a service's replicas are replaced, restarted or rolled back one batch at a time: the
//! `deploy.update_config` and `deploy.rollback_config` of the manifest with Swarm's defaults filled
//! in, so the local engine and Swarm read the same numbers.

use std::time::Duration;

use crate::manifest::{FailureAction, UpdateConfig, UpdateOrder};

/// One direction of a rolling change: forward (`update_config`) or back (`rollback_config`).
#[derive(Debug, Clone, PartialEq)]
pub struct RollPolicy {
    /// Replicas changed at once; 0 means all of them.
    pub parallelism: u32,
    /// Pause between batches.
    pub delay: Duration,
    pub order: UpdateOrder,
    pub failure_action: FailureAction,
    /// How long a new replica is watched after it is up before it counts as a success.
    pub monitor: Duration,
    /// The share of replicas that may fail before the failure action is taken.
    pub max_failure_ratio: f64,
}

/// A service that asked for rolling changes (it has `deploy.update_config`).
#[derive(Debug, Clone, PartialEq)]
pub struct Rolling {
    pub update: RollPolicy,
    pub rollback: RollPolicy,
}

/// Swarm's defaults, so that a manifest means the same on both backends.
const MONITOR: Duration = Duration::from_secs(5);

fn policy(c: Option<&UpdateConfig>, failure_default: FailureAction) -> RollPolicy {
    let c = c.cloned().unwrap_or_default();
    RollPolicy {
        parallelism: c.parallelism.unwrap_or(1),
        delay: c.delay.unwrap_or_default(),
        order: c.order.unwrap_or(UpdateOrder::StopFirst),
        failure_action: c.failure_action.unwrap_or(failure_default),
        monitor: c.monitor.unwrap_or(MONITOR),
        max_failure_ratio: c.max_failure_ratio.unwrap_or(0.0),
    }
}

/// The rolling settings of a service, or None when it has no `update_config` (then its replicas
/// are recreated together, as docker compose does).
pub fn of(update: Option<&UpdateConfig>, rollback: Option<&UpdateConfig>) -> Option<Rolling> {
    let update_config = update?;
    Some(Rolling {
        update: policy(Some(update_config), FailureAction::Pause),
        rollback: policy(rollback, FailureAction::Pause),
    })
}

impl RollPolicy {
    /// The batch size for `replicas` replicas.
    pub fn batch(&self, replicas: usize) -> usize {
        match self.parallelism {
            0 => replicas.max(1),
            n => n as usize,
        }
    }

    /// Whether `failed` failures out of `total` replicas exceed what the policy tolerates.
    pub fn too_many_failures(&self, failed: usize, total: usize) -> bool {
        failed > 0 && (failed as f64) > self.max_failure_ratio * (total.max(1) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_update_config_means_no_rolling() {
        assert_eq!(of(None, Some(&UpdateConfig::default())), None);
    }

    #[test]
    fn swarm_defaults_fill_what_the_manifest_leaves_out() {
        let r = of(Some(&UpdateConfig::default()), None).unwrap();
        assert_eq!(r.update.parallelism, 1);
        assert_eq!(r.update.order, UpdateOrder::StopFirst);
        assert_eq!(r.update.failure_action, FailureAction::Pause);
        assert_eq!(r.update.monitor, Duration::from_secs(5));
        assert_eq!(r.rollback, r.update);
    }

    #[test]
    fn batches_and_failure_ratio() {
        let mut p = policy(None, FailureAction::Rollback);
        assert_eq!(p.batch(3), 1);
        p.parallelism = 0;
        assert_eq!(p.batch(3), 3);
        assert!(p.too_many_failures(1, 3));
        assert!(!p.too_many_failures(0, 3));
        p.max_failure_ratio = 0.34;
        assert!(!p.too_many_failures(1, 3));
        assert!(p.too_many_failures(2, 3));
    }
}
