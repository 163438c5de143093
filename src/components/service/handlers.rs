//! A service's handlers as files write them, and their compiler: each handler's steps
//! become a flat program of instructions (a `cache_get` jumps past its `on_miss` steps
//! on a hit; a `parallel` step's branches follow it, each ending in `EndBranch`), and
//! the components the steps name become the service's callees, which the model's link
//! checks judge. Every path through a handler must reach exactly one `respond`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::engine::{Dist, SimDuration};
use crate::model::contract::{Callee, Serves, Target};
use crate::model::shape::{Dur, Problems, RawDist};

/// Most retries of one call.
pub const RETRIES_MAX: u32 = 10;
/// A call's timeout when the step sets none.
pub const DEFAULT_TIMEOUT: SimDuration = SimDuration::from_secs(1);
/// The operations a service can have handlers for: the reads and writes clients send.
pub const OPERATIONS: [&str; 6] = ["write", "read", "refresh", "resubmit", "create", "title"];

/// One step of a handler, as files write it.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields, rename = "step")]
pub enum RawHandlerStep {
    /// `call(to: "db", timeout: "500ms", retries: 1)`: pass the client's operation on.
    Call {
        /// The component called, which the service has a link to.
        to: String,
        /// How long to wait for an answer (1 s unless set).
        #[serde(default)]
        timeout: Option<Dur>,
        /// How many times to send it again after a timeout.
        #[serde(default)]
        retries: u32,
        /// A write's event is committed with it, in the store's outbox, for an outbox
        /// relay to publish.
        #[serde(default)]
        outbox: bool,
    },
    /// `cache_get(cache: "redis", on_miss: [...])`.
    CacheGet {
        /// The cache, which the service has a link to.
        cache: String,
        /// What to do when the key is not cached (or the cache fails).
        on_miss: Vec<RawHandlerStep>,
        /// How long to wait for the cache (1 s unless set).
        #[serde(default)]
        timeout: Option<Dur>,
        /// Requests that miss while another request of this instance is already fetching
        /// the key wait for its value instead of fetching it too (single flight).
        #[serde(default)]
        coalesce: bool,
        /// A hit whose value expires within this long is answered from the cache and then
        /// refreshed by running `on_miss` (one refresh at a time per key).
        #[serde(default)]
        refresh_ahead: Option<Dur>,
    },
    /// `cache_set(cache: "redis", ttl: "30s", only_if_newer: true)`.
    CacheSet {
        /// The cache.
        cache: String,
        /// How long the value lives; absent: until deleted or evicted.
        #[serde(default)]
        ttl: Option<Dur>,
        /// A versioned set: refused when the cache holds a version the store made later.
        #[serde(default)]
        only_if_newer: bool,
        /// How long to wait for the cache (1 s unless set).
        #[serde(default)]
        timeout: Option<Dur>,
    },
    /// `cache_delete(cache: "redis")`.
    CacheDelete {
        /// The cache.
        cache: String,
        /// How long to wait for the cache (1 s unless set).
        #[serde(default)]
        timeout: Option<Dur>,
    },
    /// `publish(topic: "events")`: publish the handler's value as an event.
    Publish {
        /// The topic, which the service has a link to.
        topic: String,
    },
    /// `respond`: answer the client with the handler's value.
    Respond,
    /// `sleep(exp("100ms"))`: wait.
    Sleep(RawDist),
    /// `parallel([[call(to: "db")], [call(to: "search")]])`: run the branches at once and
    /// go on when all have ended, with the first branch's value.
    Parallel(Vec<Vec<RawHandlerStep>>),
}

impl RawHandlerStep {
    fn name(&self) -> &'static str {
        match self {
            RawHandlerStep::Call { .. } => "call",
            RawHandlerStep::CacheGet { .. } => "cache_get",
            RawHandlerStep::CacheSet { .. } => "cache_set",
            RawHandlerStep::CacheDelete { .. } => "cache_delete",
            RawHandlerStep::Publish { .. } => "publish",
            RawHandlerStep::Respond => "respond",
            RawHandlerStep::Sleep(_) => "sleep",
            RawHandlerStep::Parallel(_) => "parallel",
        }
    }
}

