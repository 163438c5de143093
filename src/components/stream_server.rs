//! A stream server: the app server of a chat back end. It answers a completion with a
//! streamed response (SSE), keeps `/stream_status`, hands title requests to a job queue
//! and passes every other request to the store behind it.
//!
//! A completion is the user's message, written to the store first; its acknowledgement
//! goes back to the client as the stream's start. Then the response is generated: the
//! first chunk after `first_byte`, the others `spacing` apart, each sent to the client
//! over the path the request came in on (one draw per stream, so chunks stay in order).
//! When the last chunk is generated the server persists the response, on top of the
//! conversation's head, whether or not the client is still listening, and ends the
//! stream with the persisted version. A create is handled for `create` before it is
//! written.

use super::purposes;
use std::collections::BTreeMap;

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, Handling, KindFile};
use super::message::{FLAG_ON_HEAD, Msg, RETURN_LOST, Reply, Request, Status};
use super::stream_status::{StreamBoard, StreamState};
use crate::check::{Invocation, OpId, OpKind, Outcome, Sighting, VersionId};
use crate::engine::{ComponentId, Dist, LinkId, SimDuration, SimTime};
use crate::model::contract::{Contract, KindSpec, Role, Serves, Target};
use crate::model::shape::{Problems, RawDist};

// The kind: its file shape, validation, contract and build.

/// Most chunks a streamed response may have.
pub const CHUNKS_MAX: u32 = 100_000;

/// Streaming app server parameters.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "StreamServer")]
pub struct RawStreamServer {
    /// Time to handle a conversation create.
    #[serde(default)]
    pub create: Option<RawDist>,
    /// Time from a completion request to its first chunk.
    pub first_byte: RawDist,
    /// Chunks per response.
    pub chunks: u32,
    /// Time between chunks.
    pub spacing: RawDist,
}

/// Streaming app server parameters.
#[derive(Debug, Clone)]
pub struct StreamServerSpec {
    /// Time to handle a conversation create before it is written.
    pub create: Dist,
    /// Time from a completion request to its first chunk.
    pub first_byte: Dist,
    /// Chunks in one streamed response.
    pub chunks: u32,
    /// Time between two chunks.
    pub spacing: Dist,
}

impl KindFile for RawStreamServer {
    /// Completions (it streams their responses), stream-status polls (it keeps the
    /// board), creates and title requests.
    const HANDLES: Handling = Handling {
        purposes: &[
            purposes::CREATE,
            purposes::COMPLETION,
            purposes::STREAM_STATUS,
            purposes::TITLE,
        ],
        why: "it streams the responses",
        example: r#""api": StreamServer(first_byte: exp("1s"), chunks: 40, spacing: exp("90ms"))"#,
    };

    type Spec = StreamServerSpec;
    type Actor = Box<StreamServer>;

    fn validate(&self, c: &mut Problems) -> StreamServerSpec {
        let x = self;
        let at = |field: &'static str| [field];
        c.count(&at("chunks"), x.chunks, CHUNKS_MAX);
        StreamServerSpec {
            create: x.create.as_ref().map_or(Dist::constant(0), |d| c.dist(&at("create"), d)),
            first_byte: c.dist(&at("first_byte"), &x.first_byte),
            chunks: x.chunks,
            spacing: c.dist(&at("spacing"), &x.spacing),
        }
    }

    /// Builds the server over its store link and its job queue, if any.
    fn build(spec: &StreamServerSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        let data = ctx.link("store").ok_or("a stream server needs a store link")?;
        Ok(Box::new(StreamServer::new(spec, data, ctx.link("jobs"))))
    }
}

impl KindSpec for StreamServerSpec {
    /// A stream server passes what it does not answer to one store, and may hand work to
    /// one job queue.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("stream server", Serves::Server);
        let jobs = Role::new("jobs", Target::Only(Serves::JobQueue), 0, 1);
        c.roles.push(jobs.wanting("at most one link to a job queue", "jobs"));
        c.roles.push(
            Role::new("store", Target::Requests, 1, 1).wanting("one link to its store", "db"),
        );
        c
    }
}

// The component.

/// How long the server waits for the store to persist a response before it gives up and
/// ends the stream with an error.
pub const PERSIST_TIMEOUT: SimDuration = SimDuration(10_000_000_000);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The user's message is being written.
    Submitting,
    /// The response is being generated.
    Generating,
    /// The response is being written; gives up at `deadline`.
    Persisting { op: OpId, deadline: SimTime },
}

