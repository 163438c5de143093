//! Validation of a scenario's experiment settings against its model: faults (targets
//! that exist, one of `at` or `rate`, times inside the run), the checkers to run, and
//! the verdicts it expects.

use super::error::{Diagnostic, did_you_mean};

use super::raw::{Dur, RawCheck, RawExpect, RawFault, RawPromote, RawScenario};
use super::validate::{Checker, Locator};
use crate::check::{CheckSpec, Verdict};
use crate::components::kinds;
use crate::components::store::StoreSpec;
use crate::engine::SimDuration;
use crate::model::architecture::CLIENTS;
use crate::model::contract::{Contract, FaultKind, Serves};
use crate::model::shape;
use crate::model::swarm::{SwarmFault, same_shape};
use crate::model::{
    ClientsSpec, ComponentSpec, Endpoint, Expectation, FaultAction, FaultSpec, FaultTime, Model,
    Promote,
};

/// The validated experiment settings.
pub struct Experiment {
    /// Faults.
    pub faults: Vec<FaultSpec>,
    /// Faults each seed may draw.
    pub swarm: Vec<SwarmFault>,
    /// Checkers.
    pub checks: Vec<CheckSpec>,
    /// Expected verdicts.
    pub expect: Vec<Expectation>,
    /// Figures the run must meet.
    pub objectives: Vec<crate::model::Objective>,
}

