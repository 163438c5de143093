//! The command line describes itself: completion scripts and the manual page come from
//! the parser's own definition, and help fits an 80-column terminal.

mod common;

use std::process::Command;

const SUBCOMMANDS: [&str; 8] =
    ["run", "sweep", "merge", "hunt", "diff", "shrink", "completions", "man"];

fn stdout(args: &[&str]) -> String {
    let out = common::archsim(args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completion_scripts_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = stdout(&["completions", shell]);
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell} completion lacks `{sub}`");
        }
    }
    assert!(stdout(&["completions", "bash"]).contains("--seeds"), "flags are completed too");
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = common::archsim(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));
}

#[test]
fn the_manual_page_is_roff_with_every_subcommand() {
    let page = stdout(&["man"]);
    assert!(page.contains(".TH archsim 1"), "{}", &page[..page.len().min(300)]);
    for sub in SUBCOMMANDS {
        assert!(page.contains(sub), "the manual page lacks `{sub}`");
    }
}

#[test]
fn help_fits_80_columns() {
    for sub in SUBCOMMANDS.iter().filter(|&&s| s != "man") {
        let out = Command::new(env!("CARGO_BIN_EXE_archsim"))
            .args([sub, "--help"])
            .env("COLUMNS", "80")
            .output()
            .unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        let wide: Vec<&str> = help.lines().filter(|l| l.chars().count() > 80).collect();
        assert!(wide.is_empty(), "`{sub} --help` is wider than 80 columns: {wide:?}");
    }
}

#[test]
fn colour_is_asked_for_or_left_out() {
    let run = |args: &[&str]| {
        let mut all = vec!["run", "scenarios/crash_wal.ron", "--seeds", "1"];
        all.extend(args);
        let out = common::archsim(&all);
        (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    // `always` wins over NO_COLOR (which the tests set): verdicts in colour, padded first.
    let (always, _) = run(&["--color", "always"]);
    assert!(always.contains("\u{1b}[32mholds         \u{1b}[0m"), "{always}");
    for plain in [run(&[]).0, run(&["--color", "never"]).0] {
        assert!(!plain.contains('\u{1b}'), "{plain}");
    }
    // Errors too, on standard error.
    let out = common::archsim(&["run", "no/such.ron", "--color", "always"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("\u{1b}[31m\u{1b}[1merror:\u{1b}[0m"), "{stderr}");
    let bad = common::archsim(&["run", "scenarios/crash_wal.ron", "--color", "sometimes"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn the_cache_coherence_line_the_book_quotes_is_printed() {
    let book = std::fs::read_to_string(common::root().join("docs/src/output.md")).unwrap();
    let marker = "The text shows them on the line `";
    let start = book.find(marker).expect("output.md quotes the line") + marker.len();
    let quoted = &book[start..start + book[start..].find('`').unwrap()];
    let run = common::archsim(&["run", "scenarios/cache_aside_race.ron"]);
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(out.lines().any(|l| l == quoted), "`{quoted}` is not printed:\n{out}");
}

#[test]
fn the_cache_aside_files_the_book_shows_are_the_shipped_ones() {
    let book = std::fs::read_to_string(common::root().join("docs/src/components.md")).unwrap();
    // The book's block, two spaces in (inside a list item), against the file's own.
    let block = |open: &str| -> String {
        let start = book.find(&format!("\n  {open}(\n")).expect("the book shows it") + 1;
        let end = start + book[start..].find("\n  )\n").unwrap() + 4;
        book[start..end]
            .lines()
            .map(|l| l.strip_prefix("  ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for (open, file) in
        [("Model", "models/cache_aside.ron"), ("Scenario", "scenarios/cache_aside_race.ron")]
    {
        let text = std::fs::read_to_string(common::root().join(file)).unwrap();
        let own = &text[text.find(&format!("{open}(\n")).unwrap()..];
        assert_eq!(block(open), own.trim_end(), "components.md's copy of {file} differs");
    }
}

#[test]
fn run_says_which_files_it_wrote_unless_quiet() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("wrote");
    std::fs::create_dir_all(&dir).unwrap();
    let (html, trace) = (dir.join("r.html"), dir.join("t.jsonl"));
    let (html, trace) = (html.to_str().unwrap(), trace.to_str().unwrap());
    let run = ["run", "docs/tutorial/cart.ron", "--html", html, "--trace", trace];
    let out = stdout(&run);
    assert!(out.ends_with(&format!("wrote {trace}\nwrote {html}\n")), "{out}");
    let quiet = stdout(&[&["-q"], &run[..]].concat());
    assert!(!quiet.contains("wrote"), "{quiet}");
    let json = stdout(&[&run[..], &["--format", "json"]].concat());
    assert!(json.trim_end().ends_with('}'), "JSON output gets no `wrote` line");
}
