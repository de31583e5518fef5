//! Values of a query string as the platform's zod schemas read them
//! (`GET /conversation`, BEHAVIOR R111; `/analytics/*`): a value is
//! trimmed and an empty one counts as absent, lists are comma-separated,
//! and whole numbers and ids fail with zod's messages naming the
//! parameter. The errors are the 400 messages. Pure.

use super::ids::is_object_id;

/// `v` trimmed; `None` when it is absent or empty.
pub fn value(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

/// The trimmed, non-empty items of the comma list `v`; `None` when it has
/// none.
pub fn items(v: Option<&str>) -> Option<Vec<&str>> {
    let list: Vec<&str> = v?.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    (!list.is_empty()).then_some(list)
}

/// The comma list `v` of 24-hex ids; `<name>: Invalid id '<bad>'` for the
/// first item that is not one.
pub fn ids(name: &str, v: Option<&str>) -> Result<Option<Vec<String>>, String> {
    let Some(list) = items(v) else { return Ok(None) };
    match list.iter().find(|x| !is_object_id(x)) {
        Some(bad) => Err(format!("{name}: Invalid id '{bad}'")),
        None => Ok(Some(list.into_iter().map(str::to_string).collect())),
    }
}

/// The whole number ≥ 1 in `s`: `<name>: Number must be greater than or
/// equal to 1` for 0, `<name>: Expected a positive integer, received '<s>'`
/// for anything else that is not one.
pub fn positive(name: &str, s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err(format!("{name}: Number must be greater than or equal to 1")),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{name}: Expected a positive integer, received '{s}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_trimmed_and_empty_is_absent() {
        assert_eq!((value(Some(" 5 ")), value(Some("  ")), value(None)), (Some("5"), None, None));
        assert_eq!(items(Some(" a, ,b ")), Some(vec!["a", "b"]));
        assert_eq!(items(Some(" , ")), None);
    }

    #[test]
    fn numbers_and_ids_fail_with_zod_messages() {
        assert_eq!(positive("page", "3"), Ok(3));
        assert_eq!(positive("page", "0").unwrap_err(), "page: Number must be greater than or equal to 1");
        assert_eq!(positive("limit", "-2").unwrap_err(), "limit: Expected a positive integer, received '-2'");
        let id = "0123456789abcdef01234567";
        assert_eq!(ids("agentIds", Some(&format!("{id}, {id}"))), Ok(Some(vec![id.to_string(), id.to_string()])));
        assert_eq!(ids("agentIds", Some(&format!("{id},x"))).unwrap_err(), "agentIds: Invalid id 'x'");
    }
}
