//! Command lines archsim prints for people to paste: a replay, a shrink. Every word is
//! quoted for a POSIX shell, so any path or `--set` value survives the paste.

/// `words` as one shell line: each quoted when it needs to be (`shlex`); `--set` values
/// are always single-quoted, as people write them.
pub fn shell_line(words: &[&str]) -> String {
    let mut line = String::new();
    let mut after_set = false;
    for word in words {
        if !line.is_empty() {
            line.push(' ');
        }
        if after_set {
            line.push_str(&single_quoted(word));
        } else {
            // A NUL cannot reach us through argv; shown escaped if it ever does.
            let quoted = shlex::try_quote(word).map_or_else(|_| format!("{word:?}"), String::from);
            line.push_str(&quoted);
        }
        after_set = *word == "--set";
    }
    line
}

/// `'text'`, with each `'` inside written `'\''`.
fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_line_gives_back_every_word() {
        let words = [
            "archsim",
            "run",
            "my scenarios/it's.ron",
            "--seed",
            "4",
            "--set",
            r#"name="it's""#,
            "--set",
            "duration=1m",
        ];
        let line = shell_line(&words);
        assert_eq!(shlex::split(&line).unwrap(), words);
        assert!(line.ends_with("--set 'duration=1m'"), "{line}");
        assert!(line.starts_with("archsim run 'my scenarios/it'\\''s.ron'") || line.contains('"'));
    }
}
