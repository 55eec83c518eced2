//! The per-IP rate-limit scopes: each owns its default limit, the variable that changes it
//! and what its 429 says, so no route can count against a scope without a configured limit.

/// A per-IP window of one minute. The name is part of the window's key in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateScope {
    Register,
    Guest,
    Login,
    Refresh,
    Verify,
    Forgot,
    Verification,
    EmailVerify,
    Reset,
    Password,
    Upgrade,
    DeleteAccount,
    UpdateProfile,
    Social,
}

impl RateScope {
    pub const ALL: [RateScope; 14] = [
        RateScope::Register,
        RateScope::Guest,
        RateScope::Login,
        RateScope::Refresh,
        RateScope::Verify,
        RateScope::Forgot,
        RateScope::Verification,
        RateScope::EmailVerify,
        RateScope::Reset,
        RateScope::Password,
        RateScope::Upgrade,
        RateScope::DeleteAccount,
        RateScope::UpdateProfile,
        RateScope::Social,
    ];

    /// The scope's name in its window keys (`RATE#<name>#<ip>`) and in logs.
    pub fn name(self) -> &'static str {
        match self {
            RateScope::Register => "register",
            RateScope::Guest => "guest",
            RateScope::Login => "login",
            RateScope::Refresh => "refresh",
            RateScope::Verify => "verify",
            RateScope::Forgot => "forgot",
            RateScope::Verification => "verification",
            RateScope::EmailVerify => "email_verify",
            RateScope::Reset => "reset",
            RateScope::Password => "password",
            RateScope::Upgrade => "upgrade",
            RateScope::DeleteAccount => "delete_account",
            RateScope::UpdateProfile => "update_profile",
            RateScope::Social => "social",
        }
    }

    /// Requests per minute per IP unless configured otherwise: `api.md`'s numbers for register,
    /// guest, login, refresh, verify and the mails, and limits of our own for the other routes
    /// that hash passwords or check one-time tokens.
    pub fn default_per_minute(self) -> u32 {
        match self {
            RateScope::Register | RateScope::Guest | RateScope::Forgot | RateScope::Verification => 5,
            RateScope::Upgrade => 5,
            RateScope::Login | RateScope::Reset | RateScope::Password | RateScope::DeleteAccount => 10,
            RateScope::Social => 10,
            RateScope::UpdateProfile => 30,
            RateScope::Refresh | RateScope::Verify | RateScope::EmailVerify => 60,
        }
    }

    /// The variable that sets this scope's limit.
    pub fn variable(self) -> &'static str {
        match self {
            RateScope::Register => "RATE_LIMIT_REGISTER_PER_MINUTE",
            RateScope::Guest => "RATE_LIMIT_GUEST_PER_MINUTE",
            RateScope::Login => "RATE_LIMIT_LOGIN_PER_MINUTE",
            RateScope::Refresh => "RATE_LIMIT_REFRESH_PER_MINUTE",
            RateScope::Verify => "RATE_LIMIT_VERIFY_PER_MINUTE",
            RateScope::Forgot => "RATE_LIMIT_FORGOT_PER_MINUTE",
            RateScope::Verification => "RATE_LIMIT_VERIFICATION_PER_MINUTE",
            RateScope::EmailVerify => "RATE_LIMIT_EMAIL_VERIFY_PER_MINUTE",
            RateScope::Reset => "RATE_LIMIT_RESET_PER_MINUTE",
            RateScope::Password => "RATE_LIMIT_PASSWORD_PER_MINUTE",
            RateScope::Upgrade => "RATE_LIMIT_UPGRADE_PER_MINUTE",
            RateScope::DeleteAccount => "RATE_LIMIT_DELETE_ACCOUNT_PER_MINUTE",
            RateScope::UpdateProfile => "RATE_LIMIT_UPDATE_PROFILE_PER_MINUTE",
            RateScope::Social => "RATE_LIMIT_SOCIAL_PER_MINUTE",
        }
    }

    /// What a 429 of this scope tells the client (`Too many … attempts. Please try again later.`).
    pub fn detail(self) -> &'static str {
        match self {
            RateScope::Register => "Too many registration attempts. Please try again later.",
            RateScope::Guest => "Too many guest attempts. Please try again later.",
            RateScope::Login => "Too many login attempts. Please try again later.",
            RateScope::Refresh => "Too many refresh attempts. Please try again later.",
            RateScope::Verify => "Too many verify attempts. Please try again later.",
            RateScope::Forgot | RateScope::Reset => "Too many password reset attempts. Please try again later.",
            RateScope::Verification => "Too many verification email attempts. Please try again later.",
            RateScope::EmailVerify => "Too many email verification attempts. Please try again later.",
            RateScope::Password => "Too many password change attempts. Please try again later.",
            RateScope::Upgrade => "Too many upgrade attempts. Please try again later.",
            RateScope::DeleteAccount => "Too many account deletion attempts. Please try again later.",
            RateScope::UpdateProfile => "Too many profile update attempts. Please try again later.",
            RateScope::Social => "Too many sign-in attempts. Please try again later.",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One value per scope: a limit can be looked up for every scope, never missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerScope<T>([T; RateScope::ALL.len()]);

impl<T: Copy + Default> PerScope<T> {
    /// A value for every scope, or the first error in scope order.
    pub fn try_from_fn<E>(mut value: impl FnMut(RateScope) -> Result<T, E>) -> Result<Self, E> {
        let mut values = [T::default(); RateScope::ALL.len()];
        for scope in RateScope::ALL {
            values[scope.index()] = value(scope)?;
        }
        Ok(PerScope(values))
    }

    pub fn get(&self, scope: RateScope) -> T {
        self.0[scope.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_scope_once_in_declaration_order() {
        for (position, scope) in RateScope::ALL.iter().enumerate() {
            assert_eq!(scope.index(), position, "{scope:?}");
        }
    }

    #[test]
    fn each_variable_is_the_scope_name_in_upper_case() {
        for scope in RateScope::ALL {
            assert_eq!(scope.variable(), format!("RATE_LIMIT_{}_PER_MINUTE", scope.name().to_uppercase()));
        }
    }

    #[test]
    fn api_md_defaults_hold() {
        let defaults = PerScope::try_from_fn(|s| Ok::<_, ()>(s.default_per_minute())).expect("defaults");
        assert_eq!(defaults.get(RateScope::Register), 5);
        assert_eq!(defaults.get(RateScope::Login), 10);
        assert_eq!(defaults.get(RateScope::Refresh), 60);
        assert_eq!(defaults.get(RateScope::Forgot), 5);
    }
}
