//! A consumer subscribed to a topic: it processes every event it receives (an index, a
//! projection, an email). With `idempotent: true` it remembers the versions it
//! processed and takes a redelivery as nothing, so at-least-once delivery processes
//! each change once; without, a redelivered event is processed again. What it
//! processes goes to the history, where `delivery` checks it.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::message::Msg;
use crate::check::{Processed, VersionId};
use crate::model::contract::{Contract, KindSpec, Serves};
use crate::model::shape::Problems;

// The kind: its file shape, validation, contract and build.

/// `Consumer(idempotent: true)`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "Consumer")]
pub struct RawConsumer {
    /// Remember what was processed and skip redeliveries.
    #[serde(default)]
    pub idempotent: bool,
}

/// Consumer parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerSpec {
    /// Skips redeliveries.
    pub idempotent: bool,
}

impl KindFile for RawConsumer {
    type Spec = ConsumerSpec;
    type Actor = Consumer;

    fn validate(&self, _: &mut Problems) -> ConsumerSpec {
        ConsumerSpec { idempotent: self.idempotent }
    }

    fn build(spec: &ConsumerSpec, _ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        Ok(Consumer::new(spec))
    }
}

impl KindSpec for ConsumerSpec {
    /// A consumer takes what topics deliver to it and links to nothing.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("consumer", Serves::Consumer);
        c.alone = "processes what its topics deliver";
        c.callers = Some(("a topic", "events"));
        c
    }
}

// The component.

/// A consumer.
#[derive(Debug)]
pub struct Consumer {
    idempotent: bool,
    seen: BTreeSet<VersionId>,
    processed: u64,
    skipped: u64,
}

impl Consumer {
    /// A consumer that has processed nothing.
    pub fn new(spec: &ConsumerSpec) -> Consumer {
        Consumer { idempotent: spec.idempotent, seen: BTreeSet::new(), processed: 0, skipped: 0 }
    }
}

impl Component for Consumer {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        self.seen.iter().copied().for_each(held);
        true
    }

    /// Events processed, and redeliveries skipped.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        vec![("processed", self.processed), ("skipped_redeliveries", self.skipped)]
    }

    fn start(&mut self, env: &mut Env<'_>) {
        env.subscribe();
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        let Msg::Publish { key, version, .. } = msg else {
            panic!("consumer got unexpected {}", msg.kind_name());
        };
        if !self.seen.insert(version) && self.idempotent {
            self.skipped += 1;
            return;
        }
        self.processed += 1;
        let (consumer, at, event) = (env.id.0, env.now(), env.event());
        env.processed(Processed { consumer, key, version, at, event });
    }
}
