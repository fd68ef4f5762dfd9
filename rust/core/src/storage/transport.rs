//! Sends the requests that rust-s3 signs through a client of our own. rust-s3's client trusts
//! only the public web roots, so a store behind the platform CA would be unreachable, and it
//! copies every body into memory; ours trusts the configured CA bundle, can reach a store whose
//! name is not in DNS, and streams part bodies from the file.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use s3::command::{Command, HttpMethod};
use s3::request::tokio_backend::ReqwestRequest;
use s3::request::Request as _;
use s3::Bucket;

use super::Error;
use crate::names::ValidationError;

/// A response whose status was a success.
pub(crate) struct Reply {
    pub headers: HeaderMap,
    pub response: reqwest::Response,
}

impl Reply {
    pub async fn bytes(self, subject: &str) -> Result<Bytes, Error> {
        self.response.bytes().await.map_err(|e| Error::transport(e, subject))
    }

    /// The body as the XML document `T`.
    pub async fn xml<T: serde::de::DeserializeOwned>(self, subject: &str) -> Result<T, Error> {
        let body = self.bytes(subject).await?;
        quick_xml::de::from_reader(body.as_ref())
            .map_err(|e| Error::S3 { status: 200, message: format!("{subject}: unreadable answer: {e}") })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone)]
pub(crate) struct Transport {
    client: reqwest::Client,
}

impl Transport {
    /// `ca_bundle`, PEM, replaces the public roots; `connect` sends every request for the
    /// `hosts` to that address whatever DNS says (TLS still checks the host's name).
    pub fn new(ca_bundle: Option<&str>, connect: Option<(SocketAddr, Vec<String>)>) -> Result<Self, Error> {
        let mut builder =
            reqwest::Client::builder().connect_timeout(Duration::from_secs(10)).read_timeout(Duration::from_secs(120));
        if let Some(pem) = ca_bundle {
            let roots = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| ValidationError::new(format!("CA bundle: {e}")))?;
            if roots.is_empty() {
                return Err(ValidationError::new("CA bundle holds no certificate").into());
            }
            builder =
                roots.into_iter().fold(builder.tls_built_in_root_certs(false), |b, root| b.add_root_certificate(root));
        }
        if let Some((address, hosts)) = connect {
            builder = hosts.iter().fold(builder, |b, host| b.resolve(host, address));
        }
        let client = builder.build().map_err(|e| Error::Io(format!("HTTP client: {e}")))?;
        Ok(Self { client })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Signs `command` on `path` with rust-s3 and sends it; a failure status becomes its error.
    pub async fn send(&self, bucket: &Bucket, path: &str, command: Command<'_>) -> Result<Reply, Error> {
        let method = method(command.http_verb());
        let request = ReqwestRequest::new(bucket, path, command).await.map_err(|e| Error::from_s3(e, path))?;
        let url = request.url().map_err(|e| Error::from_s3(e, path))?;
        let signed = request.headers().await.map_err(|e| Error::from_s3(e, path))?;
        let body = request.request_body().map_err(|e| Error::from_s3(e, path))?;
        let mut headers = HeaderMap::new();
        for (name, value) in signed.iter() {
            // Both sides are `http` header types of different major versions.
            if let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name.as_str().as_bytes()), HeaderValue::from_bytes(value.as_bytes()))
            {
                headers.insert(name, value);
            }
        }
        let response = self.client.request(method, url).headers(headers).body(body).send().await;
        checked(response, path).await
    }

    /// Sends `body` of `length` bytes to a presigned PUT URL (the payload is unsigned, so the
    /// body streams rather than being hashed and held first).
    pub async fn put_presigned(
        &self,
        url: &str,
        body: reqwest::Body,
        length: u64,
        subject: &str,
    ) -> Result<Reply, Error> {
        let response = self.client.put(url).header(reqwest::header::CONTENT_LENGTH, length).body(body).send().await;
        checked(response, subject).await
    }
}

async fn checked(response: reqwest::Result<reqwest::Response>, subject: &str) -> Result<Reply, Error> {
    let response = response.map_err(|e| Error::transport(e, subject))?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        return Ok(Reply { headers: response.headers().clone(), response });
    }
    let body = response.text().await.unwrap_or_default();
    Err(Error::from_status(status, &body, subject))
}

fn method(verb: HttpMethod) -> reqwest::Method {
    match verb {
        HttpMethod::Delete => reqwest::Method::DELETE,
        HttpMethod::Get => reqwest::Method::GET,
        HttpMethod::Post => reqwest::Method::POST,
        HttpMethod::Put => reqwest::Method::PUT,
        HttpMethod::Head => reqwest::Method::HEAD,
    }
}
