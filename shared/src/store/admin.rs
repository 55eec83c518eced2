//! What the back office does to users (`/admin/v1`): pages of every user by creation time,
//! and changes of tier, role, disablement and app metadata guarded by the version read.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use super::keys::{self, Key};
use super::users::{FieldUpdate, UserRecord, USERS_BY_CREATED, USER_KIND};
use super::{classify, from_item, ms, n, s, written, Item, Store, StoreError};
use crate::clock::UnixMs;

/// Which users a page lists: created in `[since, before)`, newest or oldest first, at most
/// `limit`, after the user a previous page ended with.
#[derive(Debug, Clone, Copy)]
pub struct UserQuery {
    pub limit: u16,
    pub newest_first: bool,
    pub since: Option<UnixMs>,
    pub before: Option<UnixMs>,
    pub after: Option<PageEnd>,
}

/// Where a page ended: the last user's creation time and id (what the next page starts after).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageEnd {
    pub created_at: UnixMs,
    pub user_id: Uuid,
}

/// One page of users, in the order asked; `next` is set while more may follow.
#[derive(Debug)]
pub struct UserPage {
    pub users: Vec<UserRecord>,
    pub next: Option<PageEnd>,
}

/// A back-office change of a user; `None` leaves a field as it is.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AdminChanges {
    pub tier: Option<String>,
    pub role: Option<String>,
    pub disabled: Option<bool>,
    /// JSON text of the new app metadata object.
    pub app_metadata: Option<String>,
}

impl AdminChanges {
    /// `user` with these changes applied, as the database holds it after the write.
    pub fn apply(&self, user: &UserRecord, now: UnixMs) -> UserRecord {
        let mut next = user.clone();
        if let Some(tier) = &self.tier {
            next.tier = tier.clone();
        }
        if let Some(role) = &self.role {
            next.role = role.clone();
        }
        if let Some(disabled) = self.disabled {
            next.disabled = disabled;
        }
        if let Some(metadata) = &self.app_metadata {
            next.app_metadata = Some(metadata.clone());
        }
        next.version += 1;
        next.updated_at = now;
        next
    }
}

