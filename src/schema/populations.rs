//! The clients' populations: one from `count`, `region` and `entry`, or several from
//! `populations`, each with its own count, region, entry and (optionally) workflow.
//! Every region resolves, every population has exactly one way in, and every link the
//! model gives the clients is some population's way in.

use std::collections::BTreeSet;

use super::raw::{RawArrivals, RawClients, RawPopulation};
use super::regions::undefined_region;
use super::validate::{CLIENTS_MAX, Checker, check_program, steps};
use crate::components::kinds;
use crate::engine::SimDuration;
use crate::model::arrivals::RateSchedule;
use crate::model::shape::parse_rate;
use crate::model::{CLIENTS, Endpoint, Model, Population};

/// The populations, in client order.
pub(super) fn populations(c: &mut Checker<'_>, raw: &RawClients, model: &Model) -> Vec<Population> {
    let entries = entries(model);
    let mut all = if raw.populations.is_empty() {
        vec![single(c, raw, model, &entries)]
    } else {
        several(c, raw, model, &entries)
    };
    let used: BTreeSet<&str> = all.iter().filter_map(|p| p.entry.as_deref()).collect();
    if entries.len() > 1 && all.iter().all(|p| p.entry.is_some()) {
        for e in entries.iter().filter(|e| !used.contains(*e)) {
            let msg =
                format!("no population enters at `{e}`: its link from `{CLIENTS}` carries nothing");
            let hint = format!(r#"give a population `entry: "{e}"`, or remove the link"#);
            c.error(&["clients"], msg, Some(hint));
        }
    }
    let mut first = 0u32;
    for p in &mut all {
        p.first = first;
        first = first.saturating_add(p.count);
    }
    if first > CLIENTS_MAX {
        let msg = format!("the populations hold {first} clients; the limit is {CLIENTS_MAX}");
        c.error(&["clients", "populations"], msg, None);
    }
    all
}

/// The components the model's client links enter at (gates aside), in link order.
fn entries(model: &Model) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for l in model.links.iter().filter(|l| l.from == Endpoint::Clients) {
        if !kinds::is_gate(model, &l.to) && !out.contains(&l.to.as_str()) {
            out.push(&l.to);
        }
    }
    out
}

/// The one population of a scenario that names none.
fn single(c: &mut Checker<'_>, raw: &RawClients, model: &Model, entries: &[&str]) -> Population {
    let count = raw.count.unwrap_or_else(|| {
        let msg = "`clients` needs `count` (or `populations`)".to_string();
        c.error(&["clients"], msg, Some("e.g. clients: (count: 100, workflow: [write])".into()));
        1
    });
    check_count(c, &["clients", "count"], count);
    let at = Place { path: vec!["clients"], name: CLIENTS };
    let region = region(c, &at, raw.region.as_deref(), model);
    let entry = entry(c, &at, raw.entry.as_deref(), (entries, region, model));
    let arrivals = raw.arrivals.as_ref().map(|a| arrivals(c, &at.below("arrivals"), a));
    Population { name: CLIENTS.into(), first: 0, count, region, entry, workflow: None, arrivals }
}

/// The populations of `populations`, in name order.
fn several(
    c: &mut Checker<'_>,
    raw: &RawClients,
    model: &Model,
    entries: &[&str],
) -> Vec<Population> {
    for (field, given) in [
        ("count", raw.count.is_some()),
        ("region", raw.region.is_some()),
        ("entry", raw.entry.is_some()),
        ("arrivals", raw.arrivals.is_some()),
    ] {
        if given {
            let msg = format!("with `populations`, each population gives its own `{field}`");
            c.error(&["clients", field], msg, Some(format!("move `{field}` into the populations")));
        }
    }
    raw.populations.iter().map(|(name, p)| population(c, name, p, model, entries)).collect()
}

fn population(
    c: &mut Checker<'_>,
    name: &str,
    raw: &RawPopulation,
    model: &Model,
    entries: &[&str],
) -> Population {
    let at = Place { path: vec!["clients", "populations", name], name };
    if name.is_empty() || name.contains(['.', '/']) {
        let msg = format!("population name {name:?} must be non-empty, without `.` or `/`");
        c.error(&at.path, msg, None);
    }
    check_count(c, &at.below("count"), raw.count);
    let region = region(c, &at, raw.region.as_deref(), model);
    let entry = entry(c, &at, raw.entry.as_deref(), (entries, region, model));
    let workflow = raw.workflow.as_ref().map(|w| {
        let steps = steps(c, &at.below("workflow"), w, 0);
        check_program(c, &at.below("workflow"), &steps);
        steps
    });
    let arrivals = raw.arrivals.as_ref().map(|a| arrivals(c, &at.below("arrivals"), a));
    let count = raw.count;
    Population { name: name.to_string(), first: 0, count, region, entry, workflow, arrivals }
}

/// Where a population sits in the file, and what messages call it.
struct Place<'a> {
    path: Vec<&'a str>,
    name: &'a str,
}

