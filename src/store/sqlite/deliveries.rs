//! Deliveries of outbox notices to webhooks in SQLite: the state that makes a notification
//! arrive exactly once as far as an idempotent receiver can tell. Each step is one write of the
//! writer around `store::shared::deliveries`, where the steps are written once for both
//! backends (the life of a delivery: `store::deliveries`); the worker's frequent questions
//! (anything to expand? anything due?) are asked on a reader first.

use chrono::{DateTime, Utc};

use super::SqliteStore;
use crate::notify::Notice;
use crate::store::deliveries::{
    AttemptOutcome, ClaimedDelivery, DeliveryCounts, DeliveryRow, DeliveryStatus, DeliveryStore,
    Expansion, Recorded,
};
use crate::store::error::StoreError;
use crate::store::shared::deliveries as steps;

impl DeliveryStore for SqliteStore {
    fn expand_outbox(
        &self,
        route: &dyn Fn(&Notice) -> Vec<String>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Expansion, StoreError> {
        // The worker asks every second: look with a reader before taking a write.
        if !self.read(|mut c| steps::any_unexpanded(&mut c))? {
            return Ok(Expansion::default());
        }
        self.writer
            .write(|mut tx| steps::expand_outbox(&mut tx, route, now, limit))
    }

    fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        max_attempts: u32,
        lease: &dyn Fn(&str, u32) -> std::time::Duration,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        if !self.read(|mut c| steps::any_due(&mut c, now))? {
            return Ok(Vec::new());
        }
        self.writer
            .write(|mut tx| steps::claim_deliveries(&mut tx, now, limit, max_attempts, lease))
    }

    fn record_attempt(
        &self,
        id: i64,
        outcome: &AttemptOutcome,
        now: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<Recorded, StoreError> {
        self.writer
            .write(|mut tx| steps::record_attempt(&mut tx, id, outcome, now, max_attempts))
    }

    fn deliveries(
        &self,
        status: Option<DeliveryStatus>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        self.read(|mut c| steps::deliveries(&mut c, status, before_id, limit))
    }

    fn delivery_counts(&self) -> Result<DeliveryCounts, StoreError> {
        self.read(|mut c| steps::delivery_counts(&mut c))
    }
}
