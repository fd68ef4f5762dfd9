//! Host ports the platform publishes come from a fixed range (32300–32500 by default),
//! skipping every port an engine container already publishes and every port the OS has bound.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, TcpListener};

use bollard::query_parameters::ListContainersOptionsBuilder;

use super::naming::LABEL_KIND;
use super::{Engine, Error};
use crate::names::ValidationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl Default for PortRange {
    fn default() -> Self {
        Self { start: 32300, end: 32500 }
    }
}

impl PortRange {
    pub fn new(start: u16, end: u16) -> Result<Self, ValidationError> {
        if start == 0 || start > end {
            return Err(ValidationError::new(format!("invalid port range {start}-{end}")));
        }
        Ok(Self { start, end })
    }
}

impl Engine {
    /// Ports published by any container of this engine, plus the ports bound in the
    /// configuration of the platform's own containers, so a stopped one keeps its port.
    pub async fn published_ports(&self) -> Result<BTreeSet<u16>, Error> {
        let options = ListContainersOptionsBuilder::default().all(true).build();
        let containers =
            self.client.list_containers(Some(options)).await.map_err(|e| Error::from_engine(e, "containers"))?;
        let mut used = BTreeSet::new();
        for container in containers {
            used.extend(container.ports.iter().flatten().filter_map(|p| p.public_port));
            let ours = container.labels.as_ref().is_some_and(|l| l.contains_key(LABEL_KIND));
            if let (true, Some(id)) = (ours, container.id) {
                match self.inspect(&id).await {
                    Ok(state) => used.extend(state.ports.iter().filter_map(|p| p.host_port)),
                    Err(Error::NotFound(_)) => {} // removed meanwhile
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(used)
    }

    /// `count` free host ports from `range`, lowest first. Free means: no container of this
    /// engine publishes it and, for a local engine, this machine can bind it right now.
    pub async fn allocate_ports(&self, range: PortRange, count: usize) -> Result<Vec<u16>, Error> {
        let used = self.published_ports().await?;
        let local = self.is_local();
        let free: Vec<u16> = (range.start..=range.end)
            .filter(|port| !used.contains(port) && (!local || os_port_free(*port)))
            .take(count)
            .collect();
        if free.len() < count {
            return Err(Error::PortsExhausted { start: range.start, end: range.end });
        }
        Ok(free)
    }
}

fn os_port_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok() && TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}
