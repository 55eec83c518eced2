//! Client profiles: the seed apps' own auth APIs (`profiles.md`), served by the one core.
//!
//! A profile is a name, a set of routes (`crate::routes`), a wire format (`crate::wire`) and
//! the core behaviours its clients rely on, chosen here as settings rather than special cases:
//! how long its access tokens live, whether its refresh tokens rotate, whether a session is
//! continued by exchanging its access token (jwt-auth style), which extra claims its tokens
//! carry, and a few account rules. Nothing here knows HTTP.

use std::time::Duration;

use crate::rate_scope::RateScope;

/// The wire formats and route sets this service can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    /// `api.md`, always served where no enabled profile claims the same method and path.
    Bookshelf,
    /// Book Corners (django-ninja + ninja-jwt), under `/api/v1/auth`.
    BookCorners,
    /// The session-style API, under `/api/v1/auth`.
    SessionApi,
    /// Universal Bookshelf (Laravel + tymon/jwt-auth), under `/api`.
    UniversalBookshelf,
    /// The Django REST framework + simplejwt API, under `/auth`.
    Simplejwt,
    /// BookWish, `/auth/*` and `/users/me`.
    Bookwish,
}

impl Profile {
    pub const ALL: [Profile; 6] = [
        Profile::Bookshelf,
        Profile::BookCorners,
        Profile::SessionApi,
        Profile::UniversalBookshelf,
        Profile::Simplejwt,
        Profile::Bookwish,
    ];

    /// The name `API_PROFILES` uses.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Bookshelf => "bookshelf",
            Profile::BookCorners => "book-corners",
            Profile::SessionApi => "session-api",
            Profile::UniversalBookshelf => "universal-bookshelf",
            Profile::Simplejwt => "simplejwt",
            Profile::Bookwish => "bookwish",
        }
    }

    pub fn from_name(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == name)
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }

    /// What the account handlers do differently for this profile's clients.
    pub fn rules(self) -> AccountRules {
        let mut rules = AccountRules::default();
        match self {
            // ninja-jwt's login takes the email in its `username` field too.
            // `api.md` makes logout idempotent; the apps' servers refused an ended session.
            Profile::Bookshelf => rules.idempotent_logout = true,
            Profile::BookCorners => rules.username_may_be_email = true,
            // jwt-auth clients keep their one token across a password change, pick a role at
            // sign-up, and change their email without re-entering the password (its clients
            // never send one; the old address is told instead).
            Profile::UniversalBookshelf => {
                rules.role_at_sign_up = true;
                rules.password_change_keeps_session = true;
                rules.email_change_needs_password = false;
            }
            Profile::SessionApi | Profile::Simplejwt | Profile::Bookwish => {}
        }
        rules
    }
}

/// Account rules a profile's clients were written against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountRules {
    /// Login's `username` may hold an email address instead.
    pub username_may_be_email: bool,
    /// A logout with a token whose session has ended already succeeds (`api.md`); otherwise
    /// it is refused like any bearer request with a dead token.
    pub idempotent_logout: bool,
    /// Sign-up may choose a role from `SELF_ASSIGNABLE_ROLES`.
    pub role_at_sign_up: bool,
    /// A password change keeps the caller's session (every other one still ends).
    pub password_change_keeps_session: bool,
    /// A new email address needs the current password (otherwise the old address is told).
    pub email_change_needs_password: bool,
}

impl Default for AccountRules {
    fn default() -> Self {
        AccountRules {
            username_may_be_email: false,
            idempotent_logout: false,
            role_at_sign_up: false,
            password_change_keeps_session: false,
            email_change_needs_password: true,
        }
    }
}

/// The set of profiles a deployment serves (`API_PROFILES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profiles(u8);

impl Profiles {
    pub fn of(profiles: &[Profile]) -> Self {
        Profiles(profiles.iter().fold(0, |bits, p| bits | p.bit()))
    }

    /// A comma list of profile names; an unknown name is refused (the message names it). The
    /// native profile is always in: its routes are served wherever no other claims them.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut bits = Profile::Bookshelf.bit();
        for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let profile = Profile::from_name(name).ok_or_else(|| {
                format!(
                    "unknown profile {name:?}; expected a comma list of {}",
                    Profile::ALL.map(Profile::name).join(", ")
                )
            })?;
            bits |= profile.bit();
        }
        Ok(Profiles(bits))
    }

    pub fn contains(self, profile: Profile) -> bool {
        self.0 & profile.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Profile> {
        Profile::ALL.into_iter().filter(move |p| self.contains(*p))
    }
}

impl Default for Profiles {
    fn default() -> Self {
        Profiles::of(&[Profile::Bookshelf])
    }
}

/// How a profile's sessions behave; copied onto each session when it opens, so a refresh or a
/// bearer check needs no configuration of the profile that opened it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub access_ttl: Duration,
    /// Refresh tokens rotate on use (off: the client keeps one until its deadline).
    pub rotate_refresh: bool,
    /// The session is continued by exchanging its current access token, expired or not,
    /// within this long of the session's start; the exchanged token dies at once.
    pub token_exchange: Option<TokenExchange>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenExchange {
    pub window: Duration,
    /// How long an exchanged token may still be exchanged again for the same successor
    /// (concurrent refreshes of one client); zero by default, as in jwt-auth.
    pub grace: Duration,
}

