//! The context guard of the live examples (`observe`, `plan`, `apply`): they act on kind
//! clusters only, unless the user names the context they mean with `--allow-context`.
//!
//! Pure, so that `tests/examples_guard.rs` can test it (an example's own `#[cfg(test)]` code
//! is not run by `cargo test`).

/// The prefix kind gives the contexts it writes (`kind create cluster --name dev` writes the
/// context `kind-dev`).
pub const KIND_PREFIX: &str = "kind-";

/// Whether the examples may use `context`: yes when it is a kind context (`kind-` followed
/// by a cluster name), or when `allow` (`--allow-context`) is exactly `context`.
///
/// # Errors
/// Why not, with the flag that allows it (`--allow-context NAME`, quoted for a POSIX shell
/// when the name needs it).
pub fn check_context(context: &str, allow: Option<&str>) -> Result<(), String> {
    let is_kind = context.len() > KIND_PREFIX.len() && context.starts_with(KIND_PREFIX);
    if is_kind || allow == Some(context) {
        return Ok(());
    }
    let other = match allow {
        Some(named) => format!("; --allow-context names {named:?}, not this context"),
        None => String::new(),
    };
    Err(format!(
        "refusing context {context:?}: these examples run against kind clusters only \
         (contexts named {KIND_PREFIX}<cluster>){other}; if you mean this cluster, pass \
         --allow-context {}",
        shell_word(context)
    ))
}

/// `word` as one POSIX shell word: as it is when it has only safe characters, else in
/// single quotes.
fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_.:@/+=,%".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
