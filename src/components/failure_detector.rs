//! A store's failure detector: the primary sends a heartbeat every `heartbeat`, and the
//! detector declares it dead once it has heard none for `timeout`.
//!
//! Heartbeats are not simulated as messages: they fall on a fixed grid (`phase + k ×
//! heartbeat`, the phase drawn once per run), so the last one heard before the primary
//! went silent (a crash, an isolation) is known when it goes silent, and one timer at
//! that heartbeat plus `timeout` decides. A primary heard again before the deadline is
//! kept only if a heartbeat of the grid reached the detector in between, as a real
//! detector would see it. The detection delay after a crash at a uniform time is thus
//! uniform on `(timeout - heartbeat, timeout]`.

use serde::Deserialize;

use crate::engine::{SimDuration, SimTime, Stream};
use crate::model::shape::{Dur, Problems};

/// `failover: (heartbeat: "1s", timeout: "3s", fencing: term, reroute: "5s")` on a store
/// with replicas: promote the most caught-up replica once the primary is declared dead.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "failover")]
pub struct RawFailover {
    /// Time between the primary's heartbeats.
    pub heartbeat: Dur,
    /// Silence after which the detector declares the primary dead.
    pub timeout: Dur,
    /// `none` (the default) or `term`.
    #[serde(default)]
    pub fencing: RawFencing,
    /// How long clients keep sending to the old primary after a promotion (a DNS TTL, a
    /// proxy's health checks); default 0.
    #[serde(default)]
    pub reroute: Option<Dur>,
}

/// Whether a deposed primary can still accept writes.
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "fencing")]
pub enum RawFencing {
    /// Nothing stops it: cut off from the detector, it accepts writes beside the new
    /// primary (split brain).
    #[default]
    None,
    /// Every promotion starts a new term, and a write must carry the current term where
    /// it is made durable (a fencing token): the deposed primary's writes are refused.
    Term,
}

/// Automatic failover: the detector, fencing, and the clients' delay in following.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailoverSpec {
    /// Heartbeats and the silence that counts as dead.
    pub detector: DetectorSpec,
    /// Whether a deposed primary's writes are refused.
    pub fencing: bool,
    /// How long after a promotion clients still send to the old primary.
    pub reroute: SimDuration,
}

impl RawFailover {
    /// The settings, refusing a detector that would depose a healthy primary.
    pub fn validate(&self, replicas: u32, c: &mut Problems) -> FailoverSpec {
        if replicas == 0 {
            let msg = "`failover` has no effect on a store without replicas: there is \
                       nothing to promote"
                .into();
            c.error(
                &["failover"],
                msg,
                Some("set `replicas` above 0, or remove `failover`".into()),
            );
        }
        let (heartbeat, timeout) = (self.heartbeat.0, self.timeout.0);
        if heartbeat == SimDuration::ZERO {
            let msg = "`heartbeat` must be above 0".into();
            c.error(&["failover", "heartbeat"], msg, Some("e.g. heartbeat: \"1s\"".into()));
        } else if timeout <= heartbeat {
            let span = |d: SimDuration| crate::engine::time::format_span(d.as_nanos());
            let msg = format!(
                "`timeout` must be longer than `heartbeat` ({}), found {}",
                span(heartbeat),
                span(timeout)
            );
            let hint = "a detector that waits less than a heartbeat declares a healthy primary \
                        dead between two of them; e.g. three heartbeats";
            c.error(&["failover", "timeout"], msg, Some(hint.into()));
        }
        FailoverSpec {
            detector: DetectorSpec { heartbeat, timeout },
            fencing: matches!(self.fencing, RawFencing::Term),
            reroute: self.reroute.map_or(SimDuration::ZERO, |d| d.0),
        }
    }
}

/// Heartbeats and the silence that counts as dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectorSpec {
    /// Time between two heartbeats.
    pub heartbeat: SimDuration,
    /// Silence after which the primary is declared dead (longer than `heartbeat`).
    pub timeout: SimDuration,
}

/// What the detector knows of the primary.
#[derive(Debug, Clone)]
pub struct FailureDetector {
    spec: DetectorSpec,
    /// Offset of the heartbeat grid, in `[0, heartbeat)`.
    phase: u64,
    /// The last heartbeat heard before the current or last silence.
    last_beat: SimTime,
    /// Since when the primary has been silent (`None`: it is heard).
    silent_since: Option<SimTime>,
    /// When it was last heard again (or promoted).
    heard_since: SimTime,
    /// When its last silence began, over or not.
    silence_began: SimTime,
    /// Counts silences; a deadline of an older one decides nothing.
    generation: u32,
}

impl FailureDetector {
    /// A detector whose heartbeat grid's phase is drawn from `rng`.
    pub fn new(spec: DetectorSpec, rng: &mut Stream) -> FailureDetector {
        // Validation refuses a zero heartbeat; a spec built by hand gets 1 ns.
        let spec = DetectorSpec { heartbeat: spec.heartbeat.max(SimDuration(1)), ..spec };
        let phase = rng.below(spec.heartbeat.as_nanos());
        FailureDetector {
            spec,
            phase,
            last_beat: SimTime::ZERO,
            silent_since: None,
            heard_since: SimTime::ZERO,
            silence_began: SimTime::ZERO,
            generation: 0,
        }
    }

