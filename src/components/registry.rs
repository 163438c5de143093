//! The registry of user-defined component kinds.
//!
//! A library user implements `Component`, writes a factory, and registers it under a kind
//! name; a model then declares `"name": Custom(kind: "that_kind", params: {...})`.

use std::collections::BTreeMap;

use super::Component;
use crate::engine::LinkId;
use crate::model::CustomSpec;

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
