//! Building an image from a context directory through the engine's build API (the classic
//! builder of Docker, Buildah behind Podman's compatible API): the directory is archived on a
//! blocking thread and streamed as the request body, so memory stays flat whatever its size,
//! and the builder's output comes back line by line as it is printed.

use std::io::Write;
use std::path::{Path, PathBuf};

use bollard::query_parameters::BuildImageOptionsBuilder;
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::exec::{Lines, Stream};
use super::images::check_reference;
use super::{Engine, Error};
use crate::names::ValidationError;

/// Archive bytes sent to the engine at a time.
const CHUNK: usize = 1 << 20;

#[derive(Debug, Clone, Default)]
pub struct BuildSpec {
    /// The context: a directory holding the Dockerfile and everything it copies.
    pub context: PathBuf,
    /// The Dockerfile's path inside the context.
    pub dockerfile: String,
    /// The name given to the image, `[registry/]path:tag`.
    pub tag: String,
    pub no_cache: bool,
    /// `linux/amd64`, `linux/arm64`; empty for the engine's own.
    pub platform: String,
}

impl BuildSpec {
    fn check(&self) -> Result<(), ValidationError> {
        check_reference(&self.tag)?;
        let inside = Path::new(&self.dockerfile);
        if self.dockerfile.is_empty()
            || inside.is_absolute()
            || inside.components().any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(ValidationError::new(format!(
                "the Dockerfile must be a path inside the context, not {:?}",
                self.dockerfile
            )));
        }
        if !self.context.is_dir() {
            return Err(ValidationError::new(format!("build context {} is not a directory", self.context.display())));
        }
        if !self.context.join(inside).is_file() {
            return Err(ValidationError::new(format!("no {} in the build context", self.dockerfile)));
        }
        if !matches!(self.platform.as_str(), "" | "linux/amd64" | "linux/arm64") {
            return Err(ValidationError::new(format!("unknown build platform {:?}", self.platform)));
        }
        Ok(())
    }
}

/// Sends what the archive writer produces to the request body in chunks; the channel is
/// bounded, so the writer waits for the engine instead of filling memory.
struct ChunkWriter {
    sender: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buffer: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK)));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the engine stopped reading the context"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buffer.is_empty() {
            self.send()?;
        }
        Ok(())
    }
}

fn archive(context: &Path, writer: ChunkWriter) -> std::io::Result<()> {
    let mut tar = tar::Builder::new(writer);
    // Symbolic links stay links: an app's repository may hold some, and following one could
    // read outside the context.
    tar.follow_symlinks(false);
    tar.append_dir_all(".", context)?;
    tar.into_inner()?.flush()
}

impl Engine {
    /// Builds `spec.context` into image `spec.tag`, calling `on_line` with each line the
    /// builder prints; returns the image id. A failing instruction is `BuildFailed` with the
    /// builder's own message.
    pub async fn build(&self, spec: &BuildSpec, mut on_line: impl FnMut(&str)) -> Result<String, Error> {
        spec.check()?;
        let (sender, mut receiver) = mpsc::channel(4);
        let context = spec.context.clone();
        let archiver = tokio::task::spawn_blocking(move || {
            let result = archive(&context, ChunkWriter { sender: sender.clone(), buffer: Vec::with_capacity(CHUNK) });
            if let Err(e) = &result {
                let _ = sender.blocking_send(Err(std::io::Error::new(e.kind(), e.to_string())));
            }
            result
        });
        let body = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
        let mut options = BuildImageOptionsBuilder::default()
            .dockerfile(&spec.dockerfile)
            .t(&spec.tag)
            .nocache(spec.no_cache)
            .rm(true)
            .forcerm(true);
        if !spec.platform.is_empty() {
            options = options.platform(&spec.platform);
        }
        let mut output = self.client.build_image(options.build(), None, Some(bollard::body_try_stream(body)));
        let mut lines = Lines::default();
        let mut deliver = |_: Stream, line: &str| on_line(line);
        let mut failure = None;
        while let Some(item) = output.next().await {
            match item {
                Ok(info) => {
                    if let Some(text) = info.stream.or(info.status) {
                        lines.push(Stream::Stdout, text.as_bytes(), &mut deliver);
                    }
                    if let Some(detail) = info.error_detail {
                        failure = Some(detail.message.unwrap_or_default());
                        break;
                    }
                }
                Err(bollard::errors::Error::DockerStreamError { error }) => {
                    failure = Some(error);
                    break;
                }
                Err(e) => {
                    // The archive's own error, if it broke first, says more than the request's.
                    drop(output);
                    if let Ok(Err(io)) = archiver.await {
                        return Err(Error::BuildFailed {
                            tag: spec.tag.clone(),
                            message: format!("archiving the context: {io}"),
                        });
                    }
                    return Err(Error::from_engine(e, &spec.tag));
                }
            }
        }
        drop(output);
        lines.finish(&mut deliver);
        if let Ok(Err(io)) = archiver.await {
            return Err(Error::BuildFailed { tag: spec.tag.clone(), message: format!("archiving the context: {io}") });
        }
        if let Some(message) = failure {
            return Err(Error::BuildFailed { tag: spec.tag.clone(), message: message.trim().to_string() });
        }
        self.image_id(&spec.tag).await.map_err(|_| Error::BuildFailed {
            tag: spec.tag.clone(),
            message: "the builder finished without an image".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dockerfile_outside_the_context_is_refused() {
        let dir = std::env::temp_dir().join(format!("build-spec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("Dockerfile"), "FROM scratch\n").unwrap();
        let spec = |dockerfile: &str, tag: &str, platform: &str| BuildSpec {
            context: dir.clone(),
            dockerfile: dockerfile.into(),
            tag: tag.into(),
            no_cache: false,
            platform: platform.into(),
        };
        assert!(spec("Dockerfile", "a/b:1", "").check().is_ok());
        assert!(spec("Dockerfile", "a/b:1", "linux/arm64").check().is_ok());
        for (dockerfile, tag, platform) in [
            ("../Dockerfile", "a/b:1", ""),
            ("/etc/passwd", "a/b:1", ""),
            ("", "a/b:1", ""),
            ("Missing", "a/b:1", ""),
            ("Dockerfile", "A B", ""),
            ("Dockerfile", "a/b:1", "windows/amd64"),
        ] {
            assert!(spec(dockerfile, tag, platform).check().is_err(), "{dockerfile} {tag} {platform}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
