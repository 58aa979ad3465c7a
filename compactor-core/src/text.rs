//! Text from the input shown to people: names can carry control characters (a newline that
//! forges a second line of output, an ANSI escape that drives the terminal) or Unicode
//! direction overrides that reorder what is displayed. Kubernetes refuses them in names; so
//! does [`crate::Snapshot::new`], and everything printed goes through [`printable`].

use std::borrow::Cow;

/// Whether `c` must not reach a terminal or a report as it is: a control character (C0,
/// DEL, C1) or a bidirectional formatting character.
pub fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every [unprintable](is_unprintable) character written as an escape (`\n`, `\r`,
/// `\t`, `\u{1b}`), and the backslash of such escapes left alone; borrowed when there is none.
///
/// # Example
/// ```
/// use compactor_core::text::printable;
/// assert_eq!(printable("web-1"), "web-1");
/// assert_eq!(printable("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
/// assert_eq!(printable("x\u{202e}y"), "x\\u{202e}y");
/// ```
///
/// # Complexity
/// O(len).
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unprintable) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unprintable(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The first unprintable character of `s`, escaped, for an error message.
pub(crate) fn first_unprintable(s: &str) -> Option<String> {
    s.chars()
        .find(|c| is_unprintable(*c))
        .map(|c| printable(&c.to_string()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_and_direction_character_is_escaped() {
        for c in ['\0', '\u{7}', '\u{7f}', '\u{85}', '\u{9b}', '\u{2067}'] {
            let s = format!("a{c}b");
            assert!(!printable(&s).chars().any(is_unprintable), "{c:?}");
        }
        assert_eq!(first_unprintable("ok"), None);
        assert_eq!(first_unprintable("a\nb").as_deref(), Some("\\n"));
        // Ordinary non-ASCII text is kept.
        assert_eq!(printable("nœud-été"), "nœud-été");
    }
}
