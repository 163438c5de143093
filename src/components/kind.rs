//! The seam a component kind plugs into: `KindFile` (its file shape, validated into its
//! spec and built into its actor) and `BuildContext` (what a build gets besides its
//! spec: the scenario, its links by role, the links into it). Kinds' files depend on
//! this file; the table in `kinds.rs` depends on them.

use std::sync::Arc;

use super::registry::Registry;
use crate::check::Purpose;
use crate::engine::LinkId;
use crate::model::Scenario;
use crate::model::architecture::{Endpoint, LinkSpec};
use crate::model::contract::{Contract, KindSpec};
use crate::model::shape::Problems;

/// A kind's file shape: what a model file says of one entry of the kind. Its file
/// declares it; the table in `kinds.rs` lists it once.
pub trait KindFile {
    /// The validated spec it becomes.
    type Spec: KindSpec;
    /// Checks what the entry means, reporting problems at paths under the entry.
    fn validate(&self, problems: &mut Problems) -> Self::Spec;
    /// What an instance is: the actor the hot loop dispatches to.
    type Actor;
    /// Builds one instance of an entry of this kind.
    fn build(spec: &Self::Spec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String>;
    /// The requests this kind answers or shapes itself, which therefore must reach one
    /// of its instances before any store. Most kinds handle none.
    const HANDLES: Handling = Handling::NONE;
}

/// Requests a kind handles itself: a workflow step that sends them needs an instance of
/// the kind between the clients and every store.
#[derive(Debug, Clone, Copy)]
pub struct Handling {
    /// The purposes of those requests.
    pub purposes: &'static [Purpose],
    /// Why they need the kind, for messages: "it holds the WebSocket".
    pub why: &'static str,
    /// A model entry declaring one, for hints.
    pub example: &'static str,
}

impl Handling {
    /// Handles nothing: every request passes on.
    pub const NONE: Handling = Handling { purposes: &[], why: "", example: "" };
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
    /// The region of every component instance, by id (`None`: placed nowhere, or in
    /// regions of its own).
    pub instance_regions: &'a Arc<[Option<usize>]>,
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

    /// The spec of the first component this entry links to whose kind's spec is `T`
    /// (a producer reads its log's partitions).
    pub fn linked_spec<T: KindSpec>(&self) -> Option<&T> {
        self.linked::<T>().map(|(_, spec)| spec)
    }

    /// The name and spec of the first component this entry links to whose kind's spec
    /// is `T`.
    pub fn linked<T: KindSpec>(&self) -> Option<(&str, &T)> {
        let model = &self.scenario.model;
        let from_here = |l: &&LinkSpec| l.from == Endpoint::Component(self.name.to_string());
        let far = model.links.iter().filter(from_here).filter_map(|l| model.component(&l.to));
        far.filter_map(|c| c.spec::<T>().map(|s| (c.name.as_str(), s))).next()
    }

    /// Whether some component whose kind's spec is `T` links to component `to`.
    pub fn linked_from<T: KindSpec>(&self, to: &str) -> bool {
        let model = &self.scenario.model;
        let senders = model.links.iter().filter(|l| l.to == to).filter_map(|l| match &l.from {
            Endpoint::Component(from) => model.component(from),
            Endpoint::Clients => None,
        });
        senders.into_iter().any(|c| c.spec::<T>().is_some())
    }
}
