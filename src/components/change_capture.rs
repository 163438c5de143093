//! Change data capture (Debezium-like): a connector that reads every change its store
//! commits from the store's log and publishes it to a topic, so a service only writes
//! and nothing it does can lose an event. It polls the log every `every`, publishes what
//! it has not sent, and records its offset in the store every `mark_every`; after a
//! crash it starts again from the last offset recorded, publishing again what it sent
//! since (at least once). Its actor is the outbox relay's, reading the log instead of
//! an outbox table.

use serde::Deserialize;

use super::kind::{BuildContext, KindFile};
use super::outbox_relay::{OutboxRelay, OutboxRelaySpec};
use crate::check::{Actor, Purpose, PurposeInfo, Row};
use crate::model::contract::{Contract, FaultKind, KindSpec, Role, Serves, Target};
use crate::model::shape::{Dur, Problems};

/// `ChangeCapture(every: "20ms", mark_every: "1s")`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "ChangeCapture")]
pub struct RawChangeCapture {
    /// How often it reads the log.
    pub every: Dur,
    /// How often it records its offset (`every` when absent).
    #[serde(default)]
    pub mark_every: Option<Dur>,
}

/// Change capture parameters: a relay's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeCaptureSpec(pub OutboxRelaySpec);

impl KindFile for RawChangeCapture {
    type Spec = ChangeCaptureSpec;
    type Actor = Box<OutboxRelay>;

    fn validate(&self, problems: &mut Problems) -> ChangeCaptureSpec {
        let raw =
            super::outbox_relay::RawOutboxRelay { every: self.every, mark_every: self.mark_every };
        ChangeCaptureSpec(raw.validate(problems))
    }

    fn build(spec: &ChangeCaptureSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        let store = ctx.link("store").ok_or("change capture needs a link to its store")?;
        let topic = ctx.link("topic").ok_or("change capture needs a link to its topic")?;
        let relay = OutboxRelay::capturing(&spec.0, (store, topic), [LOG_POLL, LOG_MARK]);
        Ok(Box::new(relay.to_log(ctx)))
    }
}

impl KindSpec for ChangeCaptureSpec {
    /// A connector reads one store's log and publishes to one topic; it can crash.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("change capture", Serves::Worker);
        let store = Role::new("store", Target::Only(Serves::Data), 1, 1);
        c.roles.push(store.wanting("exactly one link to the store whose log it reads", "db"));
        let topic = Role::new("topic", Target::Events, 1, 1);
        c.roles
            .push(topic.wanting("exactly one link to the topic or log it publishes to", "events"));
        c.faults.push(FaultKind::Crash);
        c
    }
}

static POLL_ROW: Row = Row { name: "log_poll", always_shown: false, reads: false };
static MARK_ROW: Row = Row { name: "log_offset", always_shown: false, reads: false };

/// The connector reading the store's log.
pub const LOG_POLL: Purpose = Purpose(&POLL_INFO);
static POLL_INFO: PurposeInfo = PurposeInfo {
    by: Actor::Server,
    checked: false,
    ..Purpose::client("log poll", "reads the log of", &POLL_ROW)
};
/// The connector recording its offset.
pub const LOG_MARK: Purpose = Purpose(&MARK_INFO);
static MARK_INFO: PurposeInfo = PurposeInfo {
    by: Actor::Server,
    checked: false,
    ..Purpose::client("log offset", "records its offset in", &MARK_ROW)
};
