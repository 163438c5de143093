//! The messages between a log, its producers and its consumer groups, and the timers
//! each of them sets itself. One variant of `Msg` carries them all.

use crate::engine::ComponentId;

/// What a producer asks the leader to wait for before it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// Nothing: the producer counts the message written once it is sent.
    None,
    /// The leader's own append.
    Leader,
    /// Every in-sync replica, and at least `min_insync_replicas` of them.
    All,
}

/// How the leader treats a producer's sequence numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sequence {
    /// Not at all: every request is written (a producer that is not idempotent).
    Ignored,
    /// Each producer's messages are written in sequence, and once.
    InOrder,
    /// In sequence, and this is the lowest message the producer still has to write in
    /// the partition: a gap before it is of messages the producer gave up on.
    Lowest,
}

/// A log's answer to a produce request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Produced {
    /// Written (or, for an idempotent producer, already there).
    Ok,
    /// Fewer in-sync replicas than `min_insync_replicas`.
    NotEnoughReplicas,
    /// An idempotent producer's message came ahead of one the log lacks.
    OutOfOrder,
    /// The partition has no leader.
    NoLeader,
}

/// A message of the log protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogMsg {
    /// A producer's request to append `message` to `partition`.
    Produce {
        /// The producer, which the answer goes back to.
        origin: ComponentId,
        /// The message (its id in the log book).
        message: u32,
        /// The producer's sequence number for it in the partition.
        seq: u32,
        /// The partition.
        partition: u16,
        /// The producer's attempt; the answer carries it back.
        attempt: u16,
        /// What to wait for.
        acks: Acks,
        /// Whether the leader writes it only in sequence, and once.
        sequence: Sequence,
    },
    /// The log's answer to attempt `attempt` of `message`.
    ProduceAnswer {
        /// The message.
        message: u32,
        /// The attempt.
        attempt: u16,
        /// What happened.
        outcome: Produced,
    },
    /// A consumer group member's fetch from `partition` at `offset`.
    Fetch {
        /// The group, which the answer goes back to.
        origin: ComponentId,
        /// The member.
        member: u16,
        /// The partition.
        partition: u16,
        /// The first offset wanted.
        offset: u32,
        /// The member's assignment generation; the answer carries it back.
        generation: u32,
    },
    /// The leader's answer to a fetch: `count` messages from `offset`, below the high
    /// watermark `high_watermark` (the messages are read from the log book).
    Fetched {
        /// The member.
        member: u16,
        /// The partition.
        partition: u16,
        /// The first offset.
        offset: u32,
        /// How many.
        count: u32,
        /// The partition's high watermark.
        high_watermark: u32,
        /// The generation the fetch was made in.
        generation: u32,
    },
    /// A follower's fetch of everything up to `upto` arrived (the log's own timer).
    Replicated {
        /// The partition.
        partition: u16,
        /// The replica (index within the partition).
        replica: u16,
        /// The leader's log end when the fetch was served.
        upto: u32,
        /// The leader epoch it was served in.
        epoch: u32,
    },
    /// The controller has noticed that `broker` is down (the log's own timer).
    Detect {
        /// The broker.
        broker: u16,
        /// The crash it is about; a restart voids it.
        crash: u32,
    },
    /// The log's periodic look at lagging followers.
    Tick,
    /// A producer's next message is due.
    NextMessage,
    /// A producer's attempt `attempt` of `message` has waited its timeout.
    AttemptTimeout {
        /// The message.
        message: u32,
        /// The attempt.
        attempt: u16,
    },
    /// A producer's backoff before retrying `message` is over.
    Retry {
        /// The message.
        message: u32,
    },
    /// A group member finished processing its current message.
    ProcessingDone {
        /// The member.
        member: u16,
        /// The generation it started in.
        generation: u32,
    },
    /// A group member's wait after an empty fetch is over.
    Poll {
        /// The member.
        member: u16,
        /// The partition.
        partition: u16,
        /// The generation it waited in.
        generation: u32,
    },
    /// A group's periodic offset commit is due.
    CommitDue,
    /// A group's lag sample (every second) is due.
    SampleLag,
    /// A queue worker asks for a message.
    Receive {
        /// The workers, which the answer goes back to.
        origin: ComponentId,
        /// The worker.
        member: u16,
        /// The worker's generation; the answer carries it back.
        generation: u32,
    },
    /// A queue's answer to a receive: a message (`u32::MAX`: none), hidden from other
    /// workers for the visibility timeout.
    Received {
        /// The worker.
        member: u16,
        /// The message, or `u32::MAX`.
        message: u32,
        /// How many times it has been received, this one included.
        receives: u32,
        /// The generation the receive was made in.
        generation: u32,
    },
    /// A worker is done with `message`: the queue deletes it.
    Delete {
        /// The message.
        message: u32,
    },
    /// A worker still processing `message` extends its visibility timeout (a heartbeat).
    Extend {
        /// The message.
        message: u32,
        /// The receive it belongs to: a later receive by another worker voids it.
        receives: u32,
    },
    /// A worker's heartbeat for the message it processes is due.
    Heartbeat {
        /// The worker.
        member: u16,
        /// The generation it started in.
        generation: u32,
    },
    /// A group's session timeout for a crashed member ran out: the group rebalances.
    Rebalance {
        /// The crash it is about; a restart voids it.
        crash: u32,
    },
}

