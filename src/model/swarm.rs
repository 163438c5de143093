//! Swarm faults: faults given as ranges, from which each seed draws its own mix. A
//! swarm fault is two faults of the same kind on the same target, `from` and `to`;
//! a seed includes it with its `chance` and then draws every timing and strength
//! uniformly between the two. The draw uses the seed's own `swarm` stream, so a seed's
//! mix is the same wherever it runs and does not shift any instance's draws.

use super::scenario::{FaultAction, FaultSpec, FaultTime, Promote};
use crate::engine::{SimDuration, Stream};

/// A fault each seed may or may not draw, with its ranges.
#[derive(Debug, Clone, PartialEq)]
pub struct SwarmFault {
    /// Chance a seed's mix has it.
    pub chance: f64,
    /// The low end of every range.
    pub from: FaultSpec,
    /// The high end; the same kind and target as `from`.
    pub to: FaultSpec,
}

/// The faults `seed` draws from `swarm`, in the swarm's order.
pub fn draw(swarm: &[SwarmFault], seed: u64) -> Vec<FaultSpec> {
    let mut stream = Stream::new(seed, "swarm");
    let mut mix = Vec::new();
    for s in swarm {
        // Every entry takes the same draws whether or not it is in, so removing one
        // entry's chance does not change the others' values.
        let included = stream.unit() < s.chance;
        let mut next = || stream.unit();
        let fault = between(&s.from, &s.to, &mut next);
        if included {
            mix.push(fault);
        }
    }
    mix
}

/// Whether `a` and `b` can bound a range: the same kind, target and choices, and
/// either both once (`at`) or both at a rate.
pub fn same_shape(a: &FaultSpec, b: &FaultSpec) -> bool {
    let when_alike = matches!(
        (a.when, b.when),
        (FaultTime::At(_), FaultTime::At(_)) | (FaultTime::Every(_), FaultTime::Every(_))
    );
    when_alike && shape(&a.action) == shape(&b.action)
}

/// `a` with every value a range may span set to zero.
fn shape(a: &FaultAction) -> FaultAction {
    let zero = SimDuration::ZERO;
    let mut s = a.clone();
    match &mut s {
        FaultAction::Crash { restart_after: Some(d), .. }
        | FaultAction::Partition { heal_after: Some(d), .. }
        | FaultAction::Isolate { heal_after: Some(d), .. } => *d = zero,
        FaultAction::LagSpike { factor, lasting, .. }
        | FaultAction::Slowdown { factor, lasting, .. } => (*factor, *lasting) = (0.0, zero),
        FaultAction::ClockJump { by_ns, .. } => *by_ns = 0,
        FaultAction::ClockDrift { ppm, .. } => *ppm = 0.0,
        FaultAction::Disconnect { share, lasting }
        | FaultAction::PacketLoss { share, lasting, .. } => (*share, *lasting) = (0.0, zero),
        FaultAction::Pause { lasting, .. } => *lasting = zero,
        FaultAction::Revoke { share } | FaultAction::StealTokens { share } => *share = 0.0,
        _ => {}
    }
    s
}

