//! Downloading an object to a file as ranges fetched side by side, each written in place as
//! it arrives, while a blocking thread hashes what is complete, in order, from the file, so
//! the checksum costs no second pass and memory does not grow with the object.

use std::collections::BTreeSet;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

use futures_util::StreamExt;
use s3::command::Command;
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use super::parts::part_size;
use super::store::{backoff, ObjectInfo, Store};
use super::Error;

/// Ranges in flight at once.
const RANGES_IN_FLIGHT: usize = 8;
/// Attempts per range before the download fails.
const ATTEMPTS: u32 = 5;

impl Store {
    /// Downloads `key` into the file at `path` (written beside it, then renamed), checking
    /// the SHA-256 recorded at upload when `verify` is set; a mismatch, a failure or
    /// `cancel` leaves no file. `progress(bytes_done, bytes_total)` follows completed ranges.
    pub async fn download_file(
        &self,
        key: &str,
        path: &Path,
        verify: bool,
        cancel: &AtomicBool,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<ObjectInfo, Error> {
        let info = self.head(key).await?;
        let tmp = path.with_extension("part");
        let result = async {
            let actual = self.fetch_into(key, &tmp, info.size, cancel, &mut progress).await?;
            if let (true, Some(expected)) = (verify, &info.sha256) {
                if *expected != actual {
                    return Err(Error::ChecksumMismatch { key: key.to_string(), expected: expected.clone(), actual });
                }
            }
            tokio::fs::rename(&tmp, path).await.map_err(|e| io(path, e))
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result.map(|()| info)
    }

    /// Fills `tmp` with the `size` bytes of `key`; returns their SHA-256.
    async fn fetch_into(
        &self,
        key: &str,
        tmp: &Path,
        size: u64,
        cancel: &AtomicBool,
        progress: &mut impl FnMut(u64, u64),
    ) -> Result<String, Error> {
        // Read as well as written: the hasher reads each range back.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(tmp)
            .map_err(|e| io(tmp, e))?;
        file.set_len(size).map_err(|e| io(tmp, e))?;
        let file = Arc::new(file);
        let range = part_size(size).unwrap_or(size.max(1));
        let count = size.div_ceil(range);

        let (complete, hashing) = mpsc::channel::<(u64, u64)>();
        let reader = Arc::clone(&file);
        let hasher = tokio::task::spawn_blocking(move || hash_in_order(&reader, hashing));

        let mut in_flight = JoinSet::new();
        let mut ranges = Ranges { range, size, done: 0, finished: BTreeSet::new(), next_to_hash: 0, hasher: complete };
        let mut fetched = Ok(());
        progress(0, size);
        for index in 0..=count {
            // Waits for a free slot, or (after the last range) for every range in flight.
            while (in_flight.len() >= RANGES_IN_FLIGHT || (index == count && !in_flight.is_empty())) && fetched.is_ok()
            {
                fetched = joined(in_flight.join_next().await).map(|index| ranges.finished(index, progress));
            }
            if fetched.is_ok() && cancel.load(Ordering::Relaxed) {
                fetched = Err(Error::Cancelled);
            }
            if fetched.is_err() || index == count {
                break;
            }
            let (store, key, file) = (self.clone(), key.to_string(), Arc::clone(&file));
            let start = index * range;
            let length = range.min(size - start);
            in_flight.spawn(async move { store.fetch_range(&key, &file, start, length).await.map(|()| index) });
        }
        in_flight.abort_all();
        drop(ranges);
        let digest = hasher.await.map_err(|e| Error::Io(format!("hashing {}: {e}", tmp.display())))?;
        fetched?;
        let digest = digest.map_err(|e| io(tmp, e))?;
        // Not synced to disk: a download is read at once (a restore), and one lost to a crash is
        // fetched again; fsync of a large file costs as much as a tenth of the download.
        Ok(digest)
    }

    /// Writes bytes `start..start + length` of `key` at the same place in `file`, trying the
    /// range again from its start while the store does not answer.
    async fn fetch_range(&self, key: &str, file: &std::fs::File, start: u64, length: u64) -> Result<(), Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_range(key, file, start, length).await {
                Ok(()) => return Ok(()),
                Err(e) if attempt < ATTEMPTS && e.retryable() => tokio::time::sleep(backoff(attempt)).await,
                Err(e) => return Err(e),
            }
        }
    }

    async fn try_range(&self, key: &str, file: &std::fs::File, start: u64, length: u64) -> Result<(), Error> {
        let get = Command::GetObjectRange { start, end: Some(start + length - 1) };
        let mut body = self.http.send(&self.bucket, key, get).await?.response.bytes_stream();
        let mut at = start;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| Error::transport(e, key))?;
            if at + chunk.len() as u64 > start + length {
                return Err(Error::S3 {
                    status: 206,
                    message: format!("{key}: the store sent more than the range asked"),
                });
            }
            // A write into the page cache: short enough not to need a blocking thread.
            file.write_all_at(&chunk, at).map_err(|e| Error::Io(format!("{key}: writing: {e}")))?;
            at += chunk.len() as u64;
        }
        if at != start + length {
            return Err(Error::Unreachable(format!("{key}: the range ended {} bytes short", start + length - at)));
        }
        Ok(())
    }
}

/// Which ranges are complete; each one that is next in file order goes to the hasher.
struct Ranges {
    range: u64,
    size: u64,
    done: u64,
    finished: BTreeSet<u64>,
    next_to_hash: u64,
    hasher: mpsc::Sender<(u64, u64)>,
}

impl Ranges {
    fn length(&self, index: u64) -> u64 {
        self.range.min(self.size - index * self.range)
    }

    fn finished(&mut self, index: u64, progress: &mut impl FnMut(u64, u64)) {
        self.done += self.length(index);
        progress(self.done, self.size);
        self.finished.insert(index);
        while self.finished.remove(&self.next_to_hash) {
            // A send fails only when the hasher stopped on a read error, which it reports.
            let _ = self.hasher.send((self.next_to_hash * self.range, self.length(self.next_to_hash)));
            self.next_to_hash += 1;
        }
    }
}

/// Reads back and hashes each range it is sent, in the order sent (file order), until the
/// sender is dropped.
fn hash_in_order(file: &std::fs::File, ranges: mpsc::Receiver<(u64, u64)>) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    for (start, length) in ranges {
        let mut at = start;
        while at < start + length {
            let n = (start + length - at).min(buffer.len() as u64) as usize;
            file.read_exact_at(&mut buffer[..n], at)?;
            hasher.update(&buffer[..n]);
            at += n as u64;
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

fn joined(next: Option<Result<Result<u64, Error>, tokio::task::JoinError>>) -> Result<u64, Error> {
    match next {
        Some(Ok(result)) => result,
        Some(Err(e)) => Err(Error::Io(format!("range download task failed: {e}"))),
        None => Err(Error::Io("no range in flight".into())),
    }
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Io(format!("{}: {e}", path.display()))
}
