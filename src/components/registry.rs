//! The registry of user-defined component kinds.
//!
//! A library user implements `Component`, writes a factory, and registers it under a kind
//! name; a model then declares `"name": Custom(kind: "that_kind", params: {...})`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Component;
use super::kind::{BuildContext, KindFile};
use crate::engine::LinkId;
use crate::model::contract::{Contract, FaultKind, KindSpec, Role, Serves, Target};
use crate::model::shape::Problems;

/// How a custom component is wired into the world when it is built.
#[derive(Debug, Clone)]
pub struct Wiring {
    /// The component's name in the model.
    pub name: String,
    /// Links on which this component is the initiator, in model order.
    pub outgoing: Vec<LinkId>,
    /// The scenario seed (for streams of the component's own).
    pub seed: u64,
}

/// Builds a custom component from its model entry, or says why it cannot.
pub type Factory = fn(&CustomSpec, &Wiring) -> Result<Box<dyn Component>, String>;

/// Custom component kinds by name.
#[derive(Default, Clone)]
pub struct Registry {
    factories: BTreeMap<String, Factory>,
}

impl Registry {
    /// An empty registry: only built-in components are available.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers `factory` under `kind`, replacing any earlier one.
    pub fn register(&mut self, kind: &str, factory: Factory) -> &mut Self {
        self.factories.insert(kind.to_string(), factory);
        self
    }

    /// The factory for `kind`.
    pub fn get(&self, kind: &str) -> Option<Factory> {
        self.factories.get(kind).copied()
    }

    /// Registered kind names, sorted.
    pub fn kinds(&self) -> Vec<&str> {
        self.factories.keys().map(String::as_str).collect()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.factories.keys()).finish()
    }
}

// The kind: its file shape, validation, contract and build.

/// A user-defined component.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "Custom")]
pub struct RawCustom {
    /// The registered kind.
    pub kind: String,
    /// Free-form parameters.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

/// A user-provided component: its registered kind and free-form parameters.
#[derive(Debug, Clone)]
pub struct CustomSpec {
    /// The kind name it was registered under.
    pub kind: String,
    /// Parameters, as written.
    pub params: BTreeMap<String, String>,
}

impl KindFile for RawCustom {
    type Spec = CustomSpec;
    type Actor = Box<dyn Component>;

    fn validate(&self, _: &mut Problems) -> CustomSpec {
        CustomSpec { kind: self.kind.clone(), params: self.params.clone() }
    }

    fn build(spec: &CustomSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        custom_build(spec, ctx)
    }
}

/// A registered kind: it may link to anything, serves reads and writes, and takes
/// crashes (its `on_message` sees `Fault::Crash` and `Fault::Restart`).
impl KindSpec for CustomSpec {
    fn contract(&self) -> Contract {
        custom_contract()
    }
}

fn custom_contract() -> Contract {
    let mut c = Contract::new("custom component", Serves::Data);
    c.roles.push(Role::new("any", Target::Any, 0, u32::MAX).wanting("any links", "db"));
    c.faults.push(FaultKind::Crash);
    c
}

fn custom_build(spec: &CustomSpec, ctx: &BuildContext<'_>) -> Result<Box<dyn Component>, String> {
    let factory = ctx
        .registry
        .get(&spec.kind)
        .ok_or_else(|| format!("no custom component kind `{}`", spec.kind))?;
    let wiring = Wiring {
        name: ctx.name.to_string(),
        outgoing: ctx.links("any").to_vec(),
        seed: ctx.scenario.seed,
    };
    factory(spec, &wiring)
}
