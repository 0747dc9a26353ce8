//! Notice deliveries on PostgreSQL: each step one transaction around `store::shared::deliveries`,
//! where the steps are written once for both backends (the life of a delivery:
//! `store::deliveries`). Several nodes, and several workers on each, expand and claim at once:
//! each takes its rows `FOR UPDATE SKIP LOCKED` (`Tx::for_update`, `postgres/tx.rs`), so a row
//! is expanded by one transaction and an attempt claimed by one claim; recording locks its row,
//! so an outcome is recorded once.

use chrono::{DateTime, Utc};

use super::PgStore;
use crate::notify::Notice;
use crate::store::deliveries::{
    AttemptOutcome, ClaimedDelivery, DeliveryCounts, DeliveryRow, DeliveryStatus, DeliveryStore,
    Expansion, Recorded,
};
use crate::store::error::StoreError;
use crate::store::shared::deliveries as steps;

impl DeliveryStore for PgStore {
    fn expand_outbox(
        &self,
        route: &dyn Fn(&Notice) -> Vec<String>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Expansion, StoreError> {
        // The worker asks every second: look with a reader before taking a write.
        if !self.read(|c| steps::any_unexpanded(c))? {
            return Ok(Expansion::default());
        }
        self.write(|tx| steps::expand_outbox(tx, route, now, limit))
    }

    fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        max_attempts: u32,
        lease: &dyn Fn(&str, u32) -> std::time::Duration,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        if !self.read(|c| steps::any_due(c, now))? {
            return Ok(Vec::new());
        }
        self.write(|tx| steps::claim_deliveries(tx, now, limit, max_attempts, lease))
    }

    fn record_attempt(
        &self,
        id: i64,
        outcome: &AttemptOutcome,
        now: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<Recorded, StoreError> {
        self.write(|tx| steps::record_attempt(tx, id, outcome, now, max_attempts))
    }

    fn deliveries(
        &self,
        status: Option<DeliveryStatus>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        self.read(|c| steps::deliveries(c, status, before_id, limit))
    }

    fn delivery_counts(&self) -> Result<DeliveryCounts, StoreError> {
        self.read(|c| steps::delivery_counts(c))
    }
}
