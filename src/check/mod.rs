//! What happened in a run and whether it was allowed: the history of operations, the
//! version DAG, and the invariant checkers (one per file) with the stories they tell.
//! Checkers read the history; they never see components.

pub mod ancestry;
pub mod authorization;
pub mod bounded_staleness;
pub mod cache_coherence;
pub mod checks;
pub mod client_figures;
pub mod convergence;
pub mod delivery;
pub mod distribution_names;
pub mod duplicates;
pub mod fault_coverage;
pub mod histogram;
pub mod history;
pub mod log_book;
pub mod lost_message;
pub mod lost_write;
pub mod monotonic_reads;
pub mod monotonic_writes;
pub mod partition_order;
pub mod processing;
pub mod propagation;
pub mod purpose;
pub mod read_your_writes;
pub mod session_continuity;
pub mod split_brain;
pub mod story;
pub mod stream_completeness;
#[cfg(test)]
mod testing;
pub mod timeline;
pub mod verdict;
pub mod versions;
pub mod visibility;
pub mod window;
pub mod writes_follow_reads;

pub use authorization::Authorization;
pub use bounded_staleness::BoundedStaleness;
pub use cache_coherence::{CacheChange, CacheCoherence, CacheEvent};
pub use checks::{
    Check, CheckSpec, Checks, End, HeadCause, HeadMove, Push, SessionEvent, SessionFate,
    SessionState, StoreEnd,
};
pub use client_figures::ClientFigures;
pub use convergence::Convergence;
pub use delivery::{Delivery, Processed};
pub use duplicates::Duplicates;
pub use histogram::Histogram;
pub use history::{History, Invocation, OpId, OpKind, OpRecord, OpStats, Outcome};
pub use log_book::{LogBook, MessageRecord, Processing, Stamp};
pub use lost_message::LostMessages;
pub use lost_write::LostWrites;
pub use monotonic_reads::MonotonicReads;
pub use monotonic_writes::MonotonicWrites;
pub use partition_order::PartitionOrder;
pub use processing::GroupProcessing;
pub use propagation::Propagation;
pub use purpose::{Actor, Purpose, PurposeInfo, Row};
pub use read_your_writes::ReadYourWrites;
pub use session_continuity::SessionContinuity;
pub use split_brain::SplitBrain;
pub use stream_completeness::StreamCompleteness;
pub use verdict::{CheckReport, Names, StoryLine, Verdict};
pub use versions::{Sighting, Version, VersionDag, VersionId};
pub use visibility::{Visibility, VisibilityPoint};
pub use writes_follow_reads::WritesFollowReads;
