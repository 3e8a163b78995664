//! Bucket shares of quantized response-time distributions, computed once per run and
//! shared by every workload.
//!
//! Cutting a distribution into the histogram's buckets costs two `exp` per bucket, a few
//! hundred per distribution; booking one per workload per tick was most of the fluid
//! model's time. But an M/M/c response time without a fixed part is fixed by three
//! numbers — the service rate μ, the wait rate θ and the chance to wait — and a workload's
//! timeout. Quantized (rates in steps under 0.8%, the chance to wait in steps of 0.001),
//! a whole day of a thousand workloads visits a few thousand of them. Each gets its
//! shares and its p99 once; a tick then books its requests against the table's id, and
//! the end of the run adds each id's requests with one multiply-add per bucket.

use super::queueing::LatencyDist;
use crate::metrics::histogram::{LatencyHistogram, bucket_shares};

/// Steps of at most 0.8% (the binary exponent and the top 7 bits of the mantissa: no
/// logarithm needed): rates this close give quantiles this close, well inside the
/// histogram's 5% buckets.
fn log_step(x: f64) -> u64 {
    // Positive and finite after the clamp: the sign bit is 0, so 19 bits remain.
    x.clamp(1e-12, f64::MAX).to_bits() >> LOG_STEP_SHIFT
}

/// Bits of the mantissa dropped by [`log_step`].
const LOG_STEP_SHIFT: u32 = 45;

/// The value at the middle of a [`log_step`] step (in the bits, so within 0.4% of every
/// value of the step).
fn step_middle(step: u64) -> f64 {
    f64::from_bits((step << LOG_STEP_SHIFT) | (1 << (LOG_STEP_SHIFT - 1)))
}

/// Steps of the chance to wait.
const P_WAIT_STEP: f64 = 1e-3;

/// What identifies a table: μ's and θ's steps (19 bits each: a positive double's exponent
/// and top mantissa bits) and the chance to wait's (11 bits) packed in one word, and the
/// timeout's bits.
pub type TableKey = (u64, u64);

/// One tick's requests booked against a table, as a workload logs them until the log is
/// spread: the key (first half; the log holds one timeout) stands for the table, the id
/// saves looking it up again while the tables still hold it. Single precision is plenty
/// for one tick's count (7 digits); the sums are kept in double.
#[derive(Debug, Clone, Copy)]
pub struct LoggedBooking {
    /// The table key's first half.
    pub key: u64,
    /// The table's id when booked.
    pub id_hint: u32,
    /// Requests.
    pub count: f32,
}

/// One quantized distribution: its key, its shares (a slice of the arena) and p99, in
/// one 32-byte record, so a lookup's key check and its answer share a cache line (aligned
/// to 32, so no record straddles two).
#[derive(Debug, Clone, Copy)]
#[repr(align(32))]
struct Table {
    key: TableKey,
    start: u32,
    len: u32,
    p99_s: f64,
}

/// An empty index slot.
const NO_TABLE: u32 = u32::MAX;

/// Tables of one run, by id. Ids are handed out in the order distributions are first
/// seen, which the run's sequence fixes, so the same scenario and seed always give the
/// same ids and the same sums.
#[derive(Debug)]
pub struct LatencyTables {
    tables: Vec<Table>,
    /// Every table's shares, back to back.
    shares: Vec<f64>,
    /// Open addressing over `tables` by key: a power of two, at most half full.
    index: Vec<u32>,
    /// Tables kept before the owner clears them all (bookings are logged by key, so a
    /// table cleared is simply built again when next needed).
    capacity: usize,
    scratch: Vec<f64>,
    /// Requests per table id while a log is added up (zero between calls).
    count_by_id: Vec<f64>,
    /// Ids with a count in `count_by_id`, in first-seen order.
    touched: Vec<u32>,
}

impl Default for LatencyTables {
    fn default() -> Self {
        LatencyTables::new()
    }
}

impl LatencyTables {
    /// Tables for a run: at most 16,384 of up to 360 buckets, 47 MiB at worst (a day of a
    /// thousand workloads' noisy traffic needs a few thousand).
    pub fn new() -> LatencyTables {
        LatencyTables::with_capacity(16_384)
    }

    /// Tables that are full at `capacity` tables.
    pub fn with_capacity(capacity: usize) -> LatencyTables {
        LatencyTables {
            tables: Vec::new(),
            shares: Vec::new(),
            index: Vec::new(),
            capacity,
            scratch: Vec::new(),
            count_by_id: Vec::new(),
            touched: Vec::new(),
        }
    }

    /// Whether the owner should [`Self::clear`] before the next tick.
    pub fn is_full(&self) -> bool {
        self.tables.len() >= self.capacity
    }

