//! `{{name}}` placeholders, as the platform's prompts, scenario lines and
//! call-action bodies write them: the name is trimmed, an unknown name or
//! an unclosed `{{` stays as written.

/// Replaces each `{{name}}` in `text` with `lookup(name)`; names the
/// lookup does not know stay as they are.
pub fn fill(text: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        match lookup(after[..end].trim()) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn known_names_are_filled_and_the_rest_kept() {
        let look = |k: &str| (k == "name").then(|| "Ada".to_string());
        assert_eq!(fill("Hi {{ name }}, {{other}}!", look), "Hi Ada, {{other}}!");
        assert_eq!(fill("broken {{name", look), "broken {{name");
        assert_eq!(fill("", look), "");
    }
}
