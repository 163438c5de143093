//! The names of a run's distributions, as a sweep's `distributions` and its
//! metrics name them: each operation row's latency, and the figures below.

use super::purpose::Row;

/// The distributions of a run that are not operation latencies.
const OTHERS: [&str; 7] =
    ["staleness", "replication_lag", "propagation", "action", "gate", "first_byte", "whole_stream"];

/// Every name `of` may take when operations are counted in `rows`.
pub fn names(rows: &[&Row]) -> Vec<String> {
    let latency = rows.iter().map(|r| format!("latency.{}", r.name));
    latency.chain(OTHERS.iter().map(|s| s.to_string())).collect()
}

/// Whether a distribution of that name exists; if not, the closest that does.
pub fn known(of: &str, rows: &[&Row]) -> Result<(), String> {
    let names = names(rows);
    if names.iter().any(|n| n == of) {
        return Ok(());
    }
    let closest = names.iter().min_by_key(|n| strsim::levenshtein(n, of)).cloned();
    Err(format!(
        "no distribution `{of}`; did you mean `{}`? (one of: {})",
        closest.unwrap_or_default(),
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_with_a_suggestion() {
        let rows = [&crate::check::purpose::WRITE_ROW];
        assert!(known("latency.write", &rows).is_ok());
        assert!(known("staleness", &rows).is_ok());
        let err = known("latency.wirte", &rows).unwrap_err();
        assert!(err.contains("did you mean `latency.write`"), "{err}");
    }
}
