//! Validation of a scenario's objectives: windows inside the run, shares in range,
//! operations the report has rows for, components that have a utilisation.

use super::error::did_you_mean;
use super::raw::RawObjective;
use super::validate::Checker;
use crate::components::{kinds, purposes};
use crate::engine::SimDuration;
use crate::model::contract::FaultKind;
use crate::model::{Model, Objective};

/// The objectives of `raw`, each checked; `None` for one that is refused.
pub fn objectives(
    c: &mut Checker<'_>,
    raw: &[RawObjective],
    model: &Model,
    duration: SimDuration,
) -> Vec<Objective> {
    raw.iter()
        .enumerate()
        .filter_map(|(i, o)| objective(c, &["objectives", &i.to_string()], o, model, duration))
        .collect()
}

fn objective(
    c: &mut Checker<'_>,
    path: &[&str],
    raw: &RawObjective,
    model: &Model,
    duration: SimDuration,
) -> Option<Objective> {
    let field = |name: &'static str| [path, &[name]].concat();
    let share = |c: &mut Checker<'_>, name: &'static str, x: f64, zero: bool| {
        let low_ok = if zero { x >= 0.0 } else { x > 0.0 };
        if !x.is_finite() || !low_ok || x > 1.0 {
            let range = if zero { "[0, 1]" } else { "(0, 1]" };
            c.error(&field(name), format!("`{name}` is a share in {range}, found {x}"), None);
        }
    };
    Some(match raw {
        RawObjective::Goodput { after, at_least } => {
            share(c, "at_least", *at_least, false);
            let after = after.map_or(SimDuration::ZERO, |d| d.0);
            if after >= duration {
                let msg = "`after` must fall inside the run's duration".to_string();
                c.error(&field("after"), msg, None);
            }
            Objective::Goodput { after, at_least: *at_least }
        }
        RawObjective::P99 { operation, below } => {
            let names = purposes::ROWS.iter().map(|r| r.name);
            if !names.clone().any(|n| n == operation) {
                let msg = format!("no operation `{operation}` in the report");
                c.error(&field("operation"), msg, did_you_mean(operation, names));
                return None;
            }
            Objective::P99 { operation: operation.clone(), below: below.0 }
        }
        RawObjective::Utilisation { component, below } => {
            share(c, "below", *below, false);
            let measured =
                |n: &&str| kinds::check_fault_target(model, n, FaultKind::Slowdown).is_ok();
            let names: Vec<&str> = model.components.iter().map(|s| s.name.as_str()).collect();
            if !measured(&component.as_str()) {
                let with: Vec<&str> = names.iter().copied().filter(measured).collect();
                let msg = format!(
                    "`{component}` has no utilisation: only a component with `capacity` has \
                     workers to keep busy"
                );
                let hint = did_you_mean(component, with.iter().copied())
                    .or_else(|| Some(format!("components with capacity: {}", with.join(", "))));
                c.error(&field("component"), msg, hint);
                return None;
            }
            Objective::Utilisation { component: component.clone(), below: *below }
        }
        RawObjective::StaleShare { below } => {
            share(c, "below", *below, true);
            Objective::StaleShare { below: *below }
        }
    })
}
