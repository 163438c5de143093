//! The messages components exchange. Small and `Copy`, so events live inline in the
//! queue and the hot loop allocates nothing.

use crate::check::OpKind;
use crate::engine::{ComponentId, LinkId, Traceable};

/// Marks a request whose reply will be lost on the way back.
pub const RETURN_LOST: u64 = u64::MAX;

/// A client request travelling towards the component that serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The client that sent it and receives the reply.
    pub origin: ComponentId,
    /// The client's operation number, to match the reply.
    pub op_seq: u32,
    /// Write or read.
    pub kind: OpKind,
    /// The key.
    pub key: u32,
    /// The link the request arrived on (its return path starts here).
    pub via: LinkId,
    /// Latency the reply will need to travel back over the hops so far, or `RETURN_LOST`.
    pub return_ns: u64,
}

/// The answer to a request, delivered straight to its origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The operation number of the request.
    pub op_seq: u32,
    /// Write or read.
    pub kind: OpKind,
    /// The key.
    pub key: u32,
    /// Version written, or version read (0 = nothing yet).
    pub version: u64,
}

/// Every message in a simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// A component's own timer: a client's sleep or think time ended.
    Wake,
    /// A request on its way to be served.
    Request(Request),
    /// A reply on its way to the client.
    Reply(Reply),
    /// A write reaching replica `replica` of a store.
    Replicate {
        /// Replica index within the store.
        replica: u32,
        /// The key.
        key: u32,
        /// The version applied.
        version: u64,
    },
    /// A client's request timer for operation `op_seq` expired.
    Timeout {
        /// The operation it guards.
        op_seq: u32,
    },
    /// A message of a user-defined component.
    Custom {
        /// What the message means to the component.
        tag: u32,
        /// Payload.
        a: u64,
        /// Payload.
        b: u64,
    },
}

impl Msg {
    /// The kind name used in traces.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Msg::Wake => "wake",
            Msg::Request(_) => "request",
            Msg::Reply(_) => "reply",
            Msg::Replicate { .. } => "replicate",
            Msg::Timeout { .. } => "timeout",
            Msg::Custom { .. } => "custom",
        }
    }
}

impl Traceable for Msg {
    #[inline]
    fn trace_kind(&self) -> u8 {
        match self {
            Msg::Wake => 0,
            Msg::Request(_) => 1,
            Msg::Reply(_) => 2,
            Msg::Replicate { .. } => 3,
            Msg::Timeout { .. } => 4,
            Msg::Custom { .. } => 5,
        }
    }

    #[inline]
    fn trace_ids(&self) -> [u64; 3] {
        match *self {
            Msg::Wake => [0; 3],
            Msg::Request(r) => [
                u64::from(r.origin.0) << 32 | u64::from(r.op_seq),
                u64::from(r.key) << 8 | r.kind as u64,
                0,
            ],
            Msg::Reply(r) => {
                [u64::from(r.op_seq), u64::from(r.key) << 8 | r.kind as u64, r.version]
            }
            Msg::Replicate { replica, key, version } => {
                [u64::from(replica), u64::from(key), version]
            }
            Msg::Timeout { op_seq } => [u64::from(op_seq), 0, 0],
            Msg::Custom { tag, a, b } => [u64::from(tag), a, b],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_stay_small() {
        // Events are stored inline in the queue; a bigger message slows every run.
        assert!(std::mem::size_of::<Msg>() <= 32, "{}", std::mem::size_of::<Msg>());
    }

    #[test]
    fn trace_ids_distinguish_payloads() {
        let a = Msg::Replicate { replica: 0, key: 1, version: 2 };
        let b = Msg::Replicate { replica: 1, key: 1, version: 2 };
        assert_ne!(a.trace_ids(), b.trace_ids());
        assert_eq!(a.kind_name(), "replicate");
    }
}
