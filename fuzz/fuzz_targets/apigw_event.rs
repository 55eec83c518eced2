//! The Lambda edge: an API Gateway REST proxy event, deserialised as the runtime does, picked
//! to a route as a function picks it (`edge::lambda::pick`, every compatible profile enabled),
//! run through `edge::lambda::from_lambda` into an ApiRequest, then routed and read like a
//! handler or a profile's decoder would, and a failure written in every profile's format and
//! converted back. Malformed events may be refused by the deserialiser; none may panic.

#![no_main]

use bookshelf::error::Error;
use bookshelf::profile::{Profile, Profiles};
use bookshelf::routes::{resolve, Handler, Resolution, Route, ROUTES};
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<ApiGatewayProxyRequest>(data) else { return };
    let enabled = Profiles::parse("bookshelf,simplejwt,bookwish,universal-bookshelf").unwrap_or_default();
    let routes: Vec<(Route, Handler)> = ROUTES.iter().map(|r| (r.route, r.route.handler())).collect();
    let _ = bookshelf::edge::lambda::pick(&routes, &event, enabled);
    let req = bookshelf::edge::lambda::from_lambda(event);
    let _ = format!("{req:?}");
    let _ = (req.bearer_token(), req.user_agent(), req.json_object(true).map(|o| o.finish()));
    let _ = bookshelf::wire::reading::Body::read(&req, bookshelf::wire::reading::Accept::JsonOrForm).map(|body| body.fields.len());
    if let Resolution::Found(spec, params) = resolve(&req.method, &req.path, enabled) {
        let _ = (spec.route.rate().scope(), spec.route.profile(), params.get("id").map(|id| id.parse::<uuid::Uuid>()));
    }
    for profile in Profile::ALL {
        let response = bookshelf::wire::failure(profile, &Error::NotFound, &req.request_id, "fallback");
        let _ = bookshelf::edge::lambda::into_lambda(response);
    }
});