/// One completion in progress.
#[derive(Debug, Clone, Copy)]
struct StreamJob {
    client: ComponentId,
    /// Latency of the path back to the client, or `RETURN_LOST`.
    back_ns: u64,
    inv: Invocation,
    arrived: SimTime,
    arrive_event: u64,
    stage: Stage,
}

/// The streaming app server.
#[derive(Debug)]
pub struct StreamServer {
    spec: StreamServerSpec,
    data: LinkId,
    jobs: Option<LinkId>,
    board: StreamBoard,
    streams: Vec<StreamJob>,
    free: Vec<u32>,
    /// Requests the server itself waits on, by operation slot: a user's message or a
    /// response being written.
    waiting: BTreeMap<OpId, u32>,
}

impl StreamServer {
    /// A server that writes over `data` and hands titles to `jobs`.
    pub fn new(spec: &StreamServerSpec, data: LinkId, jobs: Option<LinkId>) -> StreamServer {
        StreamServer {
            spec: spec.clone(),
            data,
            jobs,
            board: StreamBoard::default(),
            streams: Vec::new(),
            free: Vec::new(),
            waiting: BTreeMap::new(),
        }
    }

    fn forward(&mut self, mut request: Request, link: LinkId, delay: u64, env: &mut Env<'_>) {
        request.return_ns = env.add_return_hop(request.return_ns, request.via);
        request.via = link;
        env.send_after(SimDuration(delay), link, Msg::Request(request));
    }

    fn on_request(&mut self, request: Request, env: &mut Env<'_>) {
        let inv = env.invocation(request.op);
        match inv.purpose {
            p if p == purposes::COMPLETION => self.submit(request, inv, env),
            p if p == purposes::CREATE => {
                let work = self.spec.create.sample(env.rng());
                self.forward(request, self.data, work, env);
            }
            p if p == purposes::TITLE => match self.jobs {
                Some(jobs) => self.forward(request, jobs, 0, env),
                None => env.drop_request(&request), // Validation requires a queue.
            },
            p if p == purposes::STREAM_STATUS => match self.board.state(request.key) {
                StreamState::InProgress => {
                    env.reply(&request, Status::InProgress, VersionId::ROOT, 0);
                }
                StreamState::Complete(v) => env.reply(&request, Status::Ok, v, 0),
            },
            _ => self.forward(request, self.data, 0, env),
        }
    }

    /// Writes the user's message, with this server waiting for the answer.
    fn submit(&mut self, request: Request, inv: Invocation, env: &mut Env<'_>) {
        let job = StreamJob {
            client: request.origin,
            back_ns: env.add_return_hop(request.return_ns, request.via),
            inv,
            arrived: env.now(),
            arrive_event: env.event(),
            stage: Stage::Submitting,
        };
        let index = match self.free.pop() {
            Some(i) => {
                self.streams[i as usize] = job;
                i
            }
            None => {
                self.streams.push(job);
                (self.streams.len() - 1) as u32
            }
        };
        let own = Request { origin: env.id, via: self.data, return_ns: 0, ..request };
        if env.send(self.data, Msg::Request(own)) {
            self.waiting.insert(request.op, index);
        } else {
            self.free.push(index); // Lost on the way: the client times out.
        }
    }

    fn on_reply(&mut self, reply: Reply, env: &mut Env<'_>) {
        let Some(index) = self.waiting.remove(&reply.op) else {
            env.release(reply.op); // A reply after the server gave up.
            return;
        };
        let job = self.streams[index as usize];
        match job.stage {
            Stage::Submitting => {
                self.to_client(&job, Msg::Reply(reply), 0, env);
                if reply.status == Status::Ok {
                    self.generate(index, env);
                } else {
                    self.free.push(index);
                }
            }
            Stage::Persisting { .. } => {
                let server = (reply.server.0, reply.source);
                let outcome =
                    if reply.status == Status::Ok { Outcome::Ok } else { Outcome::Unknown };
                env.complete(reply.op, (outcome, reply.version), server, true);
                self.end(index, reply.version, env);
            }
            // No request is out while generating; nothing waits for this reply.
            Stage::Generating => env.release(reply.op),
        }
    }

