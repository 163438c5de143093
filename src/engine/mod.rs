//! The engine: simulated time, the event queue, seeded randomness, distributions, the
//! topology graph, the trace hash and the event loop. It knows nothing of components,
//! files or the CLI; `Sim` is generic over one `Actor`.

pub mod dist;
pub mod ln;
pub mod queue;
pub mod rng;
pub mod sim;
pub mod streams;
pub mod time;
pub mod topology;
pub mod trace;

pub use dist::Dist;
pub use queue::{EventQueue, HeapQueue, RadixQueue};
pub use rng::Stream;
pub use sim::{Actor, ComponentId, Dispatch, Halt, Limits, NO_EVENT, RunStats, Scheduler, Sim};
pub use streams::Streams;
pub use time::{SimDuration, SimTime};
pub use topology::{Link, LinkId, Topology};
pub use trace::{TraceHash, Traceable};
