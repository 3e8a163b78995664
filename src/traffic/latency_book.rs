//! Latency booking for the fluid model: spreading a response-time distribution over the
//! histogram's buckets is its costliest step, and a slowly changing or noisy curve revisits
//! the same distributions tick after tick. So ticks are booked per quantized distribution
//! and each distribution is spread once, at the end of the run (or when too many are
//! pending, so memory stays bounded). M/M/c responses without a fixed part, the common
//! case, are appended to a log by [`LatencyTables`] key and spread from the run's shared
//! tables every few hundred ticks; the rest (calls, retries, fixed service parts,
//! overload) are booked per workload by key.

use super::latency_tables::{LatencyTables, LoggedBooking, TableKey};
use super::queueing::LatencyDist;
use crate::metrics::histogram::LatencyHistogram;

/// Latency booked but not yet spread into the histogram, for one quantized distribution.
#[derive(Debug, Clone, Copy)]
struct PendingLatency {
    key: [i64; 4],
    dist: LatencyDist,
    shift_s: f64,
    timeout_s: f64,
    count: f64,
    p99_s: f64,
}

/// Ticks booked against the tables before they are added up and spread: a workload's
/// day at 15 s ticks is 5,760, so about ten spreads a day, each of a hundred tables or so.
/// At 16 bytes an entry, a thousand workloads' logs stay within 8 MiB, inside the cache.
const TABLE_LOG_LEN: usize = 512;
/// Distinct distributions kept before all are spread.
const PENDING_SLOTS: usize = 1024;
/// Open-addressing index over the pending entries: a power of two, at most half full.
const INDEX_SLOTS: usize = 2 * PENDING_SLOTS;
/// An empty index slot.
const NO_ENTRY: u16 = u16::MAX;

