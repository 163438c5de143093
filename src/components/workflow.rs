//! A client workflow compiled to a flat list of instructions: repeats are unrolled and a
//! `maybe` block knows how many instructions to skip, so a client is a program counter.

use super::purposes;
use crate::check::{OpKind, Purpose};
use crate::engine::Dist;
use crate::model::Step as WorkflowStep;

/// One instruction of a compiled workflow.
#[derive(Debug, Clone)]
pub enum Instr {
    /// Send an operation.
    Op(OpKind, Purpose),
    /// Create the conversation, unless the client already wrote to its key.
    Create,
    /// Send a message like a completion, then reload before its response streams.
    Submit,
    /// Wait.
    Sleep(Dist),
    /// Resend the last message if the last observation lacks it.
    ResubmitIfMissing,
    /// Start a new session.
    OpenTab,
    /// After a broken stream, poll the stream status and fetch the conversation.
    Recover,
    /// With probability `1 - p`, skip the next `skip` instructions.
    Maybe {
        /// Probability of running them.
        p: f64,
        /// How many instructions the block holds.
        skip: usize,
    },
}

/// Flattens workflow steps into instructions (repeats are unrolled).
pub fn compile(steps: &[WorkflowStep]) -> Vec<Instr> {
    let mut out = Vec::new();
    for step in steps {
        match step {
            WorkflowStep::Write => out.push(Instr::Op(OpKind::Write, purposes::WRITE)),
            WorkflowStep::Read => out.push(Instr::Op(OpKind::Read, purposes::READ)),
            WorkflowStep::Refresh => out.push(Instr::Op(OpKind::Read, purposes::REFRESH)),
            WorkflowStep::List => out.push(Instr::Op(OpKind::Read, purposes::LIST)),
            WorkflowStep::Complete => out.push(Instr::Op(OpKind::Write, purposes::COMPLETION)),
            WorkflowStep::Title => out.push(Instr::Op(OpKind::Control, purposes::TITLE)),
            WorkflowStep::Edit => out.push(Instr::Op(OpKind::Write, purposes::EDIT)),
            WorkflowStep::Create => out.push(Instr::Create),
            WorkflowStep::Submit => out.push(Instr::Submit),
            WorkflowStep::Recover => out.push(Instr::Recover),
            WorkflowStep::Sleep(d) => out.push(Instr::Sleep(d.clone())),
            WorkflowStep::ResubmitIfMissing => out.push(Instr::ResubmitIfMissing),
            WorkflowStep::OpenTab => out.push(Instr::OpenTab),
            WorkflowStep::Repeat(n, body) => {
                let body = compile(body);
                (0..*n).for_each(|_| out.extend(body.iter().cloned()));
            }
            WorkflowStep::Maybe(p, body) => {
                let body = compile(body);
                out.push(Instr::Maybe { p: *p, skip: body.len() });
                out.extend(body);
            }
        }
    }
    out
}

/// The purposes of the requests `step` sends, those a client adds on its own included
/// (an `edit` opens the WebSocket with a `connect` first).
pub fn sends(step: &WorkflowStep) -> Vec<Purpose> {
    use WorkflowStep as S;
    match step {
        S::Write => vec![purposes::WRITE],
        S::Read => vec![purposes::READ],
        S::Refresh => vec![purposes::REFRESH],
        S::List => vec![purposes::LIST],
        S::ResubmitIfMissing => vec![purposes::RESUBMIT],
        S::Create => vec![purposes::CREATE],
        S::Complete | S::Submit => vec![purposes::COMPLETION],
        S::Recover => vec![purposes::STREAM_STATUS, purposes::FETCH],
        S::Title => vec![purposes::TITLE],
        S::Edit => vec![purposes::CONNECT, purposes::EDIT],
        S::Sleep(_) | S::OpenTab | S::Repeat(..) | S::Maybe(..) => Vec::new(),
    }
}

/// The step's name as scenario files write it.
pub fn step_name(step: &WorkflowStep) -> &'static str {
    use WorkflowStep as S;
    match step {
        S::Write => "write",
        S::Read => "read",
        S::Refresh => "refresh",
        S::List => "list",
        S::Sleep(_) => "sleep",
        S::ResubmitIfMissing => "resubmit_if_missing",
        S::OpenTab => "open_tab",
        S::Create => "create",
        S::Complete => "complete",
        S::Submit => "submit",
        S::Recover => "recover",
        S::Title => "title",
        S::Edit => "edit",
        S::Repeat(..) => "repeat",
        S::Maybe(..) => "maybe",
    }
}

/// Whether `purpose` is an action a sentinel gate wraps: something that writes.
pub fn is_action(purpose: Purpose) -> bool {
    [purposes::WRITE, purposes::RESUBMIT, purposes::CREATE, purposes::COMPLETION, purposes::EDIT]
        .contains(&purpose)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_compiled_to_a_request_sends_a_purpose_it_declares() {
        use WorkflowStep as W;
        for step in [W::Write, W::Read, W::Refresh, W::List, W::Complete, W::Title, W::Edit] {
            let program = compile(std::slice::from_ref(&step));
            let Some(Instr::Op(_, purpose)) = program.first() else {
                panic!("`{}` compiles to a request", step_name(&step));
            };
            assert!(
                sends(&step).contains(purpose),
                "`{}` sends {}",
                step_name(&step),
                purpose.name()
            );
        }
    }

    #[test]
    fn repeats_unroll_and_maybe_blocks_know_their_length() {
        use WorkflowStep as W;
        let steps = vec![
            W::Repeat(2, vec![W::Write]),
            W::Maybe(0.5, vec![W::Refresh, W::ResubmitIfMissing]),
            W::Complete,
        ];
        let p = compile(&steps);
        assert_eq!(p.len(), 6);
        assert!(matches!(p[2], Instr::Maybe { skip: 2, .. }));
        assert!(matches!(p[3], Instr::Op(OpKind::Read, x) if x == purposes::REFRESH));
        assert!(matches!(p[5], Instr::Op(OpKind::Write, x) if x == purposes::COMPLETION));
    }
}
