//! The fault schedule: an instance that fires each fault of the scenario at its time
//! (or again and again at a rate, from its own random stream) and sends the fault to
//! its targets, with the fault's end (restart, heal, lag back to normal) after its span.

use super::Component;
use super::env::Env;
use super::message::{Fault, Msg};
use crate::engine::{ComponentId, SimDuration};
use crate::model::FaultTime;

/// One fault, resolved to instances.
#[derive(Debug, Clone)]
pub struct PlannedFault {
    /// When it strikes.
    pub when: FaultTime,
    /// Who it hits.
    pub targets: Vec<ComponentId>,
    /// Share of the targets hit each time (1 for all).
    pub share: f64,
    /// What hits them.
    pub start: Fault,
    /// What undoes it, and after how long.
    pub end: Option<(SimDuration, Fault)>,
}

/// Fires the faults of a scenario.
#[derive(Debug, Default)]
pub struct FaultDriver {
    faults: Vec<PlannedFault>,
    /// Strikes so far, numbering each strike's fault and its end.
    strikes: u32,
}

impl FaultDriver {
    /// A driver for `faults`.
    pub fn new(faults: Vec<PlannedFault>) -> FaultDriver {
        FaultDriver { faults, strikes: 0 }
    }

    fn arm(&self, index: usize, env: &mut Env<'_>) {
        let delay = match self.faults[index].when {
            FaultTime::At(at) => at.as_nanos().saturating_sub(env.now().as_nanos()),
            FaultTime::Every(mean) => {
                crate::engine::Dist::Exp { mean_ns: mean.as_nanos() as f64 }.sample(env.rng())
            }
        };
        env.timer(SimDuration(delay), Msg::FaultDue { index: index as u32 });
    }

    fn fire(&mut self, index: usize, env: &mut Env<'_>) {
        let f = &self.faults[index];
        // A crash never restarted and a partition never healed last to the end; a
        // disconnect lasts its own span; the rest act at their instant.
        let lasting = match f.start {
            Fault::Disconnect(ns) | Fault::Pause(ns) => Some(SimDuration(ns)),
            _ => f.end.map(|(after, _)| after),
        };
        let forever = matches!(
            f.start,
            Fault::Crash
                | Fault::CrashReplica(_)
                | Fault::Partition { cut: true, .. }
                | Fault::Isolate { cut: true, .. }
                | Fault::MidStream { .. }
        );
        env.struck(index, lasting, forever);
        self.strikes += 1;
        let strike = self.strikes;
        let f = &self.faults[index];
        for &target in &f.targets {
            if f.share < 1.0 && !env.rng().chance(f.share) {
                continue;
            }
            env.deliver(SimDuration::ZERO, target, Msg::Fault(f.start.numbered(strike)));
            if let Some((after, end)) = f.end {
                env.deliver(after, target, Msg::Fault(end.numbered(strike)));
            }
        }
        if matches!(f.when, FaultTime::Every(_)) && !env.stopping() {
            self.arm(index, env);
        }
    }
}

impl Component for FaultDriver {
    fn versions_held(&self, _held: &mut dyn FnMut(crate::check::VersionId)) -> bool {
        true // It schedules faults and holds no data.
    }

    fn start(&mut self, env: &mut Env<'_>) {
        (0..self.faults.len()).for_each(|i| self.arm(i, env));
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::FaultDue { index } if !env.stopping() => self.fire(index as usize, env),
            Msg::FaultDue { .. } => {}
            other => panic!("fault driver got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::BuiltIn;
    use crate::components::testing::{bench, ms, run};

    /// Fires `faults` (their targets are probes 1 and 2) until 100 ms; each probe must
    /// receive `expected` (ms, probe, fault) in order.
    fn check(faults: Vec<PlannedFault>, expected: &[(u64, u32, Fault)]) {
        let (mut sim, _) = bench(2, 1, |_| BuiltIn::Faults(FaultDriver::new(faults)));
        run(&mut sim, ms(100));
        let got: Vec<(u64, u32, Fault)> = (sim.actor.received.iter())
            .filter_map(|r| match r.msg {
                Msg::Fault(f) => Some((r.at.as_nanos() / 1_000_000, r.probe.0, f)),
                _ => None,
            })
            .collect();
        assert_eq!(got, expected);
    }

    fn at(ms: u64, targets: &[u32], start: Fault, end: Option<(u64, Fault)>) -> PlannedFault {
        PlannedFault {
            when: FaultTime::At(SimDuration::from_millis(ms)),
            targets: targets.iter().map(|&t| ComponentId(t)).collect(),
            share: 1.0,
            start,
            end: end.map(|(after, f)| (SimDuration::from_millis(after), f)),
        }
    }

    #[test]
    fn a_fault_strikes_every_target_at_its_time_and_ends_after_its_span() {
        let crash = at(10, &[1, 2], Fault::Crash, Some((5, Fault::Restart)));
        let expected = [
            (10, 1, Fault::Crash),
            (10, 2, Fault::Crash),
            (15, 1, Fault::Restart),
            (15, 2, Fault::Restart),
        ];
        check(vec![crash], &expected);
    }

    #[test]
    fn faults_fire_in_time_order_whatever_their_order_in_the_scenario() {
        let late = at(30, &[1], Fault::LagFactor(5_000), None);
        let early = at(20, &[2], Fault::ClockJump(-1), None);
        check(
            vec![late, early],
            &[(20, 2, Fault::ClockJump(-1)), (30, 1, Fault::LagFactor(5_000))],
        );
    }
}
