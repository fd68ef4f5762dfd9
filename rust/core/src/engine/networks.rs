//! User networks: containers on one reach each other by alias (the engines' DNS).

use std::collections::{BTreeMap, HashMap};

use bollard::models::{EndpointSettings, NetworkConnectRequest, NetworkCreateRequest};

use super::naming::check_platform_name;
use super::{Engine, Error};

impl Engine {
    /// Returns the id of network `name`, creating it (bridge, with `labels`) if missing.
    pub async fn ensure_network(&self, name: &str, labels: &BTreeMap<String, String>) -> Result<String, Error> {
        check_platform_name(name)?;
        match self.client.inspect_network(name, None).await {
            Ok(network) => return Ok(network.id.unwrap_or_default()),
            Err(e) => match Error::from_engine(e, name) {
                Error::NotFound(_) => {}
                other => return Err(other),
            },
        }
        let request = NetworkCreateRequest {
            name: name.to_string(),
            driver: Some("bridge".into()),
            labels: Some(labels.clone().into_iter().collect::<HashMap<_, _>>()),
            ..Default::default()
        };
        let created = self.client.create_network(request).await.map_err(|e| Error::from_engine(e, name))?;
        Ok(created.id)
    }

    /// Attaches `container` to `network`, reachable there under `aliases`.
    pub async fn connect_network(&self, network: &str, container: &str, aliases: &[String]) -> Result<(), Error> {
        let request = NetworkConnectRequest {
            container: container.to_string(),
            endpoint_config: Some(EndpointSettings { aliases: Some(aliases.to_vec()), ..Default::default() }),
        };
        self.client.connect_network(network, request).await.map_err(|e| Error::from_engine(e, network))
    }

    pub async fn remove_network(&self, name: &str) -> Result<(), Error> {
        self.client.remove_network(name).await.map_err(|e| Error::from_engine(e, name))
    }
}