/// The index slot a key starts probing at (a multiply-xorshift mix of its four parts).
fn home_slot(key: &[i64; 4]) -> usize {
    let mut h = 0u64;
    for &k in key {
        h = (h ^ k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^= h >> 29;
    }
    (h as usize) & (INDEX_SLOTS - 1)
}
/// Rates are quantized to steps of at most 0.8% (the binary exponent and the top 7 bits of
/// the mantissa: no logarithm needed): the time scales 1/μ and 1/θ, and with them every
/// quantile, then differ by less than 0.8%, inside the histogram's 5% buckets (±2.5%). The
/// chance of waiting is quantized to steps of 0.002.
fn log_step(x: f64) -> i64 {
    (x.max(1e-12).to_bits() >> 45) as i64
}

/// Ticks whose distributions share a key are booked as one.
fn latency_key(d: &LatencyDist, shift_s: f64) -> [i64; 4] {
    match *d {
        LatencyDist::Mmc {
            mu,
            p_wait,
            theta,
            shift_s: own_shift,
        } => [
            log_step(mu),
            log_step(theta),
            // Absolute steps: a small chance of waiting moves no quantile that matters.
            (p_wait / 2e-3).round() as i64,
            log_step(shift_s + own_shift + 1e-6),
        ],
        LatencyDist::Backlogged { mu, wait_s } => [
            log_step(mu),
            log_step(wait_s + 1e-6),
            i64::MIN,
            log_step(shift_s + 1e-6),
        ],
    }
}

/// Booked latency of one workload, by quantized distribution. The entries live in a vector
/// with a small hash index (allocated on first use): a noisy curve books millions of ticks,
/// and a lookup must cost a cache miss or two, not a tree walk.
#[derive(Debug, Default)]
pub struct LatencyBook {
    /// Bookings against the tables, in booking order. Appending touches one cache line
    /// per workload; a dense count per table would touch a random line of megabytes every
    /// tick. By key (the id only a hint): a table's content depends on its key only, so
    /// whichever tables spread the log (and however often they were cleared) the sums
    /// come out the same.
    table_log: Vec<LoggedBooking>,
    /// The timeout (bits) of the logged bookings, the second half of their keys.
    table_log_timeout: u64,
    /// The table the previous tick booked against and its p99: a flat load books the
    /// same one tick after tick, and the key compares cheaper than the hash finds it (a
    /// replayed trace changes key almost every tick: 5% hits on traffic-1k).
    last_table: Option<(TableKey, u32, f64)>,
    pending: Vec<PendingLatency>,
    index: Vec<u16>,
    /// The entry the previous tick booked: consecutive ticks often share a distribution.
    last: Option<usize>,
}

impl LatencyBook {
    /// Books `count` requests of latency `dist` (plus `shift_s` of calls) and returns the
    /// tick's p99, seconds. Spreading a distribution over the histogram's buckets is the
    /// fluid model's costliest step; a slowly changing or noisy curve revisits the same
    /// distributions, so they are accumulated per quantized distribution and spread once,
    /// at the end of the run (or when too many are pending: memory stays bounded).
    pub fn book(
        &mut self,
        dist: LatencyDist,
        count: f64,
        shift_s: f64,
        timeout_s: f64,
        tables: &mut LatencyTables,
        hist: &mut LatencyHistogram,
    ) -> f64 {
        if shift_s == 0.0
            && let Some(key) = LatencyTables::key(&dist, timeout_s)
        {
            let (id_hint, p99_s) = match self.last_table {
                Some((last, id, p99_s)) if last == key => (id, p99_s),
                _ => {
                    let (id, p99_s) = tables.table(key);
                    self.last_table = Some((key, id, p99_s));
                    (id, p99_s)
                }
            };
            if key.1 != self.table_log_timeout {
                tables.spread_log(&mut self.table_log, self.table_log_timeout, hist);
                self.table_log_timeout = key.1;
            }
            self.table_log.push(LoggedBooking {
                key: key.0,
                id_hint,
                count: count as f32,
            });
            if self.table_log.len() >= TABLE_LOG_LEN {
                tables.spread_log(&mut self.table_log, self.table_log_timeout, hist);
            }
            return p99_s;
        }
        let key = latency_key(&dist, shift_s);
        if let Some(p) = self.last.and_then(|i| self.pending.get_mut(i))
            && p.key == key
        {
            p.count += count;
            return p.p99_s;
        }
        if self.index.is_empty() {
            self.index = vec![NO_ENTRY; INDEX_SLOTS];
        }
        let mut slot = home_slot(&key);
        loop {
            match self.index[slot] {
                NO_ENTRY => break,
                i => {
                    let p = &mut self.pending[usize::from(i)];
                    if p.key == key {
                        p.count += count;
                        self.last = Some(usize::from(i));
                        return p.p99_s;
                    }
                }
            }
            slot = (slot + 1) & (INDEX_SLOTS - 1);
        }
        if self.pending.len() >= PENDING_SLOTS {
            self.flush_keyed(hist);
            slot = home_slot(&key);
        }
        let p99_s = dist.quantile(0.99).min(timeout_s);
        self.index[slot] = self.pending.len() as u16;
        self.last = Some(self.pending.len());
        self.pending.push(PendingLatency {
            key,
            dist,
            shift_s,
            timeout_s,
            count,
            p99_s,
        });
        p99_s
    }

    /// Spreads everything booked into the histogram: the tables' log, then the keyed
    /// ones in key order (an order that does not depend on when each was first seen).
    pub fn flush(&mut self, tables: &mut LatencyTables, hist: &mut LatencyHistogram) {
        tables.spread_log(&mut self.table_log, self.table_log_timeout, hist);
        self.flush_keyed(hist);
    }

    fn flush_keyed(&mut self, hist: &mut LatencyHistogram) {
        self.pending.sort_unstable_by_key(|p| p.key);
        for p in self.pending.drain(..) {
            hist.add_distribution_shifted(&p.dist, p.count, p.timeout_s, p.shift_s);
        }
        self.index.iter_mut().for_each(|i| *i = NO_ENTRY);
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::queueing::erlang_c;

    fn mm1(lambda: f64) -> LatencyDist {
        LatencyDist::Mmc {
            mu: 10.0,
            shift_s: 0.0,
            p_wait: erlang_c(1, lambda / 10.0),
            theta: 10.0 - lambda,
        }
    }

    /// Books 600 ticks of a slowly rising load (λ from 5 to 6 per second), each `shift_s`
    /// late, and compares with spreading every tick's exact distribution.
    fn book_rising_load(shift_s: f64) -> (LatencyBook, LatencyTables) {
        let mut book = LatencyBook::default();
        let mut tables = LatencyTables::new();
        let mut booked = LatencyHistogram::default();
        let mut direct = LatencyHistogram::default();
        for i in 0..600 {
            let d = mm1(5.0 + f64::from(i) / 600.0);
            book.book(d, 100.0, shift_s, 10.0, &mut tables, &mut booked);
            direct.add_distribution_shifted(&d, 100.0, 10.0, shift_s);
        }
        let distinct = book.pending.len() + tables.len();
        // ρ from 0.5 to 0.6: 100 steps of the chance to wait, 22 of θ: far fewer than 600.
        assert!(distinct < 150, "{distinct} distinct");
        let mut flushed = LatencyBook::default();
        std::mem::swap(&mut flushed, &mut book);
        flushed.flush(&mut tables, &mut booked);
        assert!(flushed.pending.is_empty() && flushed.table_log.is_empty());
        assert!((booked.total() - direct.total()).abs() < 1e-6);
        for q in [0.5, 0.9, 0.99] {
            let (b, d) = (
                booked.quantile(q).expect("b"),
                direct.quantile(q).expect("d"),
            );
            assert!(
                (b / d - 1.0).abs() < 0.005,
                "shift {shift_s} q{q}: {b} vs {d}"
            );
        }
        (flushed, tables)
    }

    #[test]
    fn booking_matches_spreading_every_tick() {
        // No fixed part: the shared tables take it all.
        let (_, tables) = book_rising_load(0.0);
        assert!(!tables.is_empty());
        // Downstream calls shift it: booked by key, the tables untouched.
        let (_, tables) = book_rising_load(0.05);
        assert!(tables.is_empty());
    }

    #[test]
    fn clearing_the_tables_midway_changes_no_number() {
        // Bookings are logged by key: tables rebuilt after a clear are the same tables.
        let run = |clear_every: Option<u32>| {
            let mut book = LatencyBook::default();
            let mut tables = LatencyTables::new();
            let mut hist = LatencyHistogram::default();
            let mut p99s = Vec::new();
            for i in 0..1500u32 {
                if clear_every.is_some_and(|n: u32| i % n == 0) {
                    tables.clear();
                }
                let d = mm1(2.0 + f64::from(i % 700) / 100.0);
                p99s.push(book.book(d, 10.0, 0.0, 2.0, &mut tables, &mut hist));
            }
            book.flush(&mut tables, &mut hist);
            (p99s, hist.quantile(0.5), hist.quantile(0.99), hist.total())
        };
        let kept = run(None);
        assert_eq!(kept, run(Some(97)));
        assert_eq!(kept, run(Some(1)));
    }

    #[test]
    fn the_returned_p99_is_the_distributions() {
        let mut book = LatencyBook::default();
        let mut tables = LatencyTables::new();
        let mut hist = LatencyHistogram::default();
        let d = mm1(5.0);
        let exact = 100f64.ln() / 5.0;
        // Through a table (quantized: within 1%) and by key.
        let p99 = book.book(d, 1.0, 0.0, 10.0, &mut tables, &mut hist);
        assert!((p99 / exact - 1.0).abs() < 0.01, "{p99} vs {exact}");
        let p99 = book.book(d, 1.0, 1e-9, 10.0, &mut tables, &mut hist);
        assert!((p99 - exact).abs() < 1e-6, "{p99} vs {exact}");
        // Capped at the timeout: slower requests failed.
        let capped = book.book(mm1(9.9), 1.0, 0.0, 2.0, &mut tables, &mut hist);
        assert_eq!(capped, 2.0);
    }

    #[test]
    fn more_distributions_than_slots_spill_without_losing_requests() {
        let mut book = LatencyBook::default();
        let mut tables = LatencyTables::new();
        let mut booked = LatencyHistogram::default();
        let mut direct = LatencyHistogram::default();
        // 3,000 distinct rates behind a call (so booked by key), each booked twice (the
        // second time after others).
        for round in 0..2 {
            for i in 0..3000 {
                let d = mm1(1.0 + f64::from(i) * 0.0029);
                let n = 1.0 + f64::from(round);
                book.book(d, n, 0.01, 10.0, &mut tables, &mut booked);
                direct.add_distribution_shifted(&d, n, 10.0, 0.01);
            }
        }
        assert!(book.pending.len() <= PENDING_SLOTS);
        book.flush(&mut tables, &mut booked);
        assert!((booked.total() - 9000.0).abs() < 1e-6, "{}", booked.total());
        let (b, d) = (
            booked.quantile(0.99).expect("b"),
            direct.quantile(0.99).expect("d"),
        );
        assert!((b / d - 1.0).abs() < 0.01, "{b} vs {d}");
    }
}
