//! Audience and member operations on a [`CampaignBook`] (BEHAVIOR
//! R177–R187). The HTTP layer parses requests; these methods hold the
//! rules that need the book: the member limit, duplicate skipping, the
//! active-campaign guards and search.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{Audience, CampaignBook, Member};
use crate::domain::audience::{is_phone, over_limit, to_e164, MAX_MEMBERS};
use crate::domain::{DomainError, Millis};

/// R186 (status and wording inferred): members of an audience that an
/// active campaign uses cannot change.
pub const MEMBERS_LOCKED: &str = "Cannot modify members of an audience that is used by an active campaign";

/// How a member search matches (R187).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    /// `?query=`: any field contains the term (case-insensitive).
    General(String),
    /// `?field=value&…`: every named field contains its value.
    Fields(Vec<(String, String)>),
}

impl CampaignBook {
    /// Stores a new audience, unless the organization already holds
    /// [`MAX_AUDIENCES`](crate::domain::audience::MAX_AUDIENCES) (400,
    /// `domain::audience::check_audience_count`) or the audience's members
    /// would take it past
    /// [`MAX_ORG_MEMBERS`](crate::domain::audience::MAX_ORG_MEMBERS) (400,
    /// `check_org_members`); checked and stored under the one campaign-book
    /// lock.
    pub fn insert_audience(&mut self, a: Audience) -> Result<(), DomainError> {
        crate::domain::audience::check_audience_count(self.audiences.len())?;
        crate::domain::audience::check_org_members(self.member_count(), a.members.len())?;
        self.audience_order.push(a.id.clone());
        self.audiences.insert(a.id.clone(), a);
        Ok(())
    }

    /// Members across the organization's audiences (bounded by
    /// [`MAX_ORG_MEMBERS`](crate::domain::audience::MAX_ORG_MEMBERS)).
    fn member_count(&self) -> usize {
        self.audiences.values().map(|a| a.members.len()).sum()
    }

    /// An audience by id.
    pub fn audience(&self, id: &str) -> Option<&Audience> {
        self.audiences.get(id)
    }

    /// Every audience, newest first.
    pub fn audiences(&self) -> impl Iterator<Item = &Audience> {
        self.audience_order.iter().rev().filter_map(|id| self.audiences.get(id))
    }

    fn guard_members(&self, id: &str) -> Result<(), DomainError> {
        match self.active_campaign(|c| c.audience_id == id) {
            Some(_) => Err(DomainError::invalid(MEMBERS_LOCKED)),
            None => Ok(()),
        }
    }

    /// Deletes an audience (R185): 400 while an active campaign uses it.
    pub fn delete_audience(&mut self, id: &str) -> Result<(), DomainError> {
        if !self.audiences.contains_key(id) {
            return Err(DomainError::NotFound("Audience not found".into()));
        }
        if self.active_campaign(|c| c.audience_id == id).is_some() {
            return Err(DomainError::invalid(format!(
                "can't delete audience, campaign with this audience {id} exists"
            )));
        }
        self.audiences.remove(id);
        self.audience_order.retain(|x| x != id);
        Ok(())
    }

    /// Adds members (R182, R183): every one must have the phone column;
    /// over the limit is 400; a phone already present (or repeated) is
    /// skipped. Returns `(added, skipped)`.
    pub fn add_members(
        &mut self,
        id: &str,
        members: Vec<Map<String, Value>>,
        mut new_id: impl FnMut() -> String,
        now: Millis,
    ) -> Result<(usize, usize), DomainError> {
        self.guard_members(id)?;
        let existing = self.member_count();
        let a = self.audiences.get_mut(id).ok_or_else(|| DomainError::NotFound("Audience not found".into()))?;
        let col = a.phone_col.clone();
        let mut rows = Vec::with_capacity(members.len());
        for m in members {
            let data: Map<String, Value> = m.into_iter().map(|(k, v)| (k, Value::String(scalar(&v)))).collect();
            let phone = data.get(&col).and_then(Value::as_str).unwrap_or("").trim().to_string();
            if phone.is_empty() {
                return Err(DomainError::invalid(format!("Each member must have a {col} field")));
            }
            if !is_phone(&phone) {
                return Err(DomainError::invalid(format!("Invalid phone number \"{phone}\" in field \"{col}\"")));
            }
            rows.push((to_e164(&phone), data));
        }
        if a.members.len() + rows.len() > MAX_MEMBERS {
            return Err(DomainError::invalid(over_limit(rows.len(), a.members.len())));
        }
        crate::domain::audience::check_org_members(existing, rows.len())?;
        let mut seen: HashSet<String> = a.members.iter().map(|m| to_e164(a.phone_of(m))).collect();
        let (mut added, mut skipped) = (0, 0);
        for (phone, data) in rows {
            if seen.insert(phone) {
                a.members.push(Member { id: new_id(), data });
                added += 1;
            } else {
                skipped += 1;
            }
        }
        a.updated_at = a.updated_at.max(now);
        Ok((added, skipped))
    }