/// Checks faults, checkers and expectations of `raw` against `model`.
pub fn experiment(
    raw: &RawScenario,
    model: &Model,
    clients: &ClientsSpec,
    at: Locator<'_>,
) -> Result<Experiment, Vec<Diagnostic>> {
    let mut c = Checker { at, errors: Vec::new() };
    let duration = raw.duration.0;
    let faults: Vec<FaultSpec> = raw
        .faults
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            fault(&mut c, (model, clients), duration, &["faults", &i.to_string()], f)
        })
        .collect();
    let swarm = swarm(&mut c, raw, (model, clients), duration);
    let drawable = swarm.iter().map(|s| &s.from);
    let loses_requests = faults.iter().chain(drawable).any(|f| {
        matches!(
            f.action,
            FaultAction::Crash { .. }
                | FaultAction::Partition { .. }
                | FaultAction::Disconnect { .. }
                | FaultAction::DisconnectMidStream { .. }
        )
    });
    if loses_requests && clients.count > 0 && clients.timeout.is_none() {
        let msg = "faults drop requests but clients have no `timeout`: they would wait forever"
            .to_string();
        c.error(&["clients"], msg, Some(r#"add `timeout: "1s"` to `clients`"#.into()));
    }
    let checks = checks(raw);
    bounds_without_their_checker(&mut c, raw, &checks);
    let objectives = super::objectives::objectives(&mut c, &raw.objectives, model, duration);
    if let Some(d) = raw.timeline_interval.filter(|d| d.0.as_nanos() < 1_000_000 || d.0 > duration)
    {
        let msg = format!(
            "`timeline_interval` must be between 1ms and the run's duration, found {}",
            crate::engine::time::format_nanos(d.0.as_nanos())
        );
        c.error(&["timeline_interval"], msg, Some(r#"e.g. timeline_interval: "10s""#.into()));
    }
    if raw.objectives.is_empty() && checks.contains(&CheckSpec::Objectives) {
        let msg = "`objectives` judges the scenario's objectives, and it declares none".into();
        let hint = Some(r#"add `objectives: [goodput(after: "30s", at_least: 0.9)]`"#.into());
        c.error(&["check"], msg, hint);
    }
    let expect = expectations(&mut c, raw, &checks);
    if c.errors.is_empty() {
        Ok(Experiment { faults, swarm, checks, expect, objectives })
    } else {
        Err(c.errors)
    }
}

/// Bounds of the checkers that take one: staleness, propagation.
#[derive(Debug, Clone, Copy, Default)]
struct Bounds {
    staleness: Option<SimDuration>,
    propagation: Option<SimDuration>,
    revocation: Option<SimDuration>,
    coherence: Option<SimDuration>,
    at_least_once: bool,
    processing: Option<SimDuration>,
}

fn spec(r: RawCheck, bounds: Bounds) -> CheckSpec {
    match r {
        RawCheck::LostAcknowledgedWrite => CheckSpec::LostAcknowledgedWrite,
        RawCheck::ReadYourWrites => CheckSpec::ReadYourWrites,
        RawCheck::MonotonicReads => CheckSpec::MonotonicReads,
        RawCheck::MonotonicWrites => CheckSpec::MonotonicWrites,
        RawCheck::WritesFollowReads => CheckSpec::WritesFollowReads,
        RawCheck::Convergence => CheckSpec::Convergence,
        RawCheck::Duplicates => CheckSpec::Duplicates,
        RawCheck::BoundedStaleness => CheckSpec::BoundedStaleness(bounds.staleness),
        RawCheck::StreamCompleteness => CheckSpec::StreamCompleteness,
        RawCheck::Propagation => CheckSpec::Propagation(bounds.propagation),
        RawCheck::SessionContinuity => CheckSpec::SessionContinuity,
        RawCheck::Authorization => CheckSpec::Authorization(bounds.revocation),
        RawCheck::SplitBrain => CheckSpec::SplitBrain,
        RawCheck::CacheCoherence => CheckSpec::CacheCoherence(bounds.coherence),
        RawCheck::Delivery => CheckSpec::Delivery { at_least_once: bounds.at_least_once },
        RawCheck::LostAcknowledgedMessage => CheckSpec::LostAcknowledgedMessage,
        RawCheck::PartitionOrder => CheckSpec::PartitionOrder,
        RawCheck::Processing => {
            CheckSpec::Processing { at_least_once: bounds.at_least_once, bound: bounds.processing }
        }
        RawCheck::Objectives => CheckSpec::Objectives,
    }
}

fn checks(raw: &RawScenario) -> Vec<CheckSpec> {
    let bounds = Bounds {
        staleness: raw.staleness_bound.map(|d| d.0),
        propagation: raw.propagation_bound.map(|d| d.0),
        revocation: raw.revocation_bound.map(|d| d.0),
        coherence: raw.coherence_bound.map(|d| d.0),
        at_least_once: raw.at_least_once,
        processing: raw.processing_bound.map(|d| d.0),
    };
    let mut list: Vec<CheckSpec> = match &raw.check {
        None => CheckSpec::ALL.to_vec(),
        Some(names) => names.iter().map(|&r| spec(r, bounds)).collect(),
    };
    for c in &mut list {
        match c {
            CheckSpec::BoundedStaleness(b) => *b = bounds.staleness,
            CheckSpec::Propagation(b) => *b = bounds.propagation,
            CheckSpec::Authorization(b) => *b = bounds.revocation,
            CheckSpec::CacheCoherence(b) => *b = bounds.coherence,
            CheckSpec::Delivery { at_least_once } => *at_least_once = bounds.at_least_once,
            CheckSpec::Processing { at_least_once, bound } => {
                (*at_least_once, *bound) = (bounds.at_least_once, bounds.processing);
            }
            _ => {}
        }
    }
    // Declared objectives are judged whichever checkers run.
    if !raw.objectives.is_empty() && !list.contains(&CheckSpec::Objectives) {
        list.push(CheckSpec::Objectives);
    }
    list.dedup();
    list
}

fn expectations(c: &mut Checker<'_>, raw: &RawScenario, checks: &[CheckSpec]) -> Vec<Expectation> {
    let names: Vec<&str> = checks.iter().map(|s| s.name()).collect();
    let mut out = Vec::new();
    for (&raw_name, e) in &raw.expect {
        let name = spec(raw_name, Bounds::default()).name();
        if !names.contains(&name) {
            let msg = format!("`{name}` is expected but not in `check`");
            let hint = Some("add it to `check: [...]`, or drop `check` to run all".to_string());
            c.error(&["expect", name], msg, hint);
            continue;
        }
        let (verdict, count) = match *e {
            RawExpect::Holds => (Verdict::Holds, None),
            RawExpect::Violated => (Verdict::Violated, None),
            RawExpect::Count(lo, hi) => {
                if lo > hi {
                    c.error(&["expect", name], format!("count({lo}, {hi}): low above high"), None);
                }
                (if hi == 0 { Verdict::Holds } else { Verdict::Violated }, Some((lo, hi)))
            }
        };
        if let Some(field) = unbounded(checks, name) {
            let msg = format!("`{name}` has no bound, so it can neither hold nor be violated");
            let hint = Some(format!("set `{field}`, e.g. `{field}: \"5s\"`"));
            c.error(&["expect", name], msg, hint);
            continue;
        }
        out.push(Expectation { check: name.to_string(), verdict, count });
    }
    out
}

/// Refuses a bound whose checker does not run (a `check` list without it): the bound
/// would change nothing.
fn bounds_without_their_checker(c: &mut Checker<'_>, raw: &RawScenario, checks: &[CheckSpec]) {
    let runs = |name: &str| checks.iter().any(|s| s.name() == name);
    let bounds: [(&str, bool, &[&str]); 6] = [
        ("staleness_bound", raw.staleness_bound.is_some(), &["bounded_staleness"]),
        ("propagation_bound", raw.propagation_bound.is_some(), &["propagation"]),
        ("revocation_bound", raw.revocation_bound.is_some(), &["authorization"]),
        ("coherence_bound", raw.coherence_bound.is_some(), &["cache_coherence"]),
        ("processing_bound", raw.processing_bound.is_some(), &["processing"]),
        ("at_least_once", raw.at_least_once, &["delivery", "processing"]),
    ];
    for (field, set, checkers) in bounds {
        if set && !checkers.iter().any(|&name| runs(name)) {
            let names = checkers.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" or ");
            let msg =
                format!("`{field}` is for {names}, which `check` leaves out: it would do nothing");
            let hint = format!("add {} to `check`, or remove `{field}`", names);
            c.error(&[field], msg, Some(hint));
        }
    }
}

/// The scenario field that would give checker `name` its bound, when `checks` run it
/// without one.
fn unbounded(checks: &[CheckSpec], name: &str) -> Option<&'static str> {
    checks.iter().find(|c| c.name() == name).and_then(|c| match c {
        CheckSpec::BoundedStaleness(None) => Some("staleness_bound"),
        CheckSpec::Propagation(None) => Some("propagation_bound"),
        CheckSpec::CacheCoherence(None) => Some("coherence_bound"),
        _ => None,
    })
}

/// How long after a stream's start a mid-stream disconnect may strike, by default: a
/// response of the chat seed streams for about 4 s.
pub const MID_STREAM_WITHIN: SimDuration = SimDuration(4_000_000_000);

/// Shortest mean gap between random faults: more often would flood the event queue.
pub const RATE_GAP_MIN: SimDuration = SimDuration(1_000_000);

/// Parses a fault's rate: `"1/10m"` (once every ten minutes on average), `"6/h"`; the
/// mean gap between strikes, at least `RATE_GAP_MIN`.
pub fn parse_rate(text: &str) -> Result<SimDuration, String> {
    let gap = shape::parse_rate(text)?;
    if gap < RATE_GAP_MIN {
        return Err(format!(
            "rate {text:?} is too high: faults at most once per {RATE_GAP_MIN} on average"
        ));
    }
    Ok(gap)
}

/// Parses a signed duration: `"-5s"` or `"5s"`, in ns.
pub fn parse_signed(text: &str) -> Result<i64, String> {
    let (sign, rest) = match text.trim().strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, text.trim().strip_prefix('+').unwrap_or(text.trim())),
    };
    let d = SimDuration::parse(rest)?;
    i64::try_from(d.as_nanos()).map(|ns| sign * ns).map_err(|_| format!("{text:?} is too large"))
}

