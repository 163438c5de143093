//! What `pause`, `packet_loss` and a clock jump on one client do, measured:
//!
//! - a paused component handles nothing: no read completes while the API is paused
//!   but those whose replies were already on their way, and what waited is served
//!   when it resumes;
//! - a link losing a share s of its messages each way fails a try whose request or
//!   reply is lost: 1 - (1 - s)² = 75% at s = 0.5, so a quarter of the tries sent in
//!   the lossy minute succeed (about 6 000 tries: within 0.025, four binomial standard
//!   deviations);
//! - `clock_jump(target: "client/3")` moves that client's clock alone, and
//!   `clock_drift(target: "client/4", ppm: 1000)` makes that one run a millisecond fast
//!   every second.

mod common;

use std::path::Path;

use archsim::report::Summary;

#[test]
fn a_pause_stops_a_component_a_lossy_link_fails_tries_and_one_clock_moves_alone() {
    let scenario = common::load(Path::new("tests/resilience_input/pause_and_loss.ron"), &[]);
    let outcome = common::run_keeping_ops(&scenario);
    let summary = Summary::new(&scenario, &outcome, None);
    let t = summary.timeline.as_ref().expect("a timeline");
    // Replies already on their way at 10 s still arrive; nothing else does.
    assert_eq!(&t.ok[11..13], &[0, 0], "reads completed while the API was paused");
    assert!(t.ok[10] * 20 < t.ok[9], "{:?}", &t.ok[8..15]);
    assert!(t.ok[13] > t.ok[9], "the reads that waited are served at once: {:?}", &t.ok[8..15]);
    let offered: u64 = t.offered[25..75].iter().sum();
    let ok: u64 = t.ok[25..75].iter().sum();
    let share = ok as f64 / offered as f64;
    eprintln!("{ok} of {offered} tries succeeded over the lossy link: {share:.4}");
    assert!((share - 0.25).abs() < 0.025, "{share} of tries succeeded, theory 0.25");
    let ops = outcome.history.ops().expect("kept operations");
    for op in ops.iter().filter(|o| o.inv.client < 6) {
        let ahead = op.inv.stamp - op.inv.invoked.as_nanos() as i64;
        let want = match op.inv.client {
            3 => 2_000_000_000,
            4 => op.inv.invoked.as_nanos() as i64 / 1000,
            _ => 0,
        };
        assert_eq!(ahead, want, "client {}'s clock", op.inv.client);
    }
}
