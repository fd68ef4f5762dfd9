//! Named volumes: a bench's sites, logs and config outlive its container. An empty named
//! volume is filled from the image's content at its first mount (Docker and Podman both copy
//! up), so a bench's volumes start as the image's own directories.

use std::collections::{BTreeMap, HashMap};

use bollard::models::VolumeCreateRequest;
use bollard::query_parameters::RemoveVolumeOptionsBuilder;

use super::naming::check_platform_name;
use super::{Engine, Error};

impl Engine {
    /// Creates volume `name` with `labels` unless it exists; true when it was created.
    pub async fn ensure_volume(&self, name: &str, labels: &BTreeMap<String, String>) -> Result<bool, Error> {
        check_platform_name(name)?;
        match self.client.inspect_volume(name).await {
            Ok(_) => return Ok(false),
            Err(e) => match Error::from_engine(e, name) {
                Error::NotFound(_) => {}
                other => return Err(other),
            },
        }
        let request = VolumeCreateRequest {
            name: Some(name.to_string()),
            labels: Some(labels.clone().into_iter().collect::<HashMap<_, _>>()),
            ..Default::default()
        };
        self.client.create_volume(request).await.map_err(|e| Error::from_engine(e, name))?;
        Ok(true)
    }

    /// Removes volume `name` and its data; false when there was none. A volume a container
    /// still uses is refused (NameConflict) unless `force`.
    pub async fn remove_volume(&self, name: &str, force: bool) -> Result<bool, Error> {
        check_platform_name(name)?;
        let options = RemoveVolumeOptionsBuilder::new().force(force).build();
        match self.client.remove_volume(name, Some(options)).await {
            Ok(()) => Ok(true),
            Err(e) => match Error::from_engine(e, name) {
                Error::NotFound(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    /// The names of the volumes carrying every label given ("key" or "key=value").
    pub async fn list_volumes(&self, labels: &[String]) -> Result<Vec<String>, Error> {
        use bollard::query_parameters::ListVolumesOptionsBuilder;
        let filters: HashMap<String, Vec<String>> = HashMap::from([("label".to_string(), labels.to_vec())]);
        let options = ListVolumesOptionsBuilder::new().filters(&filters).build();
        let listed = self.client.list_volumes(Some(options)).await.map_err(|e| Error::from_engine(e, "volumes"))?;
        let mut names: Vec<String> = listed.volumes.unwrap_or_default().into_iter().map(|v| v.name).collect();
        names.sort();
        Ok(names)
    }
}
