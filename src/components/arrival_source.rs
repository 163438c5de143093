//! Open arrivals: the source of one open population. Users arrive as a Poisson process
//! whose rate follows the population's schedule (drawn at the schedule's peak rate and
//! thinned to the rate of the moment), whatever the system does. Each arrival goes to
//! the population's client that has been free longest, which runs one round of the
//! workflow and tells the source when it is free again. An arrival that finds every
//! client busy is counted and lost (`no_free_client`): the population is too small for
//! the load, and its count says by how much.

use std::collections::VecDeque;

use super::Component;
use super::env::Env;
use super::message::Msg;
use crate::engine::{ComponentId, Dist, SimDuration};
use crate::model::arrivals::RateSchedule;

/// The arrival source of one open population.
#[derive(Debug)]
pub struct ArrivalSource {
    schedule: RateSchedule,
    /// The population's clients, by index within it.
    clients: Vec<ComponentId>,
    /// Free clients, the longest free first.
    free: VecDeque<u32>,
    arrived: u64,
    no_free_client: u64,
}

impl ArrivalSource {
    /// A source feeding `clients` (all free at the start) by `schedule`.
    pub fn new(schedule: RateSchedule, clients: Vec<ComponentId>) -> ArrivalSource {
        let free = (0..clients.len() as u32).collect();
        ArrivalSource { schedule, clients, free, arrived: 0, no_free_client: 0 }
    }

    /// Sets the timer for the next arrival: candidates at the peak rate, each kept with
    /// the share the rate of its moment is of the peak.
    fn arm(&mut self, env: &mut Env<'_>) {
        let peak = self.schedule.max();
        let gap = Dist::Exp { mean_ns: 1e9 / peak };
        let (mut at, stop) = (env.now().as_nanos(), env.stop_at.as_nanos());
        loop {
            at = at.saturating_add(gap.sample(env.rng()));
            if at >= stop {
                // No arrival after the duration: a rate far below its peak is not drawn
                // through to the end of time.
                return;
            }
            let rate = self.schedule.at(at);
            if rate >= peak || env.rng().unit() * peak < rate {
                break;
            }
        }
        env.timer(SimDuration(at - env.now().as_nanos()), Msg::Wake);
    }

    fn arrive(&mut self, env: &mut Env<'_>) {
        if env.stopping() {
            return;
        }
        self.arrived += 1;
        match self.free.pop_front() {
            Some(c) => env.deliver(SimDuration::ZERO, self.clients[c as usize], Msg::Arrival),
            None => self.no_free_client += 1,
        }
        self.arm(env);
    }
}

impl Component for ArrivalSource {
    fn versions_held(&self, _held: &mut dyn FnMut(crate::check::VersionId)) -> bool {
        true // It hands arrivals to idle clients and holds no data.
    }

    fn start(&mut self, env: &mut Env<'_>) {
        self.arm(env);
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Wake => self.arrive(env),
            Msg::Idle { client } => self.free.push_back(client),
            other => panic!("arrival source got unexpected {}", other.kind_name()),
        }
    }

    /// Users arrived, and those that found no free client.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        vec![("arrived", self.arrived), ("no_free_client", self.no_free_client)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::BuiltIn;
    use crate::components::testing::{bench, ms, run};

    #[test]
    fn arrivals_go_to_the_longest_free_client_and_are_lost_when_none_is() {
        let clients = vec![ComponentId(1), ComponentId(2)];
        let source = ArrivalSource::new(RateSchedule::Constant(1000.0), clients);
        let (mut sim, _) = bench(2, 1, |_| BuiltIn::Arrivals(source));
        run(&mut sim, ms(50));
        let given: Vec<u32> = (sim.actor.received.iter())
            .filter(|r| r.msg == Msg::Arrival)
            .map(|r| r.probe.0)
            .collect();
        assert_eq!(given, [1, 2], "each client once, then none is free");
        let BuiltIn::Arrivals(s) = &sim.actor.component else { unreachable!() };
        // About 50 arrivals at 1000/s in 50 ms; all but two found no free client.
        assert!((30..=70).contains(&s.arrived), "{} arrived", s.arrived);
        assert_eq!(s.no_free_client, s.arrived - 2);
    }
}
