//! What a component kind declares about itself to the rest of the crate: how many
//! instances it has, what it is as the far end of a link, which links it initiates (its
//! roles: to what, how many) and which faults it takes. Validation, wiring and fault
//! resolution are loops over contracts, so no other code asks which kind a component is.

/// A kind's validated spec, as the model holds it: the rest of the crate asks it only
/// for its contract; the kind's own builder reads its type back (`ComponentSpec::spec`).
pub trait KindSpec: std::fmt::Debug + Send + Sync + std::any::Any {
    /// What it declares to the rest of the crate.
    fn contract(&self) -> Contract;
}

/// What a component is to the components that link to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serves {
    /// Answers reads and writes itself (a store, a custom component).
    Data,
    /// Passes requests on (a load balancer, a CDN).
    Forwards,
    /// An app server: answers requests with logic of its own and a store behind it.
    Server,
    /// A prepare/finalize gate clients reach beside their entry.
    Gate,
    /// A pub/sub broker app servers publish to.
    Broker,
    /// A session cache app servers look sessions up in.
    SessionCache,
    /// A job queue a stream server hands work to.
    JobQueue,
    /// An application cache services call from their handlers.
    Cache,
    /// A topic services and relays publish events to.
    Topic,
    /// A consumer a topic delivers events to.
    Consumer,
    /// A background worker nothing links to (an outbox relay).
    Worker,
    /// A replicated log producers append to and consumer groups read.
    Log,
    /// A message queue producers send to and workers receive from.
    Queue,
}

impl Serves {
    /// The far end in words, for messages: "a broker".
    pub fn words(self) -> &'static str {
        match self {
            Serves::Data => "a store",
            Serves::Forwards => "a load balancer or CDN",
            Serves::Server => "an app server",
            Serves::Gate => "a sentinel gate",
            Serves::Broker => "a pub/sub broker",
            Serves::SessionCache => "a session cache",
            Serves::JobQueue => "a job queue",
            Serves::Cache => "an application cache",
            Serves::Topic => "a topic",
            Serves::Consumer => "a consumer",
            Serves::Worker => "a background worker",
            Serves::Log => "a replicated log",
            Serves::Queue => "a message queue",
        }
    }
}

/// The far ends a role takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Anything that answers requests: a store, a forwarder or an app server.
    Requests,
    /// Anything a service may pass a request to: what answers requests, or a job queue
    /// (which answers `202 Accepted` and does the work later).
    Callable,
    /// Only components that serve this way.
    Only(Serves),
    /// Where a producer sends messages: a log or a queue.
    Messages,
    /// Where a relay publishes events: a topic or a log.
    Events,
    /// Any component.
    Any,
}

impl Target {
    /// Whether a component serving as `far` fills this role.
    pub fn takes(self, far: Serves) -> bool {
        match self {
            Target::Requests => matches!(far, Serves::Data | Serves::Forwards | Serves::Server),
            Target::Callable => {
                matches!(far, Serves::Data | Serves::Forwards | Serves::Server | Serves::JobQueue)
            }
            Target::Only(s) => s == far,
            Target::Messages => matches!(far, Serves::Log | Serves::Queue),
            Target::Events => matches!(far, Serves::Topic | Serves::Log),
            Target::Any => true,
        }
    }
}

/// One kind of link a component initiates: to what, and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Its name, as builders ask for its links.
    pub name: &'static str,
    /// The far ends it takes.
    pub to: Target,
    /// Fewest links it needs.
    pub min: u32,
    /// Most links it takes.
    pub max: u32,
    /// What it needs, in words, completing "`name` needs ...": "one link to its store".
    pub wants: String,
    /// An example far end for the hint (`db` in `add (from: "api", to: "db", ...)`).
    pub example: &'static str,
}

impl Role {
    /// A role taking between `min` and `max` links to `to`.
    pub fn new(name: &'static str, to: Target, min: u32, max: u32) -> Role {
        assert!(min <= max, "a role's minimum is at most its maximum");
        Role { name, to, min, max, wants: String::new(), example: "db" }
    }

    /// The same role, described as `wants` with `example` as the far end of the hint.
    pub fn wanting(self, wants: impl Into<String>, example: &'static str) -> Role {
        Role { wants: wants.into(), example, ..self }
    }
}

/// A component a kind's settings name as one it calls (a service's handler step), with
/// what it must serve and where the name is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callee {
    /// The component's name.
    pub name: String,
    /// The far ends that fit.
    pub wants: Target,
    /// The step naming it, for messages: "cache_set".
    pub step: &'static str,
    /// Where it is first named, as a field path under the component's entry.
    pub path: Vec<String>,
}

/// The faults that name a component as their target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// `crash` (and its restart).
    Crash,
    /// `failover`: a replica becomes the primary.
    Failover,
    /// `lag_spike`: replication slows for a while.
    LagSpike,
    /// `slowdown`: service times grow for a while.
    Slowdown,
    /// `pause`: the component stops for a while (every kind takes it).
    Pause,
    /// `isolate`: a primary loses its replicas and its failure detector for a while.
    Isolate,
    /// `clock_jump`: the component's clock steps.
    ClockJump,
}

