//! The directory Traefik's file provider watches: `<site>.yaml` per site, `_platform.yaml`
//! for the platform's routes, certificates under `certs/` (Traefik reads only the top level,
//! and only `.yaml`/`.yml`/`.toml` files there, so temporary files are never loaded).
//!
//! Traefik watches only that top level, so a certificate rewritten in place under `certs/`
//! would never be picked up. Certificate files are therefore named after their content
//! (`<stem>.<fingerprint>.crt`): a renewed certificate changes the YAML file that names it,
//! and that change is what makes Traefik reload. Older files of the stem go once the YAML no
//! longer names them.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::route::{self, Certificate, MonitorRoute, Platform, Route, SiteRoute};
use super::yaml::{key_text, to_yaml};
use super::Error;
use crate::files::{ensure_dir, write_atomic, PRIVATE, PUBLIC};
use crate::names::{self, ValidationError};

const PLATFORM_FILE: &str = "_platform.yaml";
/// The monitor server's routes; 0600, as it holds the basic auth's password hashes.
const MONITOR_FILE: &str = "_monitor.yaml";
const PLATFORM_CERT: &str = "_platform";
/// Bytes of SHA-256 in a certificate file's name: enough to tell renewals apart.
const FINGERPRINT_BYTES: usize = 8;

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
    /// loads a router whose certificate is missing. Unchanged files are left alone. Returns
    /// the site's routers, the main one first.
    pub fn write_site(&self, site: &SiteRoute) -> Result<Vec<Route>, Error> {
        let checked = site.check()?;
        let cert_files = match &site.certificate {
            Some(certificate) => Some(self.write_certificate(&checked.site, certificate)?),
            None => None,
        };
        let paths = cert_files.as_ref().map(|(c, k)| (path_text(c), path_text(k)));
        // With no maintenance page, a site in maintenance stays on its bench: a Frappe site in
        // maintenance mode answers 503 itself, where a router to a missing service would be
        // disabled and the whole name would answer 404.
        let maintenance = site.maintenance && self.has_maintenance_page()?;
        let (config, mut routes) = route::site_config(
            &checked,
            &self.entry_point,
            maintenance,
            paths.as_ref().map(|(c, k)| (c.as_str(), k.as_str())),
        );
        let changed = self.write_if_changed(&self.site_file(&checked.site), &to_yaml(&config), PUBLIC)?;
        for route in &mut routes {
            route.changed = changed;
        }
        // Certificates the file no longer names (all of them when the site now uses the wildcard).
        self.remove_certificates(&checked.site, cert_files.as_ref())?;
        Ok(routes)
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
        Ok(self.remove_certificates(&site, None)? || existed)
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
        let paths = wildcard.as_ref().map(|(c, k)| (path_text(c), path_text(k)));
        let (config, mut routes) = route::platform_config(
            maintenance.as_deref(),
            default.as_deref(),
            &self.entry_point,
            self.http_entry_point.as_deref(),
            paths.as_ref().map(|(c, k)| (c.as_str(), k.as_str())),
        );
        let changed = self.write_if_changed(&self.dir.join(PLATFORM_FILE), &to_yaml(&config), PUBLIC)?;
        self.remove_certificates(PLATFORM_CERT, wildcard.as_ref())?;
        for route in &mut routes {
            route.changed = changed;
        }
        Ok(routes)
    }

    /// Writes the monitor server's routes (left alone when unchanged); the routers to verify.
    pub fn write_monitor(&self, monitor: &MonitorRoute) -> Result<Vec<Route>, Error> {
        let (config, mut routes) = route::monitor_config(monitor, &self.entry_point)?;
        let changed = self.write_if_changed(&self.dir.join(MONITOR_FILE), &to_yaml(&config), PRIVATE)?;
        for route in &mut routes {
            route.changed = changed;
        }
        Ok(routes)
    }

    /// Removes the monitor server's routes; true if there were any.
    pub fn remove_monitor(&self) -> Result<bool, Error> {
        let path = self.dir.join(MONITOR_FILE);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// Whether the platform's file defines the maintenance page. Only `write_platform` writes
    /// that file, in `to_yaml`'s fixed layout, where the page is a key of `http.services`.
    pub fn has_maintenance_page(&self) -> Result<bool, Error> {
        let path = self.dir.join(PLATFORM_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let key = format!("    {}:", key_text(route::MAINTENANCE));
        let mut in_services = false;
        for line in text.lines() {
            if !line.starts_with("    ") {
                in_services = line == "  services:";
            } else if in_services && line == key {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn site_file(&self, site: &str) -> PathBuf {
        self.dir.join(format!("{site}.yaml"))
    }

    /// Where a certificate and its key go: named after the stem and their content, so that
    /// a different certificate is a different path in the YAML file.
    fn cert_paths(&self, stem: &str, certificate: &Certificate) -> (PathBuf, PathBuf) {
        let digest = Sha256::new()
            .chain_update(certificate.chain_pem.as_bytes())
            .chain_update([0])
            .chain_update(certificate.key_pem.as_bytes())
            .finalize();
        let fingerprint = hex::encode(&digest[..FINGERPRINT_BYTES]);
        let certs = self.dir.join("certs");
        (certs.join(format!("{stem}.{fingerprint}.crt")), certs.join(format!("{stem}.{fingerprint}.key")))
    }

    fn write_certificate(&self, stem: &str, certificate: &Certificate) -> Result<(PathBuf, PathBuf), Error> {
        let (cert, key) = self.cert_paths(stem, certificate);
        self.write_if_changed(&key, &certificate.key_pem, PRIVATE)?;
        self.write_if_changed(&cert, &certificate.chain_pem, PUBLIC)?;
        Ok((cert, key))
    }

    /// Removes the stem's certificate files except `keep`; true if any was removed.
    fn remove_certificates(&self, stem: &str, keep: Option<&(PathBuf, PathBuf)>) -> Result<bool, Error> {
        let certs = self.dir.join("certs");
        let entries = fs::read_dir(&certs).map_err(|e| Error::io(&certs, e))?;
        let mut removed = false;
        for entry in entries {
            let path = entry.map_err(|e| Error::io(&certs, e))?.path();
            let ours = path.file_name().and_then(|n| n.to_str()).is_some_and(|name| cert_file_stem(name) == Some(stem));
            if !ours || keep.is_some_and(|(c, k)| &path == c || &path == k) {
                continue;
            }
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

/// The stem of a certificate file this module wrote: `<stem>.<fingerprint>.crt|key`, or the
/// `<stem>.crt|key` of earlier versions, which named files by stem alone.
fn cert_file_stem(name: &str) -> Option<&str> {
    let base = name.strip_suffix(".crt").or_else(|| name.strip_suffix(".key"))?;
    match base.rsplit_once('.') {
        Some((stem, fingerprint))
            if fingerprint.len() == 2 * FINGERPRINT_BYTES
                && fingerprint.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            Some(stem)
        }
        _ => Some(base),
    }
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::cert_file_stem;

    #[test]
    fn certificate_files_are_told_apart_by_stem_exactly() {
        assert_eq!(cert_file_stem("a.example.com.0123456789abcdef.crt"), Some("a.example.com"));
        assert_eq!(cert_file_stem("a.example.com.0123456789abcdef.key"), Some("a.example.com"));
        assert_eq!(cert_file_stem("_platform.fedcba9876543210.crt"), Some("_platform"));
        // Files of earlier versions, named by stem alone.
        assert_eq!(cert_file_stem("a.example.com.crt"), Some("a.example.com"));
        // A sub-domain's file is not its parent's, whatever its fingerprint.
        assert_eq!(cert_file_stem("b.a.example.com.0123456789abcdef.crt"), Some("b.a.example.com"));
        assert_eq!(cert_file_stem("a.example.com.0123456789ABCDEF.crt"), Some("a.example.com.0123456789ABCDEF"));
        assert_eq!(cert_file_stem("a.example.com.yaml"), None);
        assert_eq!(cert_file_stem(".a.example.com.crt.123.tmp"), None);
    }
}
