//! What a scenario asks of its run: the checkers it names and the verdicts it expects.
//! The checkers themselves live in `check/`; this is their name and settings as data.

use serde::Serialize;

use crate::engine::SimDuration;

/// Whether an invariant held over a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No violation.
    Holds,
    /// At least one violation.
    Violated,
    /// Nothing to judge against: the checker measured, but its bound was not set.
    NotConfigured,
}

impl Verdict {
    /// The word reports use.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::NotConfigured => "not configured",
        }
    }
}

/// The checkers a scenario can ask for, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckSpec {
    /// `lost_acknowledged_write`.
    LostAcknowledgedWrite,
    /// `read_your_writes`.
    ReadYourWrites,
    /// `monotonic_reads`.
    MonotonicReads,
    /// `monotonic_writes`.
    MonotonicWrites,
    /// `writes_follow_reads`.
    WritesFollowReads,
    /// `convergence`.
    Convergence,
    /// `duplicates`.
    Duplicates,
    /// `bounded_staleness`, with an optional bound.
    BoundedStaleness(Option<SimDuration>),
    /// `stream_completeness`.
    StreamCompleteness,
    /// `propagation`, with an optional bound.
    Propagation(Option<SimDuration>),
    /// `session_continuity`.
    SessionContinuity,
    /// `authorization`, with an optional bound on answers after a revocation.
    Authorization(Option<SimDuration>),
    /// `split_brain`.
    SplitBrain,
    /// `cache_coherence`, with an optional bound on how long a cached value may be older
    /// than its store's.
    CacheCoherence(Option<SimDuration>),
    /// `delivery`, allowing duplicates when delivery is declared at least once.
    Delivery {
        /// Duplicates are allowed (and counted).
        at_least_once: bool,
    },
    /// `lost_acknowledged_message`.
    LostAcknowledgedMessage,
    /// `partition_order`.
    PartitionOrder,
    /// `processing`, allowing duplicates when processing is declared at least once, with
    /// an optional bound on how long a message waits to be processed.
    Processing {
        /// Duplicates are allowed (and counted).
        at_least_once: bool,
        /// Longest wait from append to processing.
        bound: Option<SimDuration>,
    },
    /// `objectives`: the scenario's objectives, judged when it declares some.
    Objectives,
}

impl CheckSpec {
    /// Every checker with default settings, in report order.
    pub const ALL: [CheckSpec; 18] = [
        CheckSpec::LostAcknowledgedWrite,
        CheckSpec::ReadYourWrites,
        CheckSpec::MonotonicReads,
        CheckSpec::MonotonicWrites,
        CheckSpec::WritesFollowReads,
        CheckSpec::Convergence,
        CheckSpec::Duplicates,
        CheckSpec::BoundedStaleness(None),
        CheckSpec::StreamCompleteness,
        CheckSpec::Propagation(None),
        CheckSpec::SessionContinuity,
        CheckSpec::Authorization(None),
        CheckSpec::SplitBrain,
        CheckSpec::CacheCoherence(None),
        CheckSpec::Delivery { at_least_once: false },
        CheckSpec::LostAcknowledgedMessage,
        CheckSpec::PartitionOrder,
        CheckSpec::Processing { at_least_once: false, bound: None },
    ];

    /// The name scenarios use.
    pub fn name(self) -> &'static str {
        match self {
            CheckSpec::LostAcknowledgedWrite => "lost_acknowledged_write",
            CheckSpec::ReadYourWrites => "read_your_writes",
            CheckSpec::MonotonicReads => "monotonic_reads",
            CheckSpec::MonotonicWrites => "monotonic_writes",
            CheckSpec::WritesFollowReads => "writes_follow_reads",
            CheckSpec::Convergence => "convergence",
            CheckSpec::Duplicates => "duplicates",
            CheckSpec::BoundedStaleness(_) => "bounded_staleness",
            CheckSpec::StreamCompleteness => "stream_completeness",
            CheckSpec::Propagation(_) => "propagation",
            CheckSpec::SessionContinuity => "session_continuity",
            CheckSpec::Authorization(_) => "authorization",
            CheckSpec::SplitBrain => "split_brain",
            CheckSpec::CacheCoherence(_) => "cache_coherence",
            CheckSpec::Delivery { .. } => "delivery",
            CheckSpec::LostAcknowledgedMessage => "lost_acknowledged_message",
            CheckSpec::PartitionOrder => "partition_order",
            CheckSpec::Processing { .. } => "processing",
            CheckSpec::Objectives => "objectives",
        }
    }
}
