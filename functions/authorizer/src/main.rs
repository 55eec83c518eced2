//! Lambda: the REQUEST authorizer of an app's own API (`template.yaml`'s `ExampleAppApi`).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::authorizer::serve().await
}