    /// The last heartbeat of the grid at or before `t`, if any.
    fn beat_at_or_before(&self, t: SimTime) -> Option<SimTime> {
        let h = self.spec.heartbeat.as_nanos();
        let since = t.as_nanos().checked_sub(self.phase)?;
        Some(SimTime(self.phase + since / h * h))
    }

    /// The first heartbeat of the grid at or after `t`.
    fn beat_at_or_after(&self, t: SimTime) -> SimTime {
        let h = self.spec.heartbeat.as_nanos();
        match t.as_nanos().checked_sub(self.phase) {
            Some(since) => SimTime(self.phase + since.div_ceil(h) * h),
            None => SimTime(self.phase),
        }
    }

    /// The primary stops reaching the detector at `now`. Returns when the detector will
    /// suspect it and the generation its deadline carries (`None`: already silent).
    pub fn silenced(&mut self, now: SimTime) -> Option<(SimTime, u32)> {
        if self.silent_since.is_some() {
            return None;
        }
        if let Some(beat) = self.beat_at_or_before(now).filter(|&b| b >= self.heard_since) {
            self.last_beat = beat;
        }
        (self.silent_since, self.silence_began) = (Some(now), now);
        self.generation += 1;
        let deadline = self.last_beat.after(self.spec.timeout).max(now);
        Some((deadline, self.generation))
    }

    /// When the primary's last silence began (the run's start if it never was silent).
    pub fn silence_began(&self) -> SimTime {
        self.silence_began
    }

    /// The primary reaches the detector again at `now`.
    pub fn heard(&mut self, now: SimTime) {
        if self.silent_since.take().is_some() {
            self.heard_since = now;
        }
    }

    /// The deadline of `generation` is due at `now`: whether the detector declares the
    /// primary dead. A primary heard again is alive only if a heartbeat reached the
    /// detector since.
    pub fn declares_dead(&self, generation: u32, now: SimTime) -> bool {
        if generation != self.generation {
            return false; // A later silence has its own deadline.
        }
        self.silent_since.is_some() || self.beat_at_or_after(self.heard_since) > now
    }

    /// A replica was promoted at `now`: its heartbeats are heard from now on.
    pub fn promoted(&mut self, now: SimTime) {
        self.silent_since = None;
        self.heard_since = now;
        self.last_beat = now;
        self.generation += 1; // Whatever deadline is pending was about the old primary.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> SimTime {
        SimTime(n * 1_000_000)
    }

    /// A detector with heartbeats every 1 s at phase `phase_ms` and a 3 s timeout.
    fn detector(phase_ms: u64) -> FailureDetector {
        let spec = DetectorSpec {
            heartbeat: SimDuration::from_millis(1000),
            timeout: SimDuration::from_millis(3000),
        };
        let mut d = FailureDetector::new(spec, &mut Stream::new(1, "test"));
        d.phase = phase_ms * 1_000_000;
        d
    }

    #[test]
    fn a_crash_is_declared_timeout_after_the_last_heartbeat_heard() {
        let mut d = detector(250);
        // Heartbeats at 250, 1250, ...: the last one before 10.7 s is 10.25 s.
        let (deadline, generation) = d.silenced(ms(10_700)).unwrap();
        assert_eq!(deadline, ms(13_250));
        assert!(d.declares_dead(generation, deadline));
        assert_eq!(d.silenced(ms(11_000)), None, "already silent");
    }

    #[test]
    fn a_primary_heard_again_with_a_heartbeat_before_the_deadline_is_kept() {
        let mut d = detector(250);
        let (deadline, generation) = d.silenced(ms(10_700)).unwrap();
        d.heard(ms(12_000)); // Its next heartbeat is at 12.25 s, before 13.25 s.
        assert!(!d.declares_dead(generation, deadline));
    }

    #[test]
    fn a_primary_back_after_its_last_chance_is_declared_dead_all_the_same() {
        let mut d = detector(250);
        d.spec.timeout = SimDuration::from_millis(2500);
        let (deadline, generation) = d.silenced(ms(10_700)).unwrap();
        assert_eq!(deadline, ms(12_750));
        d.heard(ms(12_600)); // Its next heartbeat, 13.25 s, comes after the deadline.
        assert!(d.declares_dead(generation, deadline));
    }

    #[test]
    fn a_second_silence_counts_from_the_heartbeats_heard_in_between() {
        let mut d = detector(0);
        let (_, first) = d.silenced(ms(10_500)).unwrap();
        d.heard(ms(11_200));
        // Heartbeats at 12 s and 13 s were heard; silent again at 13.5 s.
        let (deadline, second) = d.silenced(ms(13_500)).unwrap();
        assert_eq!(deadline, ms(16_000));
        assert!(!d.declares_dead(first, ms(13_000)), "the first deadline is stale");
        assert!(d.declares_dead(second, deadline));
    }

    #[test]
    fn a_promotion_voids_the_pending_deadline() {
        let mut d = detector(0);
        let (deadline, generation) = d.silenced(ms(5_500)).unwrap();
        d.promoted(ms(6_000));
        assert!(!d.declares_dead(generation, deadline));
        assert_eq!(d.silenced(ms(9_500)).unwrap().0, ms(12_000));
    }
}
