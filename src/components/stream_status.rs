//! `/stream_status`: per conversation, whether a response is still being generated and
//! the version of the last one persisted. A stream server keeps one board; a client whose
//! stream broke polls it until it says `complete`, then fetches the conversation.

use crate::check::VersionId;

/// What `/stream_status` answers for one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamState {
    /// A response is being generated (or persisted).
    InProgress,
    /// Nothing is in progress; `VersionId` is the last persisted response (`ROOT`: none).
    Complete(VersionId),
}

#[derive(Debug, Clone, Copy, Default)]
struct Row {
    active: u32,
    last: VersionId,
}

/// Stream states of every conversation (key).
#[derive(Debug, Default)]
pub struct StreamBoard {
    rows: Vec<Row>,
}

impl StreamBoard {
    /// A response for `key` started generating.
    pub fn started(&mut self, key: u32) {
        crate::check::checks::slot(&mut self.rows, key).active += 1;
    }

    /// A response for `key` ended: persisted as `version`, or (`ROOT`) given up.
    pub fn ended(&mut self, key: u32, version: VersionId) {
        let row = crate::check::checks::slot(&mut self.rows, key);
        row.active = row.active.saturating_sub(1);
        if version != VersionId::ROOT {
            row.last = version;
        }
    }

    /// The last persisted response of every conversation.
    pub fn versions(&self) -> impl Iterator<Item = VersionId> + '_ {
        self.rows.iter().map(|r| r.last)
    }

    /// What `/stream_status` says about `key` now.
    pub fn state(&self, key: u32) -> StreamState {
        match self.rows.get(key as usize) {
            Some(r) if r.active > 0 => StreamState::InProgress,
            Some(r) => StreamState::Complete(r.last),
            None => StreamState::Complete(VersionId::ROOT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_progress_until_every_response_of_the_key_ended() {
        let mut b = StreamBoard::default();
        assert_eq!(b.state(3), StreamState::Complete(VersionId::ROOT));
        b.started(3);
        b.started(3);
        b.ended(3, VersionId(5));
        assert_eq!(b.state(3), StreamState::InProgress, "a second tab's response is running");
        b.ended(3, VersionId::ROOT);
        assert_eq!(b.state(3), StreamState::Complete(VersionId(5)));
        assert_eq!(b.state(0), StreamState::Complete(VersionId::ROOT));
    }
}
