//! A rate limiter (token bucket) in front of one component, as an API gateway or an
//! nginx `limit_req` zone does: it holds up to `burst` tokens, gains one every
//! `1/rate`, and spends one per request it passes on. A request that finds no token is
//! answered `429 Too Many Requests` at once (the client sees it refused) and never
//! reaches the component behind.
//!
//! The bucket is kept in integer nanoseconds of credit (a token is worth one gap), so
//! refills are exact and the same on every machine. One bucket for all callers: a
//! per-client limit is left out.

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::message::{Msg, Status};
use crate::check::VersionId;
use crate::engine::{LinkId, SimDuration, SimTime};
use crate::model::contract::{Contract, KindSpec, Role, Serves, Target};
use crate::model::shape::{Problems, parse_rate};

// The kind: its file shape, validation, contract and build.

/// Most tokens a bucket may hold.
pub const BURST_MAX: u32 = 1_000_000;

/// `RateLimiter(rate: "100/s", burst: 20)`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "RateLimiter")]
pub struct RawRateLimiter {
    /// Requests passed on, on average over time: `"100/s"`, `"6000/m"`.
    pub rate: String,
    /// Requests it passes on at once after a quiet spell (the bucket's size).
    #[serde(default = "crate::model::shape::one")]
    pub burst: u32,
}

/// Rate limiter parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimiterSpec {
    /// Time to earn one token.
    pub gap: SimDuration,
    /// Tokens the bucket holds at most (and at the start).
    pub burst: u32,
}

impl KindFile for RawRateLimiter {
    type Spec = RateLimiterSpec;
    type Actor = RateLimiter;

    fn validate(&self, problems: &mut Problems) -> RateLimiterSpec {
        let gap = parse_rate(&self.rate).unwrap_or_else(|msg| {
            problems.error(&["rate"], msg, Some(r#"e.g. rate: "100/s""#.into()));
            SimDuration(1)
        });
        problems.count(&["burst"], self.burst, BURST_MAX);
        RateLimiterSpec { gap, burst: self.burst.clamp(1, BURST_MAX) }
    }

    /// Builds the limiter in front of its one downstream.
    fn build(spec: &RateLimiterSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        let downstream = ctx.link("downstream").ok_or("a rate limiter needs a downstream link")?;
        Ok(RateLimiter::new(spec, downstream))
    }
}

impl KindSpec for RateLimiterSpec {
    /// A limiter forwards to exactly one component that answers requests.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("rate limiter", Serves::Forwards);
        let downstream = Role::new("downstream", Target::Requests, 1, 1);
        c.roles.push(downstream.wanting("exactly one link to the component it protects", "api"));
        c
    }
}

// The component.

/// A token bucket in front of one downstream.
#[derive(Debug)]
pub struct RateLimiter {
    downstream: LinkId,
    gap_ns: u64,
    /// Credit held, in ns: one gap is one token.
    credit_ns: u64,
    credit_max_ns: u64,
    /// When the credit was last brought up to date.
    updated: SimTime,
    passed: u64,
    limited: u64,
}

impl RateLimiter {
    /// A full bucket of `spec.burst` tokens in front of `downstream`.
    pub fn new(spec: &RateLimiterSpec, downstream: LinkId) -> RateLimiter {
        let gap_ns = spec.gap.as_nanos();
        assert!(gap_ns > 0, "a token takes time to earn");
        let credit_max_ns = gap_ns.saturating_mul(u64::from(spec.burst));
        RateLimiter {
            downstream,
            gap_ns,
            credit_ns: credit_max_ns,
            credit_max_ns,
            updated: SimTime::ZERO,
            passed: 0,
            limited: 0,
        }
    }

    /// Earns the credit of the time since the last update, up to a full bucket.
    fn refill(&mut self, now: SimTime) {
        let earned = now.since(self.updated).as_nanos();
        self.credit_ns = self.credit_ns.saturating_add(earned).min(self.credit_max_ns);
        self.updated = now;
        assert!(self.credit_ns <= self.credit_max_ns, "a bucket never holds more than its burst");
    }
}

impl Component for RateLimiter {
    fn versions_held(&self, _held: &mut dyn FnMut(VersionId)) -> bool {
        true // It forwards or refuses at once, keeping only its bucket.
    }

    /// Requests passed on and requests refused.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        vec![("passed", self.passed), ("limited", self.limited)]
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        let Msg::Request(mut request) = msg else {
            panic!("rate limiter got unexpected {}", msg.kind_name());
        };
        self.refill(env.now());
        if self.credit_ns < self.gap_ns {
            self.limited += 1;
            return env.reply(&request, Status::Limited, VersionId::ROOT, 0);
        }
        self.credit_ns -= self.gap_ns;
        self.passed += 1;
        request.return_ns = env.add_return_hop(request.return_ns, request.via);
        request.via = self.downstream;
        env.send(self.downstream, Msg::Request(request));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::OpKind;
    use crate::components::BuiltIn;
    use crate::components::testing::{bench, ms, replies, request, run};

    /// Requests at each of `times` (ms) through a limiter of one token per 10 ms and
    /// `burst`; returns how many reached the component behind and the refusals' times.
    fn check(burst: u32, times: &[u64], passed: usize, limited_at: &[u64]) {
        let spec = RateLimiterSpec { gap: SimDuration::from_millis(10), burst };
        let (mut sim, links) =
            bench(2, 1, |l| BuiltIn::RateLimiter(RateLimiter::new(&spec, l.callees[1])));
        for &t in times {
            request(&mut sim, ms(t), links.callers[0], OpKind::Write, 0);
        }
        run(&mut sim, ms(10_000));
        let behind = sim.actor.received.iter().filter(|r| matches!(r.msg, Msg::Request(_)));
        assert_eq!(behind.count(), passed);
        let refused: Vec<u64> = replies(&sim)
            .into_iter()
            .filter(|r| r.2 == Status::Limited)
            .map(|r| r.0.as_nanos() / 1_000_000)
            .collect();
        assert_eq!(refused, limited_at);
        let counts = sim.actor.component.counts();
        assert_eq!(counts, vec![("passed", passed as u64), ("limited", limited_at.len() as u64)]);
    }

    #[test]
    fn a_full_bucket_passes_a_burst_then_one_request_per_token() {
        // Two tokens at the start: the third request at 0 ms is refused; a token is
        // earned at 10 ms, so the request at 10 ms passes and the one at 15 ms does not.
        check(2, &[0, 0, 0, 10, 15], 3, &[0, 15]);
    }

    #[test]
    fn over_a_second_of_saturation_it_passes_the_burst_plus_one_per_gap() {
        // A request every ms for 1 s: burst 5 plus a token at 10, 20, ..., 990 ms.
        let times: Vec<u64> = (0..1000).collect();
        let passed = 5 + 999 / 10;
        let limited: Vec<u64> =
            (0..1000).filter(|&t| !(t < 5 || (t >= 10 && t % 10 == 0))).collect();
        check(5, &times, passed as usize, &limited);
    }

    #[test]
    fn a_quiet_spell_refills_the_bucket_no_further_than_its_burst() {
        // After 1 s of quiet only 3 tokens wait, not 100.
        check(3, &[1000, 1000, 1000, 1000], 3, &[1000]);
    }
}
