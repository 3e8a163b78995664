//! Rows a run records by the million (the time series: one per workload per tick), kept in
//! fixed-size chunks whose memory a helper thread maps ahead of the simulation.
//!
//! Why: a day of a thousand workloads is 5.76 M rows, 460 MB. Whoever first writes a page
//! of fresh memory pays the kernel's page fault and zeroing: about 0.2 s for those rows,
//! a tenth of the simulation when it fell on the simulating thread. A helper thread now
//! writes each chunk once, before the simulation needs it, and hands it over through a
//! bounded channel. The helper only prepares empty memory: what is stored, and in which
//! order, is the simulation's alone, so outputs do not depend on it (nor on whether the
//! machine had a core to spare). Runs of fewer than [`HELPER_MIN_ROWS`] rows start no
//! thread.

use std::sync::mpsc::{Receiver, sync_channel};

/// Rows per chunk: 65,536 time-series rows are 5 MiB.
pub const CHUNK_ROWS: usize = 1 << 16;
/// Chunks the helper keeps ready ahead of the simulation.
const CHUNKS_AHEAD: usize = 2;
/// Expected rows from which a run starts the helper: below, faults cost milliseconds.
pub const HELPER_MIN_ROWS: usize = 4 * CHUNK_ROWS;

/// Rows in recording order: row `i` is in chunk `i / CHUNK_ROWS`.
#[derive(Debug)]
pub struct RowStore<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
    /// Chunks prepared by the helper thread, when one runs.
    prepared: Option<Receiver<Vec<T>>>,
}

impl<T> Default for RowStore<T> {
    fn default() -> Self {
        RowStore {
            chunks: Vec::new(),
            len: 0,
            prepared: None,
        }
    }
}

impl<T: Default + Send + 'static> RowStore<T> {
    /// A store for about `rows` rows: a helper thread prepares its chunks when there are
    /// many (none when the thread cannot be started: the store then maps its own pages).
    pub fn with_expected_rows(rows: usize) -> RowStore<T> {
        let mut store = RowStore::default();
        if rows < HELPER_MIN_ROWS {
            store.chunks.push(Vec::with_capacity(rows.min(CHUNK_ROWS)));
            return store;
        }
        let chunks = rows.div_ceil(CHUNK_ROWS);
        let (ready, prepared) = sync_channel::<Vec<T>>(CHUNKS_AHEAD);
        let helper = std::thread::Builder::new()
            .name("kubesim-rows".into())
            .spawn(move || {
                for _ in 0..chunks {
                    let mut chunk = Vec::with_capacity(CHUNK_ROWS);
                    // Writing every row once maps the pages here, not in the simulation.
                    chunk.resize_with(CHUNK_ROWS, T::default);
                    chunk.clear();
                    if ready.send(chunk).is_err() {
                        return; // the store is gone
                    }
                }
            });
        if helper.is_ok() {
            store.prepared = Some(prepared);
        }
        store
    }
}

impl<T> RowStore<T> {
    /// Appends a row.
    pub fn push(&mut self, row: T) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK_ROWS => chunk.push(row),
            _ => {
                let mut chunk = self.next_chunk();
                chunk.push(row);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    /// An empty chunk: the helper's when it has one (it runs ahead; waiting for it is rare),
    /// else a fresh one.
    fn next_chunk(&mut self) -> Vec<T> {
        if let Some(prepared) = &self.prepared {
            match prepared.recv() {
                Ok(chunk) => return chunk,
                Err(_) => self.prepared = None, // it prepared all it was asked for
            }
        }
        Vec::with_capacity(CHUNK_ROWS)
    }

    /// Rows recorded.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no row was recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Row `i`, in recording order.
    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK_ROWS)?.get(i % CHUNK_ROWS)
    }

    /// Row `i`, to change it.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks.get_mut(i / CHUNK_ROWS)?.get_mut(i % CHUNK_ROWS)
    }

    /// The last row recorded.
    pub fn last(&self) -> Option<&T> {
        self.chunks.last()?.last()
    }

    /// Every row in recording order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

impl<'a, T> IntoIterator for &'a RowStore<T> {
    type Item = &'a T;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<T>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.chunks.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows land in order across chunk boundaries, whether the helper prepared the chunks
    /// or the store made its own.
    #[test]
    fn rows_keep_their_order_and_index_across_chunks() {
        let n = 2 * HELPER_MIN_ROWS + 17;
        for expected in [0, 10, CHUNK_ROWS + 1, HELPER_MIN_ROWS, n] {
            let mut store = RowStore::<u64>::with_expected_rows(expected);
            for i in 0..n as u64 {
                store.push(i * 3);
            }
            assert_eq!(store.len(), n);
            assert!(!store.is_empty());
            assert!(store.iter().copied().eq((0..n as u64).map(|i| i * 3)));
            assert_eq!(store.get(CHUNK_ROWS), Some(&(CHUNK_ROWS as u64 * 3)));
            assert_eq!(store.get(n), None);
            assert_eq!(store.last(), Some(&((n as u64 - 1) * 3)));
            if let Some(row) = store.get_mut(CHUNK_ROWS - 1) {
                *row = 7;
            }
            assert_eq!(store.get(CHUNK_ROWS - 1), Some(&7));
            assert_eq!((&store).into_iter().count(), n);
        }
    }

    /// More rows than expected: once the helper's chunks run out, the store makes its own.
    #[test]
    fn more_rows_than_expected_are_kept() {
        let mut store = RowStore::<u32>::with_expected_rows(HELPER_MIN_ROWS);
        let n = HELPER_MIN_ROWS + 3 * CHUNK_ROWS + 5;
        for i in 0..n as u32 {
            store.push(i);
        }
        assert!(store.iter().copied().eq(0..n as u32));
        assert!(store.chunks.iter().all(|c| c.len() <= CHUNK_ROWS));
    }
}
