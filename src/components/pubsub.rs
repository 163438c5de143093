//! A pub/sub broker (Redis-like): what one app server publishes goes out, after the
//! broker's own `fanout` time, to every other app server linked to it, each over its
//! own link. While crashed it drops what is published: servers learn nothing of each
//! other's edits until it is back, and nothing published meanwhile is replayed.

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::message::{Fault, Msg};
use crate::engine::{Dist, LinkId, SimDuration};
use crate::model::contract::{Contract, FaultKind, KindSpec, Serves};
use crate::model::shape::{Problems, RawDist};

// The kind: its file shape, validation, contract and build.

/// Pub/sub broker parameters.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "PubSub")]
pub struct RawPubSub {
    /// Time inside the broker before a message goes out to the subscribers.
    #[serde(default)]
    pub fanout: Option<RawDist>,
}

/// Pub/sub broker parameters.
#[derive(Debug, Clone)]
pub struct PubSubSpec {
    /// Time inside the broker before a message goes out.
    pub fanout: Dist,
}

impl KindFile for RawPubSub {
    type Spec = PubSubSpec;
    type Actor = PubSub;

    fn validate(&self, c: &mut Problems) -> PubSubSpec {
        let fanout = self.fanout.as_ref().map_or(Dist::constant(0), |d| c.dist(&["fanout"], d));
        PubSubSpec { fanout }
    }

    /// Builds the broker; every link into it is a subscriber's.
    fn build(spec: &PubSubSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        let subscribers = ctx.incoming.iter().map(|&(link, _)| link).collect();
        Ok(PubSub::new(spec, subscribers))
    }
}

impl KindSpec for PubSubSpec {
    /// A broker answers over its app servers' links, and can crash.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("broker", Serves::Broker);
        c.alone = "answers over its app servers' links";
        c.faults.push(FaultKind::Crash);
        c
    }
}

// The component.

/// A fan-out broker.
#[derive(Debug)]
pub struct PubSub {
    fanout: Dist,
    subscribers: Vec<LinkId>,
    up: bool,
    published: u64,
    delivered: u64,
    dropped: u64,
}

impl PubSub {
    /// A broker that delivers over `subscribers` (the links its app servers opened).
    pub fn new(spec: &PubSubSpec, subscribers: Vec<LinkId>) -> PubSub {
        let fanout = spec.fanout.clone();
        PubSub { fanout, subscribers, up: true, published: 0, delivered: 0, dropped: 0 }
    }
}

impl Component for PubSub {
    fn versions_held(&self, _held: &mut dyn FnMut(crate::check::VersionId)) -> bool {
        true // It hands each publish on at once and keeps only counts.
    }

    /// Whether it delivers.
    fn is_up(&self) -> bool {
        self.up
    }

    /// What the broker did, by name: messages published to it, deliveries it sent,
    /// and messages dropped while it was down.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("published", self.published),
            ("delivered", self.delivered),
            ("dropped", self.dropped),
        ]
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Publish { from, .. } if self.up => {
                self.published += 1;
                let delay = SimDuration(self.fanout.sample(env.rng()));
                for i in 0..self.subscribers.len() {
                    let link = self.subscribers[i];
                    if env.peer(link).0 != from {
                        self.delivered += 1;
                        env.send_after(delay, link, msg);
                    }
                }
            }
            Msg::Publish { .. } => self.dropped += 1,
            Msg::Fault(Fault::Crash) => self.up = false,
            Msg::Fault(Fault::Restart) => self.up = true,
            Msg::Fault(_) => {}
            other => panic!("pub/sub broker got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::VersionId;
    use crate::components::BuiltIn;
    use crate::components::testing::{bench, deliver, ms, run};

    /// Publishes of key 0 from probe `from` at each time (ms), with faults between;
    /// `expected` is each delivery (ms, probe) and the broker's counts.
    fn check(
        script: &[(u64, Option<u32>, Option<Fault>)],
        expected: &[(u64, u32)],
        counts: [u64; 3],
    ) {
        let spec = PubSubSpec { fanout: Dist::constant(2_000_000) };
        let (mut sim, _) =
            bench(3, 1, |links| BuiltIn::PubSub(PubSub::new(&spec, links.callers.clone())));
        for &(t, from, fault) in script {
            if let Some(from) = from {
                deliver(&mut sim, ms(t), Msg::Publish { key: 0, version: VersionId(1), from });
            }
            if let Some(f) = fault {
                deliver(&mut sim, ms(t), Msg::Fault(f));
            }
        }
        run(&mut sim, ms(100));
        let got: Vec<(u64, u32)> =
            (sim.actor.received.iter()).map(|r| (r.at.as_nanos() / 1_000_000, r.probe.0)).collect();
        assert_eq!(got, expected);
        let c = sim.actor.component.counts();
        assert_eq!(
            c,
            vec![("published", counts[0]), ("delivered", counts[1]), ("dropped", counts[2])]
        );
    }

    #[test]
    fn a_publish_reaches_every_other_subscriber_after_the_fanout_time() {
        // Probe 1 publishes at 1 ms: probes 2 and 3 get it at 3 ms, probe 1 does not.
        check(&[(1, Some(1), None)], &[(3, 2), (3, 3)], [1, 2, 0]);
    }

    #[test]
    fn a_crashed_broker_drops_what_is_published_and_replays_nothing() {
        let script = [
            (1, None, Some(Fault::Crash)),
            (2, Some(2), None),
            (3, None, Some(Fault::Restart)),
            (4, Some(3), None),
        ];
        // Only the publish after the restart goes out, to probes 1 and 2.
        check(&script, &[(6, 1), (6, 2)], [1, 2, 1]);
    }
}
