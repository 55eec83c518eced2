//! The AWS SDK configuration every client of a function shares (DynamoDB, SES, Secrets
//! Manager), over the one HTTP client of [`crate::sdk_http`].
//!
//! Lambda hands each function its region (`AWS_REGION`) and its role's credentials
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) as environment
//! variables, so the clients read exactly those. `aws_config::defaults()` would search its
//! whole chain instead (profile files, IMDS, ECS, SSO, STS web identity): lookups at every
//! cold start and ≈ 0.3 MB of code in every binary, for sources a Lambda never uses.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::SharedCredentialsProvider;

use crate::config::Config;

pub fn sdk_config(config: &Config) -> SdkConfig {
    sdk_config_in(config.aws_region.clone())
}

/// The same for code that runs without a [`Config`] (the signing-keys custom resource).
pub fn sdk_config_in(region: Option<String>) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region.map(Region::new))
        .credentials_provider(SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new()))
        .http_client(crate::sdk_http::client())
        .build()
}

/// The region Lambda runs a function in.
pub fn lambda_region() -> Option<String> {
    std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty())
}
