//! Rankings on PostgreSQL: the queries and their reading are `store::shared::rank`'s (the why of
//! each in `store::rank`). The day's queries run in one read-only `REPEATABLE READ` transaction,
//! so they see one snapshot while scenes are being ingested; a bulletin is numbered under a
//! transaction-level advisory lock (`Lock::Bulletins`, `postgres/tx.rs`), so two nodes rendering
//! two first bulletins of a season at once give them two numbers (the `UNIQUE (season, level,
//! number)` would refuse the second otherwise).

use chrono::{DateTime, NaiveDate, Utc};
use postgres::IsolationLevel;

use super::PgStore;
use crate::rank::facts::{DayFacts, RankQuery};
use crate::rank::svg::MapPoint;
use crate::store::error::{SqlContext, StoreError};
use crate::store::rank::{BulletinIssue, RankStore};
use crate::store::shared::rank;

impl RankStore for PgStore {
    fn rank_facts(&self, q: &RankQuery) -> Result<DayFacts, StoreError> {
        self.read(|c| {
            let mut tx = c
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .ctx("begin rank read")?;
            let out = rank::facts(&mut tx, q)?;
            tx.commit().ctx("end rank read")?;
            Ok(out)
        })
    }

    fn bulletin_issue(
        &self,
        season: NaiveDate,
        level: &str,
        date: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<BulletinIssue, StoreError> {
        let (season, date) = (season.to_string(), date.to_string());
        if let Some(i) = self.read(|c| rank::bulletin(c, &season, level, &date))? {
            return Ok(i);
        }
        self.write(|tx| rank::number_bulletin(tx, &season, level, &date, now))
    }

    fn map_points(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MapPoint>, StoreError> {
        self.read(|c| rank::map_points(c, from, to, limit))
    }
}
