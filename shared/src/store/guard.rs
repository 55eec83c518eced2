//! The condition every write that opens a session requires of its user.

use aws_sdk_dynamodb::types::builders::{ConditionCheckBuilder, UpdateBuilder};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck};
use uuid::Uuid;

use super::users::UserRecord;
use super::{keys, s};

/// The condition under which a session may be opened from `user` as it was read: still
/// enabled, and still holding the role and tier the session copies into its tokens. A write
/// that opens a session requires it of the user item (folded into its own condition when it
/// updates that item, a `ConditionCheck` otherwise), so a back-office change that lands first
/// is never undone by a login that read the user before it.
pub(super) struct SessionGuard {
    expression: &'static str,
    names: [(&'static str, &'static str); 2],
    values: [(&'static str, AttributeValue); 2],
}

impl SessionGuard {
    pub(super) fn of(user: &UserRecord) -> Self {
        Self::copying(&user.role, &user.tier)
    }

    /// The guard of a session that copies `role` and `tier` (the record it was opened from).
    pub(super) fn copying(role: &str, tier: &str) -> Self {
        SessionGuard {
            expression: "attribute_not_exists(disabled) AND #guard_role = :guard_role AND #guard_tier = :guard_tier",
            names: [("#guard_role", "role"), ("#guard_tier", "tier")],
            values: [(":guard_role", s(role)), (":guard_tier", s(tier))],
        }
    }

    /// A `ConditionCheck` of the user item.
    pub(super) fn check(self, user_id: Uuid) -> ConditionCheckBuilder {
        let mut check = ConditionCheck::builder()
            .set_key(Some(keys::user(user_id).into_attributes()))
            .condition_expression(self.expression);
        for (name, attribute) in self.names {
            check = check.expression_attribute_names(name, attribute);
        }
        for (name, value) in self.values {
            check = check.expression_attribute_values(name, value);
        }
        check
    }

    /// An update of the user item that also requires the guard, after its own `condition`.
    pub(super) fn require(self, update: UpdateBuilder, condition: &str) -> UpdateBuilder {
        let mut update = update.condition_expression(format!("({condition}) AND {}", self.expression));
        for (name, attribute) in self.names {
            update = update.expression_attribute_names(name, attribute);
        }
        for (name, value) in self.values {
            update = update.expression_attribute_values(name, value);
        }
        update
    }
}
