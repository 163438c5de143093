//! The table of component kinds, and the loops over it.
//!
//! Each kind's file holds everything about it: its file shape (a serde struct that
//! implements `KindFile`), its validation into a spec, its `contract` (instances, what
//! it serves, the roles of the links it initiates, the faults it takes), how an instance
//! is built from the spec and the links of each role, and what the instance adds to the
//! summary (`Component::counts`, `loads`, `end_state`), and which requests it handles
//! itself (`KindFile::HANDLES`). The `kinds!` table below names every kind once; link
//! checks, wiring, fault targets and the workflow's needs are loops over it.
//!
//! To add a kind: write `components/<kind>.rs` with its raw struct, spec, `KindFile`
//! and `KindSpec` impls and its actor, declare the module, and add one line to the
//! table.

use std::sync::Arc;

use serde::Deserialize;

use super::Component;
use super::capacity::Load;
use super::env::Env;
use super::kind::{BuildContext, Handling, KindFile};
use super::message::Msg;
use super::registry;
use super::{
    app_cache, app_server, arrival_source, async_jobs, attacker, cdn, change_capture, client,
    consumer, consumer_group, fault_driver, load_balancer, log, multi_leader_store, outbox_relay,
    producer, pubsub, queue, queue_workers, quorum_store, rate_limiter, sentinel, service,
    session_cache, store, stream_server, topic,
};
use crate::check::{Purpose, StoreEnd};
use crate::engine::SimTime;
use crate::model::architecture::CLIENTS;
use crate::model::contract::{Callee, Contract, FaultKind, KindSpec, Role, Serves, Target};
use crate::model::shape::Problems;
use crate::model::{ComponentSpec, Endpoint, Model};

