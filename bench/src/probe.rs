//! An SDK interceptor that records every DynamoDB call's time on the wire, so the bench can
//! count calls, count *sequential* round trips (calls that overlap in time are one), and split
//! a request's time into inside and outside the database.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_smithy_types::config_bag::{Storable, StoreReplace};

#[derive(Debug, Default, Clone)]
pub struct Probe(Arc<Mutex<Vec<(Instant, Instant)>>>);

/// When this operation's request left (kept in the operation's own config bag, so calls
/// running concurrently do not mix up their clocks).
#[derive(Debug, Clone)]
struct SentAt(Instant);

impl Storable for SentAt {
    type Storer = StoreReplace<Self>;
}

/// What the database calls of one request added up to.
#[derive(Debug, Default, Clone, Copy)]
pub struct Trips {
    pub calls: u64,
    /// Calls that did not overlap another call: the round trips a client waits for in turn.
    pub sequential: u64,
    /// Wall time with at least one call on the wire.
    pub inside: Duration,
}

impl Probe {
    /// The calls recorded since the last `take`.
    pub fn take(&self) -> Trips {
        let mut spans = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        spans.sort_by_key(|(start, _)| *start);
        let mut trips = Trips { calls: spans.len() as u64, ..Trips::default() };
        let mut open: Option<(Instant, Instant)> = None;
        for (start, end) in spans {
            match open {
                Some((s, e)) if start <= e => open = Some((s, e.max(end))),
                _ => {
                    if let Some((s, e)) = open {
                        trips.inside += e - s;
                    }
                    trips.sequential += 1;
                    open = Some((start, end));
                }
            }
        }
        if let Some((s, e)) = open {
            trips.inside += e - s;
        }
        trips
    }
}

impl Intercept for Probe {
    fn name(&self) -> &'static str {
        "bench-probe"
    }

    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(SentAt(Instant::now()));
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(SentAt(sent)) = cfg.load::<SentAt>().cloned() {
            self.0.lock().map_err(|_| "poisoned")?.push((sent, Instant::now()));
        }
        Ok(())
    }
}
