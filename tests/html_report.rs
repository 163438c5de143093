//! `--html`: the report files themselves, without a browser (tests/browser.rs loads
//! them in Chromium): self-contained, with the verdicts, stories and diagrams of the
//! run, and never half-written.

mod common;

use std::path::Path;

fn report(args: &[&str], name: &str) -> String {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html_report");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    let run = common::archsim(&[args, &["--html", path.to_str().unwrap()]].concat());
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    std::fs::read_to_string(&path).unwrap()
}

#[test]
fn the_run_report_holds_verdicts_stories_and_diagrams_and_fetches_nothing() {
    let html = report(&["run", "scenarios/refresh_resubmit_overwrite.ron"], "overwrite.html");
    for fetch in ["<script", "<link", "src=", "@import", "url(http", "href=\"http"] {
        assert!(!html.contains(fetch), "the report would fetch: {fetch}");
    }
    assert!(html.contains("<span class=\"badge violated\">violated</span>"));
    assert!(html.contains("<a href=\"#story-lost_acknowledged_write\">"));
    assert!(html.contains("<h3 id=\"story-lost_acknowledged_write\">"));
    let diagrams =
        html.matches("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"sequence\"").count();
    let stories = html.matches("<ol class=\"story\">").count();
    assert!(diagrams >= 1 && diagrams <= stories, "{diagrams} diagrams, {stories} stories");
    assert!(html.contains("Every verdict is as the scenario expects."));
}

#[test]
fn faults_appear_on_the_timeline_at_their_firing() {
    let html = report(&["run", "scenarios/failover_lagging_replica.ron"], "failover.html");
    let start = html.find("class=\"timeline\"").expect("a timeline");
    let timeline = &html[start..start + html[start..].find("</svg>").unwrap()];
    assert!(timeline.contains("failover of db to"), "the failover is not on the timeline");
    // The failover is an instant: one diamond where the driver fired it.
    assert_eq!(timeline.matches("<path d=\"M").count(), 1, "{timeline}");
}

#[test]
fn the_timeline_fits_where_its_faults_and_stories_are_and_says_so() {
    // The tutorial's crash at 1m of a 2m run, and stories within seconds of it.
    let args = ["run", "docs/tutorial/cart_crash.ron", "--seeds", "1"];
    let html = report(&args, "cart_crash.html");
    let start = html.find("class=\"timeline\"").expect("a timeline");
    let timeline = &html[start..start + html[start..].find("</figure>").unwrap()];
    let ticks: Vec<&str> = timeline
        .split("fill=\"#5b6475\">")
        .skip(1)
        .filter_map(|t| t.split('<').next())
        .filter(|t| t.ends_with('s'))
        .collect();
    assert_eq!(ticks.first(), Some(&"56s"), "{ticks:?}");
    assert_eq!(ticks.last(), Some(&"68s"), "{ticks:?}");
    let caption = "Each fault&#39;s firings (each diamond is an instant) and each violated \
                   checker&#39;s shortest story, from its first to its decisive event. Shown \
                   from 56s to 68s of the run&#39;s 2m: nothing else is marked.";
    assert!(timeline.contains(caption), "{timeline}");
}

#[test]
fn a_report_that_cannot_be_written_leaves_no_file_and_exits_2() {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-dir/report.html");
    let args = ["run", "scenarios/stale_read_primary.ron", "--html", path.to_str().unwrap()];
    let run = common::archsim(&args);
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("cannot write output"), "{err}");
    assert!(!path.exists());
}

#[test]
fn a_log_run_charts_its_consumer_lag_and_shows_no_client_operations() {
    let html = report(&["run", "scenarios/log_slow_consumer.ron", "--seeds", "1"], "log.html");
    assert!(html.contains("consumer lag over time"), "no lag chart");
    assert!(html.contains("append to processing: cumulative distribution"));
    assert!(!html.contains("id=\"operations\""), "a run without clients lists no operations");
    assert!(!html.contains("No request between"), "a log story has nothing to draw");
}

#[test]
fn a_run_with_clients_charts_load_goodput_and_p99_over_time_with_the_fault_shaded() {
    let html = report(&["run", "scenarios/retry_storm.ron", "--seeds", "1"], "storm.html");
    assert!(html.contains("load and goodput over time"), "no load chart");
    assert!(html.contains("p99 latency over time"), "no latency chart");
    // The slowdown's window is drawn and named in both charts' legends.
    assert!(html.matches("api service times ×3 for 10s").count() >= 2, "no shaded fault");
    assert!(html.contains("MISSED: goodput after 1m"), "the objective's story");
}

/// The README's and the book's picture of a run over time: `retry_storm`'s load and goodput, drawn as
/// the HTML report draws it. `UPDATE_ASSETS=1` redraws `assets/charts/retry_storm_timeline.png`.
#[test]
fn the_readme_timeline_chart_is_drawn_from_the_run() {
    use archsim::html::timeline_charts;
    use archsim::report::timeline::TimelineSummary;
    let scenario = common::load(Path::new("scenarios/retry_storm.ron"), &["seeds=1"]);
    let outcome = common::run(&scenario);
    let timeline = TimelineSummary::of(&outcome, scenario.duration);
    let fault = (20.0, 30.0, "api service times ×3 for 10s".to_string());
    let figures = timeline_charts::figures(&timeline, &[fault]);
    let (rates, _) = &figures[0];
    assert_eq!(rates.series.len(), 3);
    let png = common::root().join("assets/charts/retry_storm_timeline.png");
    if std::env::var_os("UPDATE_ASSETS").is_some() {
        rates.png(&png).unwrap();
    }
    assert!(png.exists(), "run with UPDATE_ASSETS=1 to draw {}", png.display());
}