/// Which extra claims a profile's access tokens carry besides the native ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraClaims {
    None,
    /// `token_type: "access"` and `user_id` (simplejwt, ninja-jwt).
    SimpleJwt,
    /// `userId`, `isGuest` (BookWish; `tier` is a native claim).
    Bookwish,
}

impl Profile {
    pub fn extra_claims(self) -> ExtraClaims {
        match self {
            Profile::BookCorners | Profile::Simplejwt => ExtraClaims::SimpleJwt,
            Profile::Bookwish => ExtraClaims::Bookwish,
            Profile::Bookshelf | Profile::SessionApi | Profile::UniversalBookshelf => ExtraClaims::None,
        }
    }
}

/// Each profile's session policy and per-IP limit override, from `PROFILE_<NAME>_<SETTING>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSettings {
    policies: [SessionPolicy; 6],
    /// Requests per minute per IP on the profile's rate-limited routes, where it has its own.
    per_minute: [Option<u32>; 6],
}

impl ProfileSettings {
    /// `native` is the native policy (`ACCESS_TOKEN_TTL_SECONDS`, …); `read` gives each
    /// setting's variable to the configuration reader.
    pub fn read<R: SettingReader>(native: SessionPolicy, read: &R) -> Result<Self, R::Error> {
        let mut policies = [native; 6];
        policies[Profile::BookCorners as usize].rotate_refresh =
            read.flag("PROFILE_BOOK_CORNERS_ROTATE_REFRESH", false)?;
        policies[Profile::SessionApi as usize].access_ttl =
            read.seconds("PROFILE_SESSION_API_TOKEN_TTL_SECONDS", 43_200)?;
        policies[Profile::UniversalBookshelf as usize] = SessionPolicy {
            access_ttl: read.seconds("PROFILE_UNIVERSAL_BOOKSHELF_TOKEN_TTL_SECONDS", 3_600)?,
            rotate_refresh: true,
            token_exchange: Some(TokenExchange {
                window: read.seconds("PROFILE_UNIVERSAL_BOOKSHELF_REFRESH_WINDOW_SECONDS", 1_209_600)?,
                grace: read.seconds_or_zero("PROFILE_UNIVERSAL_BOOKSHELF_REFRESH_GRACE_SECONDS", 0)?,
            }),
        };
        policies[Profile::Simplejwt as usize] = SessionPolicy {
            access_ttl: read.seconds("PROFILE_SIMPLEJWT_ACCESS_TTL_SECONDS", native.access_ttl.as_secs())?,
            rotate_refresh: read.flag("PROFILE_SIMPLEJWT_ROTATE_REFRESH", false)?,
            token_exchange: None,
        };
        let mut per_minute = [None; 6];
        per_minute[Profile::UniversalBookshelf as usize] =
            Some(read.count("PROFILE_UNIVERSAL_BOOKSHELF_PER_MINUTE", 5)?);
        Ok(ProfileSettings { policies, per_minute })
    }

    pub fn policy(&self, profile: Profile) -> SessionPolicy {
        self.policies[profile as usize]
    }

    /// The profile's own per-IP limit for `scope`, where it has one: the scopes of sign-up,
    /// login and refresh (the routes its seed document throttles).
    pub fn per_minute(&self, profile: Profile, scope: RateScope) -> Option<u32> {
        match scope {
            RateScope::Register | RateScope::Login | RateScope::Refresh => self.per_minute[profile as usize],
            _ => None,
        }
    }
}

/// Reads one typed setting by its variable name, with its default; a bad value is an error
/// naming the variable.
pub trait SettingReader {
    type Error;
    /// Whole seconds above zero.
    fn seconds(&self, name: &'static str, default: u64) -> Result<Duration, Self::Error>;
    /// Whole seconds, zero included.
    fn seconds_or_zero(&self, name: &'static str, default: u64) -> Result<Duration, Self::Error>;
    fn flag(&self, name: &'static str, default: bool) -> Result<bool, Self::Error>;
    /// A whole number above zero.
    fn count(&self, name: &'static str, default: u32) -> Result<u32, Self::Error>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_is_found_by_its_name() {
        for profile in Profile::ALL {
            assert_eq!(Profile::from_name(profile.name()), Some(profile));
        }
    }

    #[test]
    fn an_unknown_profile_name_is_refused_naming_it() {
        let error = Profiles::parse("bookshelf, bookworm").expect_err("unknown");
        assert!(error.contains("bookworm"), "{error}");
    }

    #[test]
    fn a_profile_list_keeps_exactly_its_members() {
        let profiles = Profiles::parse("simplejwt,bookwish").expect("valid");
        let expected = vec![Profile::Bookshelf, Profile::Simplejwt, Profile::Bookwish];
        assert_eq!(profiles.iter().collect::<Vec<_>>(), expected, "the native routes are always served");
        assert!(Profiles::default().contains(Profile::Bookshelf));
    }
}
