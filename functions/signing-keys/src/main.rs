//! Lambda for the template's `SigningKeys` custom resource: writes the JWT signing keys into
//! the stack's secret on Create and always answers CloudFormation (see the library).

use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    bookshelf::logging::init();
    let sdk = bookshelf::aws::sdk_config_in(bookshelf::aws::lambda_region());
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SECRETS_MANAGER").ok();
    let client = bookshelf::signing_keys::secrets_client(&sdk, endpoint.as_deref());
    let responder = signing_keys::Responder::new()?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let (client, responder) = (&client, &responder);
        async move {
            let log_stream = event.context.env_config.log_stream.clone();
            signing_keys::respond(client, responder, event.payload, event.context.deadline(), &log_stream).await?;
            Ok::<(), lambda_runtime::Error>(())
        }
    }))
    .await
}
