//! A sentinel gate: clients call `prepare` before every action and `finalize` after it,
//! each a round trip of its own to the gate.
//!
//! `prepare` may refuse the action: by policy, with a fixed chance, or because the client
//! used up a usage window (at most `messages` actions in any `window`, e.g. 40 per 5 h
//! and 200 per 7 d), which the client sees as `message_limit`. A refused action is never
//! sent, so nothing the client was told is lost. An allowed `prepare` counts one action
//! against the client's windows; `finalize` only answers (it validates and logs).

use super::purposes;
use std::collections::VecDeque;

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::message::{Msg, Request, Status};
use crate::check::VersionId;
use crate::engine::{Dist, SimDuration, SimTime};
use crate::model::contract::{Contract, KindSpec, Serves};
use crate::model::shape::{Dur, Problems, RawDist};

// The kind: its file shape, validation, contract and build.

/// Most messages a usage window may allow (each client keeps that many times).
pub const WINDOW_MESSAGES_MAX: u32 = 100_000;

/// Sentinel gate parameters.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "Sentinel")]
pub struct RawSentinel {
    /// Time to answer a `prepare`.
    pub prepare: RawDist,
    /// Time to answer a `finalize`.
    pub finalize: RawDist,
    /// Probability that a `prepare` is refused by policy.
    #[serde(default)]
    pub reject: f64,
    /// `[(window: "5h", messages: 40), (window: "7d", messages: 200)]`.
    #[serde(default)]
    pub limits: Vec<RawLimit>,
}

/// A usage window.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "limit")]
pub struct RawLimit {
    /// The sliding window.
    pub window: Dur,
    /// Actions allowed within it.
    pub messages: u32,
}

/// Sentinel gate parameters.
#[derive(Debug, Clone)]
pub struct SentinelSpec {
    /// Time the gate takes to answer a `prepare`.
    pub prepare: Dist,
    /// Time the gate takes to answer a `finalize`.
    pub finalize: Dist,
    /// Probability that a `prepare` is refused by policy.
    pub reject: f64,
    /// Usage windows: at most `messages` actions per client in any `window`.
    pub limits: Vec<UsageLimit>,
}

/// One usage window of a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageLimit {
    /// The sliding window.
    pub window: crate::engine::SimDuration,
    /// Actions allowed within it.
    pub messages: u32,
}

impl KindFile for RawSentinel {
    type Spec = SentinelSpec;
    type Actor = Box<Sentinel>;

    fn validate(&self, c: &mut Problems) -> SentinelSpec {
        let g = self;
        let at = |field: &'static str| [field];
        c.probability(&at("reject"), "`reject`", g.reject);
        for (i, l) in g.limits.iter().enumerate() {
            let index = i.to_string();
            let path = ["limits", index.as_str()];
            if l.window.0 == SimDuration::ZERO
                || l.messages == 0
                || l.messages > WINDOW_MESSAGES_MAX
            {
                let msg = format!(
                    "a usage window needs a window above 0 and 1 to {WINDOW_MESSAGES_MAX} messages, \
                     found {} messages per {}",
                    l.messages,
                    crate::engine::time::format_span(l.window.0.as_nanos())
                );
                c.error(&path, msg, Some(r#"e.g. (window: "5h", messages: 40)"#.into()));
            }
        }
        SentinelSpec {
            prepare: c.dist(&at("prepare"), &g.prepare),
            finalize: c.dist(&at("finalize"), &g.finalize),
            reject: g.reject,
            limits: g
                .limits
                .iter()
                .map(|l| UsageLimit { window: l.window.0, messages: l.messages })
                .collect(),
        }
    }

    /// Builds the gate.
    fn build(spec: &SentinelSpec, _ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        Ok(Box::new(Sentinel::new(spec)))
    }
}

impl KindSpec for SentinelSpec {
    /// A gate answers the clients' `prepare` and `finalize` itself, beside their entry.
    fn contract(&self) -> Contract {
        Contract::new("sentinel", Serves::Gate)
    }
}

// The component.

/// What a gate did over a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GateCounts {
    /// `prepare` calls answered.
    pub prepares: u64,
    /// `finalize` calls answered.
    pub finalizes: u64,
    /// Actions refused by policy.
    pub refused: u64,
    /// Actions refused by each usage window, in the spec's order.
    pub limited: Vec<u64>,
}

/// A prepare/finalize gate with usage windows.
#[derive(Debug)]
pub struct Sentinel {
    prepare: Dist,
    finalize: Dist,
    reject: f64,
    limits: Vec<UsageLimit>,
    /// Per client, the times of its newest allowed actions (as many as the largest
    /// window allows), oldest first.
    recent: Vec<VecDeque<SimTime>>,
    keep: usize,
    counts: GateCounts,
}

impl Sentinel {
    /// A gate as `spec` describes.
    pub fn new(spec: &SentinelSpec) -> Sentinel {
        let keep = spec.limits.iter().map(|l| l.messages as usize).max().unwrap_or(0);
        Sentinel {
            prepare: spec.prepare.clone(),
            finalize: spec.finalize.clone(),
            reject: spec.reject,
            limits: spec.limits.clone(),
            recent: Vec::new(),
            keep,
            counts: GateCounts { limited: vec![0; spec.limits.len()], ..GateCounts::default() },
        }
    }

