//! Where archives and lakes live: a local folder or an S3 prefix.
//!
//! [`Location`] parses what users type (`/evidence/AWSLogs`, `s3://bucket/prefix`).
//! [`S3Options`] carries the options AWS users expect, and [`s3_store`] turns
//! them into an [`ObjectStore`] whose credentials come from the AWS SDK's own
//! default chain: environment variables, the shared `config` / `credentials`
//! files with `--profile` / `AWS_PROFILE` (static keys, `role_arn` +
//! `source_profile`, SSO, `credential_process`), web identity, the container
//! endpoint and instance metadata. ctlake never re-implements that chain.
//!
//! ```no_run
//! # async fn run() -> Result<(), ctlake_store::Error> {
//! use ctlake_store::{Location, S3Options, s3_store};
//! let Location::S3 { bucket, .. } = Location::parse("s3://trail-archive/AWSLogs")? else {
//!     unreachable!()
//! };
//! let store = s3_store(&bucket, &S3Options::default()).await?;
//! # Ok(())
//! # }
//! ```

mod credentials;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};

pub use object_store;

/// Errors of reaching a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not a usable location.
    #[error("{text}: {reason}")]
    BadLocation {
        /// What was given.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The S3 client for a bucket could not be built.
    #[error("s3://{bucket}: cannot set up the S3 client: {source}")]
    Client {
        /// The bucket.
        bucket: String,
        /// Why.
        source: object_store::Error,
    },
}

/// The file a path names, with symlinks and `..` resolved as far as the
/// path exists (a lake is often not created yet). Each part is resolved on
/// the one before, which is physical already, so `..` is its real parent;
/// past the first missing folder no part can be a symlink.
pub fn physical(path: &std::path::Path) -> std::path::PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut real = std::path::PathBuf::new();
    for part in absolute.components() {
        match part {
            std::path::Component::ParentDir => {
                real.pop();
            }
            std::path::Component::CurDir => {}
            part => {
                real.push(part);
                if let Ok(resolved) = std::fs::canonicalize(&real) {
                    real = resolved;
                }
            }
        }
    }
    real
}

/// A place given on the command line: a local path or an S3 prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local file or folder.
    Local(PathBuf),
    /// `s3://bucket[/prefix]`; the prefix has no leading or trailing `/`.
    S3 {
        /// The bucket name.
        bucket: String,
        /// The key prefix, possibly empty.
        prefix: String,
    },
}

impl Location {
    /// Parses `s3://bucket[/prefix]` or a local path.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let Some(rest) = text.strip_prefix("s3://") else {
            return Ok(Self::Local(PathBuf::from(text)));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::BadLocation {
                text: text.to_owned(),
                reason: "no bucket name after s3://",
            });
        }
        Ok(Self::S3 {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }

    /// Whether this is an S3 location.
    pub fn is_remote(&self) -> bool {
        matches!(self, Self::S3 { .. })
    }
}

impl From<PathBuf> for Location {
    fn from(path: PathBuf) -> Self {
        Self::Local(path)
    }
}

impl From<&std::path::Path> for Location {
    fn from(path: &std::path::Path) -> Self {
        Self::Local(path.to_owned())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local(path) => write!(f, "{}", path.display()),
            Self::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Self::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// How to reach S3, as the AWS CLI's options name it.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// Named profile of the shared config files (else `AWS_PROFILE`, else `default`).
    pub profile: Option<String>,
    /// Region of the bucket (else `AWS_REGION`, the profile's region, `us-east-1`).
    pub region: Option<String>,
    /// Endpoint of an S3-compatible store (else `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`
    /// or the profile's `endpoint_url`).
    pub endpoint_url: Option<String>,
    /// Send unsigned requests (public buckets); no credentials are looked up.
    pub no_sign_request: bool,
    /// Retries of a failed request (5xx, throttling, connection resets, broken
    /// bodies) before it is reported.
    pub retries: usize,
}

impl Default for S3Options {
    fn default() -> Self {
        Self {
            profile: None,
            region: None,
            endpoint_url: None,
            no_sign_request: false,
            retries: 10,
        }
    }
}

/// An S3 client for `bucket`.
///
/// Credentials are resolved lazily, on the first request, and cached until
/// shortly before they expire; a chain that finds none fails that request
/// with the SDK's explanation.
pub async fn s3_store(bucket: &str, options: &S3Options) -> Result<Arc<dyn ObjectStore>, Error> {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &options.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if options.no_sign_request {
        loader = loader.no_credentials();
    }
    let sdk = loader.load().await;

    let region = sdk.region().map_or("us-east-1", |r| r.as_ref()).to_owned();
    let endpoint = options
        .endpoint_url
        .clone()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
        .or_else(|| sdk.endpoint_url().map(str::to_owned));

    let retry = RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: options.retries,
        retry_timeout: Duration::from_mins(3),
    };
    let client = ClientOptions::new()
        .with_connect_timeout(Duration::from_secs(10))
        .with_timeout(Duration::from_mins(2))
        .with_pool_idle_timeout(Duration::from_secs(30));
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(region)
        .with_retry(retry)
        .with_client_options(client);
    if let Some(endpoint) = endpoint {
        builder = builder
            .with_allow_http(endpoint.starts_with("http://"))
            .with_endpoint(endpoint);
    }
    builder = match sdk.credentials_provider() {
        Some(provider) if !options.no_sign_request => {
            builder.with_credentials(Arc::new(credentials::SdkCredentials::new(provider)))
        }
        // Unsigned: asked for, or the SDK was told there are no credentials.
        _ => builder.with_skip_signature(true),
    };
    let store = builder.build().map_err(|source| Error::Client {
        bucket: bucket.to_owned(),
        source,
    })?;
    Ok(Arc::new(store))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_locations() {
        assert_eq!(
            Location::parse("s3://b/AWSLogs/o-1/").unwrap(),
            Location::S3 {
                bucket: "b".into(),
                prefix: "AWSLogs/o-1".into()
            }
        );
        assert_eq!(
            Location::parse("s3://b").unwrap(),
            Location::S3 {
                bucket: "b".into(),
                prefix: String::new()
            }
        );
        assert_eq!(Location::parse("s3://b/p").unwrap().to_string(), "s3://b/p");
        assert!(Location::parse("s3:///x").is_err());
        assert_eq!(
            Location::parse("lake").unwrap(),
            Location::Local(PathBuf::from("lake"))
        );
    }
}
