//! Images: import a rootfs tarball, pull from a registry with credentials, list, remove.

use std::path::Path;

use bollard::auth::DockerCredentials;
use bollard::query_parameters::{CreateImageOptionsBuilder, ListImagesOptionsBuilder, RemoveImageOptionsBuilder};
use futures_util::{StreamExt, TryStreamExt};

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
        let mut progress = self.client.create_image(Some(options), Some(body), None);
        while let Some(item) = progress.next().await {
            let info = item.map_err(|e| Error::from_engine(e, reference))?;
            if let Some(detail) = info.error_detail {
                return Err(Error::Engine { status: 0, message: detail.message.unwrap_or_default() });
            }
        }
        self.image_id(reference).await
    }

    /// Pulls `reference`, with registry credentials when given.
    pub async fn pull(&self, reference: &str, credentials: Option<(&str, &str)>) -> Result<String, Error> {
        check_reference(reference)?;
        let options = CreateImageOptionsBuilder::default().from_image(reference).build();
        let credentials = credentials.map(|(username, password)| DockerCredentials {
            username: Some(username.into()),
            password: Some(password.into()),
            ..Default::default()
        });
        self.client
            .create_image(Some(options), None, credentials)
            .try_for_each(|info| async move {
                match info.error_detail {
                    Some(detail) => {
                        Err(bollard::errors::Error::DockerStreamError { error: detail.message.unwrap_or_default() })
                    }
                    None => Ok(()),
                }
            })
            .await
            .map_err(|e| match e {
                bollard::errors::Error::DockerStreamError { error } => {
                    Error::ImageMissing(format!("{reference}: {error}"))
                }
                other => Error::from_engine(other, reference),
            })?;
        self.image_id(reference).await
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

#[cfg(test)]
mod tests {
    use super::*;

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
