//! Regions and populations: a link between two regions takes the pair's latency on top
//! of its own, and each population's figures are reported beside the totals.

mod common;

use std::path::Path;

use archsim::report::Summary;

fn summary(path: &str) -> serde_json::Value {
    let scenario = common::load(Path::new(path), &[]);
    let outcome = common::run(&scenario);
    serde_json::from_str(&Summary::new(&scenario, &outcome, None).to_json()).expect("json")
}

#[test]
fn a_link_across_regions_takes_the_pairs_latency_both_ways() {
    // Links of const 5 ms: a write from `us` takes 10 ms, one from `eu` 2 × (5 + 40).
    let s = summary("tests/regions_input/one_leader_two_populations.ron");
    for (population, ms) in [("us", 10_000_000u64), ("eu", 90_000_000)] {
        let write = &s["populations"][population]["write"]["latency_ns"];
        assert_eq!(
            (write["p50"].as_u64(), write["max"].as_u64()),
            (Some(ms), Some(ms)),
            "{population}"
        );
    }
}

#[test]
fn each_populations_figures_add_up_to_the_totals() {
    let s = summary("scenarios/multi_leader_lww.ron");
    for row in ["write", "read"] {
        let total = s["operations"][row]["count"].as_u64().expect("a total");
        let parts: u64 = ["eu", "us"]
            .iter()
            .map(|p| s["populations"][p][row]["count"].as_u64().expect("a part"))
            .sum();
        assert_eq!(parts, total, "{row}");
    }
    let single = summary("scenarios/stale_read_refresh.ron");
    assert!(single.get("populations").is_none(), "one population adds nothing");
}

#[test]
fn region_latency_is_a_model_parameter_a_set_reaches() {
    let set = r#"region_latency=[("us", "eu", const("75ms"))]"#;
    let scenario = common::load(Path::new("scenarios/multi_leader_lww.ron"), &[set]);
    let regions = &scenario.model.regions;
    let between = regions.between(0, 1).map(archsim::engine::Dist::mean_ns);
    assert_eq!(between, Some(75e6));
    let overridden = scenario.overrides.iter().any(|o| o.starts_with("region_latency="));
    assert!(overridden, "{:?}", scenario.overrides);
}

#[test]
fn a_round_that_takes_time_only_between_regions_is_not_refused() {
    let s = summary("tests/regions_input/crossing_only.ron");
    let write = &s["operations"]["write"]["latency_ns"];
    assert_eq!(
        (write["p50"].as_u64(), write["max"].as_u64()),
        (Some(80_000_000), Some(80_000_000))
    );
}
