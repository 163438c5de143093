//! A topic (a message broker's, SNS-like): every event published to it is delivered to
//! each subscriber linked from it, after the broker's own delay. It keeps nothing: an
//! event published while it is down is lost, as is one whose link to a subscriber drops
//! it. Services publish to it (`publish(topic: ...)`) and outbox relays send it what
//! their store's outbox holds.

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::message::{Fault, Msg};
use crate::engine::{Dist, LinkId, SimDuration};
use crate::model::contract::{Contract, FaultKind, KindSpec, Role, Serves, Target};
use crate::model::shape::{Problems, RawDist};

// The kind: its file shape, validation, contract and build.

/// `Topic(delivery: exp("2ms"))`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "Topic")]
pub struct RawTopic {
    /// The broker's own time to hand an event on (none when absent).
    #[serde(default)]
    pub delivery: Option<RawDist>,
}

/// Topic parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicSpec {
    /// The broker's own delay.
    pub delivery: Dist,
}

impl KindFile for RawTopic {
    type Spec = TopicSpec;
    type Actor = Topic;

    fn validate(&self, problems: &mut Problems) -> TopicSpec {
        let delivery =
            self.delivery.as_ref().map_or(Dist::constant(0), |d| problems.dist(&["delivery"], d));
        TopicSpec { delivery }
    }

    fn build(spec: &TopicSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        Ok(Topic::new(spec, ctx.links("subscribers").to_vec()))
    }
}

impl KindSpec for TopicSpec {
    /// A topic delivers to the consumers it links to, at least one, and can crash.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("topic", Serves::Topic);
        let subscribers = Role::new("subscribers", Target::Only(Serves::Consumer), 1, u32::MAX);
        c.roles.push(subscribers.wanting("a link to each consumer subscribed to it", "consumer"));
        c.faults.push(FaultKind::Crash);
        c.callers = Some(("a service or an outbox relay", "api"));
        c
    }
}

// The component.

/// A topic.
#[derive(Debug)]
pub struct Topic {
    delivery: Dist,
    subscribers: Vec<LinkId>,
    up: bool,
    published: u64,
    lost_while_down: u64,
}

impl Topic {
    /// A topic delivering to `subscribers`.
    pub fn new(spec: &TopicSpec, subscribers: Vec<LinkId>) -> Topic {
        Topic {
            delivery: spec.delivery.clone(),
            subscribers,
            up: true,
            published: 0,
            lost_while_down: 0,
        }
    }
}

impl Component for Topic {
    fn versions_held(&self, _held: &mut dyn FnMut(crate::check::VersionId)) -> bool {
        true // It hands each event on at once and keeps only counts.
    }

    /// Events published to it, and events lost because it was down.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        vec![("published", self.published), ("lost_while_down", self.lost_while_down)]
    }

    fn is_up(&self) -> bool {
        self.up
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Publish { .. } if !self.up => self.lost_while_down += 1,
            Msg::Publish { .. } => {
                self.published += 1;
                for &link in &self.subscribers {
                    let delay = SimDuration(self.delivery.sample(env.rng()));
                    env.send_after(delay, link, msg);
                }
            }
            Msg::Fault(Fault::Crash) => self.up = false,
            Msg::Fault(Fault::Restart) => self.up = true,
            Msg::Fault(_) => {}
            other => panic!("topic got unexpected {}", other.kind_name()),
        }
    }
}
