//! Semantic checks after parsing: raw file structs become the validated `model` types.
//!
//! serde has already checked shapes and types; this pass checks meaning: links that name
//! real components, probabilities in `[0, 1]`, sound distributions, a replica to read
//! from. Every problem is collected (not just the first) and located through the span
//! index, so it prints with file, line and column.

use std::collections::BTreeMap;

use petgraph::graph::DiGraph;

use super::error::{Diagnostic, did_you_mean};
use super::raw::{
    RawAuth, RawBreaker, RawClients, RawDist, RawJitter, RawKey, RawLink, RawModel, RawOrgs,
    RawRetry, RawScenario, RawStep, RawTokenStorage,
};
use super::ron_tree::{Node, NodeKind};
use super::source::{Place, SourceText};
use crate::check::Purpose;
use crate::components::kind::Handling;
use crate::components::kinds::{self, LinkPlace};
use crate::components::multi_leader_store::MultiLeaderStoreSpec;
use crate::components::service::ServiceSpec;
use crate::components::store::StoreSpec;
use crate::components::{purposes, workflow};
use crate::engine::{Dist, SimDuration};
use crate::model::architecture::CLIENTS;
use crate::model::contract::Serves;
use crate::model::shape::Problems;
use crate::model::{
    AuthSpec, BreakerSpec, ClientsSpec, ClockSpec, ComponentSpec, Endpoint, Jitter, KeyChoice,
    LinkSpec, Model, OrgSpec, RetryBudget, RetrySpec, Step, TokenStorage,
};

/// Most clients a scenario may declare.
pub const CLIENTS_MAX: u32 = 10_000_000;
/// Most key versions all stores may hold together (keys × (replicas + 1)), about 1.6 GB.
pub const STORE_CELLS_MAX: u64 = 200_000_000;

/// Finds the place of a path of fields, map keys and list indices in a file.
pub struct Locator<'a> {
    /// The (possibly edited) source.
    pub src: &'a SourceText,
    /// Its span index.
    pub tree: &'a Node,
}

impl Locator<'_> {
    /// The place of the deepest node along `path` (the parent when a field was left out).
    pub fn place(&self, path: &[&str]) -> Place {
        let mut node = self.tree;
        for seg in path {
            let next = match &node.kind {
                NodeKind::Struct { .. } => node.field(seg).map(|f| &f.value),
                NodeKind::Map(_) => node.entry_in(seg, &self.src.text).map(|(_, v)| v),
                NodeKind::List(items) | NodeKind::Tuple(items) => {
                    seg.parse::<usize>().ok().and_then(|i| items.get(i))
                }
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        self.src.place(node.span.start)
    }
}

/// Collects diagnostics while validating one file.
pub(super) struct Checker<'a> {
    pub(super) at: Locator<'a>,
    pub(super) errors: Vec<Diagnostic>,
}

impl Checker<'_> {
    pub(super) fn error(&mut self, path: &[&str], message: String, hint: Option<String>) {
        let d = Diagnostic::at(self.at.place(path), message).with_hint(hint);
        self.errors.push(d);
    }

    /// An error at `path` that also concerns `other` (such as the first of two
    /// duplicates), labelled there with `label`.
    pub(super) fn error_also(
        &mut self,
        path: &[&str],
        message: String,
        hint: &str,
        other: &[&str],
        label: &str,
    ) {
        let d = Diagnostic::at(self.at.place(path), message).with_hint(Some(hint.into()));
        self.errors.push(d.also(self.at.place(other), label));
    }

    pub(super) fn probability(&mut self, path: &[&str], what: &str, p: f64) {
        if !p.is_finite() || !(0.0..=1.0).contains(&p) {
            self.error(path, format!("{what} must be a probability in [0, 1], found {p}"), None);
        }
    }

    /// `raw` as a distribution; problems are located at `path`.
    pub(super) fn dist(&mut self, path: &[&str], raw: &RawDist) -> Dist {
        let mut problems = Problems::default();
        let dist = problems.dist(path, raw);
        self.take(problems, &[]);
        dist
    }

    /// Locates each of `problems` (whose paths are under `prefix`) in the file.
    pub(super) fn take(&mut self, problems: Problems, prefix: &[&str]) {
        for p in problems.list {
            let place = self.place_under(prefix, &p.path);
            let mut d = Diagnostic::at(place, p.message).with_hint(p.hint);
            if let Some((other, label)) = &p.also {
                d = d.also(self.place_under(prefix, other), label.as_str());
            }
            self.errors.push(d);
        }
    }

    /// The place of `path` under `prefix`.
    fn place_under(&self, prefix: &[&str], path: &[String]) -> Place {
        let full: Vec<&str> =
            prefix.iter().copied().chain(path.iter().map(String::as_str)).collect();
        self.at.place(&full)
    }
}

