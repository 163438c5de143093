//! The purposes the built-in kinds give their operations, as data: the workflow steps
//! a client sends, the requests servers route on, and the operations servers make on a
//! client's behalf. The checkers read only what each says of itself; a new kind
//! declares its own purposes the same way, in its own file, and its rows follow these
//! in the report.

use crate::check::purpose::{READ_ROW, WRITE_ROW};
use crate::check::{Actor, Purpose, PurposeInfo, Row};

pub use crate::check::purpose::{PUSH, READ, WRITE};

/// A report row counting only its own purpose's operations.
const fn row(name: &'static str) -> Row {
    Row { name, always_shown: false, reads: false }
}

static CREATE_ROW: Row = row("create");
static COMPLETION_ROW: Row = row("completion");
static STREAM_ROW: Row = row("stream");
static RESPONSE_ROW: Row = row("response");
static TITLE_ROW: Row = row("title");
static TITLE_JOB_ROW: Row = row("title_job");
static PREPARE_ROW: Row = row("prepare");
static FINALIZE_ROW: Row = row("finalize");
static STREAM_STATUS_ROW: Row = row("stream_status");
/// An editor's connect loads the document: a read like any other.
static CONNECT_ROW: Row = Row { reads: true, ..row("connect") };
static EDIT_ROW: Row = row("edit");
static POLL_ROW: Row = row("poll");
static SESSION_ROW: Row = row("session");
static LIST_ROW: Row = Row { reads: true, ..row("list") };
static TOKEN_ROW: Row = row("token");
static ATTACK_ROW: Row = row("attack");

/// The operation table's rows in report order.
pub const ROWS: [&Row; 18] = [
    &WRITE_ROW,
    &READ_ROW,
    &CREATE_ROW,
    &COMPLETION_ROW,
    &STREAM_ROW,
    &RESPONSE_ROW,
    &TITLE_ROW,
    &TITLE_JOB_ROW,
    &PREPARE_ROW,
    &FINALIZE_ROW,
    &STREAM_STATUS_ROW,
    &CONNECT_ROW,
    &EDIT_ROW,
    &POLL_ROW,
    &SESSION_ROW,
    &LIST_ROW,
    &TOKEN_ROW,
    &ATTACK_ROW,
];

const fn client(name: &'static str, verb: &'static str, row: &'static Row) -> PurposeInfo {
    Purpose::client(name, verb, row)
}

/// A client's read whose answer the user is shown.
const fn shown(name: &'static str, verb: &'static str, row: &'static Row) -> PurposeInfo {
    PurposeInfo { shows_data: true, ..Purpose::client(name, verb, row) }
}

/// A server's operation on a client's behalf; `checked` says whether checkers see it.
const fn server(
    name: &'static str,
    verb: &'static str,
    row: &'static Row,
    checked: bool,
) -> PurposeInfo {
    PurposeInfo { by: Actor::Server, checked, ..Purpose::client(name, verb, row) }
}

/// A workflow `refresh`: the read behind what the UI shows.
pub const REFRESH: Purpose = Purpose(&REFRESH_INFO);
static REFRESH_INFO: PurposeInfo = shown("refresh", "refreshes", &READ_ROW);
/// `resubmit_if_missing`: the user sends their message again.
pub const RESUBMIT: Purpose = Purpose(&RESUBMIT_INFO);
static RESUBMIT_INFO: PurposeInfo = client("resubmit", "resubmits", &WRITE_ROW);
/// `create`: the write that creates the conversation.
pub const CREATE: Purpose = Purpose(&CREATE_INFO);
static CREATE_INFO: PurposeInfo = client("create", "creates", &CREATE_ROW);
/// `complete`: the user's message, acknowledged when its response stream starts.
pub const COMPLETION: Purpose = Purpose(&COMPLETION_INFO);
static COMPLETION_INFO: PurposeInfo = client("complete", "sends", &COMPLETION_ROW);
/// The streamed response, as the client receives it.
pub const STREAM: Purpose = Purpose(&STREAM_INFO);
static STREAM_INFO: PurposeInfo = client("stream", "receives", &STREAM_ROW);
/// The response, as the server persists it when generation ends.
pub const RESPONSE: Purpose = Purpose(&RESPONSE_INFO);
static RESPONSE_INFO: PurposeInfo =
    PurposeInfo { persists_stream: true, ..server("persist", "persists", &RESPONSE_ROW, true) };
