//! **Authorization**: no answer reaches a user who may not see it. A read answered
//! with a version of another organisation's document (a shared cache serving one
//! tenant's response to the next caller) is a violation, and so is an answer served
//! on a token that was revoked or had expired when the server accepted it.

use super::checks::{Check, End, SessionState};
use super::history::{OpKind, OpRecord, Outcome};
use super::story;
use super::verdict::CheckReport;
use super::versions::{VersionDag, VersionId};

/// The authorization checker.
#[derive(Debug, Default)]
pub struct Authorization {
    key_orgs: Vec<u32>,
    checked: u64,
    violations: u64,
    witness: Option<OpRecord>,
}

impl Authorization {
    fn org(&self, key: u32) -> u32 {
        self.key_orgs.get(key as usize).copied().unwrap_or(0)
    }
}

impl Check for Authorization {
    fn uses_sessions(&self) -> bool {
        false
    }

    fn set_key_orgs(&mut self, orgs: &[u32]) {
        // With one organisation no answer can cross tenants: keep the table empty and
        // spare every read a look at its version's record.
        if orgs.iter().any(|&o| o != 0) {
            self.key_orgs = orgs.to_vec();
        }
    }

    fn on_op(&mut self, op: &OpRecord, _session: &SessionState<'_>, dag: &mut VersionDag) {
        if op.outcome != Outcome::Ok || op.kind() != OpKind::Read || op.version == VersionId::ROOT {
            return;
        }
        self.checked += 1;
        if self.key_orgs.is_empty() {
            return;
        }
        let owner = dag.get(op.version).key;
        if self.org(owner) != self.org(op.key()) {
            self.violations += 1;
            self.witness.get_or_insert(*op);
        }
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let mut r = CheckReport::new("authorization", self.violations, self.checked, "answers");
        if let Some(op) = &self.witness {
            let owner = end.dag.get(op.version).key;
            let note = format!(
                ", a version of key {owner} of organisation {}, while it belongs to organisation {}",
                self.org(owner),
                self.org(op.key())
            );
            r.story = vec![
                story::created(end.dag, op.version, end.names),
                story::read(op, end.names, &note),
            ];
        }
        r
    }
}