fn when(
    c: &mut Checker<'_>,
    path: &[&str],
    at: Option<Dur>,
    rate: &Option<String>,
    duration: SimDuration,
) -> Option<FaultTime> {
    let field = |name| [path[0], path[1], name];
    match (at, rate) {
        (Some(a), None) if a.0 >= duration => {
            let msg = format!("`at` {} is not inside the run's duration {duration}", a.0);
            c.error(&field("at"), msg, None);
            None
        }
        (Some(a), None) => Some(FaultTime::At(a.0)),
        (None, Some(r)) => match parse_rate(r) {
            Ok(gap) => Some(FaultTime::Every(gap)),
            Err(msg) => {
                c.error(&field("rate"), msg, None);
                None
            }
        },
        _ => {
            let msg = "a fault needs exactly one of `at` (a time) or `rate` (e.g. \"1/10m\")";
            c.error(path, msg.to_string(), Some(r#"e.g. at: "2m""#.into()));
            None
        }
    }
}

/// Whether `target` names a component (or one instance, as `api/1`) whose kind takes
/// `fault`; if not, says so at `path` with the names that would.
fn fault_target<'m>(
    c: &mut Checker<'_>,
    model: &'m Model,
    path: &[&str],
    target: &str,
    fault: FaultKind,
) -> Option<&'m ComponentSpec> {
    match kinds::check_fault_target(model, target, fault) {
        Ok(spec) => Some(spec),
        Err((msg, takers)) => {
            c.error(path, msg, did_you_mean(target, takers));
            None
        }
    }
}

