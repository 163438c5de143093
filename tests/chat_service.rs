//! The chat seed's create → title (202) flow written with the generic service matches
//! the chat server's figures: the same workflow on `models/chat_service.ron` and on
//! `models/chat_eventual_reads.ron`, 20 seeds each, gives means of the create, title
//! and title_job rows equal within four standard errors of their difference (each
//! error estimated from the seeds' means), and the title always answered 202.

mod common;

use std::path::Path;

use archsim::model::Scenario;

/// The mean latency of row `row`, ms, on each of 20 seeds of `scenario`.
fn means(scenario: &Scenario, row: &str) -> Vec<f64> {
    (1..=20)
        .map(|seed| {
            let mut s = scenario.clone();
            s.seed = seed;
            let outcome = common::run(&s);
            let stats = outcome.history.stats(row).expect("row");
            assert_eq!(stats.unknown + stats.refused + stats.rejected, 0, "{row}");
            stats.latency.mean() as f64 / 1e6
        })
        .collect()
}

#[test]
fn the_generic_service_matches_the_chat_server_on_create_and_title() {
    let service = common::load(Path::new("scenarios/chat_service_create_title.ron"), &[]);
    let server =
        common::load(Path::new("tests/chat_service_input/chat_server_create_title.ron"), &[]);
    for row in ["create", "title", "title_job"] {
        let (a, ea) = common::mean_and_error(&means(&service, row));
        let (b, eb) = common::mean_and_error(&means(&server, row));
        let tolerance = 4.0 * (ea * ea + eb * eb).sqrt();
        eprintln!("{row}: service {a:.2} ± {ea:.2} ms, chat server {b:.2} ± {eb:.2} ms");
        assert!((a - b).abs() < tolerance, "{row}: {a:.2} vs {b:.2} ± {tolerance:.2} ms");
    }
}
