//! One file into or out of a container through the engine's archive API (`docker cp`), so a
//! bench's backups move between its volumes and this host whether the engine is local or
//! remote. Both directions stream: no file is held in memory, and on this side a file appears
//! only whole (written beside its destination, then renamed).

use std::path::Path;

use bollard::query_parameters::{DownloadFromContainerOptionsBuilder, UploadToContainerOptionsBuilder};
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use super::{Engine, Error};
use crate::names::ValidationError;

const BLOCK: usize = 512;
/// What one read or write moves: the engine's archive streams run at disk speed with it.
const IO_BUFFER: usize = 1 << 20;

/// An absolute path in a container, with no `..` and no NUL: the engine resolves it there.
fn check_container_path(path: &str) -> Result<&str, ValidationError> {
    let ok = path.starts_with('/') && !path.contains('\0') && !path.split('/').any(|p| p == "..") && path.len() < 4096;
    if !ok {
        return Err(ValidationError::new(format!("a container path is absolute, without `..`, got {path:?}")));
    }
    Ok(path)
}

fn io(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Engine { status: 0, message: format!("{what}: {e}") }
}

impl Engine {
    /// Copies the regular file `path` of `container` to `destination` on this host (mode
    /// 0600); returns its size and SHA-256 (hex), hashed on the way. Anything but one regular
    /// file (a directory, a link) is refused.
    pub async fn copy_from(&self, container: &str, path: &str, destination: &Path) -> Result<(u64, String), Error> {
        check_container_path(path)?;
        let options = DownloadFromContainerOptionsBuilder::default().path(path).build();
        let stream = self
            .client
            .download_from_container(container, Some(options))
            .map_err(|e| std::io::Error::other(Error::from_engine(e, &format!("{container}:{path}")).to_string()));
        let mut reader = tokio_util::io::StreamReader::new(stream);
        let partial = destination.with_extension("partial");
        let result = async {
            let mut block = [0u8; BLOCK];
            loop {
                read_block(&mut reader, &mut block, path).await?;
                if block.iter().all(|b| *b == 0) {
                    return Err(io(path, "the engine's archive holds no file"));
                }
                let header = tar::Header::from_byte_slice(&block);
                let size = header.entry_size().map_err(|e| io(path, e))?;
                let padded = size.div_ceil(BLOCK as u64) * BLOCK as u64;
                match header.entry_type() {
                    // Extended headers (long names, PAX records) describe the entry after them.
                    tar::EntryType::XHeader | tar::EntryType::XGlobalHeader | tar::EntryType::GNULongName => {
                        tokio::io::copy(&mut (&mut reader).take(padded), &mut tokio::io::sink())
                            .await
                            .map_err(|e| io(path, e))?;
                    }
                    tar::EntryType::Regular | tar::EntryType::Continuous => {
                        // Large writes: tokio's file sends each write to a blocking thread. No
                        // fsync: the copy is read once, at once, and never outlives the job.
                        let mut file = tokio::io::BufWriter::with_capacity(IO_BUFFER, open_private(&partial).await?);
                        let (mut entry, mut hasher, mut copied) = ((&mut reader).take(size), Sha256::new(), 0u64);
                        loop {
                            let chunk = entry.fill_buf().await.map_err(|e| io(path, e))?;
                            if chunk.is_empty() {
                                break;
                            }
                            hasher.update(chunk);
                            file.write_all(chunk).await.map_err(|e| io(&partial.display().to_string(), e))?;
                            let n = chunk.len();
                            entry.consume(n);
                            copied += n as u64;
                        }
                        if copied != size {
                            return Err(io(path, format!("the archive ended after {copied} of {size} bytes")));
                        }
                        file.flush().await.map_err(|e| io(&partial.display().to_string(), e))?;
                        return Ok((size, hex::encode(hasher.finalize())));
                    }
                    other => return Err(io(path, format!("not a regular file ({other:?})"))),
                }
            }
        }
        .await;
        match result {
            Ok(size) => {
                tokio::fs::rename(&partial, destination)
                    .await
                    .map_err(|e| io(&destination.display().to_string(), e))?;
                Ok(size)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&partial).await;
                Err(e)
            }
        }
    }

    /// Puts the host file `source` into `container` as `path` (its directory must exist),
    /// mode 0600, owned by `uid:gid`.
    pub async fn copy_to(&self, container: &str, source: &Path, path: &str, uid: u64, gid: u64) -> Result<(), Error> {
        check_container_path(path)?;
        let (directory, name) = path
            .rsplit_once('/')
            .filter(|(_, n)| !n.is_empty())
            .ok_or_else(|| ValidationError::new(format!("a container path names a file, got {path:?}")))?;
        let file =
            tokio::fs::File::open(source).await.map_err(|e| Error::NotFound(format!("{}: {e}", source.display())))?;
        let size = file.metadata().await.map_err(|e| io(&source.display().to_string(), e))?.len();
        let mut header = tar::Header::new_gnu();
        header.set_path(name).map_err(|e| ValidationError::new(format!("file name {name:?}: {e}")))?;
        header.set_size(size);
        header.set_mode(0o600);
        header.set_uid(uid);
        header.set_gid(gid);
        header.set_mtime(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        );
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        // The header, the content, padding to a block, and the two empty blocks that end it.
        let padding = (size.div_ceil(BLOCK as u64) * BLOCK as u64 - size) as usize + 2 * BLOCK;
        // A read error of the source ends the request, so the engine never unpacks a short file.
        let body = futures_util::stream::iter([Ok::<Bytes, std::io::Error>(Bytes::copy_from_slice(header.as_bytes()))])
            .chain(tokio_util::io::ReaderStream::with_capacity(file, IO_BUFFER))
            .chain(futures_util::stream::iter([Ok(Bytes::from(vec![0u8; padding]))]));
        let directory = if directory.is_empty() { "/" } else { directory };
        let options = UploadToContainerOptionsBuilder::default().path(directory).build();
        self.client
            .upload_to_container(container, Some(options), bollard::body_try_stream(body))
            .await
            .map_err(|e| Error::from_engine(e, &format!("{container}:{path}")))
    }
}

async fn read_block(
    reader: &mut (impl tokio::io::AsyncRead + Unpin),
    block: &mut [u8; BLOCK],
    path: &str,
) -> Result<(), Error> {
    reader.read_exact(block).await.map(|_| ()).map_err(|e| io(path, e))
}

async fn open_private(path: &Path) -> Result<tokio::fs::File, Error> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true).mode(0o600);
    let file = options.open(path).await.map_err(|e| io(&path.display().to_string(), e))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::check_container_path;

    #[test]
    fn container_paths_are_absolute_and_never_climb() {
        assert!(check_container_path("/home/frappe/frappe-bench/sites/a/private/backups/x.sql.gz").is_ok());
        for bad in ["relative/x", "/a/../etc/passwd", "", "/a\0b"] {
            assert!(check_container_path(bad).is_err(), "{bad:?}");
        }
    }
}
