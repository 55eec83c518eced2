//! What a wire format is: one method per kind of outcome, and failures; and the static
//! dispatch from an outcome type to its method, so a function links only the writing of the
//! answers its own handler gives.

use super::native::Native;
use crate::error::Error;
use crate::outcome::{Account, Active, Done, Jwks, Mailed, PasswordChanged, Sessions, SignedIn};
use crate::web::response::ApiResponse;

/// Writes one wire format: one method per kind of outcome, and failures. A profile writes the
/// outcomes its app's routes give; any other is written natively (no profile route gives it).
pub trait Codec {
    fn signed_in(&self, outcome: SignedIn) -> ApiResponse {
        Native.signed_in(outcome)
    }
    fn account(&self, outcome: Account) -> ApiResponse {
        Native.account(outcome)
    }
    fn active(&self, outcome: Active) -> ApiResponse {
        Native.active(outcome)
    }
    fn sessions(&self, outcome: Sessions) -> ApiResponse {
        Native.sessions(outcome)
    }
    fn mailed(&self, outcome: Mailed) -> ApiResponse {
        Native.mailed(outcome)
    }
    fn done(&self, outcome: Done) -> ApiResponse {
        Native.done(outcome)
    }
    fn password_changed(&self, outcome: PasswordChanged) -> ApiResponse {
        Native.password_changed(outcome)
    }
    fn jwks(&self, outcome: Jwks) -> ApiResponse {
        Native.jwks(outcome)
    }
    /// The response to a failure of `operation` (the route's function: `login`, `refresh`, …),
    /// tagged with the request id that its log line carries too. The cause of a server fault
    /// never reaches the body.
    fn failure(&self, error: &Error, request_id: &str, operation: &str) -> ApiResponse;
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
    PasswordChanged => password_changed,
    Jwks => jwks,
}