impl<'a> Place<'a> {
    fn below(&self, field: &'a str) -> Vec<&'a str> {
        self.path.iter().copied().chain([field]).collect()
    }
}

fn check_count(c: &mut Checker<'_>, path: &[&str], count: u32) {
    if count == 0 || count > CLIENTS_MAX {
        let msg = format!("`count` must be between 1 and {CLIENTS_MAX}, found {count}");
        c.error(path, msg, None);
    }
}

/// The region's index; with regions declared, every population needs one.
fn region(c: &mut Checker<'_>, at: &Place<'_>, name: Option<&str>, model: &Model) -> Option<usize> {
    let regions = &model.regions;
    match name {
        Some(name) => {
            let index = regions.index(name);
            if index.is_none() {
                let known = regions.names.iter().map(String::as_str);
                undefined_region(c, &at.below("region"), name, known);
            }
            index
        }
        None if !regions.is_empty() => {
            let msg = format!(
                "`{}` sits in no region: with `regions` declared in the model, clients sit in one",
                at.name
            );
            let hint = format!(r#"add `region: "{}"`"#, regions.names[0]);
            c.error(&at.path, msg, Some(hint));
            None
        }
        None => None,
    }
}

/// The component the population enters at: the one named, which a client link must
/// reach, or the model's only entry. The hint for a missing one suggests an entry in
/// the population's region.
fn entry(
    c: &mut Checker<'_>,
    at: &Place<'_>,
    name: Option<&str>,
    (entries, region, model): (&[&str], Option<usize>, &Model),
) -> Option<String> {
    match name {
        Some(e) if entries.contains(&e) => Some(e.to_string()),
        Some(e) => {
            let msg = format!(
                "`{}` enters at `{e}`, but no link goes from `{CLIENTS}` to `{e}`",
                at.name
            );
            let hint =
                format!(r#"add (from: "{CLIENTS}", to: "{e}", latency: exp("10ms")) to the model"#);
            c.error(&at.below("entry"), msg, Some(hint));
            None
        }
        None if entries.len() > 1 => {
            let msg = format!(
                "`{}` has no entry link: the model's clients enter at {}; say which with `entry`",
                at.name,
                entries.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(" or ")
            );
            let local = entries.iter().find(|e| region.is_some() && model.regions.of(e) == region);
            let suggested = local.unwrap_or(&entries[0]);
            c.error(&at.path, msg, Some(format!(r#"add `entry: "{suggested}"`"#)));
            None
        }
        None => entries.first().map(|e| e.to_string()),
    }
}

/// An open population's arrival schedule: rates are `N/unit` strings, at least one
/// arrival a day at the peak, a sine's swing no larger than its mean, steps starting at
/// 0 in time order.
fn arrivals(c: &mut Checker<'_>, path: &[&str], raw: &RawArrivals) -> RateSchedule {
    let rate = |c: &mut Checker<'_>, field: &[&str], text: &str| -> f64 {
        let at: Vec<&str> = path.iter().chain(field).copied().collect();
        match parse_rate(text) {
            Ok(gap) => 1e9 / gap.as_nanos().max(1) as f64,
            Err(msg) => {
                c.error(&at, msg, Some(r#"e.g. "800/s""#.into()));
                0.0
            }
        }
    };
    let schedule = match raw {
        RawArrivals::Poisson(r) => RateSchedule::Constant(rate(c, &[], r)),
        RawArrivals::Steps(steps) => {
            let parsed: Vec<(SimDuration, f64)> = (steps.iter().enumerate())
                .map(|(i, (at, r))| (at.0, rate(c, &[&i.to_string(), "1"], r)))
                .collect();
            let ordered = parsed.windows(2).all(|w| w[0].0 < w[1].0);
            if parsed.first().is_none_or(|s| s.0 != SimDuration::ZERO) || !ordered {
                let msg = "`steps` start at \"0s\" and go forward in time".to_string();
                c.error(path, msg, Some(r#"steps([("0s", "200/s"), ("30s", "900/s")])"#.into()));
            }
            RateSchedule::Steps(parsed)
        }
        RawArrivals::Ramp { from, to, over } => RateSchedule::Ramp {
            from: rate(c, &["from"], from),
            to: rate(c, &["to"], to),
            over: over.0,
        },
        RawArrivals::Sine { mean, amplitude, period } => {
            let (mean, amplitude) = (rate(c, &["mean"], mean), rate(c, &["amplitude"], amplitude));
            if amplitude > mean {
                let msg = "`amplitude` above `mean` would make the rate negative".to_string();
                let at: Vec<&str> = path.iter().copied().chain(["amplitude"]).collect();
                c.error(&at, msg, Some("an amplitude at most the mean".into()));
            }
            RateSchedule::Sine { mean, amplitude, period: period.0 }
        }
        RawArrivals::Bursts { base, peak, every, lasting } => {
            if lasting.0 >= every.0 {
                let msg = "a burst lasts less than the time from one to the next".to_string();
                let at: Vec<&str> = path.iter().copied().chain(["for"]).collect();
                c.error(&at, msg, None);
            }
            RateSchedule::Bursts {
                base: rate(c, &["base"], base),
                peak: rate(c, &["peak"], peak),
                every: every.0,
                lasting: lasting.0,
            }
        }
    };
    if schedule.max() * 86_400.0 < 1.0 {
        let msg = "arrivals at this rate would never come (at most one a day)".to_string();
        c.error(path, msg, Some(r#"e.g. poisson("100/s")"#.into()));
    }
    schedule
}
