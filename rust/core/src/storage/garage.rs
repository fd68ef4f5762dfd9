//! Keys of their own for tenants, through Garage's admin API (v2). Garage grants a key a whole
//! bucket, never a prefix, so a tenant that must not read its neighbours gets a bucket and a
//! key of its own; both are found again by name, so granting twice changes nothing.

use std::fmt;

use reqwest::Method;
use serde_json::{json, Value};

use super::transport::Transport;
use super::Error;
use crate::names::ValidationError;

/// A key that may read and write one bucket.
#[derive(Clone, PartialEq, Eq)]
pub struct GrantedKey {
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    /// Whether this call created the key (false: it existed and was found by name).
    pub created: bool,
}

impl fmt::Debug for GrantedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrantedKey")
            .field("bucket", &self.bucket)
            .field("access_key", &self.access_key)
            .field("secret_key", &"***")
            .field("created", &self.created)
            .finish()
    }
}

pub struct GarageAdmin {
    url: String,
    token: String,
    transport: Transport,
}

impl fmt::Debug for GarageAdmin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GarageAdmin").field("url", &self.url).field("token", &"***").finish()
    }
}

impl GarageAdmin {
    /// `url`: the `[admin] api_bind_addr` as http(s)://host:port; `token`: its `admin_token`.
    pub fn new(url: &str, token: &str, ca_bundle: Option<&str>) -> Result<Self, Error> {
        let url = url.trim_end_matches('/');
        let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
        if rest.is_none_or(|host| host.is_empty() || host.contains(['/', '?', '#', '@'])) {
            return Err(ValidationError::new(format!("admin URL must be http(s)://host:port, got {url:?}")).into());
        }
        if token.is_empty() {
            return Err(ValidationError::new("the admin token is empty").into());
        }
        Ok(Self { url: url.to_string(), token: token.to_string(), transport: Transport::new(ca_bundle, None)? })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A key named `key_name` that may read and write `bucket`; the bucket and the key are made
    /// if missing. Nothing else is granted: the key creates no bucket and owns none.
    pub async fn grant(&self, bucket: &str, key_name: &str) -> Result<GrantedKey, Error> {
        super::store::check_bucket_name(bucket)?;
        check_key_name(key_name)?;
        let bucket_id = match self.call(Method::GET, &format!("GetBucketInfo?globalAlias={bucket}"), None).await {
            Ok(info) => field(&info, "id")?,
            Err(Error::NotFound(_)) => {
                field(&self.call(Method::POST, "CreateBucket", Some(json!({ "globalAlias": bucket }))).await?, "id")?
            }
            Err(e) => return Err(e),
        };
        let (access_key, created) = match self.key_id(key_name).await? {
            Some(id) => (id, false),
            None => (
                field(&self.call(Method::POST, "CreateKey", Some(json!({ "name": key_name }))).await?, "accessKeyId")?,
                true,
            ),
        };
        let permissions = json!({ "read": true, "write": true, "owner": false });
        self.call(
            Method::POST,
            "AllowBucketKey",
            Some(json!({ "bucketId": bucket_id, "accessKeyId": access_key, "permissions": permissions })),
        )
        .await?;
        let info = self.call(Method::GET, &format!("GetKeyInfo?id={access_key}&showSecretKey=true"), None).await?;
        Ok(GrantedKey { bucket: bucket.to_string(), secret_key: field(&info, "secretAccessKey")?, access_key, created })
    }

    /// Deletes the key `access_key` (its id, which stays when a site is renamed; its name may
    /// not); says whether there was one. Its bucket and what is in it stay: removing a tenant's
    /// data is a decision of its own.
    pub async fn revoke(&self, access_key: &str) -> Result<bool, Error> {
        let hex = access_key.strip_prefix("GK").unwrap_or_default();
        if hex.len() < 2 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ValidationError::new(format!("not a Garage key id: {access_key:?}")).into());
        }
        match self.call(Method::POST, &format!("DeleteKey?id={access_key}"), None).await {
            Ok(_) => Ok(true),
            Err(Error::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The names of every key on the store (the platform's own among them).
    pub async fn key_names(&self) -> Result<Vec<String>, Error> {
        let keys = self.call(Method::GET, "ListKeys", None).await?;
        Ok(keys.as_array().into_iter().flatten().filter_map(|k| k["name"].as_str().map(str::to_string)).collect())
    }

    /// The id of the key named exactly `name` (Garage's own search also matches id prefixes).
    async fn key_id(&self, name: &str) -> Result<Option<String>, Error> {
        let keys = self.call(Method::GET, "ListKeys", None).await?;
        let mut named = keys.as_array().into_iter().flatten().filter(|k| k["name"] == name);
        match (named.next(), named.next()) {
            (Some(key), None) => Ok(Some(field(key, "id")?)),
            (None, _) => Ok(None),
            (Some(_), Some(_)) => Err(Error::S3 {
                status: 409,
                message: format!("several Garage keys are named {name:?}: delete the extra ones"),
            }),
        }
    }

    async fn call(&self, method: Method, endpoint: &str, body: Option<Value>) -> Result<Value, Error> {
        let subject = format!("Garage admin {}", endpoint.split('?').next().unwrap_or(endpoint));
        let mut request =
            self.transport.client().request(method, format!("{}/v2/{endpoint}", self.url)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.to_string());
        }
        let response = request.send().await.map_err(|e| Error::transport(e, &subject))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| Error::transport(e, &subject))?;
        if !(200..300).contains(&status) {
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or_else(|| text.chars().take(200).collect());
            return Err(match status {
                404 => Error::NotFound(format!("{subject}: {message}")),
                401 | 403 => Error::Denied(format!("{subject}: {message}")),
                400 => ValidationError::new(format!("{subject}: {message}")).into(),
                _ => Error::S3 { status, message: format!("{subject}: {message}") },
            });
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text)
            .map_err(|e| Error::S3 { status, message: format!("{subject}: unreadable answer: {e}") })
    }
}

fn field(value: &Value, name: &str) -> Result<String, Error> {
    value[name]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| Error::S3 { status: 200, message: format!("Garage admin answer without {name:?}") })
}

/// Key names are labels: printable, no control characters, at most 128 characters.
fn check_key_name(name: &str) -> Result<(), ValidationError> {
    if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
        return Err(ValidationError::new(format!("invalid key name {name:?}")));
    }
    Ok(())
}