/// Validates a parsed model file.
pub fn model(raw: &RawModel, at: Locator<'_>) -> Result<Model, Vec<Diagnostic>> {
    let mut c = Checker { at, errors: Vec::new() };
    if raw.components.is_empty() {
        c.error(&["components"], "a model needs at least one component".into(), None);
    }
    let mut components = Vec::new();
    for (name, comp) in &raw.components {
        check_name(&mut c, name);
        let mut problems = Problems::default();
        let kind = comp.validate(&mut problems);
        c.take(problems, &["components", name]);
        components.push(ComponentSpec { name: name.clone(), kind });
    }
    let links = raw.links.iter().enumerate().map(|(i, l)| link(&mut c, raw, i, l)).collect();
    let regions = super::regions::regions(&mut c, raw, &components);
    // A model without a name goes by its file's, as a scenario does.
    let name = raw.name.clone().unwrap_or_else(|| c.at.src.file.clone());
    let model = Model { name, components, links, regions };
    check_wiring(&mut c, &model);
    if c.errors.is_empty() { Ok(model) } else { Err(c.errors) }
}

fn check_name(c: &mut Checker<'_>, name: &str) {
    let path = ["components", name];
    if name == CLIENTS {
        let msg = format!("component name `{CLIENTS}` is reserved for the client population");
        c.error(&path, msg, None);
    } else if super::load::SCENARIO_FIELDS.contains(&name)
        || super::load::MODEL_FIELDS.contains(&name)
    {
        let what = if super::load::MODEL_FIELDS.contains(&name) { "model's" } else { "scenario's" };
        let msg = format!("component name `{name}` is reserved: `--set {name}=…` sets the {what}");
        c.error(&path, msg, None);
    } else if name.is_empty() || name.contains(['.', '/', '=']) || name.trim() != name {
        let msg = format!("component name {name:?} must be non-empty, without `.`, `/`, `=`");
        c.error(&path, msg, Some("override paths use `.` to separate name and field".into()));
    }
}

/// Most organisations a scenario may declare.
pub const ORGS_MAX: u32 = 1_000_000;

