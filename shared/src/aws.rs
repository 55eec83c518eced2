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

use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use std::time::Duration;

use crate::config::Config;

pub fn sdk_config(config: &Config) -> SdkConfig {
    sdk_config_in(config.aws_region.clone())
}

/// The same for code that runs without a [`Config`] (the signing-keys custom resource).
///
/// Every client made from it has short timeouts and few retries, so a function whose AWS
/// call stalls (reading its keys, sending a mail) fails within seconds instead of running
/// into its Lambda timeout; the DynamoDB store tightens them further.
pub fn sdk_config_in(region: Option<String>) -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(1_000))
        .operation_attempt_timeout(Duration::from_millis(2_000))
        .operation_timeout(Duration::from_millis(5_000))
        .build();
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region.map(Region::new))
        .credentials_provider(SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new()))
        .http_client(crate::sdk_http::client())
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .build()
}

/// The region Lambda runs a function in.
pub fn lambda_region() -> Option<String> {
    std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty())
}