/// A fault between `lo` and `hi`, each range's position drawn by `u` (in `[0, 1)`).
/// Times are whole milliseconds and strengths two decimals (three for shares), so the
/// mix reads as a file would write it and means exactly that.
fn between(lo: &FaultSpec, hi: &FaultSpec, u: &mut dyn FnMut() -> f64) -> FaultSpec {
    let dur = |a: SimDuration, b: SimDuration, u: f64| {
        let (a, b) = (a.as_nanos() as f64, b.as_nanos() as f64);
        SimDuration::from_millis(libm::round((a + (b - a) * u) / 1e6) as u64)
    };
    let num = |a: f64, b: f64, u: f64, scale: f64| libm::round((a + (b - a) * u) * scale) / scale;
    let when = match (lo.when, hi.when) {
        (FaultTime::At(a), FaultTime::At(b)) => FaultTime::At(dur(a, b, u())),
        (FaultTime::Every(a), FaultTime::Every(b)) => FaultTime::Every(dur(a, b, u())),
        (w, _) => w,
    };
    use FaultAction as F;
    let action = match (&lo.action, &hi.action) {
        (
            F::Crash { target, replica, restart_after: Some(a) },
            F::Crash { restart_after: Some(b), .. },
        ) => F::Crash {
            target: target.clone(),
            replica: *replica,
            restart_after: Some(dur(*a, *b, u())),
        },
        (
            F::Partition { from, to, heal_after: Some(a) },
            F::Partition { heal_after: Some(b), .. },
        ) => {
            F::Partition { from: from.clone(), to: to.clone(), heal_after: Some(dur(*a, *b, u())) }
        }
        (F::Isolate { target, heal_after: Some(a) }, F::Isolate { heal_after: Some(b), .. }) => {
            F::Isolate { target: target.clone(), heal_after: Some(dur(*a, *b, u())) }
        }
        (
            F::LagSpike { target, factor: fa, lasting: la },
            F::LagSpike { factor: fb, lasting: lb, .. },
        ) => F::LagSpike {
            target: target.clone(),
            factor: num(*fa, *fb, u(), 100.0),
            lasting: dur(*la, *lb, u()),
        },
        (
            F::Slowdown { target, factor: fa, lasting: la },
            F::Slowdown { factor: fb, lasting: lb, .. },
        ) => F::Slowdown {
            target: target.clone(),
            factor: num(*fa, *fb, u(), 100.0),
            lasting: dur(*la, *lb, u()),
        },
        (F::ClockJump { target, by_ns: a }, F::ClockJump { by_ns: b, .. }) => {
            let ms = num(*a as f64 / 1e6, *b as f64 / 1e6, u(), 1.0);
            F::ClockJump { target: target.clone(), by_ns: (ms * 1e6) as i64 }
        }
        (F::Disconnect { share: a, lasting: la }, F::Disconnect { share: b, lasting: lb }) => {
            F::Disconnect { share: num(*a, *b, u(), 1000.0), lasting: dur(*la, *lb, u()) }
        }
        (F::ClockDrift { target, ppm: a }, F::ClockDrift { ppm: b, .. }) => {
            F::ClockDrift { target: target.clone(), ppm: num(*a, *b, u(), 1.0) }
        }
        (F::Pause { target, lasting: a }, F::Pause { lasting: b, .. }) => {
            F::Pause { target: target.clone(), lasting: dur(*a, *b, u()) }
        }
        (
            F::PacketLoss { from, to, share: a, lasting: la },
            F::PacketLoss { share: b, lasting: lb, .. },
        ) => F::PacketLoss {
            from: from.clone(),
            to: to.clone(),
            share: num(*a, *b, u(), 1000.0),
            lasting: dur(*la, *lb, u()),
        },
        (F::Revoke { share: a }, F::Revoke { share: b }) => {
            F::Revoke { share: num(*a, *b, u(), 1000.0) }
        }
        (F::StealTokens { share: a }, F::StealTokens { share: b }) => {
            F::StealTokens { share: num(*a, *b, u(), 1000.0) }
        }
        (action, _) => action.clone(),
    };
    FaultSpec { when, action }
}