/// One instruction of a compiled handler.
#[derive(Debug, Clone, PartialEq)]
pub enum Instr {
    /// Pass the client's operation to callee `callee`.
    Call {
        /// Index into the service's callees.
        callee: usize,
        /// How long to wait.
        timeout: SimDuration,
        /// Sends after the first.
        retries: u32,
        /// A write's event goes in the store's outbox with it.
        outbox: bool,
        /// A `publish` comes after it: the write's change is to be published.
        publishes: bool,
    },
    /// Publish the value to topic `callee`.
    Publish {
        /// Index into the service's callees.
        callee: usize,
    },
    /// Ask cache `callee` for the key; on a hit, go on at `hit`.
    CacheGet {
        /// Index into the service's callees.
        callee: usize,
        /// How long to wait.
        timeout: SimDuration,
        /// The instruction after the `on_miss` steps.
        hit: usize,
        /// Misses wait for a fetch of the key already in flight.
        coalesce: bool,
        /// Hits with less than this left, ms, refresh the key after answering (0: never).
        refresh_ahead_ms: u32,
    },
    /// Store the value in cache `callee`.
    CacheSet {
        /// Index into the service's callees.
        callee: usize,
        /// How long to wait.
        timeout: SimDuration,
        /// TTL in ms (0: none).
        ttl_ms: u32,
        /// A versioned set.
        only_if_newer: bool,
    },
    /// Remove the key from cache `callee`.
    CacheDelete {
        /// Index into the service's callees.
        callee: usize,
        /// How long to wait.
        timeout: SimDuration,
    },
    /// Answer the client.
    Respond,
    /// Wait.
    Sleep(Dist),
    /// Start a job per branch at each of `starts`; go on at `after` when all have ended.
    Parallel {
        /// Where each branch's steps begin.
        starts: Vec<usize>,
        /// The instruction after the last branch.
        after: usize,
    },
    /// The end of a branch: its job ends and tells its parent.
    EndBranch,
}

/// A compiled handler.
#[derive(Debug, Clone, PartialEq)]
pub struct Handler {
    /// The operation it handles (a purpose's name).
    pub operation: String,
    /// Its steps, flattened: a `cache_get` jumps past its `on_miss` steps on a hit.
    pub program: Vec<Instr>,
}

/// Compiles `handlers` (by operation name) into programs, with the callees they name;
/// problems are reported at paths under the service's entry.
pub fn compile(
    handlers: &BTreeMap<String, Vec<RawHandlerStep>>,
    problems: &mut Problems,
) -> (Vec<Handler>, Vec<Callee>) {
    let mut compiler = Compiler { problems, callees: Vec::new(), writes: false };
    let mut out = Vec::new();
    for (operation, steps) in handlers {
        let path = vec!["handlers".to_string(), operation.clone()];
        compiler.operation(operation, &path);
        compiler.writes = WRITES.contains(&operation.as_str());
        let mut program = Vec::new();
        compiler.steps(steps, &path, &mut program);
        mark_published_calls(&mut program);
        compiler.responds_once(operation, steps, &path);
        out.push(Handler { operation: operation.clone(), program });
    }
    (out, compiler.callees)
}

/// Compiles handler steps into instructions, collecting the callees they name.
struct Compiler<'p> {
    problems: &'p mut Problems,
    callees: Vec<Callee>,
    /// Whether the handler being compiled is for an operation that writes.
    writes: bool,
}

/// The operations that write: only their changes can be published.
const WRITES: [&str; 3] = ["write", "resubmit", "create"];