/// The swarm's faults: `from` and `to` each checked as a fault, and alike but for the
/// values a range spans.
fn swarm(
    c: &mut Checker<'_>,
    raw: &RawScenario,
    world: (&Model, &ClientsSpec),
    duration: SimDuration,
) -> Vec<SwarmFault> {
    let mut out = Vec::new();
    for (i, s) in raw.swarm.iter().enumerate() {
        let index = i.to_string();
        c.probability(&["swarm", &index, "chance"], "`chance`", s.chance);
        let from = fault(c, world, duration, &["swarm", &index, "from"], &s.from);
        let to = match &s.to {
            Some(to) => fault(c, world, duration, &["swarm", &index, "to"], to),
            None => from.clone(),
        };
        let (Some(from), Some(to)) = (from, to) else { continue };
        if !same_shape(&from, &to) {
            let msg = "`to` must be the same fault as `from` (kind, target, choices, `at` or \
                       `rate`) with other timings or strengths"
                .to_string();
            c.error(&["swarm", &index, "to"], msg, None);
            continue;
        }
        out.push(SwarmFault { chance: s.chance, from, to });
    }
    out
}

/// Refuses `replica: r` on a crash of `target` unless it has that replica.
fn crashed_replica(c: &mut Checker<'_>, path: &[&str], target: &str, contract: &Contract, r: u32) {
    let msg = match contract.replicas {
        0 if contract.serves != Serves::Data => {
            format!("`replica` names a store's replica, and `{target}` is a {}", contract.kind)
        }
        0 => format!("`{target}` has no replicas to crash"),
        n if r >= n => format!("`{target}` has replicas 0 to {}, not {r}", n - 1),
        _ => return,
    };
    c.error(path, msg, Some(format!("leave `replica` out to crash the {} itself", contract.kind)));
}

