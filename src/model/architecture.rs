//! An architecture: named components and the links between them.

use std::any::Any;
use std::sync::Arc;

use super::contract::{Contract, KindSpec};
use super::regions::Regions;

use crate::engine::Dist;

/// The name links use for the client population.
pub const CLIENTS: &str = "client";

/// A validated architecture.
#[derive(Debug, Clone)]
pub struct Model {
    /// Human name of the architecture.
    pub name: String,
    /// Components in name order.
    pub components: Vec<ComponentSpec>,
    /// Links in file order.
    pub links: Vec<LinkSpec>,
    /// Named regions, the latency between them and where components sit.
    pub regions: Regions,
}

/// One named component of the architecture.
#[derive(Debug, Clone)]
pub struct ComponentSpec {
    /// The name links and override paths use.
    pub name: String,
    /// Its kind's validated spec.
    pub kind: Arc<dyn KindSpec>,
}

impl ComponentSpec {
    /// A component called `name` of the kind whose spec is `spec`.
    pub fn new(name: &str, spec: impl KindSpec) -> ComponentSpec {
        ComponentSpec { name: name.to_string(), kind: Arc::new(spec) }
    }

    /// Its spec, when it is of the kind whose spec type is `T`.
    pub fn spec<T: KindSpec>(&self) -> Option<&T> {
        let any: &dyn Any = self.kind.as_ref();
        any.downcast_ref()
    }

    /// What it declares to the rest of the crate.
    pub fn contract(&self) -> Contract {
        self.kind.contract()
    }
}

/// How much work a server does at once, and how long each piece takes.
#[derive(Debug, Clone)]
pub struct CapacitySpec {
    /// Requests served at once.
    pub workers: u32,
    /// Time to serve one request.
    pub service: Dist,
    /// Most requests waiting; more are turned away. `None`: no limit.
    pub queue: Option<u32>,
}

/// Where a link starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// Every client instance (one link per client).
    Clients,
    /// A named component.
    Component(String),
}

/// A link between two components, used for requests from `from` to `to` and replies back.
#[derive(Debug, Clone)]
pub struct LinkSpec {
    /// The initiator.
    pub from: Endpoint,
    /// The acceptor: a component name.
    pub to: String,
    /// One-way latency.
    pub latency: Dist,
    /// Probability that one message is lost.
    pub loss: f64,
}

impl Model {
    /// The component with this name.
    pub fn component(&self, name: &str) -> Option<&ComponentSpec> {
        self.components.iter().find(|c| c.name == name)
    }
}
