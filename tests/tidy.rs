//! The crate's layering, held by a test (in the spirit of rust-analyzer's tidy tests):
//! each folder of `src/` may only reach the folders ARCHITECTURE.md lets it, and only
//! `cli/` reads the wall clock. A rule broken names the file and line.

use std::fs;
use std::path::{Path, PathBuf};

/// A folder of `src/` and the folders it must not import.
struct Rule {
    folder: &'static str,
    forbidden: Forbidden,
    why: &'static str,
}

enum Forbidden {
    /// Every folder but itself.
    AllOthers,
    /// These folders.
    These(&'static [&'static str]),
}

const RULES: &[Rule] = &[
    Rule {
        folder: "engine",
        forbidden: Forbidden::AllOthers,
        why: "the kernel knows no component, file or command",
    },
    Rule {
        folder: "check",
        forbidden: Forbidden::These(&["components", "schema", "run", "report", "cli"]),
        why: "checkers see the history, never components",
    },
    Rule {
        folder: "model",
        forbidden: Forbidden::These(&["check", "schema", "sweep", "components", "run", "cli"]),
        why: "the model is validated data, below everything that reads or runs it",
    },
    Rule {
        folder: "schema",
        forbidden: Forbidden::These(&["sweep", "run", "report", "cli", "html"]),
        why: "files become the model; running and sweeping come later",
    },
    Rule {
        folder: "components",
        forbidden: Forbidden::These(&["schema", "run", "report", "sweep", "cli"]),
        why: "components run a validated model",
    },
];

/// Names that read the wall clock.
const WALL_CLOCK: &[&str] = &["Instant", "SystemTime", "UNIX_EPOCH"];

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let mut entries: Vec<_> = fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

/// The code of a line, without a `//` comment (doc comments may name anything).
fn code(line: &str) -> &str {
    line.split("//").next().unwrap_or("")
}

/// The top-level modules a file reaches through `crate::`, with their line numbers,
/// including those inside `use crate::{a::x, b::{y, z}}` groups.
fn crate_modules(text: &str) -> Vec<(usize, String)> {
    // Comments blanked, lines kept, so offsets still give line numbers.
    let code: String = text.lines().map(|l| format!("{}\n", code(l))).collect();
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let after = at + "crate::".len();
        let rest = &code[after..];
        if !rest.starts_with('{') {
            found.push((line_of(at), ident(rest)));
            continue;
        }
        // The group's top-level items, split at commas outside nested braces.
        let mut depth = 0;
        let mut item_start = Some(after + 1);
        for (k, c) in rest.char_indices() {
            let pos = after + k;
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 1 => item_start = Some(pos + 1),
                _ => {}
            }
            if let Some(start) = item_start.filter(|&s| s <= pos && !c.is_whitespace()) {
                if c != ',' && c != '{' {
                    let name = ident(&code[start..]);
                    let name = name.trim().to_string();
                    if !name.is_empty() && name != "self" {
                        found.push((line_of(pos), name));
                    }
                    item_start = None;
                }
            }
            if depth == 0 {
                break;
            }
        }
    }
    found
}

fn ident(text: &str) -> String {
    text.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

fn relative(path: &Path) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    path.strip_prefix(&src).unwrap_or(path).display().to_string()
}

#[test]
fn every_folder_imports_only_what_the_layering_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for rule in RULES {
        for file in rust_files(&src.join(rule.folder)) {
            let text = fs::read_to_string(&file).unwrap();
            for (line, module) in crate_modules(&text) {
                let bad = match rule.forbidden {
                    Forbidden::AllOthers => module != rule.folder,
                    Forbidden::These(list) => list.contains(&module.as_str()),
                };
                if bad {
                    broken.push(format!(
                        "src/{}:{line}: `{}` imports `crate::{module}`: {}",
                        relative(&file),
                        rule.folder,
                        rule.why
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

#[test]
fn only_the_command_line_reads_the_wall_clock() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for file in rust_files(&src) {
        if relative(&file).starts_with("cli") {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = code(line);
            for name in WALL_CLOCK {
                let whole = code.match_indices(name).any(|(at, _)| {
                    let before = code[..at].chars().last();
                    let after = code[at + name.len()..].chars().next();
                    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                    !word(before) && !word(after)
                });
                if whole {
                    broken.push(format!("src/{}:{}: `{name}`", relative(&file), i + 1));
                }
            }
        }
    }
    assert!(broken.is_empty(), "the wall clock is read outside cli/:\n{}", broken.join("\n"));
}

#[test]
fn the_scanner_sees_paths_groups_and_skips_comments() {
    let text = "use crate::engine::Dist;\n\
                use crate::{check::History, model::{Model, Step}};\n\
                // crate::sweep in a comment\n\
                let x = crate::report::f(); // crate::cli\n\
                use crate::{\n    schema::Locator,\n    run,\n};\n";
    let found: Vec<(usize, String)> = crate_modules(text);
    let names: Vec<&str> = found.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(names, ["engine", "check", "model", "report", "schema", "run"]);
    assert_eq!(found[3].0, 4);
}
