//! The name rule of client tools (LIVE W1), shared by the tools a realtime
//! session declares (`session.update`) and the tool calls a scenario
//! scripts, so a scenario can only call a tool a client could declare.

/// Longest tool name, characters (`[A-Za-z0-9_-]`).
pub const MAX_NAME_LEN: usize = 64;

/// Whether `n` is a valid tool name (`^[A-Za-z0-9_-]{1,64}$`).
pub fn is_tool_name(n: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_are_1_to_64_word_characters_or_dashes() {
        assert!(is_tool_name("lookup_order-2"));
        assert!(is_tool_name(&"a".repeat(MAX_NAME_LEN)));
        assert!(!is_tool_name(""));
        assert!(!is_tool_name(&"a".repeat(MAX_NAME_LEN + 1)));
        assert!(!is_tool_name("look up"));
    }
}
