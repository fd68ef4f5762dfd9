//! The directory Traefik's file provider watches: `<site>.yaml` per site, `_platform.yaml`
//! for the platform's routes, certificates under `certs/` (Traefik reads only the top level,
//! and only `.yaml`/`.yml`/`.toml` files there, so temporary files are never loaded).

use std::fs;
use std::path::{Path, PathBuf};

use super::route::{self, Certificate, Platform, Route, SiteRoute};
use super::yaml::to_yaml;
use super::Error;
use crate::files::{ensure_dir, write_atomic, PRIVATE, PUBLIC};
use crate::names::{self, ValidationError};

const PLATFORM_FILE: &str = "_platform.yaml";
const PLATFORM_CERT: &str = "_platform";

#[derive(Debug, Clone)]
pub struct ProxyConfig {
    dir: PathBuf,
    entry_point: String,
    http_entry_point: Option<String>,
}

impl ProxyConfig {
    /// `entry_point` is the HTTPS entry point of Traefik's static configuration; with
    /// `http_entry_point`, plain HTTP there is redirected to HTTPS.
    pub fn new(dir: &Path, entry_point: &str, http_entry_point: Option<&str>) -> Result<Self, Error> {
        for name in std::iter::once(entry_point).chain(http_entry_point) {
            let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
            if !valid {
                return Err(ValidationError::new(format!("invalid entry point name {name:?}")).into());
            }
        }
        if !dir.is_absolute() {
            return Err(ValidationError::new(format!("the configuration directory must be absolute: {dir:?}")).into());
        }
        ensure_dir(&dir.join("certs"), 0o700).map_err(|e| Error::io(dir, e))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            entry_point: entry_point.to_string(),
            http_entry_point: http_entry_point.map(str::to_string),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes the site's certificate (if it has its own) and then its file, so Traefik never
    /// loads a router whose certificate is missing. Unchanged files are left alone.
    pub fn write_site(&self, site: &SiteRoute) -> Result<Route, Error> {
        let checked = site.check()?;
        let cert_files = match &site.certificate {
            Some(certificate) => Some(self.write_certificate(&checked.site, certificate)?),
            None => None,
        };
        let paths = cert_files.as_ref().map(|(c, k, _)| (path_text(c), path_text(k)));
        let (config, mut route) = route::site_config(
            &checked,
            &self.entry_point,
            site.maintenance,
            paths.as_ref().map(|(c, k)| (c.as_str(), k.as_str())),
        );
        route.changed = self.write_if_changed(&self.site_file(&checked.site), &to_yaml(&config), PUBLIC)?
            || cert_files.as_ref().is_some_and(|(_, _, changed)| *changed);
        if cert_files.is_none() {
            // The site now uses the wildcard: its own certificate goes once the file no longer names it.
            self.remove_certificate(&checked.site)?;
        }
        Ok(route)
    }

    /// Removes the site's file, then its certificate. True if there was anything to remove.
    pub fn remove_site(&self, site: &str) -> Result<bool, Error> {
        let site = names::domain(site, false)?;
        let path = self.site_file(&site);
        let existed = match fs::remove_file(&path) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(Error::io(&path, e)),
        };
        Ok(self.remove_certificate(&site)? || existed)
    }

    /// The sites that have a file, sorted.
    pub fn sites(&self) -> Result<Vec<String>, Error> {
        let entries = fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let mut sites: Vec<String> = entries
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter_map(|name| name.strip_suffix(".yaml").map(str::to_string))
            .filter(|stem| names::domain(stem, false).as_deref() == Ok(stem.as_str()))
            .collect();
        sites.sort();
        Ok(sites)
    }

    /// Writes the platform's routes; returns the routers to verify.
    pub fn write_platform(&self, platform: &Platform) -> Result<Vec<Route>, Error> {
        let maintenance = platform.maintenance_url.as_deref().map(route::upstream).transpose()?;
        let default = platform.default_url.as_deref().map(route::upstream).transpose()?;
        let wildcard = match &platform.wildcard {
            Some(certificate) => {
                certificate.check(&[])?;
                Some(self.write_certificate(PLATFORM_CERT, certificate)?)
            }
            None => None,
        };
        let paths = wildcard.as_ref().map(|(c, k, _)| (path_text(c), path_text(k)));
        let (config, mut routes) = route::platform_config(
            maintenance.as_deref(),
            default.as_deref(),
            &self.entry_point,
            self.http_entry_point.as_deref(),
            paths.as_ref().map(|(c, k)| (c.as_str(), k.as_str())),
        );
        let changed = self.write_if_changed(&self.dir.join(PLATFORM_FILE), &to_yaml(&config), PUBLIC)?
            || wildcard.is_some_and(|(_, _, changed)| changed);
        if platform.wildcard.is_none() {
            self.remove_certificate(PLATFORM_CERT)?;
        }
        for route in &mut routes {
            route.changed = changed;
        }
        Ok(routes)
    }

    fn site_file(&self, site: &str) -> PathBuf {
        self.dir.join(format!("{site}.yaml"))
    }

    fn cert_paths(&self, stem: &str) -> (PathBuf, PathBuf) {
        let certs = self.dir.join("certs");
        (certs.join(format!("{stem}.crt")), certs.join(format!("{stem}.key")))
    }

    fn write_certificate(&self, stem: &str, certificate: &Certificate) -> Result<(PathBuf, PathBuf, bool), Error> {
        let (cert, key) = self.cert_paths(stem);
        let key_changed = self.write_if_changed(&key, &certificate.key_pem, PRIVATE)?;
        let cert_changed = self.write_if_changed(&cert, &certificate.chain_pem, PUBLIC)?;
        Ok((cert, key, key_changed || cert_changed))
    }

    fn remove_certificate(&self, stem: &str) -> Result<bool, Error> {
        let (cert, key) = self.cert_paths(stem);
        let mut removed = false;
        for path in [cert, key] {
            match fs::remove_file(&path) {
                Ok(()) => removed = true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Ok(removed)
    }

    fn write_if_changed(&self, path: &Path, text: &str, mode: u32) -> Result<bool, Error> {
        if fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
            return Ok(false);
        }
        write_atomic(path, text.as_bytes(), mode).map_err(|e| Error::io(path, e))?;
        Ok(true)
    }
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