    /// What the gate did so far.
    pub fn gate_counts(&self) -> &GateCounts {
        &self.counts
    }

    /// The first usage window `client` has used up at `now`, if any.
    fn window_full(&mut self, client: u32, now: SimTime) -> Option<usize> {
        let recent = crate::check::checks::slot(&mut self.recent, client);
        self.limits.iter().position(|l| {
            let n = l.messages as usize;
            // The n-th newest action inside the window means this one would be n + 1.
            recent.len() >= n && now.since(recent[recent.len() - n]) < l.window
        })
    }

    fn decide(&mut self, client: u32, env: &mut Env<'_>) -> Status {
        if self.reject > 0.0 && env.rng().chance(self.reject) {
            self.counts.refused += 1;
            return Status::Refused;
        }
        if let Some(i) = self.window_full(client, env.now()) {
            self.counts.limited[i] += 1;
            return Status::Limited;
        }
        if self.keep > 0 {
            let recent = &mut self.recent[client as usize];
            if recent.len() == self.keep {
                recent.pop_front();
            }
            recent.push_back(env.now());
        }
        Status::Ok
    }

    fn on_request(&mut self, request: Request, env: &mut Env<'_>) {
        let inv = env.invocation(request.op);
        let (status, work) = match inv.purpose {
            p if p == purposes::PREPARE => {
                self.counts.prepares += 1;
                let status = self.decide(inv.client, env);
                (status, self.prepare.sample(env.rng()))
            }
            _ => {
                self.counts.finalizes += 1;
                (Status::Ok, self.finalize.sample(env.rng()))
            }
        };
        env.reply_after(SimDuration(work), &request, status, VersionId::ROOT, 0);
    }
}

impl Component for Sentinel {
    fn versions_held(&self, _held: &mut dyn FnMut(VersionId)) -> bool {
        true // It keeps only each client's action times and counts.
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Request(request) => self.on_request(request, env),
            other => panic!("sentinel got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_window_refuses_until_its_oldest_action_ages_out() {
        let spec = SentinelSpec {
            prepare: Dist::constant(0),
            finalize: Dist::constant(0),
            reject: 0.0,
            limits: vec![
                UsageLimit { window: SimDuration::from_secs(10), messages: 2 },
                UsageLimit { window: SimDuration::from_secs(100), messages: 3 },
            ],
        };
        let mut g = Sentinel::new(&spec);
        let at = |s: u64| SimTime::ZERO.after(SimDuration::from_secs(s));
        let allow = |g: &mut Sentinel, s| {
            let full = g.window_full(7, at(s));
            if full.is_none() {
                g.recent[7].push_back(at(s));
            }
            full
        };
        assert_eq!(allow(&mut g, 0), None);
        assert_eq!(allow(&mut g, 1), None);
        assert_eq!(allow(&mut g, 2), Some(0), "third action within 10 s");
        assert_eq!(allow(&mut g, 10), None, "the action at 0 s has aged out");
        assert_eq!(allow(&mut g, 30), Some(1), "fourth action within 100 s");
        assert_eq!(allow(&mut g, 101), None);
    }
}