impl Store {
    /// A page of users from the `users-by-created` index (keys only, eventually consistent),
    /// then their records in one strongly consistent batch read, in the index's order; a user
    /// deleted in between is skipped.
    pub async fn list_users(&self, query: UserQuery) -> Result<UserPage, StoreError> {
        let since = query.since.map_or(0, UnixMs::as_ms);
        let before = query.before.map_or(i64::MAX, UnixMs::as_ms);
        let start = query.after.map(|end| {
            let mut key = keys::user(end.user_id).into_attributes();
            key.insert("kind".to_owned(), s(USER_KIND));
            key.insert("created_at".to_owned(), ms(end.created_at));
            key
        });
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(USERS_BY_CREATED)
            .key_condition_expression("kind = :kind AND created_at BETWEEN :since AND :last")
            .expression_attribute_values(":kind", s(USER_KIND))
            .expression_attribute_values(":since", n(since))
            // BETWEEN is inclusive; `before` is not.
            .expression_attribute_values(":last", n(before.saturating_sub(1)))
            .scan_index_forward(!query.newest_first)
            .limit(i32::from(query.limit))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(classify)?;
        let listed: Vec<(Key, Item)> = out
            .items
            .unwrap_or_default()
            .into_iter()
            .filter_map(|item| match (item.get("pk"), item.get("sk")) {
                (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => {
                    Some((Key { pk: pk.clone(), sk: sk.clone() }, item))
                }
                _ => None,
            })
            .collect();
        let next = match out.last_evaluated_key {
            Some(last) if !last.is_empty() => Some(page_end(&last)?),
            _ => None,
        };
        let mut found: HashMap<String, UserRecord> = HashMap::new();
        if !listed.is_empty() {
            self.batch_get(listed.iter().map(|(key, _)| key.clone()), |item| {
                let user: UserRecord = from_item(item)?;
                found.insert(keys::user(user.id).pk, user);
                Ok(())
            })
            .await?;
        }
        let users = listed.iter().filter_map(|(key, _)| found.remove(&key.pk)).collect();
        Ok(UserPage { users, next })
    }

    /// Applies a back-office change to `user` as read, provided nobody changed it since (its
    /// version); `Stale` otherwise, for the caller to read again and retry on top.
    pub async fn admin_update(
        &self,
        user: &UserRecord,
        changes: &AdminChanges,
        now: UnixMs,
    ) -> Result<UserRecord, StoreError> {
        let mut update = FieldUpdate::new(now);
        if let Some(tier) = &changes.tier {
            update.set("tier", s(tier));
        }
        if let Some(role) = &changes.role {
            update.set("role", s(role));
        }
        if let Some(metadata) = &changes.app_metadata {
            update.set("app_metadata", s(metadata));
        }
        match changes.disabled {
            Some(true) => update.set("disabled", AttributeValue::Bool(true)),
            // Stored only while true: sessions are opened on its absence.
            Some(false) => update.remove("disabled"),
            None => {}
        }
        let (expression, names, mut values) = update.build();
        values.insert(":expected".to_owned(), n(user.version as i64));
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::user(user.id).into_attributes()))
            .update_expression(expression)
            .condition_expression("#version = :expected")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match written(out)? {
            true => Ok(changes.apply(user, now)),
            false => Err(StoreError::Stale),
        }
    }

    /// Brings a user's sessions in line with the user as read, from one `Query` of its
    /// partition: while it is disabled each session is marked ended (`ended_by_disable`);
    /// otherwise the sessions a disable ended are deleted and every other one carries the
    /// user's role and tier, for its next access token. A session that ended meanwhile is left
    /// ended. Returns how many sessions are live afterwards.
    pub async fn settle_sessions(&self, user: &UserRecord, now: UnixMs) -> Result<usize, StoreError> {
        let (ended, open): (Vec<_>, Vec<_>) =
            self.sessions_of(user.id).await?.into_iter().partition(|s| s.ended_by_disable);
        let update = |session_id: Uuid, expression: &str| {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(keys::session(user.id, session_id).into_attributes()))
                .update_expression(expression)
                .condition_expression("attribute_exists(pk)")
        };
        if user.disabled {
            for session in &open {
                let mark = update(session.session_id, "SET ended_by_disable = :yes")
                    .expression_attribute_values(":yes", AttributeValue::Bool(true));
                written(mark.send().await)?;
            }
            return Ok(0);
        }
        self.batch_delete(ended.iter().map(|s| keys::session(user.id, s.session_id)).collect()).await?;
        for session in open.iter().filter(|s| s.role != user.role || s.tier != user.tier) {
            let restamp = update(session.session_id, "SET #role = :role, #tier = :tier")
                .expression_attribute_names("#role", "role")
                .expression_attribute_names("#tier", "tier")
                .expression_attribute_values(":role", s(&user.role))
                .expression_attribute_values(":tier", s(&user.tier));
            written(restamp.send().await)?;
        }
        Ok(open.iter().filter(|s| s.is_live(now)).count())
    }
}

/// The page end a `LastEvaluatedKey` of the index names.
fn page_end(last: &Item) -> Result<PageEnd, StoreError> {
    let created_at = match last.get("created_at") {
        Some(AttributeValue::N(number)) => number.parse().ok().map(UnixMs::from_ms),
        _ => None,
    };
    let user_id = match last.get("pk") {
        Some(AttributeValue::S(pk)) => keys::user_of(pk),
        _ => None,
    };
    match (created_at, user_id) {
        (Some(created_at), Some(user_id)) => Ok(PageEnd { created_at, user_id }),
        _ => Err(StoreError::Internal("the users index returned an unexpected key".into())),
    }
}