impl Compiler<'_> {
    fn operation(&mut self, operation: &str, path: &[String]) {
        if !OPERATIONS.contains(&operation) {
            let p: Vec<&str> = path.iter().map(String::as_str).collect();
            let msg = format!(
                "a service has handlers for the operations clients send ({}), not `{operation}`",
                OPERATIONS.join(", ")
            );
            self.problems.error(&p, msg, None);
        }
    }

    /// The index of callee `name`, which `step` at `path` needs to serve as `wants`.
    fn callee(&mut self, name: &str, wants: Target, step: &'static str, path: &[String]) -> usize {
        // A name called as two things (a store and a cache) is two callees, so the
        // link check judges each use.
        // So is a name called from two handlers: each passes its own operation on.
        let same = |c: &Callee| c.name == name && c.wants == wants && c.path.get(1) == path.get(1);
        if let Some(i) = self.callees.iter().position(same) {
            return i;
        }
        let path = path.to_vec();
        self.callees.push(Callee { name: name.to_string(), wants, step, path });
        self.callees.len() - 1
    }

    fn timeout(&mut self, path: &[String], timeout: &Option<Dur>) -> SimDuration {
        let t = timeout.as_ref().map_or(DEFAULT_TIMEOUT, |d| d.0);
        if t == SimDuration::ZERO {
            let mut p: Vec<&str> = path.iter().map(String::as_str).collect();
            p.push("timeout");
            self.problems.error(
                &p,
                "`timeout` must be above 0".into(),
                Some(r#"e.g. timeout: "500ms""#.into()),
            );
        }
        t
    }

    fn steps(&mut self, steps: &[RawHandlerStep], path: &[String], out: &mut Vec<Instr>) {
        for (i, step) in steps.iter().enumerate() {
            let mut at = path.to_vec();
            at.push(i.to_string());
            self.step(step, &at, out);
        }
    }

    fn step(&mut self, step: &RawHandlerStep, at: &[String], out: &mut Vec<Instr>) {
        let name = step.name();
        let cache = Target::Only(Serves::Cache);
        match step {
            RawHandlerStep::Call { to, timeout, retries, outbox } => {
                let callee = self.callee(to, Target::Callable, name, at);
                let timeout = self.timeout(at, timeout);
                let mut p: Vec<&str> = at.iter().map(String::as_str).collect();
                p.push("retries");
                if *retries > RETRIES_MAX {
                    let msg = format!("`retries` must be at most {RETRIES_MAX}, found {retries}");
                    self.problems.error(&p, msg, None);
                }
                if *outbox && !self.writes {
                    let mut p: Vec<&str> = at.iter().map(String::as_str).collect();
                    p.push("outbox");
                    let msg = "`outbox: true` commits a write's event with it, and this \
                               handler's operation writes nothing"
                        .to_string();
                    self.problems.error(&p, msg, Some("use it in a `write` handler".into()));
                }
                let retries = (*retries).min(RETRIES_MAX);
                out.push(Instr::Call {
                    callee,
                    timeout,
                    retries,
                    outbox: *outbox,
                    publishes: false,
                });
            }
            RawHandlerStep::CacheGet { cache: c, on_miss, timeout, coalesce, refresh_ahead } => {
                let callee = self.callee(c, cache, name, at);
                let timeout = self.timeout(at, timeout);
                let ahead = refresh_ahead.as_ref().map_or(0, |d| self.ms(at, "refresh_ahead", d.0));
                let me = out.len();
                let (coalesce, refresh_ahead_ms) = (*coalesce, ahead);
                out.push(Instr::CacheGet { callee, timeout, hit: 0, coalesce, refresh_ahead_ms });
                let mut inner = at.to_vec();
                inner.push("on_miss".into());
                self.steps(on_miss, &inner, out);
                let end = out.len();
                if let Instr::CacheGet { hit, .. } = &mut out[me] {
                    *hit = end;
                }
            }
            RawHandlerStep::CacheSet { cache: c, ttl, only_if_newer, timeout } => {
                let callee = self.callee(c, cache, name, at);
                let timeout = self.timeout(at, timeout);
                let ttl_ms = ttl.as_ref().map_or(0, |d| self.ms(at, "ttl", d.0));
                out.push(Instr::CacheSet {
                    callee,
                    timeout,
                    ttl_ms,
                    only_if_newer: *only_if_newer,
                });
            }
            RawHandlerStep::CacheDelete { cache: c, timeout } => {
                let callee = self.callee(c, cache, name, at);
                let timeout = self.timeout(at, timeout);
                out.push(Instr::CacheDelete { callee, timeout });
            }
            RawHandlerStep::Publish { topic } => {
                let callee = self.callee(topic, Target::Only(Serves::Topic), name, at);
                out.push(Instr::Publish { callee });
            }
            RawHandlerStep::Respond => out.push(Instr::Respond),
            RawHandlerStep::Sleep(d) => {
                let p: Vec<&str> = at.iter().map(String::as_str).collect();
                out.push(Instr::Sleep(self.problems.dist(&p, d)));
            }
            RawHandlerStep::Parallel(branches) => self.parallel(branches, at, out),
        }
    }

    /// Lays out `parallel`: the instruction, then each branch's steps and its end.
    fn parallel(&mut self, branches: &[Vec<RawHandlerStep>], at: &[String], out: &mut Vec<Instr>) {
        let p: Vec<&str> = at.iter().map(String::as_str).collect();
        if branches.len() < 2 {
            let msg = format!("`parallel` needs two branches or more, found {}", branches.len());
            self.problems.error(&p, msg, Some("run a single branch's steps in sequence".into()));
        }
        if branches.iter().any(|b| responds(b) != NONE) {
            let msg =
                "a `parallel` branch cannot `respond`: the handler answers once, after it".into();
            self.problems.error(&p, msg, Some("move `respond` after the `parallel` step".into()));
        }
        let me = out.len();
        out.push(Instr::Parallel { starts: Vec::new(), after: 0 });
        let mut starts = Vec::new();
        for (i, branch) in branches.iter().enumerate() {
            starts.push(out.len());
            let mut inner = at.to_vec();
            inner.push(i.to_string());
            self.steps(branch, &inner, out);
            out.push(Instr::EndBranch);
        }
        let end = out.len();
        out[me] = Instr::Parallel { starts, after: end };
    }

    /// `d` as whole milliseconds for field `field` of the step at `at`.
    fn ms(&mut self, at: &[String], field: &str, d: SimDuration) -> u32 {
        let ms = d.as_nanos() / 1_000_000;
        if ms == 0 || ms >= u64::from(u32::MAX) || d.as_nanos() % 1_000_000 != 0 {
            let mut p: Vec<&str> = at.iter().map(String::as_str).collect();
            p.push(field);
            let msg =
                format!("`{field}` must be whole milliseconds between 1 ms and 49 days, found {d}");
            let hint =
                (field == "ttl").then(|| "leave `ttl` out for a value that never expires".into());
            self.problems.error(&p, msg, hint);
        }
        ms.clamp(1, u64::from(u32::MAX) - 1) as u32
    }

    /// Every path through the handler must answer the client exactly once.
    fn responds_once(&mut self, operation: &str, steps: &[RawHandlerStep], path: &[String]) {
        let counts = responds(steps);
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        if counts & NONE != 0 {
            let msg = format!(
                "the handler for `{operation}` can end without `respond`: its client would wait \
                 for an answer that never comes"
            );
            let hint = "every path must reach one `respond`; a `cache_get` hit skips its \
                        `on_miss` steps";
            self.problems.error(&p, msg, Some(hint.into()));
        }
        if counts & TWICE != 0 {
            let msg = format!("the handler for `{operation}` can `respond` twice");
            self.problems.error(&p, msg, Some("keep one `respond` on every path".into()));
        }
    }
}

