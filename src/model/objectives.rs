//! Objectives: figures a scenario expects of its run (goodput after a fault, a tail
//! latency, a component's utilisation, the share of stale reads), judged together by
//! the `objectives` checker like any verdict.

use crate::engine::SimDuration;

/// One figure and the bound it must meet.
#[derive(Debug, Clone, PartialEq)]
pub enum Objective {
    /// From `after` to the end of the duration, operations that succeeded are at least
    /// `at_least` of the operations the users offered (first attempts).
    Goodput {
        /// Start of the window.
        after: SimDuration,
        /// The share, in (0, 1].
        at_least: f64,
    },
    /// The 99th percentile of an operation's successful latency is below a bound.
    P99 {
        /// The operation's report row (`read`, `write`, ...).
        operation: String,
        /// The bound.
        below: SimDuration,
    },
    /// A component's mean utilisation over the duration is below a bound.
    Utilisation {
        /// The component.
        component: String,
        /// The share, in (0, 1].
        below: f64,
    },
    /// Stale reads are below this share of the reads judged.
    StaleShare {
        /// The share, in [0, 1].
        below: f64,
    },
}

impl Objective {
    /// The objective in words: `goodput after 40s ≥ 90% of offered`.
    pub fn describe(&self) -> String {
        let span = |d: SimDuration| crate::engine::time::format_span(d.as_nanos());
        let pct = |x: f64| format!("{}%", libm::round(x * 1000.0) / 10.0);
        match self {
            Objective::Goodput { after, at_least } => {
                format!("goodput after {} ≥ {} of offered", span(*after), pct(*at_least))
            }
            Objective::P99 { operation, below } => {
                let bound = crate::engine::time::format_nanos(below.as_nanos());
                format!("p99 of {operation} < {bound}")
            }
            Objective::Utilisation { component, below } => {
                format!("utilisation of {component} < {}", pct(*below))
            }
            Objective::StaleShare { below } => format!("stale reads < {} of reads", pct(*below)),
        }
    }
}
