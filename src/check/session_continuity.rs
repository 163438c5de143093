//! **Session continuity**: an editor who logged in stays logged in when its WebSocket
//! reconnects. The server the reconnect lands on must hold the login session or find
//! it in a shared session cache; a session kept only in another server's memory (or
//! in a server that restarted, or in a cache that lost it) logs the editor out, and a
//! cache that does not answer makes the server refuse the connection. Each reconnect
//! that presents a session is checked; a lost or unavailable session is a violation.

use super::checks::slot;
use super::checks::{Check, End, SessionEvent, SessionFate};
use super::verdict::{CheckReport, StoryLine};
use super::versions::VersionId;

/// The session-continuity checker.
#[derive(Debug, Default)]
pub struct SessionContinuity {
    checked: u64,
    violations: u64,
    /// Per editor, where its session last was (login, kept or restored).
    last: Vec<Option<SessionEvent>>,
    witness: Option<(Option<SessionEvent>, SessionEvent)>,
}

impl Check for SessionContinuity {
    fn versions_held(&self, _held: &mut dyn FnMut(VersionId)) -> bool {
        true // Login sessions name no version.
    }

    fn uses_sessions(&self) -> bool {
        false
    }

    fn on_session(&mut self, event: &SessionEvent) {
        let last = slot(&mut self.last, event.client);
        let before = *last;
        match event.fate {
            SessionFate::LoggedIn | SessionFate::Kept | SessionFate::Restored => {
                self.checked += u64::from(event.fate != SessionFate::LoggedIn);
                *last = Some(*event);
            }
            SessionFate::Lost | SessionFate::Unavailable => {
                self.checked += 1;
                self.violations += 1;
                self.witness.get_or_insert((before, *event));
                if event.fate == SessionFate::Lost {
                    *last = Some(*event); // Logged in again on this server.
                }
            }
        }
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let mut r = CheckReport::new(
            "session_continuity",
            self.violations,
            self.checked,
            "reconnects with a session",
        );
        let Some((before, event)) = &self.witness else { return r };
        let names = end.names;
        let client = names.client(event.client);
        if let Some(b) = before {
            let text = format!("{client}'s session is on {}", names.component(b.server));
            r.story.push(StoryLine::at(b.at.as_nanos(), b.event, text));
        }
        let server = names.component(event.server);
        let text = match event.fate {
            SessionFate::Unavailable => format!(
                "{client} reconnects to {server}, which cannot reach the session cache: \
                 the connection is refused"
            ),
            _ => format!(
                "{client} reconnects to {server}, which has no session for it: logged out, \
                 it must log in again"
            ),
        };
        r.story.push(StoryLine::at(event.at.as_nanos(), event.event, text));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::CheckSpec;
    use crate::check::testing::Hist;
    use crate::engine::SimTime;

    fn event(client: u32, server: u32, fate: SessionFate, at_s: u64) -> SessionEvent {
        SessionEvent { client, server, fate, at: SimTime(at_s * 1_000_000_000), event: at_s }
    }

    #[test]
    fn lost_and_unavailable_sessions_are_violations_and_first_logins_are_not_checked() {
        let mut h = Hist::with(&[CheckSpec::SessionContinuity]);
        h.h.session(event(0, 1, SessionFate::LoggedIn, 1));
        h.h.session(event(0, 1, SessionFate::Kept, 2));
        h.h.session(event(1, 1, SessionFate::LoggedIn, 3));
        h.h.session(event(1, 2, SessionFate::Lost, 4));
        h.h.session(event(0, 2, SessionFate::Restored, 5));
        h.h.session(event(0, 3, SessionFate::Unavailable, 6));
        let report = h.finish_one(&[]);
        assert_eq!((report.violations, report.checked), (2, 4));
        assert_eq!(report.story.len(), 2);
        assert!(report.story[0].text.contains("client/1's session is on"), "{report:?}");
        assert!(report.story[1].text.contains("which has no session for it"), "{report:?}");
    }
}