fn fault(
    c: &mut Checker<'_>,
    (model, clients): (&Model, &ClientsSpec),
    duration: SimDuration,
    path: &[&str],
    f: &RawFault,
) -> Option<FaultSpec> {
    let field = |name: &'static str| [path, &[name]].concat();
    let (at, rate) = match f {
        RawFault::Crash { at, rate, .. }
        | RawFault::Failover { at, rate, .. }
        | RawFault::Partition { at, rate, .. }
        | RawFault::LagSpike { at, rate, .. }
        | RawFault::Slowdown { at, rate, .. }
        | RawFault::Pause { at, rate, .. }
        | RawFault::ClockDrift { at, rate, .. }
        | RawFault::PacketLoss { at, rate, .. }
        | RawFault::Isolate { at, rate, .. }
        | RawFault::ClockJump { at, rate, .. }
        | RawFault::Disconnect { at, rate, .. }
        | RawFault::Revoke { at, rate, .. }
        | RawFault::StealTokens { at, rate, .. } => (*at, rate),
        // Armed once (at the start by default); each stream then draws its own chance.
        RawFault::DisconnectMidStream { at, .. } => {
            (Some(at.unwrap_or(Dur(SimDuration::ZERO))), &None)
        }
    };
    let when = when(c, path, at, rate, duration);
    let action = match f {
        RawFault::Crash { target, replica, restart_after, .. } => {
            let spec = fault_target(c, model, &field("target"), target, FaultKind::Crash)?;
            if let Some(r) = *replica {
                crashed_replica(c, &field("replica"), target, &spec.contract(), r);
            }
            let restart_after = restart_after.map(|d| d.0);
            FaultAction::Crash { target: target.clone(), replica: *replica, restart_after }
        }
        RawFault::Failover { target, promote, .. } => {
            let spec = fault_target(c, model, &field("target"), target, FaultKind::Failover)?;
            let replicas = spec.spec::<StoreSpec>().map_or(0, |s| s.replicas);
            let promote = match *promote {
                RawPromote::Freshest => Promote::Freshest,
                RawPromote::Random => Promote::Random,
                RawPromote::Replica(r) => {
                    if r >= replicas {
                        let msg = format!(
                            "`{target}` has replicas 0 to {}, not {r}",
                            replicas.saturating_sub(1)
                        );
                        c.error(&field("promote"), msg, None);
                    }
                    Promote::Chosen(r)
                }
            };
            FaultAction::Failover { target: target.clone(), promote }
        }
        RawFault::Partition { from, to, heal_after, .. } => {
            model_link(c, model, path, from, to);
            FaultAction::Partition {
                from: from.clone(),
                to: to.clone(),
                heal_after: heal_after.map(|d| d.0),
            }
        }
        RawFault::Isolate { target, heal_after, .. } => {
            fault_target(c, model, &field("target"), target, FaultKind::Isolate)?;
            FaultAction::Isolate { target: target.clone(), heal_after: heal_after.map(|d| d.0) }
        }
        RawFault::LagSpike { target, factor, lasting, .. } => {
            fault_target(c, model, &field("target"), target, FaultKind::LagSpike)?;
            if !factor.is_finite() || !(0.0..=1e6).contains(factor) {
                let msg = format!("`factor` must be between 0 and 1000000, found {factor}");
                c.error(&field("factor"), msg, None);
            }
            FaultAction::LagSpike { target: target.clone(), factor: *factor, lasting: lasting.0 }
        }
        RawFault::Slowdown { target, factor, lasting, .. } => {
            fault_target(c, model, &field("target"), target, FaultKind::Slowdown)?;
            if !factor.is_finite() || !(0.001..=1e6).contains(factor) || *factor == 1.0 {
                let msg = format!(
                    "`factor` multiplies service times: between 0.001 and 1000000, and not 1, \
                     found {factor}"
                );
                c.error(&field("factor"), msg, Some("e.g. factor: 3.0".into()));
            }
            FaultAction::Slowdown { target: target.clone(), factor: *factor, lasting: lasting.0 }
        }
        RawFault::Pause { target, lasting, .. } => {
            fault_target(c, model, &field("target"), target, FaultKind::Pause)?;
            FaultAction::Pause { target: target.clone(), lasting: lasting.0 }
        }
        RawFault::PacketLoss { from, to, share, lasting, .. } => {
            model_link(c, model, path, from, to);
            if !share.is_finite() || *share <= 0.0 || *share > 1.0 {
                let msg =
                    format!("`share` is the share of messages lost, in (0, 1], found {share}");
                c.error(&field("share"), msg, Some("e.g. share: 0.3".into()));
            }
            let (from, to) = (from.clone(), to.clone());
            FaultAction::PacketLoss { from, to, share: *share, lasting: lasting.0 }
        }
        RawFault::ClockDrift { target, ppm, .. } => {
            match target.strip_prefix("client/") {
                Some(n) => one_client(c, &field("target"), n, clients.count),
                None if target == CLIENTS => {}
                None => {
                    let msg = format!("`clock_drift` drifts clients' clocks, not `{target}`'s");
                    let hint = Some(r#""client" for every client, "client/3" for one"#.into());
                    c.error(&field("target"), msg, hint);
                }
            }
            if !ppm.is_finite() || ppm.abs() > 1e6 || *ppm == 0.0 {
                let msg =
                    format!("`ppm` must be between -1000000 and 1000000, and not 0, found {ppm}");
                c.error(&field("ppm"), msg, Some("e.g. ppm: 200".into()));
            }
            FaultAction::ClockDrift { target: target.clone(), ppm: *ppm }
        }
        RawFault::ClockJump { target, by, .. } => {
            if let Some(n) = target.strip_prefix("client/") {
                one_client(c, &field("target"), n, clients.count);
            } else if target != CLIENTS {
                fault_target(c, model, &field("target"), target, FaultKind::ClockJump)?;
            }
            let by_ns = match parse_signed(by) {
                Ok(ns) => ns,
                Err(msg) => {
                    c.error(&field("by"), msg, Some(r#"e.g. by: "-5s""#.into()));
                    0
                }
            };
            FaultAction::ClockJump { target: target.clone(), by_ns }
        }
        RawFault::Disconnect { share, lasting, .. } => {
            c.probability(&field("share"), "`share`", *share);
            FaultAction::Disconnect { share: *share, lasting: lasting.0 }
        }
        RawFault::Revoke { share, .. } | RawFault::StealTokens { share, .. } => {
            c.probability(&field("share"), "`share`", *share);
            if clients.auth.is_none() {
                let msg = "tokens are not modelled: the clients have no `auth`".to_string();
                let hint = Some(r#"add `auth: (token_ttl: "24h")` to `clients`"#.into());
                c.error(path, msg, hint);
            }
            match f {
                RawFault::Revoke { .. } => FaultAction::Revoke { share: *share },
                _ => FaultAction::StealTokens { share: *share },
            }
        }
        RawFault::DisconnectMidStream { chance, within, lasting, .. } => {
            c.probability(&field("chance"), "`chance`", *chance);
            let within = within.map_or(MID_STREAM_WITHIN, |d| d.0);
            let ms = |d: SimDuration| d.as_nanos() / 1_000_000;
            for (name, d) in [("within", within), ("for", lasting.0)] {
                if ms(d) == 0 || ms(d) > u64::from(u32::MAX) {
                    let msg = format!("`{name}` must be between 1ms and 49d, found {d}");
                    c.error(&field(name), msg, None);
                }
            }
            FaultAction::DisconnectMidStream { chance: *chance, within, lasting: lasting.0 }
        }
    };
    Some(FaultSpec { when: when?, action })
}

/// Refuses a fault on a link the model does not declare.
fn model_link(c: &mut Checker<'_>, model: &Model, path: &[&str], from: &str, to: &str) {
    let exists = model.links.iter().any(|l| {
        l.to == to
            && match &l.from {
                Endpoint::Clients => from == CLIENTS,
                Endpoint::Component(n) => n == from,
            }
    });
    if !exists {
        let msg = format!("the model has no link from `{from}` to `{to}`");
        c.error(path, msg, Some("name a link the model declares".into()));
    }
}

/// Refuses `client/N` unless N numbers a client.
fn one_client(c: &mut Checker<'_>, path: &[&str], n: &str, count: u32) {
    if n.parse::<u32>().is_ok_and(|n| n < count) {
        return;
    }
    let msg = format!(
        "`client/{n}` names no client: clients are numbered 0 to {}",
        count.saturating_sub(1)
    );
    c.error(path, msg, Some(r#"e.g. "client/0", or "client" for every client"#.into()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_signed_durations_parse() {
        assert_eq!(parse_rate("1/10m").unwrap(), SimDuration::from_secs(600));
        assert_eq!(parse_rate("6/h").unwrap(), SimDuration::from_secs(600));
        assert!(parse_rate("0/h").is_err() && parse_rate("fast").is_err());
        assert!(parse_rate("1/1ns").unwrap_err().contains("too high"));
        assert_eq!(parse_signed("-5s").unwrap(), -5_000_000_000);
        assert_eq!(parse_signed("250ms").unwrap(), 250_000_000);
        assert!(parse_signed("-x").is_err());
    }
}