impl FaultKind {
    /// The name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Crash => "crash",
            FaultKind::Failover => "failover",
            FaultKind::LagSpike => "lag_spike",
            FaultKind::Slowdown => "slowdown",
            FaultKind::Pause => "pause",
            FaultKind::Isolate => "isolate",
            FaultKind::ClockJump => "clock_jump",
        }
    }

    /// The verb for messages: "cannot crash".
    pub fn verb(self) -> &'static str {
        match self {
            FaultKind::Crash => "crash",
            FaultKind::Failover => "fail over",
            FaultKind::LagSpike => "take a lag spike",
            FaultKind::Slowdown => "slow down",
            FaultKind::Pause => "pause",
            FaultKind::Isolate => "be isolated from its replicas",
            FaultKind::ClockJump => "take a clock jump",
        }
    }
}

/// A setting by which a component chooses among the far ends of one of its roles, which
/// changes nothing when there is only one instance to choose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The role whose far ends it chooses among.
    pub role: &'static str,
    /// The setting that chooses.
    pub field: &'static str,
    /// What the setting does, for the message.
    pub why: String,
}

/// What one component declares about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    /// The kind in words, for messages: "store", "app server".
    pub kind: &'static str,
    /// Instances (`api/0`, `api/1`, ... when more than one).
    pub instances: u32,
    /// What it is as the far end of a link.
    pub serves: Serves,
    /// The links it initiates, by role; a link goes to the first role that takes it.
    pub roles: Vec<Role>,
    /// Why it initiates no links, when it has no role: "answers requests itself".
    pub alone: &'static str,
    /// The faults it takes.
    pub faults: Vec<FaultKind>,
    /// Faults it would take in another configuration, with why not in this one.
    pub refusals: Vec<(FaultKind, String)>,
    /// Replicas a fault may name (`crash(target, replica: 0)`); 0 for none.
    pub replicas: u32,
    /// The regions it sits in itself, when it spans several (a multi-leader store's
    /// leaders); empty: the model's `regions` place it like any component.
    pub regions: Vec<String>,
    /// The field of its settings that lists `regions`, where problems with them point.
    pub regions_field: &'static str,
    /// The components its settings call by name; each needs a link, and every link it
    /// initiates must be named by one.
    pub callees: Vec<Callee>,
    /// The operations it has handlers for, when it answers only those (`None`: whatever
    /// reaches it).
    pub answers: Option<Vec<String>>,
    /// What must link to it for it to do anything ("a topic"), when something must: a
    /// component nothing links to would change nothing.
    pub callers: Option<(&'static str, &'static str)>,
    /// Whether it makes load of its own (a producer), so a model may have no clients.
    pub makes_load: bool,
    /// A setting that chooses among the far ends of a role, refused with one to choose.
    pub choice: Option<Choice>,
}

impl Contract {
    /// A one-instance component with no links of its own and no faults.
    pub fn new(kind: &'static str, serves: Serves) -> Contract {
        Contract {
            kind,
            instances: 1,
            serves,
            roles: Vec::new(),
            alone: "answers requests itself",
            // The world pauses any instance, whatever its kind.
            faults: vec![FaultKind::Pause],
            refusals: Vec::new(),
            replicas: 0,
            regions: Vec::new(),
            regions_field: "",
            callees: Vec::new(),
            answers: None,
            callers: None,
            makes_load: false,
            choice: None,
        }
    }

    /// Takes `slowdown` when it has `capacity` (service times to multiply); refuses it,
    /// saying why, when it has none.
    pub fn slows(&mut self, has_capacity: bool) {
        if has_capacity {
            self.faults.push(FaultKind::Slowdown);
        } else {
            let why = "it has no `capacity`, so it has no service times to slow down: give \
                       it `capacity: (workers: 8, service: exp(\"10ms\"))`";
            self.refusals.push((FaultKind::Slowdown, why.into()));
        }
    }

    /// The index of the role a link to a component serving as `far` fills.
    pub fn role_for(&self, far: Serves) -> Option<usize> {
        self.roles.iter().position(|r| r.to.takes(far))
    }

    /// The index of the role called `name`.
    pub fn role_named(&self, name: &str) -> Option<usize> {
        self.roles.iter().position(|r| r.name == name)
    }

    /// `Ok` when it takes `fault`, or why it does not.
    pub fn takes(&self, fault: FaultKind) -> Result<(), String> {
        if self.faults.contains(&fault) {
            return Ok(());
        }
        if let Some((_, why)) = self.refusals.iter().find(|(f, _)| *f == fault) {
            return Err(why.clone());
        }
        Err(format!("a {} takes no `{}` fault", self.kind, fault.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_fills_the_first_role_that_takes_its_far_end() {
        let mut c = Contract::new("app server", Serves::Server);
        c.roles.push(Role::new("broker", Target::Only(Serves::Broker), 0, 1));
        c.roles.push(Role::new("store", Target::Requests, 1, 1));
        assert_eq!(c.role_for(Serves::Broker), Some(0));
        assert_eq!(c.role_for(Serves::Data), Some(1));
        assert_eq!(c.role_for(Serves::Forwards), Some(1));
        assert_eq!(c.role_for(Serves::JobQueue), None);
        assert_eq!(c.role_named("store"), Some(1));
    }

    #[test]
    fn faults_are_taken_refused_with_a_reason_or_refused_by_kind() {
        let mut c = Contract::new("store", Serves::Data);
        c.faults.push(FaultKind::Crash);
        c.refusals.push((FaultKind::LagSpike, "it has no replicas".into()));
        assert_eq!(c.takes(FaultKind::Crash), Ok(()));
        assert_eq!(c.takes(FaultKind::LagSpike), Err("it has no replicas".into()));
        assert!(c.takes(FaultKind::Failover).unwrap_err().contains("no `failover`"));
    }
}
