//! The event trace: one JSON object per dispatched event, in dispatch order.
//!
//! Fields: `at_ns`, `seq` (the event id stories cite), `target`, `kind`, and the payload
//! of the kind: `op`, `from`, `slot` (the operation's invocation slot), `key`, `seen`,
//! `version`, `status`, `replica`, `epoch`, `op_seq` (timeouts), `fault_index`, `payload`.
//! Versions are numbers; 0 is the empty root. No wall-clock values, so two traces of the
//! same run are byte-identical.

use std::io::Write;

use serde::Serialize;

use crate::components::{Msg, Status};
use crate::engine::Dispatch;
use crate::engine::Traceable;

#[derive(Serialize)]
struct TraceLine<'a> {
    at_ns: u64,
    seq: u64,
    target: &'a str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    op: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    op_seq: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    slot: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seen: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    epoch: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fault_index: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replica: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<[u64; 3]>,
}

/// Writes trace lines to any writer; remembers the first I/O error.
pub struct TraceWriter<W: Write> {
    out: W,
    error: Option<std::io::Error>,
    lines: u64,
}

impl<W: Write> TraceWriter<W> {
    /// A trace writer over `out` (buffer it).
    pub fn new(out: W) -> Self {
        TraceWriter { out, error: None, lines: 0 }
    }

    /// Writes the line for one event.
    pub fn event(&mut self, d: &Dispatch<Msg>, names: &[String]) {
        if self.error.is_some() {
            return;
        }
        let mut line = TraceLine {
            at_ns: d.at.as_nanos(),
            seq: d.seq,
            target: &names[d.target.index()],
            kind: d.msg.kind_name(),
            op: None,
            from: None,
            op_seq: None,
            slot: None,
            seen: None,
            status: None,
            epoch: None,
            fault_index: None,
            key: None,
            version: None,
            replica: None,
            payload: None,
        };
        match d.msg {
            Msg::Request(r) => {
                line.op = Some(r.kind.name());
                line.from = Some(&names[r.origin.index()]);
                (line.slot, line.key, line.seen) = (Some(r.op), Some(r.key), Some(r.seen.0));
            }
            Msg::Reply(r) => {
                line.from = Some(&names[r.server.index()]);
                line.status = Some(match r.status {
                    Status::Ok => "ok",
                    Status::Rejected => "rejected",
                    Status::Accepted => "accepted",
                    Status::InProgress => "in_progress",
                    Status::Refused => "refused",
                    Status::Limited => "message_limit",
                    Status::Unauthorized => "unauthorized",
                    Status::Unavailable => "unavailable",
                });
                (line.slot, line.version) = (Some(r.op), Some(r.version.0));
                line.replica = r.source.checked_sub(1).map(u32::from);
            }
            Msg::Replicate { replica, key, version, epoch } => {
                (line.replica, line.key, line.version) =
                    (Some(replica), Some(key), Some(version.0));
                line.epoch = Some(epoch);
            }
            Msg::ReplicaAck { replica, version, epoch } => {
                (line.replica, line.version, line.epoch) =
                    (Some(replica), Some(version.0), Some(epoch));
            }
            Msg::ReplicaRead { replica, .. } => {
                (line.replica, line.payload) = (Some(replica), Some(d.msg.trace_ids()));
            }
            Msg::ReplicaAnswer { replica, version, .. } => {
                (line.replica, line.version) = (Some(replica), Some(version.0));
                line.payload = Some(d.msg.trace_ids());
            }
            Msg::Timeout { op_seq } => line.op_seq = Some(op_seq),
            Msg::FaultDue { index } => line.fault_index = Some(index),
            Msg::Fault(_) => line.payload = Some(d.msg.trace_ids()),
            Msg::Custom { tag, a, b } => line.payload = Some([u64::from(tag), a, b]),
            Msg::Chunk { .. }
            | Msg::Done { .. }
            | Msg::Probe { .. }
            | Msg::ProbeAck { .. }
            | Msg::Suspect { .. }
            | Msg::Log(_) => line.payload = Some(d.msg.trace_ids()),
            Msg::StreamEnd { version, .. } => {
                (line.version, line.payload) = (Some(version.0), Some(d.msg.trace_ids()));
            }
            Msg::Push { key, version, server } | Msg::Publish { key, version, from: server } => {
                line.from = Some(&names[server as usize]);
                (line.key, line.version) = (Some(key), Some(version.0));
            }
            Msg::CacheCall(c) => {
                line.from = Some(&names[c.origin.index()]);
                (line.key, line.version) = (Some(c.key), Some(c.version.0));
                line.payload = Some(d.msg.trace_ids());
            }
            Msg::CacheAnswer { version, .. } => {
                (line.version, line.payload) = (Some(version.0), Some(d.msg.trace_ids()));
            }
            Msg::Deadline { .. } => line.payload = Some(d.msg.trace_ids()),
            Msg::Stolen { key, .. } => {
                (line.key, line.payload) = (Some(key), Some(d.msg.trace_ids()));
            }
            Msg::Wake | Msg::Arrival => {}
            Msg::Idle { client } => line.payload = Some([u64::from(client), 0, 0]),
            Msg::Hedge { op_seq } => line.payload = Some([u64::from(op_seq), 0, 0]),
        }
        let result = serde_json::to_writer(&mut self.out, &line)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        match result {
            Ok(()) => self.lines += 1,
            Err(e) => self.error = Some(e),
        }
    }

    /// Flushes and reports the first error, if any; returns the number of lines.
    pub fn finish(mut self) -> std::io::Result<u64> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.lines)
    }
}
