//! The HTML reports in a real browser: headless Chromium, driven over the DevTools
//! protocol, loads each report from disk with no network, must hear no console error,
//! exception or failed load, and must show the verdict table and the diagrams. A
//! broken page checks that the harness does hear errors. Without Chromium the tests
//! say so and pass, unless `ARCHSIM_REQUIRE_BROWSER` is set (`.ci/run` sets it once it
//! has installed Debian's `chromium`).

#[path = "browser/cdp.rs"]
mod cdp;
mod common;

use std::path::{Path, PathBuf};

use cdp::Browser;

fn chromium_or_skip() -> Option<PathBuf> {
    match cdp::find_chromium() {
        Some(path) => Some(path),
        None if std::env::var_os("ARCHSIM_REQUIRE_BROWSER").is_some() => {
            panic!("ARCHSIM_REQUIRE_BROWSER is set, but no chromium is on PATH")
        }
        None => {
            eprintln!(
                "skipping the browser test: no chromium on PATH (install Debian's `chromium`, \
                 or point ARCHSIM_CHROMIUM at a Chromium binary)"
            );
            None
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.canonicalize().unwrap().display())
}

/// Loads `page` and returns what the page says of itself, failing on any complaint.
fn open_clean(browser: &mut Browser, page: &Path) {
    browser.open(&file_url(page)).unwrap();
    let complaints = browser.complaints();
    assert!(complaints.errors.is_empty(), "{}: {:#?}", page.display(), complaints.errors);
    // Nothing fetched: the page and its images are all in the one file.
    let fetched = browser.eval("performance.getEntriesByType('resource').length").unwrap();
    assert_eq!(fetched, 0, "the report fetched resources");
}

/// Writes a full-page screenshot next to the page and checks it is a real PNG.
fn screenshot(browser: &mut Browser, page: &Path) -> PathBuf {
    let png = browser.screenshot(1280).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(png.len() > 50_000, "a {} byte screenshot is too small to show the report", png.len());
    let path = page.with_extension("png");
    std::fs::write(&path, png).unwrap();
    path
}

#[test]
fn the_run_report_renders_in_chromium_with_no_errors() {
    let Some(chromium) = chromium_or_skip() else { return };
    let dir = scratch("run");
    let page = dir.join("report.html");
    let page_arg = page.to_str().unwrap();
    let run = common::archsim(&["run", "scenarios/stale_read_refresh.ron", "--html", page_arg]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let mut browser = Browser::start(&chromium, &dir, "run").unwrap();
    open_clean(&mut browser, &page);
    let seen = browser
        .eval(
            "JSON.stringify({
                title: document.title,
                verdicts: [...document.querySelectorAll('#verdicts tbody tr')]
                    .map(r => [r.cells[0].innerText, r.cells[1].innerText]),
                diagrams: [...document.querySelectorAll('svg.sequence')]
                    .map(s => s.getBoundingClientRect().height),
                arrows: document.querySelectorAll('svg.sequence line[marker-end]').length,
                charts: document.querySelectorAll('#charts svg').length,
                timeline: document.querySelectorAll('svg.timeline').length,
            })",
        )
        .unwrap();
    let seen: serde_json::Value = serde_json::from_str(seen.as_str().unwrap()).unwrap();
    assert_eq!(seen["title"], "archsim: stale read on refresh, replica reads");
    let verdicts = seen["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), archsim::model::CheckSpec::ALL.len(), "{verdicts:?}");
    let lost = verdicts.iter().find(|v| v[0] == "lost_acknowledged_write").unwrap();
    assert_eq!(lost[1], "violated");
    let diagrams = seen["diagrams"].as_array().unwrap();
    assert!(!diagrams.is_empty(), "no sequence diagram");
    assert!(diagrams.iter().all(|h| h.as_f64().unwrap() > 100.0), "{diagrams:?}");
    assert!(seen["arrows"].as_u64().unwrap() >= 6, "{seen}");
    assert!(seen["charts"].as_u64().unwrap() >= 3, "{seen}");
    assert_eq!(seen["timeline"], 1);
    let shot = screenshot(&mut browser, &page);
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn the_run_report_charts_the_run_over_time_with_the_fault_shaded() {
    let Some(chromium) = chromium_or_skip() else { return };
    let dir = scratch("timeline");
    let page = dir.join("report.html");
    let args =
        ["run", "scenarios/retry_storm.ron", "--seeds", "1", "--html", page.to_str().unwrap()];
    let run = common::archsim(&args);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let mut browser = Browser::start(&chromium, &dir, "timeline").unwrap();
    open_clean(&mut browser, &page);
    let seen = browser
        .eval(
            "JSON.stringify([...document.querySelectorAll('#charts svg')].map(s => ({
                text: [...s.querySelectorAll('text')].map(t => t.textContent).join('|'),
                height: s.getBoundingClientRect().height,
            })))",
        )
        .unwrap();
    let charts: serde_json::Value = serde_json::from_str(seen.as_str().unwrap()).unwrap();
    let charts = charts.as_array().unwrap();
    let find = |title: &str| {
        let chart = charts.iter().find(|c| c["text"].as_str().unwrap().contains(title));
        chart.unwrap_or_else(|| panic!("no chart `{title}` in {charts:?}"))
    };
    for title in ["load and goodput over time", "p99 latency over time", "queues over time"] {
        let chart = find(title);
        assert!(chart["height"].as_f64().unwrap() > 100.0, "{title}: {chart}");
        let text = chart["text"].as_str().unwrap();
        assert!(text.contains("api service times ×3 for 10s"), "{title}: no shaded fault");
        assert!(!text.contains("(no values)"), "{title}: a legend entry with no values");
    }
    let rates = find("load and goodput over time")["text"].as_str().unwrap().to_string();
    for series in ["offered (first tries)", "attempts (with retries)", "goodput (succeeded)"] {
        assert!(rates.contains(series), "no `{series}` in the legend");
    }
    let shot = screenshot(&mut browser, &page);
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn the_harness_hears_a_broken_page() {
    let Some(chromium) = chromium_or_skip() else { return };
    let dir = scratch("broken");
    let page = dir.join("broken.html");
    let html = "<!DOCTYPE html><html><body><p>broken</p><img src=\"missing.png\">\
                <script>console.error('deliberate'); console.log('harmless-log-line'); noSuchFunction();\
                </script></body></html>";
    std::fs::write(&page, html).unwrap();
    let mut browser = Browser::start(&chromium, &dir, "broken").unwrap();
    browser.open(&file_url(&page)).unwrap();
    let errors = browser.complaints().errors;
    let has = |needle: &str| errors.iter().any(|e| e.contains(needle));
    assert!(has("console.error") && has("deliberate"), "{errors:#?}");
    assert!(has("noSuchFunction"), "{errors:#?}");
    assert!(has("missing.png") || has("ERR_FILE_NOT_FOUND"), "{errors:#?}");
    assert!(!has("harmless-log-line"), "console.log is not an error: {errors:#?}");
}

