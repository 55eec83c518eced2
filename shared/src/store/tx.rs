//! Writes of several items in one `TransactWriteItems`: all happen or none does. Each item
//! says up front what a failure of its condition means, because DynamoDB answers a cancelled
//! transaction with one reason per item, by position.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::builders::{ConditionCheckBuilder, DeleteBuilder, PutBuilder, UpdateBuilder};
use aws_sdk_dynamodb::types::{CancellationReason, Delete, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;

use super::keys::Key;
use super::{classify, internal, Claim, Item, StoreError};

/// What it means when one item's condition fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fail {
    /// Its uniqueness claim is held by someone else.
    Claim(Claim),
    /// The record changed since it was read.
    Stale,
    /// The record is not there (any more), or no longer in the state the write requires.
    Missing,
}

impl From<Fail> for StoreError {
    fn from(fail: Fail) -> Self {
        match fail {
            Fail::Claim(claim) => StoreError::Conflict(claim),
            Fail::Stale => StoreError::Stale,
            Fail::Missing => StoreError::Missing,
        }
    }
}

/// A transaction being built. Items whose failure means nothing in particular (`None`) are
/// reported as whatever the SDK error classifies as.
pub(super) struct Tx<'a> {
    table: &'a str,
    items: Vec<TransactWriteItem>,
    on_fail: Vec<Option<Fail>>,
}

impl<'a> Tx<'a> {
    pub(super) fn new(table: &'a str) -> Self {
        Tx { table, items: Vec::new(), on_fail: Vec::new() }
    }

    /// Puts a record that must not exist yet.
    pub(super) fn put_new(&mut self, item: Item, on_fail: Option<Fail>) -> Result<&mut Self, StoreError> {
        self.put(Put::builder().set_item(Some(item)).condition_expression("attribute_not_exists(pk)"), on_fail)
    }

    pub(super) fn put(&mut self, put: PutBuilder, on_fail: Option<Fail>) -> Result<&mut Self, StoreError> {
        let put = put.table_name(self.table).build().map_err(internal)?;
        Ok(self.push(TransactWriteItem::builder().put(put).build(), on_fail))
    }

    pub(super) fn update(&mut self, update: UpdateBuilder, on_fail: Option<Fail>) -> Result<&mut Self, StoreError> {
        let update = update.table_name(self.table).build().map_err(internal)?;
        Ok(self.push(TransactWriteItem::builder().update(update).build(), on_fail))
    }

    pub(super) fn delete(&mut self, delete: DeleteBuilder, on_fail: Option<Fail>) -> Result<&mut Self, StoreError> {
        let delete = delete.table_name(self.table).build().map_err(internal)?;
        Ok(self.push(TransactWriteItem::builder().delete(delete).build(), on_fail))
    }

    /// Requires a condition of an item the transaction does not write.
    pub(super) fn check(
        &mut self,
        check: ConditionCheckBuilder,
        on_fail: Option<Fail>,
    ) -> Result<&mut Self, StoreError> {
        let check = check.table_name(self.table).build().map_err(internal)?;
        Ok(self.push(TransactWriteItem::builder().condition_check(check).build(), on_fail))
    }

    /// Deletes an item whatever it holds; one that is not there is fine.
    pub(super) fn delete_key(&mut self, key: Key) -> Result<&mut Self, StoreError> {
        self.delete(Delete::builder().set_key(Some(key.into_attributes())), None)
    }

    fn push(&mut self, item: TransactWriteItem, on_fail: Option<Fail>) -> &mut Self {
        self.items.push(item);
        self.on_fail.push(on_fail);
        self
    }

    pub(super) async fn send(self, client: &Client) -> Result<(), StoreError> {
        match client.transact_write_items().set_transact_items(Some(self.items)).send().await {
            Ok(_) => Ok(()),
            Err(err) => {
                let reasons = match err.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(c)) => c.cancellation_reasons(),
                    _ => &[],
                };
                match failure(reasons, &self.on_fail) {
                    Some(fail) => Err(fail.into()),
                    None => Err(classify(err)),
                }
            }
        }
    }
}

/// What the first item that failed its condition, among those whose failure means something,
/// means. Reasons line up with the items.
fn failure(reasons: &[CancellationReason], on_fail: &[Option<Fail>]) -> Option<Fail> {
    reasons
        .iter()
        .zip(on_fail)
        .find_map(|(reason, on_fail)| on_fail.filter(|_| reason.code() == Some("ConditionalCheckFailed")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(codes: &[&str]) -> Vec<CancellationReason> {
        codes.iter().map(|code| CancellationReason::builder().code(*code).build()).collect()
    }

    const CHECK: &str = "ConditionalCheckFailed";

    #[test]
    fn the_failed_item_says_what_it_means() {
        let on_fail = [None, Some(Fail::Claim(Claim::Username)), Some(Fail::Claim(Claim::Email)), None];
        assert_eq!(failure(&reasons(&["None", "None", CHECK, "None"]), &on_fail), Some(Fail::Claim(Claim::Email)));
        assert_eq!(failure(&reasons(&["None", CHECK, "None", "None"]), &on_fail), Some(Fail::Claim(Claim::Username)));
    }

    #[test]
    fn the_first_meaningful_failure_wins() {
        let on_fail = [Some(Fail::Stale), None, Some(Fail::Claim(Claim::Email))];
        assert_eq!(failure(&reasons(&[CHECK, "None", CHECK]), &on_fail), Some(Fail::Stale));
        assert_eq!(failure(&reasons(&["None", CHECK, CHECK]), &on_fail), Some(Fail::Claim(Claim::Email)));
    }

    #[test]
    fn failures_without_a_meaning_are_left_to_classification() {
        let on_fail = [None, Some(Fail::Claim(Claim::Device)), None];
        assert_eq!(failure(&reasons(&[CHECK, "None", CHECK]), &on_fail), None);
        // Other reasons (conflicts, throttling, validation) are not failed conditions.
        let others = reasons(&["None", "TransactionConflict", "ThrottlingError"]);
        assert_eq!(failure(&others, &on_fail), None);
        // Not a cancellation at all: no reasons.
        assert_eq!(failure(&[], &on_fail), None);
        // A reason without a code.
        assert_eq!(failure(&[CancellationReason::builder().build()], &[Some(Fail::Missing)]), None);
    }

    #[test]
    fn every_meaning_is_a_store_error() {
        assert!(matches!(StoreError::from(Fail::Claim(Claim::Device)), StoreError::Conflict(Claim::Device)));
        assert!(matches!(StoreError::from(Fail::Stale), StoreError::Stale));
        assert!(matches!(StoreError::from(Fail::Missing), StoreError::Missing));
    }
}