    /// Sends `msg` to the job's client over the path its request came in on, `delay`
    /// from now; a reply that cannot arrive frees its operation slot.
    fn to_client(&self, job: &StreamJob, msg: Msg, delay: u64, env: &mut Env<'_>) {
        if job.back_ns == RETURN_LOST {
            if let Msg::Reply(r) = msg {
                env.release(r.op);
            }
            return;
        }
        env.deliver(SimDuration(delay.saturating_add(job.back_ns)), job.client, msg);
    }

    /// Schedules the response's chunks and the end of its generation.
    fn generate(&mut self, index: u32, env: &mut Env<'_>) {
        let job = self.streams[index as usize];
        self.board.started(job.inv.key);
        self.streams[index as usize].stage = Stage::Generating;
        let (message, of) = (job.inv.message, self.spec.chunks);
        let mut t = self.spec.first_byte.sample(env.rng());
        for chunk in 0..of {
            if chunk > 0 {
                t = t.saturating_add(self.spec.spacing.sample(env.rng()));
            }
            self.to_client(&job, Msg::Chunk { message, index: chunk, of }, t, env);
        }
        env.timer(SimDuration(t), Msg::Done { job: index });
    }

    /// The response is generated: persist it on top of the conversation's head.
    fn persist(&mut self, index: u32, env: &mut Env<'_>) {
        let job = self.streams[index as usize];
        let op = env.invoke(Invocation {
            kind: OpKind::Write,
            purpose: purposes::RESPONSE,
            attempt: 1,
            seen: Sighting::NOTHING,
            stamp: env.now().as_nanos() as i64,
            invoked: job.arrived,
            invoke_event: job.arrive_event,
            newest: VersionId::ROOT,
            token: SimTime::ZERO,
            ..job.inv
        });
        let deadline = env.now().after(PERSIST_TIMEOUT);
        self.streams[index as usize].stage = Stage::Persisting { op, deadline };
        let request = Request {
            origin: env.id,
            op,
            key: job.inv.key,
            via: self.data,
            seen: VersionId::ROOT,
            return_ns: 0,
            kind: OpKind::Write,
            flags: FLAG_ON_HEAD,
        };
        if env.send(self.data, Msg::Request(request)) {
            self.waiting.insert(op, index);
        }
        env.timer(PERSIST_TIMEOUT, Msg::Timeout { op_seq: index });
    }

    /// No answer from the store in time: the response is not persisted.
    fn on_persist_timeout(&mut self, index: u32, env: &mut Env<'_>) {
        let Some(&job) = self.streams.get(index as usize) else { return };
        let Stage::Persisting { op, deadline } = job.stage else { return };
        if env.now() < deadline {
            return; // The slot now holds a later stream.
        }
        // A late reply, if the request is still out, finds no waiter and is released.
        self.waiting.remove(&op);
        env.give_up(op);
        self.end(index, VersionId::ROOT, env);
    }

    /// Ends the stream: `/stream_status` says complete and the client gets
    /// `message_stop` with the persisted version (`ROOT`: an error).
    fn end(&mut self, index: u32, version: VersionId, env: &mut Env<'_>) {
        let job = self.streams[index as usize];
        self.board.ended(job.inv.key, version);
        let stop = Msg::StreamEnd { message: job.inv.message, version };
        self.to_client(&job, stop, 0, env);
        // Out of `Persisting`, so the pending persist timer finds nothing to give up.
        self.streams[index as usize].stage = Stage::Submitting;
        self.free.push(index);
    }
}