impl LogMsg {
    /// The kind name used in traces.
    pub fn kind_name(&self) -> &'static str {
        match self {
            LogMsg::Produce { .. } => "produce",
            LogMsg::ProduceAnswer { .. } => "produce_answer",
            LogMsg::Fetch { .. } => "fetch",
            LogMsg::Fetched { .. } => "fetched",
            LogMsg::Replicated { .. } => "replicated",
            LogMsg::Detect { .. } => "detect",
            LogMsg::Tick => "tick",
            LogMsg::NextMessage => "next_message",
            LogMsg::AttemptTimeout { .. } => "attempt_timeout",
            LogMsg::Retry { .. } => "retry",
            LogMsg::ProcessingDone { .. } => "processing_done",
            LogMsg::Poll { .. } => "poll",
            LogMsg::CommitDue => "commit_due",
            LogMsg::SampleLag => "sample_lag",
            LogMsg::Receive { .. } => "receive",
            LogMsg::Received { .. } => "received",
            LogMsg::Delete { .. } => "delete",
            LogMsg::Extend { .. } => "extend",
            LogMsg::Heartbeat { .. } => "heartbeat",
            LogMsg::Rebalance { .. } => "rebalance",
        }
    }

    /// Its payload for the trace hash: a number per variant, then three words.
    pub fn trace_ids(&self) -> [u64; 3] {
        let w = |a: u32, b: u32| u64::from(a) << 32 | u64::from(b);
        match *self {
            LogMsg::Produce { origin, message, seq, partition, attempt, acks, sequence } => [
                w(1, origin.0),
                w(message, seq),
                u64::from(partition) << 32
                    | u64::from(attempt) << 16
                    | (acks as u64) << 2
                    | sequence as u64,
            ],
            LogMsg::ProduceAnswer { message, attempt, outcome } => {
                [w(2, message), w(u32::from(attempt), outcome as u32), 0]
            }
            LogMsg::Fetch { origin, member, partition, offset, generation } => [
                w(3, origin.0),
                w(u32::from(member) << 16 | u32::from(partition), offset),
                u64::from(generation),
            ],
            LogMsg::Fetched { member, partition, offset, count, high_watermark, generation } => [
                w(4, u32::from(member) << 16 | u32::from(partition)),
                w(offset, count),
                w(high_watermark, generation),
            ],
            LogMsg::Replicated { partition, replica, upto, epoch } => {
                [w(5, u32::from(partition) << 16 | u32::from(replica)), w(upto, epoch), 0]
            }
            LogMsg::Detect { broker, crash } => [w(6, u32::from(broker)), u64::from(crash), 0],
            LogMsg::Tick => [7 << 32, 0, 0],
            LogMsg::NextMessage => [8 << 32, 0, 0],
            LogMsg::AttemptTimeout { message, attempt } => [w(9, message), u64::from(attempt), 0],
            LogMsg::Retry { message } => [w(10, message), 0, 0],
            LogMsg::ProcessingDone { member, generation } => {
                [w(11, u32::from(member)), u64::from(generation), 0]
            }
            LogMsg::Poll { member, partition, generation } => {
                [w(12, u32::from(member) << 16 | u32::from(partition)), u64::from(generation), 0]
            }
            LogMsg::CommitDue => [13 << 32, 0, 0],
            LogMsg::SampleLag => [20 << 32, 0, 0],
            LogMsg::Receive { origin, member, generation } => {
                [w(15, origin.0), w(u32::from(member), generation), 0]
            }
            LogMsg::Received { member, message, receives, generation } => {
                [w(16, u32::from(member)), w(message, receives), u64::from(generation)]
            }
            LogMsg::Delete { message } => [w(17, message), 0, 0],
            LogMsg::Extend { message, receives } => [w(18, message), u64::from(receives), 0],
            LogMsg::Heartbeat { member, generation } => {
                [w(19, u32::from(member)), u64::from(generation), 0]
            }
            LogMsg::Rebalance { crash } => [w(14, crash), 0, 0],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_tell_variants_and_payloads_apart() {
        let a = LogMsg::Retry { message: 1 };
        let b = LogMsg::Retry { message: 2 };
        let c = LogMsg::AttemptTimeout { message: 1, attempt: 0 };
        assert_ne!(a.trace_ids(), b.trace_ids());
        assert_ne!(a.trace_ids(), c.trace_ids());
        assert!(std::mem::size_of::<LogMsg>() <= 24, "{}", std::mem::size_of::<LogMsg>());
    }
}
