//! The book's reference, generated from the code: the model and scenario file formats
//! from the serde structs that read them (schemars derives their schemas, doc comments
//! and defaults included), the JSON summary from the struct that writes it, and the
//! commands from the clap definition that parses them. `tests/reference.rs` fails when
//! `docs/src/reference/` differs from what this generates (`UPDATE_REFERENCE=1` rewrites
//! it).

mod json_paths;
mod schema_text;
mod shapes;

use clap::CommandFactory;

use crate::cli::args::Args;
use crate::report::Summary;
use crate::schema::raw::{RawModel, RawScenario};

/// One generated page: its path under the book's `src/`, and its Markdown.
pub struct Page {
    /// Path under `docs/src/`.
    pub path: &'static str,
    /// The page.
    pub markdown: String,
}

/// The line that opens every generated page.
const GENERATED: &str = "<!-- Generated from the code by `UPDATE_REFERENCE=1 cargo test --test \
                         reference`; edit the doc comments, not this page. -->";

/// Every generated page.
pub fn pages() -> Vec<Page> {
    vec![
        Page { path: "reference/model.md", markdown: model_page() },
        Page { path: "reference/scenario.md", markdown: scenario_page() },
        Page { path: "reference/json.md", markdown: json_page() },
        Page { path: "reference/commands.md", markdown: commands_page() },
    ]
}

fn schema_value<T: schemars::JsonSchema>() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(T)).expect("a schema is JSON")
}

fn model_page() -> String {
    let intro = "A model file (`models/*.ron`) describes an architecture: its components, \
                 each of one kind below, the links between them and the regions they sit \
                 in. Every struct refuses fields it does not know, so a typo is an error. \
                 A default of `absent` means the field is left out; to leave an optional \
                 field out in a `set` or `--set`, give it `None`.";
    let root = schema_value::<RawModel>();
    format!("{GENERATED}\n\n{}", shapes::file_page("Model files", intro, "Model(...)", &root))
}

fn scenario_page() -> String {
    let intro = "A scenario file (`scenarios/*.ron`) is an experiment on a model: the \
                 clients and their workflow, the faults, the checkers and the verdicts \
                 expected of them, objectives, and an optional sweep. Any field of the \
                 model or the scenario can also be set from the command line with \
                 `--set PATH=VALUE` (a RON value of the field's type; `None` leaves an \
                 optional field out, which the tables call `absent`).";
    let root = schema_value::<RawScenario>();
    format!("{GENERATED}\n\n{}", shapes::file_page("Scenario files", intro, "Scenario(...)", &root))
}

fn json_page() -> String {
    let root = schema_value::<Summary>();
    format!(
        "{GENERATED}\n\n# The JSON summary\n\n`archsim run SCENARIO --format json` writes one \
         object. Its paths, as `jq` and a sweep's `metrics` name them: `<name>` is a key \
         of a map (an operation, a checker, a component), `[]` an element of a list. A \
         field said to be absent is left out of the object.\n\n{}",
        json_paths::paths_table(&root)
    )
}

/// Columns the commands' help is wrapped at.
const HELP_WIDTH: usize = 100;

fn commands_page() -> String {
    let mut command = Args::command().term_width(HELP_WIDTH);
    command.build();
    let mut page = format!(
        "{GENERATED}\n\n# Commands\n\nEach command's `--help`, as `archsim` prints it. \
         `archsim completions SHELL` writes a completion script and `archsim man` a manual \
         page from the same definition.\n\n```text\n{}```\n",
        command.render_long_help()
    );
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let help = sub.clone().render_long_help().to_string();
        page.push_str(&format!("\n## archsim {}\n\n```text\n{}```\n", sub.get_name(), help));
    }
    page
}
