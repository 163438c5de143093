//! Figures only clients can measure: how long a whole action took end to end, what a
//! gate added to it, when a stream's first byte and last chunk arrived, how often a gate
//! said `message_limit`, and how long others' edits took to reach an editor.

use super::histogram::Histogram;

/// What the clients of a run measured beyond single operations.
#[derive(Debug, Clone, Default)]
pub struct ClientFigures {
    /// An action from its first request (a gate's `prepare`, or the action itself) to its
    /// end (the gate's `finalize`, the stream's last chunk, or the reply).
    pub action: Histogram,
    /// Per gated action, the time spent in `prepare` and `finalize`.
    pub gate: Histogram,
    /// Per completion, from the request to the first chunk.
    pub first_byte: Histogram,
    /// Per stream that arrived whole, from the request to `message_stop`.
    pub whole_stream: Histogram,
    /// Streams started (the user's message acknowledged).
    pub streams: u64,
    /// Streams that broke before `message_stop` reached the client.
    pub broken_streams: u64,
    /// `message_limit` answers clients received.
    pub message_limits: u64,
    /// Retries a client's retry budget held back.
    pub retries_withheld: u64,
    /// Times a client's circuit breaker opened.
    pub breaker_opens: u64,
    /// Tries an open breaker failed at once, without a request.
    pub failed_fast: u64,
    /// Second copies of reads sent after the hedging delay.
    pub hedges: u64,
    /// Hedged reads the second copy answered first.
    pub hedges_won: u64,
    /// Per push of an edit an editor had not seen, from the edit's write to its arrival.
    pub propagation: Histogram,
}