    /// Tables held.
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// Whether no table is held.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// Forgets every table.
    pub fn clear(&mut self) {
        self.tables.clear();
        self.shares.clear();
        self.index.iter_mut().for_each(|i| *i = NO_TABLE);
    }

    /// The key of `dist` truncated at `timeout_s`, when a table can stand for it: an
    /// M/M/c response without a fixed part. A shifted or backlogged distribution is not a
    /// scaled copy of few shapes: None.
    pub fn key(dist: &LatencyDist, timeout_s: f64) -> Option<TableKey> {
        let LatencyDist::Mmc {
            mu,
            shift_s,
            p_wait,
            theta,
        } = *dist
        else {
            return None;
        };
        if shift_s != 0.0 || !(mu > 0.0 && theta > 0.0 && timeout_s > 0.0) {
            return None;
        }
        // p_wait ∈ [0, 1]: adding a half and truncating rounds (no libm call).
        let p_step = (p_wait.clamp(0.0, 1.0) / P_WAIT_STEP + 0.5) as u64;
        let packed = (log_step(mu) << 30) | (log_step(theta) << 11) | p_step;
        Some((packed, timeout_s.to_bits()))
    }

    /// The id and p99 of the table of `key` (made on first use).
    pub fn table(&mut self, key: TableKey) -> (u32, f64) {
        if self.index.len() < 2 * (self.tables.len() + 1) {
            self.grow_index();
        }
        let mask = self.index.len() - 1;
        let mut slot = home_slot(&key) & mask;
        loop {
            match self.index[slot] {
                NO_TABLE => break,
                id => {
                    let table = &self.tables[id as usize];
                    if table.key == key {
                        return (id, table.p99_s);
                    }
                }
            }
            slot = (slot + 1) & mask;
        }
        let id = self.tables.len() as u32;
        self.index[slot] = id;
        let table = self.build(key);
        self.tables.push(table);
        (id, table.p99_s)
    }

    /// Adds `count` requests of table `id` to `hist`.
    pub fn spread(&self, id: u32, count: f64, hist: &mut LatencyHistogram) {
        let t = self.tables[id as usize];
        hist.add_shares(
            &self.shares[t.start as usize..(t.start + t.len) as usize],
            count,
        );
    }

    /// Adds up a log of bookings made with one timeout (the keys' second half) by
    /// table, spreads each table's total into `hist` (in the order tables first appear
    /// in the log, fixed by the run) and empties the log.
    pub fn spread_log(
        &mut self,
        log: &mut Vec<LoggedBooking>,
        timeout_bits: u64,
        hist: &mut LatencyHistogram,
    ) {
        let mut last: Option<(u64, u32)> = None;
        for &LoggedBooking {
            key,
            id_hint,
            count,
        } in log.iter()
        {
            let id = match last {
                Some((k, id)) if k == key => id,
                // The id the booking saw, unless the tables were cleared since.
                _ if self.tables.get(id_hint as usize).map(|t| t.key)
                    == Some((key, timeout_bits)) =>
                {
                    id_hint
                }
                _ => self.table((key, timeout_bits)).0,
            };
            last = Some((key, id));
            if self.count_by_id.len() <= id as usize {
                self.count_by_id.resize(self.tables.len(), 0.0);
            }
            let slot = &mut self.count_by_id[id as usize];
            if *slot == 0.0 {
                self.touched.push(id);
            }
            *slot += f64::from(count);
        }
        log.clear();
        for i in 0..self.touched.len() {
            let id = self.touched[i];
            let count = std::mem::take(&mut self.count_by_id[id as usize]);
            self.spread(id, count, hist);
        }
        self.touched.clear();
    }

    /// The distribution a key stands for: the middle of each step.
    fn representative(key: TableKey) -> LatencyDist {
        let packed = key.0;
        LatencyDist::Mmc {
            mu: step_middle(packed >> 30),
            shift_s: 0.0,
            p_wait: ((packed & 0x7ff) as f64 * P_WAIT_STEP).clamp(0.0, 1.0),
            theta: step_middle((packed >> 11) & 0x7_ffff),
        }
    }

    fn build(&mut self, key: TableKey) -> Table {
        let timeout_s = f64::from_bits(key.1);
        let dist = Self::representative(key);
        bucket_shares(&dist, timeout_s, &mut self.scratch);
        let start = self.shares.len() as u32;
        self.shares.extend_from_slice(&self.scratch);
        Table {
            key,
            start,
            len: self.scratch.len() as u32,
            p99_s: dist.quantile(0.99).min(timeout_s),
        }
    }