/// Marks each call a `publish` follows: the change it writes is to be published.
fn mark_published_calls(program: &mut [Instr]) {
    for i in 0..program.len() {
        let later = program[i + 1..].iter().any(|x| matches!(x, Instr::Publish { .. }));
        if let Instr::Call { publishes, .. } = &mut program[i] {
            *publishes = later;
        }
    }
}

/// Sets of how many times a path responds: bit 0 none, bit 1 once, bit 2 twice or more.
pub(super) const NONE: u8 = 1;
const ONCE: u8 = 2;
const TWICE: u8 = 4;

/// The numbers of `respond` the paths through `steps` reach.
pub(super) fn responds(steps: &[RawHandlerStep]) -> u8 {
    steps.iter().fold(NONE, |acc, step| {
        let step_counts = match step {
            RawHandlerStep::Respond => ONCE,
            RawHandlerStep::CacheGet { on_miss, .. } => NONE | responds(on_miss),
            // Branches may not respond; `parallel` refuses one that does.
            _ => NONE,
        };
        add(acc, step_counts)
    })
}

/// The counts of one path followed by another.
fn add(a: u8, b: u8) -> u8 {
    let mut out = 0;
    for (i, x) in [NONE, ONCE, TWICE].into_iter().enumerate() {
        for (j, y) in [NONE, ONCE, TWICE].into_iter().enumerate() {
            if a & x != 0 && b & y != 0 {
                out |= [NONE, ONCE, TWICE][(i + j).min(2)];
            }
        }
    }
    out
}
