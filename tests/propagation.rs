//! Propagation times every edit's arrival at every other editor's page, so a slower
//! design can never score better: a sweep of the polling interval gives propagation
//! figures that only grow. (Timing only the pushed version, a 10 s poll once reported
//! fewer late edits than a 2 s poll: the edits bundled into a push went untimed.)

mod common;

use std::path::Path;

use archsim::report::Summary;

fn propagation(every: &str) -> (u64, u64, [u64; 3]) {
    let set = format!("api.propagation=poll(every: \"{every}\")");
    let path = Path::new("scenarios/editor_polling_propagation.ron");
    let scenario = common::load(path, &[&set]);
    let summary = Summary::new(&scenario, &common::run(&scenario), None);
    let c = &summary.checks["propagation"].report;
    let f = |k: &str| c.figures[k];
    (c.violations, c.checked, [f("p50_ns"), f("p99_ns"), f("max_ns")])
}

#[test]
fn a_longer_polling_interval_never_gives_better_propagation() {
    let intervals = ["250ms", "500ms", "1s", "2s", "5s", "10s"];
    let runs: Vec<_> = intervals.iter().map(|e| propagation(e)).collect();
    for (pair, runs) in intervals.windows(2).zip(runs.windows(2)) {
        let ((late_a, _, figs_a), (late_b, _, figs_b)) = (runs[0], runs[1]);
        assert!(late_a <= late_b, "{pair:?}: {late_a} then {late_b} late edits");
        for (a, b) in figs_a.iter().zip(&figs_b) {
            assert!(a <= b, "{pair:?}: p50/p99/max {figs_a:?} then {figs_b:?}");
        }
    }
    // Every edit is timed at each of its document's four other editors, whatever the
    // interval: 40 editors write about 4,035 edits (16,140 arrivals), less the last
    // edits of the run that no page showed in time.
    for (every, (_, arrivals, _)) in intervals.iter().zip(&runs) {
        assert!((15_500..=16_140).contains(arrivals), "{every}: {arrivals} arrivals");
    }
}