    fn grow_index(&mut self) {
        let size = (self.index.len() * 2).max(1024);
        self.index = vec![NO_TABLE; size];
        let mask = size - 1;
        for (id, table) in self.tables.iter().enumerate() {
            let key = &table.key;
            let mut slot = home_slot(key) & mask;
            while self.index[slot] != NO_TABLE {
                slot = (slot + 1) & mask;
            }
            self.index[slot] = id as u32;
        }
    }
}

/// Where a key starts probing (a multiply-xorshift mix of its parts).
fn home_slot(key: &TableKey) -> usize {
    let mut h = key.0.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^= h >> 29;
    h = (h ^ key.1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^= h >> 29;
    h as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::queueing::erlang_c;

    impl LatencyTables {
        /// The table of `dist` with `timeout_s` and its p99, when a table can stand for it.
        fn lookup(&mut self, dist: &LatencyDist, timeout_s: f64) -> Option<(u32, f64)> {
            Self::key(dist, timeout_s).map(|key| self.table(key))
        }
    }

    fn mmc(c: u32, mu: f64, lambda: f64) -> LatencyDist {
        LatencyDist::Mmc {
            mu,
            shift_s: 0.0,
            p_wait: erlang_c(c, lambda / mu),
            theta: f64::from(c) * mu - lambda,
        }
    }

    #[test]
    fn a_table_spreads_like_the_distribution_it_stands_for() {
        let mut tables = LatencyTables::new();
        for (c, lambda) in [(1, 5.0), (1, 9.5), (4, 30.0), (4, 39.0)] {
            let d = mmc(c, 10.0, lambda);
            let (id, p99) = tables.lookup(&d, 2.0).expect("an M/M/c table");
            let mut via_table = LatencyHistogram::default();
            tables.spread(id, 1000.0, &mut via_table);
            let mut direct = LatencyHistogram::default();
            direct.add_distribution(&d, 1000.0, 2.0);
            assert!((via_table.total() - 1000.0).abs() < 1e-9);
            for q in [0.5, 0.9, 0.99] {
                let (t, e) = (
                    via_table.quantile(q).expect("t"),
                    direct.quantile(q).expect("e"),
                );
                // Quantization moves the rates by under 0.4%, the chance to wait by 5e-4.
                assert!(
                    (t / e - 1.0).abs() < 0.01,
                    "c{c} λ{lambda} q{q}: {t} vs {e}"
                );
            }
            let exact = d.quantile(0.99).min(2.0);
            assert!((p99 / exact - 1.0).abs() < 0.01, "{p99} vs {exact}");
        }
    }

    #[test]
    fn close_distributions_share_a_table_and_distant_ones_do_not() {
        let mut tables = LatencyTables::new();
        // θ = 4.7 sits inside a step (5.0, a power of two times 1.25, would start one).
        let a = tables.lookup(&mmc(1, 10.0, 5.3), 1.0).expect("a").0;
        let b = tables.lookup(&mmc(1, 10.0, 5.3001), 1.0).expect("b").0;
        let c = tables.lookup(&mmc(1, 10.0, 6.0), 1.0).expect("c").0;
        // Another timeout truncates elsewhere: another table.
        let d = tables.lookup(&mmc(1, 10.0, 5.3), 2.0).expect("d").0;
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_eq!(tables.len(), 3);
    }

    #[test]
    fn shifted_and_backlogged_distributions_have_no_table() {
        let mut tables = LatencyTables::new();
        let shifted = LatencyDist::Mmc {
            mu: 10.0,
            shift_s: 0.05,
            p_wait: 0.2,
            theta: 5.0,
        };
        assert!(tables.lookup(&shifted, 1.0).is_none());
        let backlogged = LatencyDist::Backlogged {
            mu: 10.0,
            wait_s: 0.3,
        };
        assert!(tables.lookup(&backlogged, 1.0).is_none());
        assert!(tables.is_empty());
    }

    #[test]
    fn ids_survive_the_index_growing_and_clear_forgets_them() {
        let mut tables = LatencyTables::with_capacity(1024);
        let d = mmc(1, 10.0, 5.0);
        let ids: Vec<u32> = (0..3000)
            .map(|i| tables.lookup(&d, 1.0 + f64::from(i) * 1e-3).expect("t").0)
            .collect();
        let again: Vec<u32> = (0..3000)
            .map(|i| tables.lookup(&d, 1.0 + f64::from(i) * 1e-3).expect("t").0)
            .collect();
        assert_eq!(ids, again);
        assert_eq!(ids, (0..3000).collect::<Vec<u32>>());
        assert!(tables.is_full());
        tables.clear();
        assert!(tables.is_empty() && !tables.is_full());
        assert_eq!(tables.lookup(&mmc(1, 10.0, 6.0), 1.0).expect("t").0, 0);
    }
}
