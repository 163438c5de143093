//! A model's `regions` and `region_latency`: every region named, every pair of regions
//! given a latency, every component placed once (or spanning regions of its own).

use std::collections::BTreeMap;

use super::error::did_you_mean;
use super::raw::RawModel;
use super::validate::Checker;
use crate::model::{ComponentSpec, Regions};

/// The model's regions, with every problem reported through `c`.
pub(super) fn regions(
    c: &mut Checker<'_>,
    raw: &RawModel,
    components: &[ComponentSpec],
) -> Regions {
    let mut regions = Regions::new(raw.regions.keys().cloned().collect());
    if regions.is_empty() && !raw.region_latency.is_empty() {
        let msg = "`region_latency` without `regions`: there is nothing to connect".to_string();
        let hint = r#"declare them: regions: {"us": ["db_us"], "eu": ["db_eu"]}"#;
        c.error(&["region_latency"], msg, Some(hint.into()));
    }
    for name in raw.regions.keys().filter(|n| n.is_empty() || n.contains(['.', '/'])) {
        let msg = format!("region name {name:?} must be non-empty, without `.` or `/`");
        c.error(&["regions", name], msg, None);
    }
    latencies(c, raw, &mut regions);
    placements(c, raw, components, &mut regions);
    regions
}

/// Sets each pair's latency; refuses unknown regions, a region paired with itself, a
/// pair given twice and a pair left out.
fn latencies(c: &mut Checker<'_>, raw: &RawModel, regions: &mut Regions) {
    let mut given: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for (i, (a, b, latency)) in raw.region_latency.iter().enumerate() {
        let index = i.to_string();
        let latency = c.dist(&["region_latency", &index, "2"], latency);
        let ends = [a, b].map(|name| regions.index(name));
        for (end, name) in ends.iter().zip([a, b]) {
            if end.is_none() {
                let at = ["region_latency", &index, if name == a { "0" } else { "1" }];
                undefined_region(c, &at, name, raw.regions.keys().map(String::as_str));
            }
        }
        let [Some(x), Some(y)] = ends else { continue };
        if x == y {
            let msg = format!(
                "a latency from region `{a}` to itself: within a region, links take their own"
            );
            c.error(&["region_latency", &index], msg, Some("remove the entry".into()));
        } else if let Some(&first) = given.get(&(x.min(y), x.max(y))) {
            let msg = format!("the latency between `{a}` and `{b}` is given twice");
            let (first, hint) = (first.to_string(), "keep one of the entries");
            let first = ["region_latency", &first];
            c.error_also(&["region_latency", &index], msg, hint, &first, "first given here");
        } else {
            given.insert((x.min(y), x.max(y)), i);
            regions.set_latency(x, y, latency);
        }
    }
    let names = &regions.names;
    for x in 0..names.len() {
        for y in x + 1..names.len() {
            if !given.contains_key(&(x, y)) {
                let (a, b) = (&names[x], &names[y]);
                let msg = format!("no latency between regions `{a}` and `{b}`");
                let hint = format!(r#"add ("{a}", "{b}", const("40ms")) to `region_latency`"#);
                c.error(&["regions"], msg, Some(hint));
            }
        }
    }
}

/// Places each listed component; refuses an unknown one, one placed twice, one that
/// spans regions of its own, and (with regions declared) one placed nowhere.
fn placements(
    c: &mut Checker<'_>,
    raw: &RawModel,
    components: &[ComponentSpec],
    regions: &mut Regions,
) {
    let names = || raw.components.keys().map(String::as_str);
    // `Regions::new` took the names in the map's order: the index is the position.
    for (r, (region, listed)) in raw.regions.iter().enumerate() {
        for (i, name) in listed.iter().enumerate() {
            let at = ["regions", region.as_str(), &i.to_string()];
            match components.iter().find(|s| &s.name == name) {
                None => {
                    let msg = format!("region `{region}` lists `{name}`: no such component");
                    c.error(&at, msg, did_you_mean(name, names()));
                }
                Some(_) if regions.of(name).is_some() => {
                    let msg = format!("`{name}` is listed in two regions; a component sits in one");
                    c.error(&at, msg, Some("list it once".into()));
                }
                Some(spec) if !spec.contract().regions.is_empty() => {
                    let msg = format!(
                        "`{name}` sits in the regions of its own settings, not in one region"
                    );
                    c.error(&at, msg, Some(format!("remove `{name}` from the list")));
                }
                Some(_) => regions.place(name, r),
            }
        }
    }
    for spec in components {
        let contract = spec.contract();
        let spans = &contract.regions;
        for (i, region) in spans.iter().enumerate().filter(|(_, r)| regions.index(r).is_none()) {
            let msg =
                format!("`{}` is in region `{region}`, which `regions` does not define", spec.name);
            let hint = format!(r#"add `"{region}": []` to the model's `regions`"#);
            let index = i.to_string();
            let at = ["components", &spec.name, contract.regions_field, &index];
            c.error(&at, msg, Some(hint));
        }
        if !regions.is_empty() && spans.is_empty() && regions.of(&spec.name).is_none() {
            let msg = format!(
                "`{}` sits in no region: with `regions` declared, every component sits in one",
                spec.name
            );
            let first = &regions.names[0];
            let hint = format!(
                r#"add "{}" to a region's list, e.g. "{first}": [..., "{}"]"#,
                spec.name, spec.name
            );
            c.error(&["components", &spec.name], msg, Some(hint));
        }
    }
}

/// Reports `name` at `at` as a region the model does not define.
pub(super) fn undefined_region<'a>(
    c: &mut Checker<'_>,
    at: &[&str],
    name: &str,
    known: impl IntoIterator<Item = &'a str>,
) {
    let msg = format!("region `{name}` is not defined");
    let hint = did_you_mean(name, known)
        .unwrap_or_else(|| format!(r#"declare it in the model: regions: {{"{name}": [...]}}"#));
    c.error(at, msg, Some(hint));
}
