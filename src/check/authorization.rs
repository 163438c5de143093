//! **Authorization**: no answer reaches a user who may not see it. Three kinds of
//! answer are violations:
//! - a read answered with a version of another organisation's document (a shared
//!   cache serving one tenant's response to the next caller);
//! - an answer to a user more than the bound (`revocation_bound`, 0 by default) after
//!   the user's access was revoked (a token that stays valid until it expires);
//! - any answer to an attacker using a stolen token.

use std::collections::BTreeMap;

use super::checks::{Check, End, SessionState};
use super::history::{OpKind, OpRecord, Outcome};
use super::purpose::Actor;
use super::story;
use super::verdict::{CheckReport, StoryLine, duration};
use crate::engine::{SimDuration, SimTime};

use super::versions::{VersionDag, VersionId};

/// The authorization checker.
#[derive(Debug, Default)]
pub struct Authorization {
    key_orgs: Vec<u32>,
    bound: SimDuration,
    /// When each revoked client lost its access, and the event that revoked it.
    revoked: BTreeMap<u32, (SimTime, u64)>,
    checked: u64,
    cross_tenant: u64,
    cross_witness: Option<OpRecord>,
    /// Answers to revoked users (within the bound or not), and those past the bound.
    after_revocation: u64,
    past_bound: u64,
    /// The answer served longest after its user's revocation.
    revoked_witness: Option<OpRecord>,
    longest_after: SimDuration,
    stolen: u64,
    stolen_witness: Option<OpRecord>,
    /// The oldest stolen token an answer was given on, by age at use.
    stolen_oldest: SimDuration,
}

impl Authorization {
    /// A checker that accepts answers to a revoked user for `bound` after revocation.
    pub fn new(bound: Option<SimDuration>) -> Authorization {
        Authorization { bound: bound.unwrap_or(SimDuration::ZERO), ..Authorization::default() }
    }

    fn org(&self, key: u32) -> u32 {
        self.key_orgs.get(key as usize).copied().unwrap_or(0)
    }

    fn check_tenant(&mut self, op: &OpRecord, dag: &VersionDag) {
        if self.key_orgs.is_empty() || op.kind() != OpKind::Read || op.version == VersionId::ROOT {
            return;
        }
        let owner = dag.get(op.version).key;
        if self.org(owner) != self.org(op.key()) {
            self.cross_tenant += 1;
            self.cross_witness.get_or_insert(*op);
        }
    }

    fn check_revoked(&mut self, op: &OpRecord) {
        let Some(&(at, _)) = self.revoked.get(&op.client()) else { return };
        if op.inv.invoked < at {
            return;
        }
        self.after_revocation += 1;
        let after = op.inv.invoked.since(at);
        let longest = after > self.longest_after;
        self.longest_after = self.longest_after.max(after);
        if after > self.bound {
            self.past_bound += 1;
            if longest || self.revoked_witness.is_none() {
                self.revoked_witness = Some(*op);
            }
        }
    }

    fn cross_tenant_story(&self, op: &OpRecord, end: &End<'_>) -> Vec<StoryLine> {
        let owner = end.dag.get(op.version).key;
        let note = format!(
            ", a version of key {owner} of organisation {}, while it belongs to organisation {}",
            self.org(owner),
            self.org(op.key())
        );
        vec![story::created(end.dag, op.version, end.names), story::read(op, end.names, &note)]
    }

    fn revoked_story(&self, op: &OpRecord, end: &End<'_>) -> Vec<StoryLine> {
        let client = end.names.client(op.client());
        let (at, event) = self.revoked[&op.client()];
        let revoked = format!(
            "{client}'s access is revoked; the token it holds was issued at {}",
            super::verdict::seconds(op.inv.token.as_nanos())
        );
        let answered = format!(
            "{client} {} key {} on that token and is answered ({}), {} after the revocation",
            op.inv.purpose.verb(),
            op.key(),
            op.version,
            duration(op.inv.invoked.since(at).as_nanos())
        );
        vec![
            StoryLine::at(at.as_nanos(), event, revoked),
            StoryLine::at(op.completed.as_nanos(), op.complete_event, answered),
        ]
    }

    fn stolen_story(op: &OpRecord, end: &End<'_>) -> Vec<StoryLine> {
        let text = format!(
            "the attacker reads key {} with {}'s stolen token (issued at {}) and gets {} from {}",
            op.key(),
            end.names.client(op.client()),
            super::verdict::seconds(op.inv.token.as_nanos()),
            op.version,
            end.names.source(op.store, op.source)
        );
        vec![StoryLine::at(op.completed.as_nanos(), op.complete_event, text)]
    }
}

