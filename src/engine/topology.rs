//! The topology: component instances as graph nodes, links as edges.
//!
//! A link is a connection between two instances, used both ways: requests travel from
//! the initiator (`from`) to the acceptor (`to`) and replies travel back. Each link has a
//! latency distribution, a loss probability and a partition flag that faults flip.
//! Components keep the `LinkId`s they use, resolved once when the world is built, so the
//! hot path never searches the graph.

use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};

use super::dist::Dist;
use super::sim::ComponentId;

/// Index of a link in the topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub u32);

/// A connection between two component instances.
#[derive(Debug, Clone)]
pub struct Link {
    /// One-way latency, drawn per message.
    pub latency: Dist,
    /// Probability that a message on this link is dropped.
    pub loss: f64,
    /// While true, every message on this link is dropped.
    pub partitioned: bool,
}

/// The graph of component instances and their links.
#[derive(Debug, Default, Clone)]
pub struct Topology {
    graph: DiGraph<(), Link, u32>,
    /// Every node's name, one after another (a million clients' names in 14 MB, not
    /// a million strings); node `i`'s ends at `name_ends[i]`.
    names: String,
    name_ends: Vec<u32>,
}

impl Topology {
    /// Adds an instance; instances must be added in component-id order.
    pub fn add_node(&mut self, name: &str) -> ComponentId {
        self.names.push_str(name);
        let end = u32::try_from(self.names.len()).expect("instance names fit in 4 GB");
        self.name_ends.push(end);
        let index = self.graph.add_node(());
        ComponentId(index.index() as u32)
    }

    /// Connects `from` (the initiator) to `to` (the acceptor).
    pub fn connect(&mut self, from: ComponentId, to: ComponentId, link: Link) -> LinkId {
        assert!((from.0 as usize) < self.graph.node_count(), "unknown link source");
        assert!((to.0 as usize) < self.graph.node_count(), "unknown link target");
        let e = self.graph.add_edge(NodeIndex::new(from.0 as usize), node(to), link);
        LinkId(e.index() as u32)
    }

    /// The link with this id.
    #[inline]
    pub fn link(&self, id: LinkId) -> &Link {
        &self.graph[EdgeIndex::new(id.0 as usize)]
    }

    /// The link with this id, for faults that change it.
    pub fn link_mut(&mut self, id: LinkId) -> &mut Link {
        &mut self.graph[EdgeIndex::new(id.0 as usize)]
    }

    /// The two ends of a link, initiator first.
    pub fn ends(&self, id: LinkId) -> (ComponentId, ComponentId) {
        let (a, b) = self
            .graph
            .edge_endpoints(EdgeIndex::new(id.0 as usize))
            .expect("link ids come from this topology");
        (ComponentId(a.index() as u32), ComponentId(b.index() as u32))
    }

    /// The name of an instance.
    pub fn name(&self, id: ComponentId) -> &str {
        let i = id.index();
        let start = if i == 0 { 0 } else { self.name_ends[i - 1] as usize };
        &self.names[start..self.name_ends[i] as usize]
    }

    /// Number of instances.
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// Number of links.
    pub fn link_count(&self) -> usize {
        self.graph.edge_count()
    }
}

fn node(id: ComponentId) -> NodeIndex<u32> {
    NodeIndex::new(id.0 as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_to_their_ends() {
        let mut t = Topology::default();
        let a = t.add_node("a");
        let b = t.add_node("b");
        let link = Link { latency: Dist::constant(5), loss: 0.0, partitioned: false };
        let l = t.connect(a, b, link);
        assert_eq!(t.ends(l), (a, b));
        assert_eq!(t.name(b), "b");
        t.link_mut(l).partitioned = true;
        assert!(t.link(l).partitioned);
        assert_eq!((t.node_count(), t.link_count()), (2, 1));
    }
}
