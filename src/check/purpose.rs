//! Why an operation was performed, as data. The checkers never name a purpose: they
//! read what a purpose says of itself (who performs it, whether they watch it, which
//! row of the operation table counts it). The kinds that make operations declare
//! their purposes; this file holds only the three every history has.

/// A row of the operation table: the operations it counts share a name in reports. A
/// row is declared once, as a `static`, and known by that declaration.
#[derive(Debug)]
pub struct Row {
    /// The lower-case name used in reports and in `latency.<name>` distributions.
    pub name: &'static str,
    /// Whether the report shows the row even when nothing was counted in it.
    pub always_shown: bool,
    /// Whether the row's operations read data a user is shown, so the summary counts
    /// them among the reads it splits by primary, replica and cache.
    pub reads: bool,
}

/// Who performs an operation, which decides whose session it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Actor {
    /// The client, as a step of its session.
    Client,
    /// A server, on a client's behalf: no session of the client's observed it.
    Server,
    /// Someone else holding the client's credentials (a stolen token).
    Thief,
}

/// What a purpose says of itself.
#[derive(Debug)]
pub struct PurposeInfo {
    /// The short name diagrams label requests with.
    pub name: &'static str,
    /// The verb stories use.
    pub verb: &'static str,
    /// The report row that counts it.
    pub row: &'static Row,
    /// Who performs it.
    pub by: Actor,
    /// Whether the checkers see it. A server's bookkeeping (a poll that only tells it
    /// what to push, a session lookup) is counted but not checked.
    pub checked: bool,
    /// Whether a client that did it saw the version by reading: the answer is shown.
    pub shows_data: bool,
    /// Whether it is a server persisting a response streamed to its client; stories
    /// call what it wrote "the response to" the client's message.
    pub persists_stream: bool,
    /// Whether it reads or writes the one key it names. A document list answers with
    /// what the caller may see of many documents: no session, staleness or page follows
    /// it as a read of the caller's key, and `--history` leaves it out; checkers of
    /// answers (`authorization`) still see it.
    pub one_key: bool,
}

/// Why an operation was performed: how stories word it and which report row counts it.
/// A purpose is declared once, as a `static` `PurposeInfo`, and known by that
/// declaration: comparing two is comparing two addresses, which every operation does
/// several times (a `const` would give each use its own copy, so it must not be one).
#[derive(Debug, Clone, Copy)]
pub struct Purpose(pub &'static PurposeInfo);

impl PartialEq for Purpose {
    #[inline]
    fn eq(&self, other: &Purpose) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for Purpose {}

impl Ord for Purpose {
    /// By name (declarations have distinct names), so orders never depend on where a
    /// declaration happens to sit in memory.
    fn cmp(&self, other: &Purpose) -> std::cmp::Ordering {
        if self == other {
            return std::cmp::Ordering::Equal;
        }
        let by_name = self.0.name.cmp(other.0.name);
        assert!(by_name.is_ne(), "two purposes are declared with the name {}", self.0.name);
        by_name
    }
}

impl PartialOrd for Purpose {
    fn partial_cmp(&self, other: &Purpose) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Row {
    /// Whether `self` and `other` are the same declaration.
    #[inline]
    pub fn is(&self, other: &Row) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Purpose {
    /// A client's purpose: checked, its own row, data not shown.
    pub const fn client(name: &'static str, verb: &'static str, row: &'static Row) -> PurposeInfo {
        PurposeInfo {
            name,
            verb,
            row,
            by: Actor::Client,
            checked: true,
            shows_data: false,
            persists_stream: false,
            one_key: true,
        }
    }

    /// What it says of itself.
    #[inline]
    pub fn info(self) -> &'static PurposeInfo {
        self.0
    }

    /// The short name diagrams label requests with.
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// The verb stories use.
    pub fn verb(self) -> &'static str {
        self.0.verb
    }

    /// The report row that counts this operation.
    #[inline]
    pub fn row(self) -> &'static Row {
        self.0.row
    }

    /// Whether a server performed it on a client's behalf (no session of the client's
    /// observed it).
    #[inline]
    pub fn by_server(self) -> bool {
        self.0.by == Actor::Server
    }

    /// Whether it is a step of its client's session: not a server's work on the
    /// client's behalf, nor someone else's use of the client's credentials.
    #[inline]
    pub fn in_session(self) -> bool {
        self.0.by == Actor::Client
    }

    /// Whether the checkers see it.
    #[inline]
    pub fn checked(self) -> bool {
        self.0.checked
    }

    /// Whether it reads or writes the one key it names (not a list of many).
    #[inline]
    pub fn one_key(self) -> bool {
        self.0.one_key
    }
}

/// Writes and the purposes counted with them.
pub static WRITE_ROW: Row = Row { name: "write", always_shown: true, reads: false };
/// Reads and the purposes counted with them.
pub static READ_ROW: Row = Row { name: "read", always_shown: true, reads: true };

static WRITE_INFO: PurposeInfo = Purpose::client("write", "writes", &WRITE_ROW);
static READ_INFO: PurposeInfo =
    PurposeInfo { shows_data: true, ..Purpose::client("read", "reads", &READ_ROW) };
static PUSH_INFO: PurposeInfo = Purpose::client("push", "receives a push of", &READ_ROW);

/// A client writing a new version.
pub const WRITE: Purpose = Purpose(&WRITE_INFO);
/// A client reading the current version and showing it.
pub const READ: Purpose = Purpose(&READ_INFO);
/// A version pushed to a client by a server, as it arrives: what the client saw, never
/// an operation (pushes are counted by the propagation figures).
pub const PUSH: Purpose = Purpose(&PUSH_INFO);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_are_known_by_their_declaration_and_ordered_by_name() {
        static LOOKALIKE: PurposeInfo = Purpose::client("wrote", "writes", &WRITE_ROW);
        assert_eq!(WRITE, Purpose(&WRITE_INFO));
        assert_ne!(WRITE, Purpose(&LOOKALIKE));
        assert_ne!(WRITE, READ);
        assert!(READ < WRITE && Purpose(&LOOKALIKE) > WRITE);
        assert!(READ.in_session() && READ.checked() && !READ.by_server());
        assert_eq!(READ.row().name, "read");
    }
}
