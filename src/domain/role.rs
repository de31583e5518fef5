//! A key's role in its organization: `owner`, `admin` or `member`.
//!
//! The platform gates a few writes by role: concurrency reservations need
//! an admin (`PUT /concurrency/reservations`, "Admin role required"), the
//! organization rename needs the owner (`PUT /account/update-org-name`),
//! and an org admin may discard another member's draft (R051). The spec
//! has no endpoint that reports or changes a role, so the mock keeps one
//! per organization (each API key is its own organization), set through
//! the control API, and defaults to [`Role::Owner`], which may do
//! everything: a fresh key behaves like the account holder's own key.
//!
//! Roles are ordered: an owner is also an admin, an admin also a member.

use serde::{Deserialize, Serialize};

use super::DomainError;

/// A key's role. Ordered `Member < Admin < Owner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Uses the organization's resources; cannot change org-wide settings.
    Member,
    /// Manages org-wide settings such as concurrency reservations.
    Admin,
    /// The account holder: everything an admin may do, plus the rename.
    #[default]
    Owner,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Self; 3] = [Self::Member, Self::Admin, Self::Owner];

    /// The wire name: `member`, `admin` or `owner`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    /// The role named `s` (wire name, exact), if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// `Ok` when this role is `needed` or above, else 403 with `message`
    /// (the operation's own wording, e.g. "Admin role required").
    pub fn require(self, needed: Role, message: &str) -> Result<(), DomainError> {
        if self >= needed {
            Ok(())
        } else {
            Err(DomainError::Forbidden(message.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_is_an_admin_and_a_member_is_not() {
        assert!(Role::Owner.require(Role::Admin, "Admin role required").is_ok());
        assert!(Role::Admin.require(Role::Admin, "Admin role required").is_ok());
        assert_eq!(
            Role::Member.require(Role::Admin, "Admin role required"),
            Err(DomainError::Forbidden("Admin role required".into()))
        );
        assert!(Role::Admin.require(Role::Owner, "x").is_err());
    }

    #[test]
    fn names_round_trip_and_the_default_is_owner() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), serde_json::json!(r.as_str()));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::default(), Role::Owner);
    }
}