impl Check for Authorization {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        let witnesses = [&self.cross_witness, &self.revoked_witness, &self.stolen_witness];
        witnesses.into_iter().flatten().flat_map(OpRecord::versions).for_each(held);
        true
    }

    fn uses_sessions(&self) -> bool {
        false
    }

    fn sees_lists(&self) -> bool {
        true // A list holding another organisation's document is an answer like any.
    }

    fn set_key_orgs(&mut self, orgs: &[u32]) {
        // With one organisation no answer can cross tenants: keep the table empty and
        // spare every read a look at its version's record.
        if orgs.iter().any(|&o| o != 0) {
            self.key_orgs = orgs.to_vec();
        }
    }

    fn on_revoke(&mut self, client: u32, at: SimTime, event: u64) {
        self.revoked.entry(client).or_insert((at, event));
    }

    fn on_op(&mut self, op: &OpRecord, _session: &SessionState<'_>, dag: &mut VersionDag) {
        if op.outcome != Outcome::Ok || !matches!(op.kind(), OpKind::Read | OpKind::Write) {
            return;
        }
        self.checked += 1;
        if op.inv.purpose.info().by == Actor::Thief {
            self.stolen += 1;
            self.stolen_witness.get_or_insert(*op);
            self.stolen_oldest = self.stolen_oldest.max(op.inv.invoked.since(op.inv.token));
            return;
        }
        if !self.revoked.is_empty() {
            self.check_revoked(op);
        }
        self.check_tenant(op, dag);
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let violations = self.cross_tenant + self.past_bound + self.stolen;
        let mut r = CheckReport::new("authorization", violations, self.checked, "answers");
        if !self.revoked.is_empty() {
            r.figures.insert("revoked_users", self.revoked.len() as u64);
            r.figures.insert("after_revocation", self.after_revocation);
            r.figures.insert("after_revocation_max_ns", self.longest_after.as_nanos());
            r.figures.insert("bound_ns", self.bound.as_nanos());
        }
        if self.stolen > 0 {
            r.figures.insert("stolen_token_answers", self.stolen);
            r.figures.insert("stolen_token_max_age_ns", self.stolen_oldest.as_nanos());
        }
        if self.cross_tenant > 0 {
            r.figures.insert("cross_tenant", self.cross_tenant);
        }
        // One story: the cross-tenant leak, else the stolen token, else the revocation.
        r.story = if let Some(op) = &self.cross_witness {
            self.cross_tenant_story(op, end)
        } else if let Some(op) = &self.stolen_witness {
            Self::stolen_story(op, end)
        } else if let Some(op) = &self.revoked_witness {
            self.revoked_story(op, end)
        } else {
            Vec::new()
        };
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::CheckSpec;
    use crate::check::testing::{Hist, OK, THEFT};

    const MS: u64 = 1_000_000;

    /// Client 0 writes (done at 3 ms), loses its access at 3.5 ms, then reads twice
    /// (sent at 4 ms and 6 ms); client 1, never revoked, reads too.
    fn revoked_run(bound_ms: u64) -> CheckReport {
        let bound = Some(SimDuration::from_millis(bound_ms));
        let mut h = Hist::with(&[CheckSpec::Authorization(bound)]);
        let v = h.write(0, 0, VersionId::ROOT, OK);
        h.h.revoke(0, h.now().after(SimDuration(MS / 2)), 7);
        h.read(0, 0, v, 0);
        h.read(1, 0, v, 0);
        h.read(0, 0, v, 0);
        h.finish_one(&[v])
    }

    #[test]
    fn answers_to_a_revoked_user_past_the_bound_are_violations() {
        let strict = revoked_run(0);
        assert_eq!((strict.violations, strict.checked), (2, 4));
        assert_eq!(strict.figures["after_revocation"], 2);
        // The longest one: sent at 8 ms, 4.5 ms after the revocation.
        assert_eq!(strict.figures["after_revocation_max_ns"], 9 * MS / 2);
        assert!(strict.story[0].text.contains("client/0's access is revoked"), "{strict:?}");
        assert!(strict.story[1].text.contains("4.50ms after the revocation"), "{strict:?}");
        let tolerant = revoked_run(2);
        assert_eq!(tolerant.violations, 1);
        let lenient = revoked_run(10);
        assert_eq!((lenient.violations, lenient.figures["after_revocation"]), (0, 2));
        assert!(lenient.story.is_empty());
    }

    #[test]
    fn every_answer_to_a_stolen_token_is_a_violation() {
        let mut h = Hist::with(&[CheckSpec::Authorization(None)]);
        let v = h.write(0, 0, VersionId::ROOT, OK);
        h.read(0, 0, v, 0);
        h.read_for(THEFT, 0, 0, v, 0);
        let r = h.finish_one(&[v]);
        assert_eq!((r.violations, r.checked), (1, 3));
        assert_eq!(r.figures["stolen_token_answers"], 1);
        assert!(r.story[0].text.contains("client/0's stolen token"), "{r:?}");
    }
}