#[test]
fn the_sweep_report_renders_in_chromium_with_no_errors() {
    let Some(chromium) = chromium_or_skip() else { return };
    let dir = scratch("sweep");
    let page = dir.join("report.html");
    let (out, page_arg) = (dir.to_str().unwrap(), page.to_str().unwrap());
    let args = ["sweep", "scenarios/sweep_lag_vs_loss.ron", "--quiet", "--out", out];
    let run = common::archsim(&[&args[..], &["--html", page_arg]].concat());
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let mut browser = Browser::start(&chromium, &dir, "sweep").unwrap();
    open_clean(&mut browser, &page);
    let seen = browser
        .eval(
            "JSON.stringify({
                charts: document.querySelectorAll('#charts svg').length,
                bands: document.querySelectorAll('#charts svg polygon').length,
                points: document.querySelectorAll('#points tbody tr').length,
                headline: document.querySelectorAll('#headline li').length,
                headline_text: (document.querySelector('#headline') || {}).innerText || '',
            })",
        )
        .unwrap();
    let seen: serde_json::Value = serde_json::from_str(seen.as_str().unwrap()).unwrap();
    // Three metrics and two distributions; two variants over eleven lag values.
    assert_eq!(seen["charts"], 5, "{seen}");
    assert!(seen["bands"].as_u64().unwrap() >= 6, "{seen}");
    assert_eq!(seen["points"], 22, "{seen}");
    // The headline, above the charts: one line per metric at the largest lag.
    assert_eq!(seen["headline"], 3, "{seen}");
    let headline = seen["headline_text"].as_str().unwrap();
    assert!(
        headline.contains("mean replication lag (s) = 5") && headline.contains("95% CI"),
        "{seen}"
    );
    screenshot(&mut browser, &page);
}
