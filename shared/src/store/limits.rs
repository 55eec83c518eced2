//! Rate windows (per route and IP) and login back-off (per identifier). The policy — window
//! arithmetic, back-off maths — is `crate::rate`'s; these are its counters.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::claims::ClaimRecord;
use super::keys;
use super::{from_item, n, sort_key, to_item, written, Store, StoreError};
use crate::clock::UnixMs;

/// Consecutive login failures of one identifier (an account's or not), and its lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginState {
    pk: String,
    sk: String,
    /// Attempts counted before their password is checked; a success deletes the record.
    pub failures: u32,
    /// Every attempt is refused until then.
    pub locked_until: UnixMs,
    pub ttl: i64,
}

impl LoginState {
    /// The state of the identifier whose back-off partition is `login_pk` (`keys::login_backoff`).
    pub fn new(login_pk: &str, failures: u32, locked_until: UnixMs, ttl: i64) -> Self {
        let key = keys::login_state(login_pk);
        LoginState { pk: key.pk, sk: key.sk, failures, locked_until, ttl }
    }
}

impl Store {
    /// Counts one request of `scope` from `ip` in the fixed window starting at
    /// `window_start` (unix seconds); `false` once `limit` requests were counted. The count
    /// only moves under the condition, so a burst of any size lets at most `limit` through.
    pub async fn count_in_window(
        &self,
        scope: &str,
        ip: &str,
        window_start: i64,
        limit: u32,
        ttl: i64,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::rate_window(scope, ip, window_start).into_attributes()))
            .update_expression("ADD #count :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(#count) OR #count < :limit")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(i64::from(limit)))
            .expression_attribute_values(":ttl", n(ttl))
            .send()
            .await;
        written(out)
    }

    /// The owner of a login identifier's claim (if any) and the identifier's back-off state,
    /// in one round trip.
    pub async fn login_lookup(
        &self,
        claim_pk: Option<String>,
        login_pk: String,
    ) -> Result<(Option<Uuid>, Option<LoginState>), StoreError> {
        let mut keys = vec![keys::login_state(login_pk)];
        keys.extend(claim_pk.map(keys::claim));
        let (mut owner, mut state) = (None, None);
        self.batch_get(keys, |item| {
            match sort_key(&item) {
                Some(keys::CLAIM) => owner = Some(from_item::<ClaimRecord>(item)?.user_id),
                _ => state = Some(from_item(item)?),
            }
            Ok(())
        })
        .await?;
        Ok((owner, state))
    }

    /// Counts a login attempt before its password is checked, provided the identifier's
    /// state is still the one read (`previous` failures, `None` for no record): concurrent
    /// attempts cannot all slip under the lockout. `false` when another attempt came first.
    pub async fn reserve_login(&self, state: &LoginState, previous: Option<u32>) -> Result<bool, StoreError> {
        let mut put = self.client.put_item().table_name(&self.table).set_item(Some(to_item(state)?));
        put = match previous {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(failures) => put
                .condition_expression("failures = :previous")
                .expression_attribute_values(":previous", n(i64::from(failures))),
        };
        written(put.send().await)
    }

    /// Forgets the back-off state of these login identifiers (after a password reset).
    pub async fn clear_login_states(&self, login_pks: Vec<String>) -> Result<(), StoreError> {
        self.batch_delete(login_pks.into_iter().map(keys::login_state).collect()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::s;

    #[test]
    fn a_login_state_is_keyed_by_its_identifier() {
        let login_pk = keys::login_backoff("EMAIL#jane@example.com");
        let state = LoginState::new(&login_pk, 3, UnixMs::from_ms(1_795_000_000_123), 1_795_086_400);
        let item = to_item(&state).expect("item");
        assert_eq!(item["pk"], s(login_pk));
        assert_eq!(item["sk"], s("STATE"));
        assert_eq!(item["locked_until"], n(1_795_000_000_123));
        assert_eq!(item["failures"], n(3));
    }
}
