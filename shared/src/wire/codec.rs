//! What a wire format is: one method per kind of outcome, and failures; and the static
//! dispatch from an outcome type to its method, so a function links only the writing of the
//! answers its own handler gives.

use crate::error::Error;
use crate::outcome::{Account, Active, Done, Jwks, Mailed, Sessions, SignedIn};
use crate::web::response::ApiResponse;

/// Writes one wire format: one method per kind of outcome, and failures.
pub trait Codec {
    fn signed_in(&self, outcome: SignedIn) -> ApiResponse;
    fn account(&self, outcome: Account) -> ApiResponse;
    fn active(&self, outcome: Active) -> ApiResponse;
    fn sessions(&self, outcome: Sessions) -> ApiResponse;
    fn mailed(&self, outcome: Mailed) -> ApiResponse;
    fn done(&self, outcome: Done) -> ApiResponse;
    fn jwks(&self, outcome: Jwks) -> ApiResponse;
    /// The response to a failure, tagged with the request id that its log line carries too.
    /// The cause of a server fault never reaches the body.
    fn failure(&self, error: &Error, request_id: &str) -> ApiResponse;
}

/// An outcome any codec can write.
pub trait Encode {
    fn encode<C: Codec>(self, codec: &C) -> ApiResponse;
}

macro_rules! encode {
    ($($outcome:ty => $method:ident),* $(,)?) => {$(
        impl Encode for $outcome {
            fn encode<C: Codec>(self, codec: &C) -> ApiResponse {
                codec.$method(self)
            }
        }
    )*};
}

encode! {
    SignedIn => signed_in,
    Account => account,
    Active => active,
    Sessions => sessions,
    Mailed => mailed,
    Done => done,
    Jwks => jwks,
}
