//! The event trace: one JSON object per dispatched event, in dispatch order.
//!
//! Fields: `at_ns`, `seq`, `target`, `kind`, and the payload of the kind (`op`, `key`,
//! `from`, `op_seq`, `version`, `replica`). No wall-clock values, so two traces of the
//! same run are byte-identical.

use std::io::Write;

use serde::Serialize;

use crate::components::Msg;
use crate::engine::Dispatch;

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
    key: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u64>,
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
            key: None,
            version: None,
            replica: None,
            payload: None,
        };
        match d.msg {
            Msg::Request(r) => {
                line.op = Some(r.kind.name());
                line.from = Some(&names[r.origin.index()]);
                (line.op_seq, line.key) = (Some(r.op_seq), Some(r.key));
            }
            Msg::Reply(r) => {
                line.op = Some(r.kind.name());
                (line.op_seq, line.key, line.version) =
                    (Some(r.op_seq), Some(r.key), Some(r.version));
            }
            Msg::Replicate { replica, key, version } => {
                (line.replica, line.key, line.version) = (Some(replica), Some(key), Some(version));
            }
            Msg::Timeout { op_seq } => line.op_seq = Some(op_seq),
            Msg::Custom { tag, a, b } => line.payload = Some([u64::from(tag), a, b]),
            Msg::Wake => {}
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