fn auth(c: &mut Checker<'_>, raw: &RawAuth, model: &Model) -> AuthSpec {
    if raw.token_ttl.0 == SimDuration::ZERO {
        let msg = "`token_ttl` must be above 0".to_string();
        c.error(&["clients", "auth", "token_ttl"], msg, Some(r#"e.g. "15m""#.into()));
    }
    let app = model.components.iter().any(|s| kinds::handles(s, purposes::TOKEN_REFRESH));
    if !app {
        let msg = "tokens are checked by app servers, and the model has none".to_string();
        let hint = Some(r#"e.g. "api": AppServer(count: 2, propagation: pubsub)"#.into());
        c.error(&["clients", "auth"], msg, hint);
    }
    let storage = match raw.storage {
        RawTokenStorage::LocalStorage => TokenStorage::LocalStorage,
        RawTokenStorage::HttpOnlyCookie => TokenStorage::HttpOnlyCookie,
    };
    AuthSpec { token_ttl: raw.token_ttl.0, storage }
}

fn orgs(c: &mut Checker<'_>, raw: &RawOrgs) -> OrgSpec {
    if raw.count == 0 || raw.count > ORGS_MAX {
        let msg = format!("`count` must be between 1 and {ORGS_MAX}, found {}", raw.count);
        c.error(&["clients", "orgs", "count"], msg, None);
    }
    if !raw.skew.is_finite() || !(0.0..=10.0).contains(&raw.skew) {
        let msg = format!("`skew` must be between 0 and 10, found {}", raw.skew);
        c.error(&["clients", "orgs", "skew"], msg, Some("1.0 is the classic Zipf".into()));
    }
    OrgSpec { count: raw.count, skew: raw.skew }
}

fn link(c: &mut Checker<'_>, raw: &RawModel, i: usize, l: &RawLink) -> LinkSpec {
    let index = i.to_string();
    let names = || raw.components.keys().map(String::as_str).chain([CLIENTS]);
    if l.from != CLIENTS && !raw.components.contains_key(&l.from) {
        let msg = format!("link from `{}`: no such component", l.from);
        c.error(&["links", &index, "from"], msg, did_you_mean(&l.from, names()));
    }
    if l.to == CLIENTS {
        let msg = format!("links go from `{CLIENTS}` into the architecture, not into it");
        c.error(&["links", &index, "to"], msg, None);
    } else if !raw.components.contains_key(&l.to) {
        let msg = format!("link to `{}`: no such component", l.to);
        c.error(&["links", &index, "to"], msg, did_you_mean(&l.to, names()));
    }
    c.probability(&["links", &index, "loss"], "`loss`", l.loss);
    let latency = c.dist(&["links", &index, "latency"], &l.latency);
    let from =
        if l.from == CLIENTS { Endpoint::Clients } else { Endpoint::Component(l.from.clone()) };
    LinkSpec { from, to: l.to.clone(), latency, loss: l.loss }
}

/// Checks that requests have one way in and always reach a component that serves them.
fn check_wiring(c: &mut Checker<'_>, model: &Model) {
    check_roles(c, model);
    let mut graph = DiGraph::<&str, ()>::new();
    let nodes: BTreeMap<&str, _> = model
        .components
        .iter()
        .map(|s| (s.name.as_str(), graph.add_node(s.name.as_str())))
        .collect();
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (i, l) in model.links.iter().enumerate() {
        let from = match &l.from {
            Endpoint::Component(from) => from.as_str(),
            Endpoint::Clients => CLIENTS,
        };
        if let Some(&first) = seen.get(&(from, l.to.as_str())) {
            let msg = format!("duplicate link from `{from}` to `{}`", l.to);
            let (i, first) = (i.to_string(), first.to_string());
            let hint = "keep one of them";
            c.error_also(&["links", &i], msg, hint, &["links", &first], "first given here");
        } else {
            seen.insert((from, l.to.as_str()), i);
        }
        if let (Some(&a), Some(&b)) = (nodes.get(from), nodes.get(l.to.as_str())) {
            graph.add_edge(a, b, ());
        }
    }
    if petgraph::algo::is_cyclic_directed(&graph) {
        let msg = "links form a cycle: a request could be forwarded forever".to_string();
        c.error(&["links"], msg, Some("links point from caller to callee; remove one".into()));
    }
}

/// Checks each component's links against the roles its kind declares: every link fills
/// a role, every role has between its fewest and most links.
fn check_roles(c: &mut Checker<'_>, model: &Model) {
    for problem in kinds::link_problems(model) {
        let index;
        let path: Vec<&str> = match &problem.at {
            LinkPlace::Component(name) => vec!["components", name],
            LinkPlace::Link(i) => {
                index = i.to_string();
                vec!["links", &index]
            }
            LinkPlace::Links => vec!["links"],
            LinkPlace::Field(name, field) => {
                let mut path = vec!["components", name.as_str()];
                path.extend(field.iter().map(String::as_str));
                path
            }
        };
        c.error(&path, problem.message, problem.hint);
    }
}

/// The servers of kind `is_server` that requests from the clients' entry reach, and the
/// stores (or custom components) they reach without passing one.
fn servers_in_front<'m>(
    model: &'m Model,
    entry: &'m str,
    is_server: &dyn Fn(&ComponentSpec) -> bool,
) -> (Vec<&'m str>, Vec<&'m str>) {
    let mut servers = Vec::new();
    let mut bare = Vec::new();
    let mut todo = vec![entry];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = todo.pop() {
        if !seen.insert(name) {
            continue;
        }
        match model.component(name) {
            Some(spec) if is_server(spec) => servers.push(name),
            Some(_) if kinds::serves(model, name) == Some(Serves::Data) => bare.push(name),
            _ => todo.extend(
                model
                    .links
                    .iter()
                    .filter(|l| l.from == Endpoint::Component(name.to_string()))
                    .map(|l| l.to.as_str()),
            ),
        }
    }
    (servers, bare)
}

/// Refuses steps whose requests a kind must handle itself (an `edit` needs the app
/// server that holds its WebSocket) when requests from the clients' entry reach a store
/// without passing one. Which kind handles what is each kind's own `KindFile::HANDLES`.
fn check_handled_steps(
    c: &mut Checker<'_>,
    at: &[&str],
    workflow: &[Step],
    (model, entry): (&Model, &str),
) {
    // Per handling kind, in the order steps first need it: a purpose it handles and
    // the steps that send one.
    let mut needs: Vec<(&'static str, Handling, Purpose, Vec<&'static str>)> = Vec::new();
    for step in flat(workflow) {
        let name = workflow::step_name(step);
        for p in workflow::sends(step) {
            let Some((kind, handling)) = kinds::handler_of(p) else { continue };
            match needs.iter_mut().find(|n| n.0 == kind) {
                Some(n) if n.3.contains(&name) => {}
                Some(n) => n.3.push(name),
                None => needs.push((kind, handling, p, vec![name])),
            }
        }
    }
    for (kind, handling, purpose, steps) in needs {
        // A service with a handler for the purpose handles it too.
        let is_server = |s: &ComponentSpec| {
            let answers = kinds::contract(s).answers;
            kinds::handles(s, purpose)
                || answers.is_some_and(|a| a.iter().any(|n| n == purpose.name()))
        };
        let (servers, bare) = servers_in_front(model, entry, &is_server);
        if servers.is_empty() || !bare.is_empty() {
            let a = if kind.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" };
            let verb = if steps.len() == 1 { "needs" } else { "need" };
            let msg = format!(
                "{} {verb} {a} {kind} between `{CLIENTS}` and every store ({}), but requests \
                 reach {} directly",
                words(&steps),
                handling.why,
                bare.first().map_or(format!("no {kind}"), |b| format!("`{b}`"))
            );
            c.error(at, msg, Some(format!("e.g. {}", handling.example)));
        }
    }
}

/// Refuses steps whose requests reach a component that answers only the operations it
/// has handlers for (a service) and has none for them.
fn check_answered_steps(
    c: &mut Checker<'_>,
    at: &[&str],
    workflow: &[Step],
    (model, entry): (&Model, &str),
) {
    let answers = |s: &ComponentSpec| kinds::contract(s).answers.is_some();
    let (services, _) = servers_in_front(model, entry, &answers);
    for name in services {
        let Some(spec) = model.component(name) else { continue };
        let handled = kinds::contract(spec).answers.unwrap_or_default();
        let mut missing: Vec<&str> = Vec::new();
        for step in flat(workflow) {
            for p in workflow::sends(step) {
                if !handled.iter().any(|h| h == p.name()) && !missing.contains(&p.name()) {
                    missing.push(p.name());
                }
            }
        }
        let Some(first) = missing.first() else { continue };
        let msg = format!(
            "the workflow sends {} to service `{name}`, which has no handler for {}",
            words(&missing),
            if missing.len() == 1 { "it" } else { "them" }
        );
        let hint = format!(r#"add to its handlers, e.g. "{first}": [call(to: "db"), respond]"#);
        c.error(at, msg, Some(hint));
    }
}

/// `title` is answered `202 Accepted` and written later by a job: every server that
/// takes it needs a link to a job queue.
fn check_title_jobs(
    c: &mut Checker<'_>,
    at: &[&str],
    workflow: &[Step],
    (model, entry): (&Model, &str),
) {
    if !flat(workflow).any(|s| matches!(s, Step::Title)) {
        return;
    }
    let takes_titles = |s: &ComponentSpec| kinds::handles(s, purposes::TITLE);
    let (servers, bare) = servers_in_front(model, entry, &takes_titles);
    let has_jobs = servers.iter().all(|s| {
        model
            .links
            .iter()
            .filter(|l| l.from == Endpoint::Component(s.to_string()))
            .any(|l| kinds::serves(model, &l.to) == Some(Serves::JobQueue))
    });
    if bare.is_empty() && !has_jobs {
        let msg = "`title` needs a link from the stream server to an AsyncJobs queue".to_string();
        c.error(at, msg, None);
    }
}

/// `a`, `a` and `b`, `a`, `b` and `c`: step names in backticks.
fn words(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// Every step of `steps`, nested ones included, in order.
fn flat(steps: &[Step]) -> Box<dyn Iterator<Item = &Step> + '_> {
    Box::new(steps.iter().flat_map(|s| match s {
        Step::Repeat(_, body) | Step::Maybe(_, body) => flat(body),
        other => Box::new(std::iter::once(other)),
    }))
}

/// Validates the client population of a scenario against its model.
pub fn clients(
    raw: &RawClients,
    model: &Model,
    at: Locator<'_>,
) -> Result<ClientsSpec, Vec<Diagnostic>> {
    let mut c = Checker { at, errors: Vec::new() };
    let unset = raw.count.is_none() && raw.populations.is_empty() && raw.workflow.is_empty();
    if unset && kinds::makes_own_load(model) {
        return Ok(ClientsSpec::none());
    }
    let populations = super::populations::populations(&mut c, raw, model);
    let count = populations.iter().map(|p| p.count).fold(0u32, u32::saturating_add);
    let largest = populations.iter().map(|p| p.count).max().unwrap_or(1);
    let workflow = steps(&mut c, &["clients", "workflow"], &raw.workflow, 0);
    if populations.iter().any(|p| p.workflow.is_none()) {
        check_program(&mut c, &["clients", "workflow"], &workflow);
    }
    let think = match &raw.think {
        Some(d) => c.dist(&["clients", "think"], d),
        None => Dist::constant(0),
    };
    if raw.think.is_some() && populations.iter().all(|p| p.arrivals.is_some()) {
        let msg =
            "every population arrives at a rate (`arrivals`), so no client ever thinks".to_string();
        c.error(&["clients", "think"], msg, Some("leave `think` out".into()));
    }
    let remembers = |spec: &StoreSpec| spec.idempotency_retention.is_some();
    let mut stores = model.components.iter().filter_map(|c| c.spec::<StoreSpec>());
    if !raw.idempotency_key && stores.any(remembers) {
        let msg = "a store sets `idempotency_retention`, but clients send no idempotency key: \
                   it would have no effect"
            .to_string();
        let hint = "add `idempotency_key: true` to `clients`, or remove `idempotency_retention`";
        c.error(&["clients"], msg, Some(hint.into()));
    }
    let timeout = raw.timeout.map(|d| d.0);
    if timeout == Some(SimDuration::ZERO) {
        c.error(&["clients", "timeout"], "`timeout` must be above 0".into(), None);
    }
    if timeout.is_none() && model.links.iter().any(|l| l.loss > 0.0) {
        let msg = "links lose messages but clients have no `timeout`: requests would hang".into();
        c.error(&["clients"], msg, Some(r#"add `timeout: "1s"` to `clients`"#.into()));
    }
    let key = match raw.key {
        RawKey::Own => KeyChoice::Own,
        RawKey::Shared => {
            hash_needs_keys(&mut c, model);
            KeyChoice::Shared
        }
        RawKey::Tabs(n) | RawKey::Editors(n) => {
            if n == 0 || n > largest.max(1) {
                let what = if matches!(raw.key, RawKey::Tabs(_)) { "tabs" } else { "editors" };
                let msg = format!(
                    "`{what}` must be between 1 and the client count (of the largest population), \
                     found {n}"
                );
                c.error(&["clients", "key"], msg, None);
            }
            KeyChoice::Tabs(n.max(1))
        }
    };
    let retry = raw.retry.as_ref().map(|r| {
        if r.attempts == 0 || r.attempts > ATTEMPTS_MAX {
            let msg =
                format!("`attempts` must be between 1 and {ATTEMPTS_MAX}, found {}", r.attempts);
            c.error(&["clients", "retry", "attempts"], msg, None);
        }
        retry_spec(&mut c, r)
    });
    let clock = match &raw.clock {
        None => ClockSpec::default(),
        Some(k) => {
            if !k.drift_ppm.is_finite() || !(0.0..=1e6).contains(&k.drift_ppm) {
                let msg =
                    format!("`drift_ppm` must be between 0 and 1000000, found {}", k.drift_ppm);
                c.error(&["clients", "clock", "drift_ppm"], msg, None);
            }
            ClockSpec { skew: k.skew.map_or(SimDuration::ZERO, |d| d.0), drift_ppm: k.drift_ppm }
        }
    };
    let spec = ClientsSpec {
        count,
        key,
        think,
        timeout,
        workflow,
        retry,
        breaker: raw.breaker.as_ref().map(|b| breaker(&mut c, b)),
        hedge: raw.hedge.map(|d| hedge(&mut c, d.0, timeout)),
        deadlines: deadlines(&mut c, raw.deadlines, timeout, model),
        idempotency_key: raw.idempotency_key,
        session_tokens: raw.session_tokens,
        clock,
        orgs: raw.orgs.as_ref().map(|o| orgs(&mut c, o)),
        auth: raw.auth.map(|a| auth(&mut c, &a, model)),
        populations,
    };
    for p in &spec.populations {
        let (Some(entry), workflow) = (p.entry.as_deref(), spec.workflow_of(p)) else { continue };
        let at: Vec<&str> = match &p.workflow {
            Some(_) => vec!["clients", "populations", &p.name, "workflow"],
            None => vec!["clients", "workflow"],
        };
        check_handled_steps(&mut c, &at, workflow, (model, entry));
        check_answered_steps(&mut c, &at, workflow, (model, entry));
        check_title_jobs(&mut c, &at, workflow, (model, entry));
        // A population whose entry sits in another region takes the regions' latency
        // even over links that take none.
        let there = model.regions.of(entry);
        let crosses = model.regions.extra(p.region, there).is_some_and(|d| !d.is_zero());
        check_round_takes_time(&mut c, &spec, (workflow, crosses), model);
    }
    check_store_size(&mut c, &spec, model);
    check_hedge_has_reads(&mut c, &spec);
    if c.errors.is_empty() { Ok(spec) } else { Err(c.errors) }
}

/// Refuses `hedge` when no workflow reads: it resends only reads, so it would do
/// nothing.
fn check_hedge_has_reads(c: &mut Checker<'_>, spec: &ClientsSpec) {
    fn reads(steps: &[Step]) -> bool {
        steps.iter().any(|s| match s {
            Step::Read | Step::Refresh | Step::ResubmitIfMissing | Step::Recover => true,
            Step::OpenTab => true,
            Step::Repeat(_, body) | Step::Maybe(_, body) => reads(body),
            _ => false,
        })
    }
    let any_read =
        reads(&spec.workflow) || spec.populations.iter().any(|p| reads(spec.workflow_of(p)));
    if spec.hedge.is_some() && !any_read {
        let msg = "`hedge` resends reads, and no workflow reads: it would do nothing".to_string();
        let hint = Some("remove `hedge`, or add a `read` step to the workflow".to_string());
        c.error(&["clients", "hedge"], msg, hint);
    }
}

/// Refuses a workflow that unrolls past `PROGRAM_MAX` or has nothing to send.
pub(super) fn check_program(c: &mut Checker<'_>, at: &[&str], workflow: &[Step]) {
    let size = program_size(workflow);
    if size > PROGRAM_MAX {
        let msg = format!("the workflow unrolls to {size} steps; the limit is {PROGRAM_MAX}");
        c.error(at, msg, Some("use fewer or smaller `repeat`s".into()));
    }
    if !has_operation(workflow) {
        let msg = "the workflow needs at least one `write` or `read`".to_string();
        let hint = "e.g. workflow: [write, sleep(exp(\"1s\")), read]";
        c.error(at, msg, Some(hint.into()));
    }
}

/// Refuses a workload whose key tables would not fit in memory.
fn check_store_size(c: &mut Checker<'_>, spec: &ClientsSpec, model: &Model) {
    let copies: u64 = model
        .components
        .iter()
        .map(|s| match (s.spec::<StoreSpec>(), s.spec::<MultiLeaderStoreSpec>()) {
            (Some(store), _) => u64::from(store.replicas) + 1,
            (_, Some(leaders)) => leaders.leaders.len() as u64,
            _ => 0,
        })
        .sum();
    let cells = u64::from(spec.key_count()) * copies;
    if cells > STORE_CELLS_MAX {
        let msg = format!(
            "{} keys on {copies} store copies need {cells} versions; the limit is {STORE_CELLS_MAX}",
            spec.key_count()
        );
        c.error(&["clients", "count"], msg, Some("use fewer clients, or `key: shared`".into()));
    }
}

/// Refuses a workflow round that could take no simulated time at all: the run would
/// loop forever at one instant.
fn check_round_takes_time(
    c: &mut Checker<'_>,
    spec: &ClientsSpec,
    (workflow, crosses): (&[Step], bool),
    model: &Model,
) {
    let sleeps_zero = all_sleeps_zero(workflow);
    let links_zero = model.links.iter().all(|l| l.latency.is_zero()) && !crosses;
    // An open population's rounds start at arrivals, which advance the run themselves.
    let closed = spec.populations.iter().any(|p| p.arrivals.is_none());
    if closed && spec.think.is_zero() && sleeps_zero && links_zero {
        let msg = "every link, sleep and think time is zero: a workflow round takes no \
                   simulated time and the run would never advance"
            .to_string();
        c.error(&["clients"], msg, Some(r#"add `think: exp("500ms")` to `clients`"#.into()));
    }
}

/// Most instructions a workflow may unroll to.
pub const PROGRAM_MAX: usize = 100_000;
/// Most tries a retry policy may make.
pub const ATTEMPTS_MAX: u32 = 100;
/// Deepest nesting of `repeat` and `maybe`.
pub const NESTING_MAX: usize = 8;

/// Converts workflow steps at `path`, checking each.
pub(super) fn steps(
    c: &mut Checker<'_>,
    path: &[&str],
    raw: &[RawStep],
    depth: usize,
) -> Vec<Step> {
    if depth > NESTING_MAX {
        c.error(path, format!("steps nest deeper than {NESTING_MAX} levels"), None);
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, s) in raw.iter().enumerate() {
        let index = i.to_string();
        let at: Vec<&str> = path.iter().copied().chain([index.as_str()]).collect();
        out.push(match s {
            RawStep::Write => Step::Write,
            RawStep::Read => Step::Read,
            RawStep::Refresh => Step::Refresh,
            RawStep::List => Step::List,
            RawStep::ResubmitIfMissing => Step::ResubmitIfMissing,
            RawStep::OpenTab => Step::OpenTab,
            RawStep::Create => Step::Create,
            RawStep::Complete => Step::Complete,
            RawStep::Submit => Step::Submit,
            RawStep::Recover => Step::Recover,
            RawStep::Title => Step::Title,
            RawStep::Edit => Step::Edit,
            RawStep::Sleep(d) => {
                let inner: Vec<&str> = at.iter().copied().chain(["0"]).collect();
                Step::Sleep(c.dist(&inner, d))
            }
            RawStep::Repeat(n, body) => {
                let inner: Vec<&str> = at.iter().copied().chain(["1"]).collect();
                Step::Repeat(*n, steps(c, &inner, body, depth + 1))
            }
            RawStep::Maybe(p, body) => {
                let first: Vec<&str> = at.iter().copied().chain(["0"]).collect();
                c.probability(&first, "`maybe`'s probability", *p);
                let inner: Vec<&str> = at.iter().copied().chain(["1"]).collect();
                Step::Maybe(*p, steps(c, &inner, body, depth + 1))
            }
        });
    }
    out
}

/// Instructions the workflow unrolls to (saturating).
fn program_size(steps: &[Step]) -> usize {
    steps.iter().fold(0usize, |n, s| {
        n.saturating_add(match s {
            Step::Repeat(k, body) => (*k as usize).saturating_mul(program_size(body)),
            Step::Maybe(_, body) => 1usize.saturating_add(program_size(body)),
            _ => 1,
        })
    })
}

/// Whether some step always or sometimes sends an operation.
fn has_operation(steps: &[Step]) -> bool {
    steps.iter().any(|s| match s {
        Step::Write
        | Step::Read
        | Step::Refresh
        | Step::List
        | Step::Complete
        | Step::Submit
        | Step::Title
        | Step::Edit => true,
        Step::Repeat(n, body) => *n > 0 && has_operation(body),
        Step::Maybe(p, body) => *p > 0.0 && has_operation(body),
        Step::Sleep(_) | Step::ResubmitIfMissing | Step::OpenTab | Step::Create | Step::Recover => {
            false
        }
    })
}

fn all_sleeps_zero(steps: &[Step]) -> bool {
    steps.iter().all(|s| match s {
        Step::Sleep(d) => d.is_zero(),
        Step::Repeat(_, body) | Step::Maybe(_, body) => all_sleeps_zero(body),
        _ => true,
    })
}

/// Most seeds a scenario may judge its expectations over.
pub const SEEDS_MAX: u64 = 10_000;

/// Validates scenario-level settings that do not depend on the model: its duration
/// and seeds.
pub fn scenario_settings(raw: &RawScenario, at: Locator<'_>) -> Vec<Diagnostic> {
    let mut c = Checker { at, errors: Vec::new() };
    if raw.duration.0 == SimDuration::ZERO {
        c.error(&["duration"], "`duration` must be above 0".into(), Some("e.g. \"10m\"".into()));
    }
    if let Some(seeds) = raw.seeds.filter(|n| !(1..=SEEDS_MAX).contains(n)) {
        let msg = format!("`seeds` must be from 1 to {SEEDS_MAX}, not {seeds}");
        c.error(
            &["seeds"],
            msg,
            Some("e.g. `seeds: 20` judges seeds `seed` to `seed + 19`".into()),
        );
    }
    c.errors
}

/// A retry policy: a growing backoff needs a cap at or above its base, and a budget
/// sound sizes.
fn retry_spec(c: &mut Checker<'_>, r: &RawRetry) -> RetrySpec {
    let path = |f: &'static str| ["clients", "retry", f];
    let backoff = c.dist(&path("backoff"), &r.backoff);
    let multiplier = r.multiplier.unwrap_or(1.0);
    if !multiplier.is_finite() || !(1.0..=100.0).contains(&multiplier) {
        let msg = format!("`multiplier` must be between 1 and 100, found {multiplier}");
        c.error(&path("multiplier"), msg, Some("e.g. multiplier: 2.0".into()));
    }
    if let Some(cap) = r.cap {
        let base = backoff.mean_ns();
        if r.multiplier.is_none_or(|m| m == 1.0) {
            let msg = "`cap` limits a growing backoff, and this one does not grow".to_string();
            c.error(&path("cap"), msg, Some("add `multiplier: 2.0`, or leave `cap` out".into()));
        } else if (cap.0.as_nanos() as f64) < base {
            let msg = format!(
                "`cap` ({}) is below the backoff's base ({})",
                crate::engine::time::format_nanos(cap.0.as_nanos()),
                crate::engine::time::format_nanos(base as u64)
            );
            c.error(&path("cap"), msg, Some("a cap at or above the first wait".into()));
        }
    }
    let budget = r.budget.as_ref().map(|b| {
        let fine = |x: f64, lo: f64| x.is_finite() && x >= lo && x <= 1e6;
        if !fine(b.tokens, 1.0) {
            let msg = format!("`tokens` must be between 1 and 1000000, found {}", b.tokens);
            c.error(&["clients", "retry", "budget", "tokens"], msg, Some("e.g. tokens: 10".into()));
        }
        if !fine(b.per_success, 0.0) || b.per_success == 0.0 {
            let msg = format!("`per_success` must be above 0, found {}", b.per_success);
            let hint = Some("e.g. per_success: 0.1".into());
            c.error(&["clients", "retry", "budget", "per_success"], msg, hint);
        }
        RetryBudget { tokens: b.tokens, per_success: b.per_success }
    });
    if r.attempts == 1 && (r.multiplier.is_some() || budget.is_some()) {
        let msg = "one attempt never retries, so its backoff and budget do nothing".to_string();
        c.error(&path("attempts"), msg, Some("attempts: 2 or more".into()));
    }
    let jitter = match r.jitter {
        RawJitter::None => Jitter::None,
        RawJitter::Full => Jitter::Full,
        RawJitter::Equal => Jitter::Equal,
    };
    RetrySpec { attempts: r.attempts, backoff, multiplier, cap: r.cap.map(|d| d.0), jitter, budget }
}

/// Refuses `policy: hash_key` when every client shares one key: the hash would send
/// everything to one downstream, the same one every run, which is no routing.
fn hash_needs_keys(c: &mut Checker<'_>, model: &Model) {
    use crate::components::load_balancer::{LoadBalancerPolicy, LoadBalancerSpec};
    for spec in &model.components {
        let hashed = spec
            .spec::<LoadBalancerSpec>()
            .is_some_and(|lb| lb.policy == LoadBalancerPolicy::HashKey);
        if hashed {
            let msg = format!(
                "`{}` routes by `hash_key`, but with `key: shared` every request carries the \
                 same key, so all of them would go to one downstream",
                spec.name
            );
            let hint = Some("`key: own` (a key per client), or another `policy`".into());
            c.error(&["clients", "key"], msg, hint);
        }
    }
}

/// A circuit breaker: a threshold in (0, 1], a window of 1 to 32 tries, an open span.
fn breaker(c: &mut Checker<'_>, b: &RawBreaker) -> BreakerSpec {
    let path = |f: &'static str| ["clients", "breaker", f];
    if !b.threshold.is_finite() || b.threshold <= 0.0 || b.threshold > 1.0 {
        let msg =
            format!("`threshold` is a share of failed tries in (0, 1], found {}", b.threshold);
        c.error(&path("threshold"), msg, Some("e.g. threshold: 0.5".into()));
    }
    if !(1..=32).contains(&b.window) {
        let msg = format!("`window` must be between 1 and 32 tries, found {}", b.window);
        c.error(&path("window"), msg, Some("e.g. window: 10".into()));
    }
    if b.open_for.0 == SimDuration::ZERO {
        let msg = "`open_for` must be above 0: a breaker open for no time never opens".into();
        c.error(&path("open_for"), msg, Some(r#"e.g. open_for: "5s""#.into()));
    }
    BreakerSpec { threshold: b.threshold, window: b.window, open_for: b.open_for.0 }
}

/// A hedging delay: above 0, and below the timeout when there is one (a hedge sent as
/// the client gives up would never be waited for).
fn hedge(c: &mut Checker<'_>, after: SimDuration, timeout: Option<SimDuration>) -> SimDuration {
    if after == SimDuration::ZERO || timeout.is_some_and(|t| after >= t) {
        let msg = "`hedge` must be above 0 and below the clients' `timeout`".to_string();
        c.error(&["clients", "hedge"], msg, Some(r#"e.g. hedge: "50ms""#.into()));
    }
    after
}

/// Deadlines need a timeout to carry, and a service to honour them.
fn deadlines(c: &mut Checker<'_>, on: bool, timeout: Option<SimDuration>, model: &Model) -> bool {
    if !on {
        return false;
    }
    if timeout.is_none() {
        let msg = "`deadlines` carry the clients' `timeout`, and they have none".to_string();
        c.error(&["clients", "deadlines"], msg, Some(r#"add `timeout: "1s"`"#.into()));
    }
    let honoured = model.components.iter().any(|s| s.spec::<ServiceSpec>().is_some());
    if !honoured {
        let msg = "no component of the model honours deadlines: only a `Service` drops work \
                   whose client stopped waiting"
            .to_string();
        c.error(&["clients", "deadlines"], msg, Some("leave `deadlines` out".into()));
    }
    true
}