    /// Deletes members by id (R184); unknown ids are ignored. Returns how
    /// many were deleted.
    pub fn delete_members(&mut self, id: &str, ids: &[String], now: Millis) -> Result<usize, DomainError> {
        self.guard_members(id)?;
        let a = self.audiences.get_mut(id).ok_or_else(|| DomainError::NotFound("Audience not found".into()))?;
        let before = a.members.len();
        a.members.retain(|m| !ids.contains(&m.id));
        let deleted = before - a.members.len();
        if deleted > 0 {
            a.updated_at = a.updated_at.max(now);
        }
        Ok(deleted)
    }
}

/// A JSON scalar as the CSV text it stands for.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Members of `a` matching `q`, in audience order.
pub fn search<'a>(a: &'a Audience, q: &Search) -> Vec<&'a Member> {
    let has =
        |v: Option<&Value>, term: &str| v.and_then(Value::as_str).is_some_and(|s| s.to_lowercase().contains(term));
    a.members
        .iter()
        .filter(|m| match q {
            Search::General(t) => {
                let t = t.to_lowercase();
                m.data.values().any(|v| has(Some(v), &t))
            }
            Search::Fields(fs) => fs.iter().all(|(k, t)| has(m.data.get(k), &t.to_lowercase())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audience::MAX_AUDIENCES;
    use serde_json::json;

    fn audience(n: usize) -> Audience {
        Audience {
            id: format!("{n:024x}"),
            name: format!("a{n}"),
            description: String::new(),
            phone_col: "phone".into(),
            id_col: None,
            columns: vec!["phone".into()],
            members: Vec::new(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn an_organization_holds_at_most_max_audiences_and_a_refusal_stores_nothing() {
        let mut book = CampaignBook::default();
        for n in 0..MAX_AUDIENCES {
            book.insert_audience(audience(n)).expect("room");
        }
        let err = book.insert_audience(audience(MAX_AUDIENCES)).expect_err("full");
        assert_eq!(err.to_string(), "Audience limit reached: an organization can have at most 1000 audiences");
        assert_eq!(book.audiences.len(), MAX_AUDIENCES);
        assert!(book.audience(&format!("{MAX_AUDIENCES:024x}")).is_none());
        assert_eq!(book.audience_order.len(), MAX_AUDIENCES, "the listing order did not grow either");
    }

    fn with_members(n: usize, members: usize) -> Audience {
        let row = |i: usize| Member {
            id: format!("m{n}-{i}"),
            data: Map::from_iter([("phone".into(), json!(format!("+1415{i:07}")))]),
        };
        Audience { members: (0..members).map(row).collect(), ..audience(n) }
    }

    #[test]
    fn members_across_audiences_stay_within_the_organization_bound() {
        use crate::domain::audience::{MAX_MEMBERS, MAX_ORG_MEMBERS};
        let mut book = CampaignBook::default();
        let full = MAX_ORG_MEMBERS / MAX_MEMBERS;
        for n in 0..full {
            book.insert_audience(with_members(n, MAX_MEMBERS)).expect("room");
        }
        let err = book.insert_audience(with_members(full, 1)).expect_err("full");
        assert_eq!(err.to_string(), "Audience member limit reached: an organization can have at most 200000 members");
        book.insert_audience(with_members(full + 1, 0)).expect("an empty audience still fits");
        let more = vec![Map::from_iter([("phone".to_string(), json!("+14155550100"))])];
        let id = format!("{:024x}", full + 1);
        let err = book.add_members(&id, more, || "x".into(), 1).expect_err("full");
        assert!(err.to_string().starts_with("Audience member limit reached"), "{err}");
        assert_eq!(book.member_count(), MAX_ORG_MEMBERS, "nothing was added");
    }
}
