//! Server queues in the summary: utilisation, queue length and waiting, per queue.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::summary::{LatencySummary, group};
use crate::components::Load;
use crate::engine::time::format_nanos;

/// What one server queue did over the scenario's duration.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LoadSummary {
    /// Requests served at once.
    pub workers: u32,
    /// Requests served.
    pub served: u64,
    /// Requests turned away by a full queue.
    pub turned_away: u64,
    /// Requests dropped unserved by a crash.
    pub dropped: u64,
    /// Mean share of workers busy.
    pub utilisation: f64,
    /// Mean requests waiting.
    pub queue_mean: f64,
    /// Most requests waiting at once.
    pub queue_max: u64,
    /// From arrival to the start of service.
    pub wait_ns: LatencySummary,
    /// From arrival to the end of service.
    pub sojourn_ns: LatencySummary,
}

impl LoadSummary {
    /// The figures of `load`.
    pub fn of(load: &Load) -> LoadSummary {
        LoadSummary {
            workers: load.workers,
            served: load.served,
            turned_away: load.turned_away,
            dropped: load.dropped,
            // Rounded so the JSON snapshot does not hang on the last float digit.
            utilisation: (load.utilisation() * 1e4).round() / 1e4,
            queue_mean: (load.mean_queue() * 1e3).round() / 1e3,
            queue_max: load.max_queue,
            wait_ns: LatencySummary::of(&load.wait),
            sojourn_ns: LatencySummary::of(&load.sojourn),
        }
    }
}

/// One `load` line per queue.
pub fn write_loads(t: &mut String, loads: &BTreeMap<String, LoadSummary>) {
    let f = format_nanos;
    for (name, l) in loads {
        // An app server's connection pool is a queue whose workers are connections.
        let unit = if name.ends_with(" pool") { "connection" } else { "worker" };
        let _ = write!(
            t,
            "load         {name}: {} {unit}{}, {:.1}% busy; queue mean {:.2}, max {}; wait p50 \
             {}, p99 {}; in system mean {}; served {}",
            l.workers,
            if l.workers == 1 { "" } else { "s" },
            100.0 * l.utilisation,
            l.queue_mean,
            group(l.queue_max),
            f(l.wait_ns.p50),
            f(l.wait_ns.p99),
            f(l.sojourn_ns.mean),
            group(l.served)
        );
        if l.turned_away > 0 {
            let _ = write!(t, ", turned away {}", group(l.turned_away));
        }
        if l.dropped > 0 {
            let _ = write!(t, ", dropped by a crash {}", group(l.dropped));
        }
        let _ = writeln!(t);
    }
}
