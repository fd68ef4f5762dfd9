//! Images: import a rootfs tarball, pull from a registry with credentials, list, remove.

use std::path::Path;

use bollard::auth::DockerCredentials;
use bollard::query_parameters::{
    CreateImageOptionsBuilder, ListImagesOptionsBuilder, PushImageOptionsBuilder, RemoveImageOptionsBuilder,
    TagImageOptionsBuilder,
};
use futures_util::StreamExt;

use super::{Engine, Error};
use crate::names::ValidationError;

#[derive(Debug, Clone)]
pub struct ImageSummary {
    pub id: String,
    pub tags: Vec<String>,
    pub size: i64,
}

/// `[registry[:port]/]path[:tag][@digest]`: what the engines accept, lower-case, no options.
pub fn check_reference(reference: &str) -> Result<&str, ValidationError> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/:@".contains(c);
    let ok = !reference.is_empty()
        && reference.len() <= 255
        && reference.starts_with(|c: char| c.is_ascii_alphanumeric())
        && reference.chars().all(|c| allowed(c) || c.is_ascii_uppercase() && reference.contains('@'));
    if !ok {
        return Err(ValidationError::new(format!("invalid image reference {reference:?}")));
    }
    Ok(reference)
}

impl Engine {
    /// Imports a rootfs tarball (streamed, not read into memory) as image `reference`
    /// (`name:tag`); returns the image id.
    pub async fn import_rootfs(&self, tarball: &Path, reference: &str) -> Result<String, Error> {
        check_reference(reference)?;
        let file =
            tokio::fs::File::open(tarball).await.map_err(|e| Error::NotFound(format!("{}: {e}", tarball.display())))?;
        let body = bollard::body_try_stream(tokio_util::io::ReaderStream::new(file));
        // Podman takes the tag only inside `repo`; Docker accepts it there too.
        let options = CreateImageOptionsBuilder::default().from_src("-").repo(reference).build();
        drain(self.client.create_image(Some(options), Some(body), None), reference).await?;
        self.image_id(reference).await
    }

    /// Pulls `reference`, with registry credentials when given.
    pub async fn pull(&self, reference: &str, credentials: Option<(&str, &str)>) -> Result<String, Error> {
        check_reference(reference)?;
        let options = CreateImageOptionsBuilder::default().from_image(reference).build();
        let progress = self.client.create_image(Some(options), None, docker_credentials(credentials));
        // Registries refuse in the stream (Podman) or with a 404 or 500 (Docker); either way
        // the image is not here and could not be had.
        drain(progress, reference).await.map_err(|e| match e {
            Error::Engine { message, .. } | Error::NotFound(message) => {
                Error::ImageMissing(format!("{reference}: {message}"))
            }
            other => other,
        })?;
        self.image_id(reference).await
    }

    /// Gives image `source` the further name `target` (`registry/path:tag`).
    pub async fn tag(&self, source: &str, target: &str) -> Result<(), Error> {
        check_reference(source)?;
        let (repo, tag) = split_tag(check_reference(target)?);
        let options = TagImageOptionsBuilder::default().repo(repo).tag(tag).build();
        self.client.tag_image(source, Some(options)).await.map_err(|e| match Error::from_engine(e, source) {
            Error::NotFound(m) => Error::ImageMissing(m),
            other => other,
        })
    }

    /// Pushes `reference` to its registry, with credentials when given, calling `on_status`
    /// with each status the engine reports ("Pushing", "Pushed", the digest at the end).
    pub async fn push(
        &self,
        reference: &str,
        credentials: Option<(&str, &str)>,
        mut on_status: impl FnMut(&str),
    ) -> Result<(), Error> {
        let (repo, tag) = split_tag(check_reference(reference)?);
        let options = PushImageOptionsBuilder::default().tag(tag).build();
        let mut progress = self.client.push_image(repo, Some(options), docker_credentials(credentials));
        while let Some(item) = progress.next().await {
            let info = item.map_err(|e| stream_error(e, reference))?;
            if let Some(detail) = info.error_detail {
                return Err(Error::Engine { status: 0, message: detail.message.unwrap_or_default() });
            }
            if let Some(status) = info.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                on_status(status);
            }
        }
        Ok(())
    }

    /// The id of image `reference`, or `ImageMissing`.
    pub async fn image_id(&self, reference: &str) -> Result<String, Error> {
        let image = self.client.inspect_image(reference).await.map_err(|e| match Error::from_engine(e, reference) {
            Error::NotFound(m) => Error::ImageMissing(m),
            other => other,
        })?;
        Ok(image.id.unwrap_or_default())
    }

    pub async fn list_images(&self) -> Result<Vec<ImageSummary>, Error> {
        let options = ListImagesOptionsBuilder::default().all(false).build();
        let images = self.client.list_images(Some(options)).await.map_err(|e| Error::from_engine(e, "images"))?;
        Ok(images.into_iter().map(|i| ImageSummary { id: i.id, tags: i.repo_tags, size: i.size }).collect())
    }

    pub async fn remove_image(&self, reference: &str, force: bool) -> Result<(), Error> {
        check_reference(reference)?;
        let options = RemoveImageOptionsBuilder::default().force(force).build();
        self.client.remove_image(reference, Some(options), None).await.map(|_| ()).map_err(
            |e| match Error::from_engine(e, reference) {
                Error::NotFound(m) => Error::ImageMissing(m),
                other => other,
            },
        )
    }
}

fn docker_credentials(credentials: Option<(&str, &str)>) -> Option<DockerCredentials> {
    credentials.map(|(username, password)| DockerCredentials {
        username: Some(username.into()),
        password: Some(password.into()),
        ..Default::default()
    })
}

/// `registry:5000/path:tag` → (`registry:5000/path`, `tag`); `latest` when untagged.
fn split_tag(reference: &str) -> (&str, &str) {
    match reference.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (reference, "latest"),
    }
}

/// Reads an import or pull progress stream to its end; the engine reports a refusal (bad
/// credentials, unknown image) inside the stream, as `error_detail`.
async fn drain(
    mut progress: impl futures_util::Stream<Item = Result<bollard::models::CreateImageInfo, bollard::errors::Error>> + Unpin,
    reference: &str,
) -> Result<(), Error> {
    while let Some(item) = progress.next().await {
        if let Some(detail) = item.map_err(|e| stream_error(e, reference))?.error_detail {
            return Err(Error::Engine { status: 0, message: detail.message.unwrap_or_default() });
        }
    }
    Ok(())
}

fn stream_error(e: bollard::errors::Error, reference: &str) -> Error {
    match e {
        bollard::errors::Error::DockerStreamError { error } => Error::Engine { status: 0, message: error },
        other => Error::from_engine(other, reference),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_split_from_registry_ports() {
        assert_eq!(split_tag("127.0.0.1:5000/bench/frappe:v15"), ("127.0.0.1:5000/bench/frappe", "v15"));
        assert_eq!(split_tag("127.0.0.1:5000/bench/frappe"), ("127.0.0.1:5000/bench/frappe", "latest"));
        assert_eq!(split_tag("busybox"), ("busybox", "latest"));
    }

    #[test]
    fn references_are_checked() {
        for ok in [
            "busybox",
            "erp-saas-cloud-c16-test/busybox:1",
            "registry.local:5000/bench/frappe:v15.2",
            "img@sha256:AbC0",
        ] {
            assert!(check_reference(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-rm", "a b", "Busybox", "x;rm"] {
            assert!(check_reference(bad).is_err(), "{bad}");
        }
    }
}