/// The table: one line per kind (as model files name it, and its file shape, whose
/// `KindFile::Actor` an instance is), then the actors no model entry declares. It makes `RawComponent` (the
/// file's component enum), `build`, and `BuiltIn` with its `Component` dispatch.
macro_rules! kinds {
    (@each $self:expr, [$($variant:ident)*], $c:ident => $body:expr) => {
        match $self {
            $(BuiltIn::$variant($c) => $body,)*
        }
    };
    (
        kinds { $($(#[$doc:meta])* $name:ident($raw:ty),)* }
        others { $($(#[$odoc:meta])* $other:ident($otype:ty),)* }
    ) => {
        /// A component declaration: one variant per kind, named as model files write it.
        #[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
        #[serde(deny_unknown_fields)]
        #[serde(rename = "component")]
        pub enum RawComponent {
            $($(#[$doc])* $name($raw),)*
        }

        impl RawComponent {
            /// Validates the entry into its kind's spec.
            pub fn validate(&self, problems: &mut Problems) -> Arc<dyn KindSpec> {
                match self {
                    $(RawComponent::$name(raw) => Arc::new(raw.validate(problems)),)*
                }
            }
        }

        /// Builds one instance of a model entry, by its kind's file.
        pub fn build(spec: &ComponentSpec, ctx: &BuildContext<'_>) -> Result<BuiltIn, String> {
            $(if let Some(s) = spec.spec::<<$raw as KindFile>::Spec>() {
                return <$raw as KindFile>::build(s, ctx).map(BuiltIn::$name);
            })*
            Err(format!("`{}` is of a kind the table does not list", spec.name))
        }

        /// The kind that handles requests of `purpose` itself, as model files name it,
        /// with what it says of them.
        pub fn handler_of(purpose: Purpose) -> Option<(&'static str, Handling)> {
            $(if <$raw as KindFile>::HANDLES.purposes.contains(&purpose) {
                return Some((stringify!($name), <$raw as KindFile>::HANDLES));
            })*
            None
        }

        /// Every kind, as model files name it.
        pub const KIND_NAMES: &[&str] = &[$(stringify!($name),)*];

        /// The kinds whose file shape has a field named `field`, as model files name them.
        pub fn kinds_with_field(field: &str) -> Vec<&'static str> {
            let mut kinds = Vec::new();
            $(if crate::model::shape::field_names::<$raw>().contains(&field) {
                kinds.push(stringify!($name));
            })*
            kinds
        }

        /// Whether entry `spec` handles requests of `purpose` itself.
        pub fn handles(spec: &ComponentSpec, purpose: Purpose) -> bool {
            $(if spec.spec::<<$raw as KindFile>::Spec>().is_some() {
                return <$raw as KindFile>::HANDLES.purposes.contains(&purpose);
            })*
            false
        }

        /// A component instance, dispatched by `match` (the hot loop's only dispatch).
        pub enum BuiltIn {
            $($(#[$doc])* $name(<$raw as KindFile>::Actor),)*
            $($(#[$odoc])* $other($otype),)*
        }

        impl Component for BuiltIn {
            fn start(&mut self, env: &mut Env<'_>) {
                kinds!(@each self, [$($name)* $($other)*], c => c.start(env))
            }

            #[inline]
            fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
                kinds!(@each self, [$($name)* $($other)*], c => c.on_message(msg, env))
            }

            fn end_state(&self, id: u32) -> Option<StoreEnd> {
                kinds!(@each self, [$($name)* $($other)*], c => c.end_state(id))
            }

            fn versions_held(&self, held: &mut dyn FnMut(crate::check::VersionId)) -> bool {
                kinds!(@each self, [$($name)* $($other)*], c => c.versions_held(held))
            }

            fn is_up(&self) -> bool {
                kinds!(@each self, [$($name)* $($other)*], c => c.is_up())
            }

            fn counts(&self) -> Vec<(&'static str, u64)> {
                kinds!(@each self, [$($name)* $($other)*], c => c.counts())
            }

            fn loads(&self, now: SimTime) -> Vec<(String, Load)> {
                kinds!(@each self, [$($name)* $($other)*], c => c.loads(now))
            }
        }
    };
}

// Stores, app servers and the log kinds are boxed in their actors: they are few and
// large, and every instance takes the largest variant's size.
kinds! {
    kinds {
        /// Spreads requests over the instances of the component it links to, by a policy:
        /// `LoadBalancer(policy: round_robin)`.
        LoadBalancer(load_balancer::RawLoadBalancer),
        /// A primary with read replicas, replication lag, conflicts, durability and
        /// failover: `Store(replicas: 2, replication: (lag: exp("2s")), reads: any_replica)`.
        Store(store::RawStore),
        /// Leaderless replication with read and write quorums (Dynamo style):
        /// `QuorumStore(n: 3, w: 2, r: 2, read_repair: true)`.
        QuorumStore(quorum_store::RawQuorumStore),
        /// One leader per region, replicating to each other:
        /// `MultiLeaderStore(leaders: ["us", "eu"], replication: exp("100ms"))`.
        MultiLeaderStore(multi_leader_store::RawMultiLeaderStore),
        /// A prepare/finalize gate in front of a streamed answer, with per-user limits:
        /// `Sentinel(prepare: exp("70ms"), finalize: exp("60ms"), limits: [...])`.
        Sentinel(sentinel::RawSentinel),
        /// Streams a response in chunks and persists it:
        /// `StreamServer(first_byte: normal(mean: "1s", sd: "150ms"), chunks: 40, ...)`.
        StreamServer(stream_server::RawStreamServer),
        /// Background jobs answered `202 Accepted`: `AsyncJobs(workers: 2, duration: exp("2s"))`.
        AsyncJobs(async_jobs::RawAsyncJobs),
        /// Stateful app servers that hold live pages and propagate edits:
        /// `AppServer(count: 4, propagation: poll(every: "2s"))`.
        AppServer(app_server::RawAppServer),
        /// Fans published changes out to subscribers: `PubSub(fanout: exp("1ms"))`.
        PubSub(pubsub::RawPubSub),
        /// Holds login sessions, with replicas and failover:
        /// `SessionCache(replicas: 1, failover: "5s")`.
        SessionCache(session_cache::RawSessionCache),
        /// An edge cache in front of an origin: `Cdn(ttl: "5m", mode: cache, key: url)`.
        Cdn(cdn::RawCdn),
        /// A token bucket that answers `429` past its rate: `RateLimiter(rate: "100/s", burst: 20)`.
        RateLimiter(rate_limiter::RawRateLimiter),
        /// An application service whose handlers call other components, caches and topics:
        /// `Service(handlers: {"read": [call(to: "db"), respond]})`.
        Service(service::RawService),
        /// A cache the application manages (cache-aside): `AppCache(max_keys: 10000)`.
        AppCache(app_cache::RawAppCache),
        /// A topic that delivers events to its consumers: `Topic(delivery: exp("2ms"))`.
        Topic(topic::RawTopic),
        /// A consumer of a topic: `Consumer(idempotent: true)`.
        Consumer(consumer::RawConsumer),
        /// Publishes a transactional outbox's rows: `OutboxRelay(every: "100ms")`.
        OutboxRelay(outbox_relay::RawOutboxRelay),
        /// Publishes a store's changes from its log: `ChangeCapture(every: "20ms")`.
        ChangeCapture(change_capture::RawChangeCapture),
        /// A replicated, partitioned log (Kafka style):
        /// `Log(partitions: 3, replication_factor: 3, min_insync_replicas: 2)`.
        Log(log::RawLog),
        /// Sends messages to a log: `Producer(rate: "200/s", acks: all, idempotent: true)`.
        Producer(producer::RawProducer),
        /// Members sharing a log's partitions, committing offsets:
        /// `ConsumerGroup(members: 2, commit: after)`.
        ConsumerGroup(consumer_group::RawConsumerGroup),
        /// A work queue with visibility timeouts and a dead-letter queue:
        /// `Queue(visibility_timeout: "30s", max_receives: 5)`.
        Queue(queue::RawQueue),
        /// Workers that receive from a queue and delete what they processed:
        /// `QueueWorkers(workers: 10, processing: exp("30s"), heartbeat: "10s")`.
        QueueWorkers(queue_workers::RawQueueWorkers),
        /// A kind registered by a program that uses archsim as a library:
        /// `Custom(kind: "my_cache", params: {"ttl": "5m"})`.
        Custom(registry::RawCustom),
    }
    others {
        /// A simulated user.
        Client(client::Client),
        /// The holder of stolen tokens.
        Attacker(attacker::Attacker),
        /// The fault schedule.
        Faults(fault_driver::FaultDriver),
        /// The arrivals of an open population.
        Arrivals(arrival_source::ArrivalSource),
    }
}

/// What a model entry declares.
pub fn contract(spec: &ComponentSpec) -> Contract {
    spec.contract()
}

/// Where a problem with the links lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkPlace {
    /// A model entry, by name.
    Component(String),
    /// A link, by its index in the model.
    Link(usize),
    /// The model's links as a whole (the clients' links, which no entry starts).
    Links,
    /// A field of a model entry: the entry's name and the path under it.
    Field(String, Vec<String>),
}

/// A link a role does not take, or a role with too few or too many links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkProblem {
    /// Where it lies.
    pub at: LinkPlace,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

/// Every model entry's contract, in model order.
pub fn contracts(model: &Model) -> Vec<Contract> {
    model.components.iter().map(contract).collect()
}

/// The contract of the entry called `name`, among `contracts`.
fn contract_of<'c>(model: &Model, contracts: &'c [Contract], name: &str) -> Option<&'c Contract> {
    let i = model.components.iter().position(|c| c.name == name)?;
    Some(&contracts[i])
}

/// The role each link of the model fills at its initiator (`None` for links that start
/// at the clients, name an unknown component or fill no role).
pub fn link_roles(model: &Model, contracts: &[Contract]) -> Vec<Option<usize>> {
    let serves = |name: &str| contract_of(model, contracts, name).map(|c| c.serves);
    model
        .links
        .iter()
        .map(|l| match &l.from {
            Endpoint::Clients => None,
            Endpoint::Component(from) => {
                let far = serves(&l.to)?;
                contract_of(model, contracts, from)?.role_for(far)
            }
        })
        .collect()
}

/// Checks every component's links against its roles: each link must fill a role, and
/// each role must have between its minimum and maximum of links.
pub fn link_problems(model: &Model) -> Vec<LinkProblem> {
    let contracts = contracts(model);
    let roles = link_roles(model, &contracts);
    let mut problems = Vec::new();
    for (spec, contract) in model.components.iter().zip(&contracts) {
        let name = spec.name.as_str();
        let outgoing: Vec<usize> = (0..model.links.len())
            .filter(|&i| model.links[i].from == Endpoint::Component(spec.name.clone()))
            .collect();
        if contract.roles.is_empty() {
            if !outgoing.is_empty() {
                let message = format!(
                    "{} `{name}` {}; it has no links of its own, so a link from it would \
                     change nothing",
                    contract.kind, contract.alone
                );
                problems.push(LinkProblem { at: component(name), message, hint: None });
            }
            continue;
        }
        let mut counts = vec![0u32; contract.roles.len()];
        for &i in &outgoing {
            let to = &model.links[i].to;
            let Some(far) = contract_of(model, &contracts, to) else { continue };
            match roles[i] {
                Some(r) => counts[r] += 1,
                None => problems.push(unused_link(contract, name, to, far, i)),
            }
        }
        if let Some(problem) =
            choice_problem(model, &contracts, (spec, contract), &outgoing, &roles)
        {
            problems.push(problem);
        }
        for (role, &n) in contract.roles.iter().zip(&counts) {
            if n < role.min || n > role.max {
                let message = format!("{} `{name}` needs {}, found {n}", contract.kind, role.wants);
                let hint = (n < role.min).then(|| {
                    format!(r#"add (from: "{name}", to: "{}", latency: exp("1ms"))"#, role.example)
                });
                problems.push(LinkProblem { at: component(name), message, hint });
            }
        }
    }
    problems.extend(callee_problems(model, &contracts));
    problems.extend(caller_problems(model, &contracts));
    problems.extend(topic_problems(model, &contracts));
    problems.extend(client_problems(model, &contracts));
    problems.extend(gate_problems(model, &contracts));
    problems
}

/// A choosing setting (a balancer's `policy`) over a role whose far ends hold fewer
/// than two instances in all: nothing to choose among, so it would change nothing.
fn choice_problem(
    model: &Model,
    contracts: &[Contract],
    (spec, contract): (&ComponentSpec, &Contract),
    outgoing: &[usize],
    roles: &[Option<usize>],
) -> Option<LinkProblem> {
    let choice = contract.choice.as_ref()?;
    let role = contract.role_named(choice.role)?;
    let instances: u32 = (outgoing.iter())
        .filter(|&&i| roles[i] == Some(role))
        .filter_map(|&i| contract_of(model, contracts, &model.links[i].to))
        .map(|far| far.instances)
        .sum();
    if instances >= 2 {
        return None;
    }
    let name = &spec.name;
    let message = format!(
        "{}, but {} `{name}` reaches {instances} instance over its `{}` links, so it would \
         change nothing",
        choice.why, contract.kind, choice.role
    );
    let hint =
        Some(format!("link `{name}` to two or more instances, or leave `{}` out", choice.field));
    let at = LinkPlace::Field(name.clone(), vec![choice.field.to_string()]);
    Some(LinkProblem { at, message, hint })
}

/// Components called by name (a service's handler steps): each needs a link from the
/// caller, of a kind that fits the step, with one instance; and every link the caller
/// initiates must be called by some step, or it would change nothing.
fn callee_problems(model: &Model, contracts: &[Contract]) -> Vec<LinkProblem> {
    let mut problems = Vec::new();
    for (spec, contract) in model.components.iter().zip(contracts) {
        if contract.callees.is_empty() && contract.answers.is_none() {
            continue;
        }
        let name = spec.name.as_str();
        let linked = |to: &str| {
            model.links.iter().any(|l| l.from == Endpoint::Component(name.into()) && l.to == to)
        };
        for callee in &contract.callees {
            let at = LinkPlace::Field(name.to_string(), callee.path.clone());
            let (to, step) = (callee.name.as_str(), callee.step);
            let Some(far) = contract_of(model, contracts, to) else {
                let others = model.components.iter().filter(|c| c.name != name);
                let names: Vec<&str> = others.map(|c| c.name.as_str()).collect();
                let message = format!("`{step}` names `{to}`: no such component");
                let hint = Some(format!("name one of: {}", names.join(", ")));
                problems.push(LinkProblem { at, message, hint });
                continue;
            };
            if !callee.wants.takes(far.serves) {
                let wants = match callee.wants {
                    Target::Only(s) => s.words().to_string(),
                    _ => "a component that answers requests".to_string(),
                };
                let message =
                    format!("`{step}` needs {wants}, and `{to}` is {}", far.serves.words());
                let hint = match callee.wants {
                    Target::Only(Serves::Cache) => {
                        r#"name an application cache, e.g. "redis": AppCache()"#
                    }
                    Target::Only(Serves::Topic) => r#"name a topic, e.g. "events": Topic()"#,
                    _ if far.serves == Serves::Log => {
                        "a service reaches a log through its store: `call(to: \"db\", outbox: \
                         true)` and an `OutboxRelay` (or a `ChangeCapture`) linked to the store \
                         and the log; a `Producer` appends to a log on its own"
                    }
                    _ => {
                        "a `call` goes to a store, balancer, service or job queue; a cache takes `cache_get`, `cache_set` and `cache_delete`"
                    }
                };
                let hint = Some(hint.to_string());
                problems.push(LinkProblem { at, message, hint });
            } else if !linked(to) {
                let message = format!(
                    "`{step}` calls `{to}`, but {} `{name}` has no link to it",
                    contract.kind
                );
                let hint =
                    Some(format!(r#"add (from: "{name}", to: "{to}", latency: exp("1ms"))"#));
                problems.push(LinkProblem { at, message, hint });
            } else if let Some(missing) = unanswered(callee, far) {
                let message = format!(
                    "`{step}` passes `{missing}` to {} `{to}`, which has no handler for it",
                    far.kind
                );
                let hint = Some(format!(r#"add to `{to}`'s handlers, e.g. "{missing}": [...]"#));
                problems.push(LinkProblem { at, message, hint });
            } else if far.instances > 1 {
                let message = format!(
                    "`{step}` calls `{to}`, which has {} instances: put a load balancer in front",
                    far.instances
                );
                problems.push(LinkProblem { at, message, hint: None });
            }
        }
        for (i, l) in model.links.iter().enumerate() {
            let named = contract.callees.iter().any(|c| c.name == l.to);
            if l.from == Endpoint::Component(name.into()) && !named {
                let message = format!(
                    "{} `{name}` has a link to `{}` that none of its steps calls, so it would \
                     change nothing",
                    contract.kind, l.to
                );
                let hint = Some(format!("remove the link, or call `{}` from a handler", l.to));
                problems.push(LinkProblem { at: LinkPlace::Link(i), message, hint });
            }
        }
    }
    problems
}

/// The operation a `call` at `callee.path` (under `handlers.<operation>`) passes on,
/// when the far end answers only operations it has handlers for and has none for it.
fn unanswered<'c>(callee: &'c Callee, far: &Contract) -> Option<&'c str> {
    let answers = far.answers.as_ref()?;
    let operation = callee.path.get(1).filter(|_| callee.path[0] == "handlers")?;
    (callee.wants == Target::Callable && !answers.contains(operation)).then_some(operation.as_str())
}

/// Components that do something only when linked to (a cache, a topic, a consumer),
/// with nothing linking to them.
fn caller_problems(model: &Model, contracts: &[Contract]) -> Vec<LinkProblem> {
    let linked = |name: &str| model.links.iter().any(|l| l.to == name);
    let lonely = model.components.iter().zip(contracts).filter(|(s, _)| !linked(&s.name));
    lonely
        .filter_map(|(spec, c)| c.callers.map(|(what, example)| (spec, c, what, example)))
        .map(|(spec, c, what, example)| {
            (spec, c, what, caller_in(model, contracts, c.serves).unwrap_or(example))
        })
        .map(|(spec, c, what, example)| LinkProblem {
            at: component(&spec.name),
            message: format!(
                "{} `{}` has no link from {what}, so nothing would reach it",
                c.kind, spec.name
            ),
            hint: Some(format!(
                r#"add (from: "{example}", to: "{}", latency: exp("1ms")), or remove it"#,
                spec.name
            )),
        })
        .collect()
}

/// One topic per model: `delivery` expects every consumer to process every published
/// change, which holds only when they all subscribe to the one topic changes go to.
fn topic_problems(model: &Model, contracts: &[Contract]) -> Vec<LinkProblem> {
    let topics = model.components.iter().zip(contracts).filter(|(_, c)| c.serves == Serves::Topic);
    topics
        .skip(1)
        .map(|(spec, _)| LinkProblem {
            at: component(&spec.name),
            message: format!(
                "topic `{}` is a second topic: `delivery` judges one topic, every consumer \
                 subscribed to every published change",
                spec.name
            ),
            hint: Some("publish every change to one topic".into()),
        })
        .collect()
}

/// A component of the model that could link to one serving as `far`, for a hint: one
/// with a role for exactly that first, then one whose role takes anything.
fn caller_in<'m>(model: &'m Model, contracts: &[Contract], far: Serves) -> Option<&'m str> {
    let takes = |c: &Contract, exact: bool| {
        c.roles.iter().any(|r| if exact { r.to == Target::Only(far) } else { r.to.takes(far) })
    };
    let named = |exact: bool| {
        let mut all = model.components.iter().zip(contracts);
        all.find(|(_, c)| c.serves != far && takes(c, exact)).map(|(s, _)| s.name.as_str())
    };
    named(true).or_else(|| named(false))
}

/// The clients' roles: at most one link to a gate, and at least one entry into the
/// architecture, to a component that answers requests (several when the scenario's
/// populations enter at different places; each population names its own).
pub fn clients_contract() -> Contract {
    let mut c = Contract::new("client population", Serves::Data);
    let gate = Role::new("gate", Target::Only(Serves::Gate), 0, 1);
    c.roles.push(gate.wanting("at most one link to a sentinel", "gate"));
    let entry = Role::new("entry", Target::Requests, 1, u32::MAX);
    let wants = "a link into the architecture (besides one to a sentinel)";
    c.roles.push(entry.wanting(wants, "lb"));
    c
}

/// Whether some component of `model` makes load of its own (a producer), so the
/// scenario may have no clients.
pub fn makes_own_load(model: &Model) -> bool {
    model.components.iter().any(|c| c.contract().makes_load)
}

/// The clients' links against their roles, and an entry with one instance (clients do
/// not spread their requests: a balancer does).
fn client_problems(model: &Model, contracts: &[Contract]) -> Vec<LinkProblem> {
    let clients = clients_contract();
    let mut problems = Vec::new();
    let mut counts = vec![0u32; clients.roles.len()];
    for (i, l) in model.links.iter().enumerate().filter(|(_, l)| l.from == Endpoint::Clients) {
        let Some(far) = contract_of(model, contracts, &l.to) else { continue };
        match clients.role_for(far.serves) {
            Some(r) => counts[r] += 1,
            None => problems.push(unused_link(&clients, CLIENTS, &l.to, far, i)),
        }
        if far.instances > 1 {
            let message = format!(
                "`{CLIENTS}` link to `{}`, which has {} instances: put a load balancer in front",
                l.to, far.instances
            );
            let hint = Some(r#"e.g. "lb": LoadBalancer(policy: round_robin)"#.into());
            problems.push(LinkProblem { at: LinkPlace::Link(i), message, hint });
        }
    }
    // A model whose load comes from its own sources (producers) may have no clients.
    let own_load = contracts.iter().any(|c| c.makes_load) && counts.iter().all(|&n| n == 0);
    for (role, &n) in clients.roles.iter().zip(&counts) {
        if (n < role.min && !own_load) || n > role.max {
            let message = format!("`{CLIENTS}` needs {}, found {n}", role.wants);
            let hint = (n < role.min).then(|| {
                format!(r#"add (from: "{CLIENTS}", to: "{}", latency: exp("1ms"))"#, role.example)
            });
            problems.push(LinkProblem { at: LinkPlace::Links, message, hint });
        }
    }
    problems
}

fn component(name: &str) -> LinkPlace {
    LinkPlace::Component(name.to_string())
}

fn unused_link(contract: &Contract, name: &str, to: &str, far: &Contract, i: usize) -> LinkProblem {
    let roles: Vec<String> = contract.roles.iter().map(|r| r.wants.clone()).collect();
    let message = format!(
        "{} `{name}` has no use for a link to `{to}` ({}): it takes {}",
        contract.kind,
        far.serves.words(),
        roles.join("; ")
    );
    LinkProblem { at: LinkPlace::Link(i), message, hint: Some("remove the link".into()) }
}

/// A gate is reached beside the clients' entry; one no client link reaches gates nothing.
fn gate_problems(model: &Model, contracts: &[Contract]) -> Vec<LinkProblem> {
    let reached =
        |name: &str| model.links.iter().any(|l| l.from == Endpoint::Clients && l.to == name);
    let gates = model.components.iter().zip(contracts).filter(|(_, c)| c.serves == Serves::Gate);
    gates
        .filter(|(spec, _)| !reached(&spec.name))
        .map(|(spec, c)| LinkProblem {
            at: component(&spec.name),
            message: format!("{} `{}` has no link from `{CLIENTS}`", c.kind, spec.name),
            hint: Some(format!(
                r#"add (from: "{CLIENTS}", to: "{}", latency: exp("20ms"))"#,
                spec.name
            )),
        })
        .collect()
}

/// What the entry called `name` serves as (`None` for an unknown name).
pub fn serves(model: &Model, name: &str) -> Option<Serves> {
    model.component(name).map(|c| contract(c).serves)
}

/// Whether `name` is a gate, which the clients reach beside their entry.
pub fn is_gate(model: &Model, name: &str) -> bool {
    serves(model, name) == Some(Serves::Gate)
}

/// How many instances the entry called `name` has (one for an unknown name).
pub fn instances(model: &Model, name: &str) -> u32 {
    model.component(name).map_or(1, |c| contract(c).instances)
}

/// The instances a fault target names: `api` is every instance of `api`, `api/1` only
/// that one (as `(component, Some(1))`).
pub fn fault_target<'m>(
    model: &'m Model,
    target: &str,
) -> Option<(&'m ComponentSpec, Option<u32>)> {
    if let Some(c) = model.component(target) {
        return Some((c, None));
    }
    let (name, index) = target.rsplit_once('/')?;
    let index: u32 = index.parse().ok()?;
    let c = model.component(name)?;
    (index < contract(c).instances).then_some((c, Some(index)))
}

/// `Ok` when `target` names a component (or one instance of one) that takes `fault`;
/// otherwise the message and the components that would take it.
pub fn check_fault_target<'m>(
    model: &'m Model,
    target: &str,
    fault: FaultKind,
) -> Result<&'m ComponentSpec, (String, Vec<&'m str>)> {
    let takers: Vec<&str> = model
        .components
        .iter()
        .filter(|c| contract(c).faults.contains(&fault))
        .map(|c| c.name.as_str())
        .collect();
    let cannot = format!("fault target `{target}` cannot {}", fault.verb());
    let Some((spec, _)) = fault_target(model, target) else {
        let what = if takers.is_empty() {
            format!("no component of the model can {}", fault.verb())
        } else {
            format!("name one of: {}", takers.join(", "))
        };
        return Err((format!("{cannot}: {what}"), takers));
    };
    match contract(spec).takes(fault) {
        Ok(()) => Ok(spec),
        Err(why) => Err((format!("{cannot}: {why}"), takers)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::load_balancer::{LoadBalancerPolicy, LoadBalancerSpec};
    use crate::components::pubsub::PubSubSpec;
    use crate::components::store::{
        ClockSource, ConflictPolicy, Durability, Partition, ReadConsistency, ReplicationMode,
        StoreSpec,
    };
    use crate::engine::Dist;
    use crate::model::LinkSpec;

    fn store(replicas: u32) -> StoreSpec {
        StoreSpec {
            replicas,
            replication_lag: Dist::constant(1),
            replication_mode: ReplicationMode::Independent,
            replica_ack: Dist::constant(0),
            reads: ReadConsistency::Primary,
            conflict: ConflictPolicy::Overwrite(ClockSource::Server),
            durability: Durability::Wal,
            capacity: None,
            shards: 1,
            partition: Partition::ByOrg,
            idempotency_retention: None,
            failover: None,
        }
    }

    fn model(components: Vec<ComponentSpec>, links: &[(&str, &str)]) -> Model {
        let link = |&(from, to): &(&str, &str)| LinkSpec {
            from: if from == CLIENTS {
                Endpoint::Clients
            } else {
                Endpoint::Component(from.into())
            },
            to: to.into(),
            latency: Dist::constant(1),
            loss: 0.0,
        };
        Model {
            name: "t".into(),
            components,
            links: links.iter().map(link).collect(),
            regions: Default::default(),
        }
    }

    /// The problems of `m`, as (where, start of the message).
    fn check(m: &Model, expected: &[(LinkPlace, &str)]) {
        let got = link_problems(m);
        assert_eq!(got.len(), expected.len(), "{got:?}");
        for (p, (at, start)) in got.iter().zip(expected) {
            assert_eq!(&p.at, at);
            assert!(p.message.starts_with(start), "{} does not start with {start}", p.message);
        }
    }

    #[test]
    fn no_kind_makes_every_client_larger() {
        use std::mem::size_of;
        // A run holds a `BuiltIn` per user, as large as its largest variant: a kind
        // whose state outgrows a client's is boxed (it has few instances), so a
        // million clients do not each pay for it.
        let client = size_of::<client::Client>();
        assert!(size_of::<BuiltIn>() <= client + 8, "{} > {client} + 8", size_of::<BuiltIn>());
        // What a client touches on every request; rarer state sits in its boxed extras.
        assert!(client <= 168, "a client grew to {client} bytes");
    }

    #[test]
    fn a_link_from_a_kind_that_initiates_none_is_refused_at_the_component() {
        let m = model(
            vec![ComponentSpec::new("a", store(0)), ComponentSpec::new("b", store(0))],
            &[(CLIENTS, "a"), ("a", "b")],
        );
        check(&m, &[(LinkPlace::Component("a".into()), "store `a` answers requests itself")]);
    }

    #[test]
    fn a_link_no_role_takes_is_refused_at_the_link_and_roles_are_counted() {
        let lb = LoadBalancerSpec { policy: LoadBalancerPolicy::RoundRobin, health_check: None };
        let bus = PubSubSpec { fanout: Dist::constant(0) };
        let m = model(
            vec![ComponentSpec::new("bus", bus), ComponentSpec::new("lb", lb)],
            &[(CLIENTS, "lb"), ("lb", "bus")],
        );
        check(
            &m,
            &[
                (LinkPlace::Link(1), "load balancer `lb` has no use for a link to `bus`"),
                (LinkPlace::Component("lb".into()), "load balancer `lb` needs a link"),
            ],
        );
    }

    #[test]
    fn a_service_needs_a_fitting_link_to_each_callee_and_a_step_for_each_link() {
        use crate::components::service::ServiceSpec;
        use crate::model::contract::Callee;
        let callee = |name: &str, wants| Callee {
            name: name.into(),
            wants,
            step: if wants == Target::Requests { "call" } else { "cache_get" },
            path: vec!["handlers".into(), "read".into(), "0".into()],
        };
        let api = ServiceSpec {
            count: 1,
            capacity: None,
            handlers: Vec::new(),
            callees: vec![
                callee("db", Target::Requests),
                callee("db", Target::Only(Serves::Cache)),
                callee("cold", Target::Requests),
            ],
        };
        let m = model(
            vec![
                ComponentSpec::new("api", api),
                ComponentSpec::new("db", store(0)),
                ComponentSpec::new("cold", store(0)),
                ComponentSpec::new("spare", store(0)),
            ],
            &[(CLIENTS, "api"), ("api", "db"), ("api", "spare")],
        );
        let field =
            LinkPlace::Field("api".into(), vec!["handlers".into(), "read".into(), "0".into()]);
        check(
            &m,
            &[
                (field.clone(), "`cache_get` needs an application cache, and `db` is a store"),
                (field, "`call` calls `cold`, but service `api` has no link to it"),
                (LinkPlace::Link(2), "service `api` has a link to `spare` that none of its steps"),
            ],
        );
    }

    #[test]
    fn faults_are_checked_against_the_target_kind() {
        let m = model(
            vec![ComponentSpec::new("db", store(0)), ComponentSpec::new("db2", store(1))],
            &[(CLIENTS, "db")],
        );
        assert!(check_fault_target(&m, "db", FaultKind::Crash).is_ok());
        let (msg, takers) = check_fault_target(&m, "db", FaultKind::LagSpike).unwrap_err();
        assert!(msg.contains("it has no replicas"), "{msg}");
        assert_eq!(takers, ["db2"]);
        let (msg, _) = check_fault_target(&m, "nope", FaultKind::Crash).unwrap_err();
        assert!(msg.ends_with("name one of: db, db2"), "{msg}");
    }
}
