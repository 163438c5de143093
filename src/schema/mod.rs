//! Files to model: RON models and scenarios are read, overridden by dotted path, parsed
//! into `raw` serde structs and validated into the `model` types. This is the only part
//! of archsim that knows about files; every error it returns is located.

mod diagnostic_text;
pub mod error;
pub mod experiment;
pub mod load;
mod objectives;
pub mod overrides;
mod populations;
pub mod raw;
mod regions;
pub mod ron_tree;
pub mod source;
pub mod sweep;
pub mod validate;

pub use error::{Diagnostic, LoadError, Related};
pub use load::{field_place, load_model, load_scenario, load_sweep};
pub use overrides::Override;