impl Component for StreamServer {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        // The board has a row per conversation, in key order.
        self.board.versions().zip(0..).for_each(|(v, key)| held(v.of_key(key)));
        let jobs = self.streams.iter().map(|s| &s.inv);
        jobs.flat_map(|i| [i.seen.version.of_key(i.key), i.newest]).for_each(held);
        true
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Request(request) => self.on_request(request, env),
            Msg::Reply(reply) => self.on_reply(reply, env),
            Msg::Done { job } => self.persist(job, env),
            Msg::Timeout { op_seq } => self.on_persist_timeout(op_seq, env),
            other => panic!("stream server got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{OpRecord, Outcome};
    use crate::components::BuiltIn;
    use crate::components::testing::{
        BenchWorld, answer, bench, last_request, ms, ops, request_for, run,
    };
    use crate::engine::Sim;

    const CLIENT: ComponentId = ComponentId(1);
    const STORE: ComponentId = ComponentId(2);

    /// A server streaming 3 chunks, the first 10 ms after the message is written and
    /// the rest 5 ms apart, in front of the store probe; the client probe sends a
    /// completion at 0 ms, which reaches the store at once.
    fn completion() -> (Sim<BenchWorld>, LinkId, OpId) {
        let spec = StreamServerSpec {
            create: Dist::constant(0),
            first_byte: Dist::constant(10_000_000),
            chunks: 3,
            spacing: Dist::constant(5_000_000),
        };
        let (mut sim, links) = bench(2, 1, |l| {
            BuiltIn::StreamServer(Box::new(StreamServer::new(&spec, l.callees[1], None)))
        });
        let from_client = links.callers[0];
        let op =
            request_for(&mut sim, ms(0), from_client, (OpKind::Write, purposes::COMPLETION), 0);
        run(&mut sim, ms(0));
        (sim, from_client, op)
    }

    /// The store probe answers the last request it received with `status` at `at`.
    fn store_answers(sim: &mut Sim<BenchWorld>, at: u64, status: Status) -> VersionId {
        let q = last_request(sim, Some(STORE));
        answer(sim, ms(at), (STORE, status), q, VersionId::ROOT)
    }

    /// What `probe` received, each as `ms what`.
    fn received(sim: &Sim<BenchWorld>, probe: ComponentId) -> Vec<String> {
        let of = sim.actor.received.iter().filter(|r| r.probe == probe);
        let line = |msg: Msg| match msg {
            Msg::Reply(r) => format!("{:?} reply", r.status),
            Msg::Request(r) => format!("{:?} request, op {}, flags {}", r.kind, r.op, r.flags),
            Msg::Chunk { index, of, .. } => format!("chunk {index}/{of}"),
            Msg::StreamEnd { version, .. } => format!("end {version}"),
            other => other.kind_name().to_string(),
        };
        of.map(|r| format!("{} {}", r.at.as_nanos() / 1_000_000, line(r.msg))).collect()
    }

    /// The server's own `persist` operations, as completed.
    fn responses(sim: &Sim<BenchWorld>) -> Vec<OpRecord> {
        ops(sim).into_iter().filter(|o| o.inv.purpose == purposes::RESPONSE).collect()
    }

    #[test]
    fn a_written_message_streams_its_chunks_then_persists_the_response_on_the_head() {
        let (mut sim, via, op) = completion();
        store_answers(&mut sim, 1, Status::Ok);
        let status = (OpKind::Read, purposes::STREAM_STATUS);
        request_for(&mut sim, ms(15), via, status, 0);
        run(&mut sim, ms(21));
        let persist_op = last_request(&sim, Some(STORE)).op;
        let v = store_answers(&mut sim, 22, Status::Ok);
        request_for(&mut sim, ms(30), via, status, 0);
        run(&mut sim, ms(40));
        assert_eq!(
            received(&sim, STORE),
            [
                format!("0 Write request, op {op}, flags 0"),
                format!("21 Write request, op {persist_op}, flags {FLAG_ON_HEAD}")
            ]
        );
        assert_eq!(
            received(&sim, CLIENT),
            ["1 Ok reply", "11 chunk 0/3", "15 InProgress reply", "16 chunk 1/3", "21 chunk 2/3"]
                .into_iter()
                .map(String::from)
                .chain([format!("22 end {v}"), "30 Ok reply".to_string()])
                .collect::<Vec<_>>()
        );
        let response = responses(&sim);
        assert_eq!(response.len(), 1);
        assert_eq!((response[0].outcome, response[0].version), (Outcome::Ok, v));
        assert!(response[0].inv.purpose.by_server(), "no session of the client's saw it");
    }

    #[test]
    fn a_store_that_never_persists_ends_the_stream_with_an_error_after_the_timeout() {
        let (mut sim, _, _) = completion();
        store_answers(&mut sim, 1, Status::Ok);
        run(&mut sim, ms(21 + 10_000));
        let got = received(&sim, CLIENT);
        assert_eq!(
            got.last().map(String::as_str),
            Some(format!("{} end {}", 21 + 10_000, VersionId::ROOT).as_str())
        );
        let response = responses(&sim);
        assert_eq!(response.len(), 1);
        assert_eq!(response[0].outcome, Outcome::Unknown);
    }

    #[test]
    fn a_refused_message_is_answered_and_streams_nothing() {
        let (mut sim, _, _) = completion();
        store_answers(&mut sim, 1, Status::Rejected);
        run(&mut sim, ms(100));
        assert_eq!(received(&sim, CLIENT), ["1 Rejected reply"]);
        assert!(responses(&sim).is_empty());
    }
}