/// A drawn fault as a scenario file writes it, so a seed's mix can be pasted into
/// `faults` and replayed on its own: `crash(target: "db", at: "91394ms", ...)`.
pub fn to_ron(f: &FaultSpec) -> String {
    let d = |d: SimDuration| format!("\"{}\"", crate::engine::time::format_exact(d.as_nanos()));
    let when = match f.when {
        FaultTime::At(t) => format!("at: {}", d(t)),
        FaultTime::Every(t) => {
            format!("rate: \"1/{}\"", crate::engine::time::format_exact(t.as_nanos()))
        }
    };
    let opt = |name: &str, v: Option<SimDuration>| {
        v.map_or(String::new(), |v| format!(", {name}: {}", d(v)))
    };
    match &f.action {
        FaultAction::Crash { target, replica, restart_after } => {
            let replica = replica.map_or(String::new(), |r| format!(", replica: {r}"));
            let restart = opt("restart_after", *restart_after);
            format!("crash(target: {target:?}{replica}, {when}{restart})")
        }
        FaultAction::Failover { target, promote } => {
            let promote = match promote {
                Promote::Chosen(i) => format!("replica({i})"),
                Promote::Freshest => "freshest".into(),
                Promote::Random => "random".into(),
            };
            format!("failover(target: {target:?}, {when}, promote: {promote})")
        }
        FaultAction::Partition { from, to, heal_after } => {
            format!(
                "partition(from: {from:?}, to: {to:?}, {when}{})",
                opt("heal_after", *heal_after)
            )
        }
        FaultAction::Isolate { target, heal_after } => {
            format!("isolate(target: {target:?}, {when}{})", opt("heal_after", *heal_after))
        }
        FaultAction::LagSpike { target, factor, lasting } => {
            format!(
                "lag_spike(target: {target:?}, {when}, factor: {factor:?}, for: {})",
                d(*lasting)
            )
        }
        FaultAction::Slowdown { target, factor, lasting } => {
            format!(
                "slowdown(target: {target:?}, {when}, factor: {factor:?}, for: {})",
                d(*lasting)
            )
        }
        FaultAction::ClockDrift { target, ppm } => {
            format!("clock_drift(target: {target:?}, {when}, ppm: {ppm:?})")
        }
        FaultAction::ClockJump { target, by_ns } => {
            let sign = if *by_ns < 0 { "-" } else { "" };
            let by = crate::engine::time::format_exact(by_ns.unsigned_abs());
            format!("clock_jump(target: {target:?}, {when}, by: \"{sign}{by}\")")
        }
        FaultAction::Disconnect { share, lasting } => {
            format!("disconnect(share: {share:?}, {when}, for: {})", d(*lasting))
        }
        FaultAction::Pause { target, lasting } => {
            format!("pause(target: {target:?}, {when}, for: {})", d(*lasting))
        }
        FaultAction::PacketLoss { from, to, share, lasting } => format!(
            "packet_loss(from: {from:?}, to: {to:?}, {when}, share: {share:?}, for: {})",
            d(*lasting)
        ),
        FaultAction::Revoke { share } => format!("revoke(share: {share:?}, {when})"),
        FaultAction::StealTokens { share } => format!("steal_tokens(share: {share:?}, {when})"),
        FaultAction::DisconnectMidStream { chance, within, lasting } => format!(
            "disconnect_mid_stream(chance: {chance:?}, {when}, within: {}, for: {})",
            d(*within),
            d(*lasting)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crash(at: u64, restart: u64) -> FaultSpec {
        FaultSpec {
            when: FaultTime::At(SimDuration::from_secs(at)),
            action: FaultAction::Crash {
                target: "db".into(),
                replica: None,
                restart_after: Some(SimDuration::from_secs(restart)),
            },
        }
    }

    #[test]
    fn each_seed_draws_its_own_mix_within_the_ranges_and_the_same_every_time() {
        let swarm = [SwarmFault { chance: 0.5, from: crash(60, 5), to: crash(540, 30) }];
        let mut drawn = 0;
        for seed in 0..400 {
            let mix = draw(&swarm, seed);
            assert_eq!(mix, draw(&swarm, seed), "a seed's mix replays");
            for f in &mix {
                drawn += 1;
                let FaultTime::At(at) = f.when else { panic!() };
                assert!((60..=540).contains(&(at.as_nanos() / 1_000_000_000)), "{at:?}");
                let FaultAction::Crash { restart_after: Some(r), .. } = f.action else { panic!() };
                assert!((5_000..=30_000).contains(&(r.as_nanos() / 1_000_000)));
                assert_eq!(r.as_nanos() % 1_000_000, 0, "whole milliseconds");
            }
        }
        // About half the seeds have the crash (binomial 400, 0.5: 200 ± 30 at 3 sigma).
        assert!((170..=230).contains(&drawn), "{drawn} of 400");
    }

    #[test]
    fn ranges_need_the_same_kind_and_target() {
        assert!(same_shape(&crash(60, 5), &crash(540, 30)));
        let mut other = crash(60, 5);
        other.action =
            FaultAction::Crash { target: "cache".into(), replica: None, restart_after: None };
        assert!(!same_shape(&crash(60, 5), &other));
    }
}
