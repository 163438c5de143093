//! The table of component kinds, and the loops over it.
//!
//! Each kind's file declares its `contract` (instances, what it serves, the roles of the
//! links it initiates, the faults it takes) and how an instance is `build`t from its
//! spec and the links of each role. `contract` and `build` below are the one place that
//! maps a model entry to its kind's file; link checks, wiring and fault targets are
//! generic loops over contracts.

use super::registry::Registry;
use super::world::BuiltIn;
use super::{
    app_server, async_jobs, cdn, load_balancer, pubsub, sentinel, session_cache, store,
    stream_server,
};
use crate::engine::LinkId;
use crate::model::architecture::CLIENTS;
use crate::model::contract::{Contract, FaultKind, Role, Serves, Target};
use crate::model::{ComponentKind, ComponentSpec, CustomSpec, Endpoint, Model, Scenario};

/// What a model entry declares, by its kind's file.
pub fn contract(spec: &ComponentSpec) -> Contract {
    match &spec.kind {
        ComponentKind::LoadBalancer(s) => load_balancer::contract(s),
        ComponentKind::Store(s) => store::contract(s),
        ComponentKind::Sentinel(s) => sentinel::contract(s),
        ComponentKind::StreamServer(s) => stream_server::contract(s),
        ComponentKind::AsyncJobs(s) => async_jobs::contract(s),
        ComponentKind::AppServer(s) => app_server::contract(s),
        ComponentKind::PubSub(s) => pubsub::contract(s),
        ComponentKind::SessionCache(s) => session_cache::contract(s),
        ComponentKind::Cdn(s) => cdn::contract(s),
        ComponentKind::Custom(s) => custom_contract(s),
    }
}

/// Builds one instance of a model entry, by its kind's file.
pub fn build(spec: &ComponentSpec, ctx: &BuildContext<'_>) -> Result<BuiltIn, String> {
    match &spec.kind {
        ComponentKind::LoadBalancer(s) => load_balancer::build(s, ctx),
        ComponentKind::Store(s) => store::build(s, ctx),
        ComponentKind::Sentinel(s) => sentinel::build(s, ctx),
        ComponentKind::StreamServer(s) => stream_server::build(s, ctx),
        ComponentKind::AsyncJobs(s) => async_jobs::build(s, ctx),
        ComponentKind::AppServer(s) => app_server::build(s, ctx),
        ComponentKind::PubSub(s) => pubsub::build(s, ctx),
        ComponentKind::SessionCache(s) => session_cache::build(s, ctx),
        ComponentKind::Cdn(s) => cdn::build(s, ctx),
        ComponentKind::Custom(s) => custom_build(s, ctx),
    }
}

/// A registered kind: it may link to anything, serves reads and writes, and takes
/// crashes (its `on_message` sees `Fault::Crash` and `Fault::Restart`).
fn custom_contract(_spec: &CustomSpec) -> Contract {
    let mut c = Contract::new("custom component", Serves::Data);
    c.roles.push(Role::new("any", Target::Any, 0, u32::MAX).wanting("any links", "db"));
    c.faults.push(FaultKind::Crash);
    c
}

fn custom_build(spec: &CustomSpec, ctx: &BuildContext<'_>) -> Result<BuiltIn, String> {
    let factory = ctx
        .registry
        .get(&spec.kind)
        .ok_or_else(|| format!("no custom component kind `{}`", spec.kind))?;
    let wiring = super::Wiring {
        name: ctx.name.to_string(),
        outgoing: ctx.links("any").to_vec(),
        seed: ctx.scenario.seed,
    };
    Ok(BuiltIn::Custom(factory(spec, &wiring)?))
}

/// What a kind's `build` gets besides its spec.
pub struct BuildContext<'a> {
    /// The whole scenario (keys, organisations, the clients' auth, the seed).
    pub scenario: &'a Scenario,
    /// User kinds.
    pub registry: &'a Registry,
    /// The model entry's name.
    pub name: &'a str,
    /// The entry's contract.
    pub contract: &'a Contract,
    /// This instance's links, by role of the contract, each in model order.
    pub roles: Vec<Vec<LinkId>>,
    /// Links into this instance, with the role each fills at its sender (`None` for a
    /// client's).
    pub incoming: Vec<(LinkId, Option<&'static str>)>,
}

impl BuildContext<'_> {
    /// The links of the role called `role` (none when the contract has no such role).
    pub fn links(&self, role: &str) -> &[LinkId] {
        self.contract.role_named(role).map_or(&[], |i| &self.roles[i])
    }

    /// The one link of `role`, when it has one.
    pub fn link(&self, role: &str) -> Option<LinkId> {
        self.links(role).first().copied()
    }
}

/// Where a problem with the links lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkPlace {
    /// A model entry, by name.
    Component(String),
    /// A link, by its index in the model.
    Link(usize),
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
    problems.extend(gate_problems(model, &contracts));
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