/// `title`: the request for a title, answered `202 Accepted`.
pub const TITLE: Purpose = Purpose(&TITLE_INFO);
static TITLE_INFO: PurposeInfo = client("title", "asks for a title of", &TITLE_ROW);
/// The title job writing its result later.
pub const TITLE_JOB: Purpose = Purpose(&TITLE_JOB_INFO);
static TITLE_JOB_INFO: PurposeInfo = server("title job", "titles", &TITLE_JOB_ROW, true);
/// A gate's `prepare` before an action.
pub const PREPARE: Purpose = Purpose(&PREPARE_INFO);
static PREPARE_INFO: PurposeInfo = client("prepare", "prepares", &PREPARE_ROW);
/// A gate's `finalize` after an action.
pub const FINALIZE: Purpose = Purpose(&FINALIZE_INFO);
static FINALIZE_INFO: PurposeInfo = client("finalize", "finalizes", &FINALIZE_ROW);
/// A `/stream_status` poll after a broken stream.
pub const STREAM_STATUS: Purpose = Purpose(&STREAM_STATUS_INFO);
static STREAM_STATUS_INFO: PurposeInfo =
    client("stream_status", "polls the stream status of", &STREAM_STATUS_ROW);
/// The conversation fetched after a stream-status poll said `complete`.
pub const FETCH: Purpose = Purpose(&FETCH_INFO);
static FETCH_INFO: PurposeInfo = shown("fetch", "fetches", &READ_ROW);
/// An editor opening its WebSocket connection: the document loads through the server
/// the load balancer chose, which then pushes others' edits to it.
pub const CONNECT: Purpose = Purpose(&CONNECT_INFO);
static CONNECT_INFO: PurposeInfo = client("connect", "opens", &CONNECT_ROW);
/// `edit`: a change sent over the editor's WebSocket connection.
pub const EDIT: Purpose = Purpose(&EDIT_INFO);
static EDIT_INFO: PurposeInfo = client("edit", "edits", &EDIT_ROW);
/// An app server polling the store for changes to a document its editors have open:
/// bookkeeping no checker sees.
pub const POLL: Purpose = Purpose(&POLL_INFO);
static POLL_INFO: PurposeInfo = server("poll", "polls", &POLL_ROW, false);
/// `list`: the caller's document list, an answer about many documents rather than a
/// read of the caller's own.
pub const LIST: Purpose = Purpose(&LIST_INFO);
static LIST_INFO: PurposeInfo =
    PurposeInfo { one_key: false, ..client("list", "lists the documents, getting", &LIST_ROW) };
/// An app server asking the session cache for an editor's login session.
pub const SESSION_LOOKUP: Purpose = Purpose(&SESSION_LOOKUP_INFO);
static SESSION_LOOKUP_INFO: PurposeInfo =
    server("session lookup", "looks up the session of", &SESSION_ROW, false);
/// An app server storing a new login session in the session cache.
pub const SESSION_SAVE: Purpose = Purpose(&SESSION_SAVE_INFO);
static SESSION_SAVE_INFO: PurposeInfo =
    server("session save", "saves the session of", &SESSION_ROW, false);
/// A client asking for a new access token before its token expires.
pub const TOKEN_REFRESH: Purpose = Purpose(&TOKEN_REFRESH_INFO);
static TOKEN_REFRESH_INFO: PurposeInfo =
    client("token refresh", "refreshes the token for", &TOKEN_ROW);
/// An attacker reading a document with a stolen token.
pub const ATTACK: Purpose = Purpose(&ATTACK_INFO);
static ATTACK_INFO: PurposeInfo = PurposeInfo {
    by: Actor::Thief,
    ..client("attack", "reads, with a stolen token,", &ATTACK_ROW)
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_purpose_counts_in_a_listed_row() {
        let all = [
            WRITE,
            READ,
            REFRESH,
            RESUBMIT,
            CREATE,
            COMPLETION,
            STREAM,
            RESPONSE,
            TITLE,
            TITLE_JOB,
            PREPARE,
            FINALIZE,
            STREAM_STATUS,
            FETCH,
            CONNECT,
            EDIT,
            POLL,
            LIST,
            SESSION_LOOKUP,
            SESSION_SAVE,
            TOKEN_REFRESH,
            ATTACK,
        ];
        for p in all {
            assert!(ROWS.iter().any(|r| r.is(p.row())), "{} counts in an unlisted row", p.name());
        }
        let names: std::collections::BTreeSet<_> = all.iter().map(|p| p.name()).collect();
        assert_eq!(names.len(), all.len(), "two purposes share a name");
        assert!(PUSH.in_session());
    }
}
