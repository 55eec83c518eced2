//! An SDK interceptor that counts DynamoDB round trips and the time spent inside them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;

#[derive(Debug, Default, Clone)]
pub struct Probe(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    round_trips: AtomicU64,
    nanos: AtomicU64,
    started: Mutex<Option<Instant>>,
}

impl Probe {
    /// Round trips and database time since the last call (requests run one at a time).
    pub fn take(&self) -> (u64, Duration) {
        let trips = self.0.round_trips.swap(0, Ordering::Relaxed);
        let nanos = self.0.nanos.swap(0, Ordering::Relaxed);
        (trips, Duration::from_nanos(nanos))
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
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        *self.0.started.lock().map_err(|_| "poisoned")? = Some(Instant::now());
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(started) = self.0.started.lock().map_err(|_| "poisoned")?.take() {
            self.0.nanos.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        }
        self.0.round_trips.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
