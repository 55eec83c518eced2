//! The Lambda edge: an API Gateway REST proxy event, deserialised as the runtime does, run
//! through `edge::lambda::from_lambda` into an ApiRequest, then routed and read like a handler
//! would, and a response converted back. Malformed events may be refused by the
//! deserialiser; none may panic.

#![no_main]

use bookshelf::routes::{resolve, Resolution};
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<ApiGatewayProxyRequest>(data) else { return };
    let req = bookshelf::edge::lambda::from_lambda(event);
    let _ = format!("{req:?}");
    let _ = (req.bearer_token(), req.user_agent(), req.json_object(true).map(|o| o.finish()));
    if let Resolution::Found(spec, params) = resolve(&req.method, &req.path) {
        let _ = (spec.route.rate().scope(), spec.route.wire(), params.get("id").map(|id| id.parse::<uuid::Uuid>()));
    }
    let response = bookshelf::wire::native::problem::problem(&bookshelf::error::Error::NotFound, &req.request_id);
    let _ = bookshelf::edge::lambda::into_lambda(response);
});
