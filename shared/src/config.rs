//! Typed configuration, read once at cold start from environment variables.
//!
//! Every name matches `design.md`, `template.yaml` and the README's config table. A missing
//! or invalid value fails start-up with a message naming the variable.

use std::path::PathBuf;
use std::time::Duration;

use crate::profile::{ProfileSettings, Profiles, SessionPolicy, SettingReader};
use crate::rate_scope::PerScope;
use crate::social::{Provider, ProviderConfig};

#[derive(Debug, thiserror::Error)]
#[error("configuration error in {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

/// Signing algorithm of access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    Es256,
    Hs256,
}

impl JwtAlgorithm {
    /// Its JOSE name (`alg`).
    pub fn name(self) -> &'static str {
        match self {
            JwtAlgorithm::Es256 => "ES256",
            JwtAlgorithm::Hs256 => "HS256",
        }
    }
}

/// How outgoing mail is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailSender {
    Ses,
    Outbox,
}

/// Where the signing keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `JWT_KEYS_SECRET_ARN`: a Secrets Manager secret holding the key document (deployed
    /// stacks; the template's custom resource writes it). Read once per cold start.
    SecretsManager(String),
    /// `JWT_KEYS`: the key document itself (tests, experiments).
    Inline(String),
    /// `JWT_KEYS_FILE`: a path to the key document (the local server generates one).
    File(PathBuf),
}

impl KeySource {
    /// The variable this source was configured by, for start-up errors.
    pub fn variable(&self) -> &'static str {
        match self {
            KeySource::SecretsManager(_) => "JWT_KEYS_SECRET_ARN",
            KeySource::Inline(_) => "JWT_KEYS",
            KeySource::File(_) => "JWT_KEYS_FILE",
        }
    }
}

/// Per-service endpoint overrides of the deployed clients (`AWS_ENDPOINT_URL_<SERVICE>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceEndpoints {
    pub dynamodb: Option<String>,
    pub secrets_manager: Option<String>,
}

/// App-level limits; every number is configuration (`RATE_LIMIT_<ROUTE>_PER_MINUTE`,
/// `LOGIN_LOCKOUT_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests per minute per client IP, for every scope.
    pub per_minute: PerScope<u32>,
    /// Consecutive failures of one identifier before login is locked.
    pub lockout_after: u32,
    /// The first lock; each further failure doubles it, up to `lockout_max`.
    pub lockout_base: Duration,
    pub lockout_max: Duration,
    /// Consecutive failures after which password login stays disabled until a reset.
    pub disable_after: u32,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub dynamodb_endpoint: Option<String>,
    /// `AWS_REGION` (set by Lambda; `AWS_DEFAULT_REGION` also read): required unless
    /// `DYNAMODB_ENDPOINT` points at a local database.
    pub aws_region: Option<String>,
    /// `AWS_ENDPOINT_URL_DYNAMODB` and `AWS_ENDPOINT_URL_SECRETS_MANAGER` (the AWS SDKs' own
    /// names for a service's endpoint): where the deployed code path sends its calls. Unset in
    /// AWS. Unlike `DYNAMODB_ENDPOINT` (DynamoDB Local with fixed credentials), everything else
    /// stays as deployed — the region, the credentials from the environment, SigV4 and TLS
    /// through [`crate::sdk_http`] — so `make bench` can time a Lambda-like cold start against
    /// local TLS endpoints.
    pub endpoints: ServiceEndpoints,
    /// `INIT_WARMUP` (true): whether a cold start reads its signing keys and opens its DynamoDB
    /// connection concurrently during init, so the first request finds a live TLS connection
    /// ([`crate::state::AppState::for_lambda`]). `false` leaves the connection to the first
    /// request, as a naive function does (`make bench` measures both).
    pub init_warmup: bool,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub jwt_algorithm: JwtAlgorithm,
    pub keys: KeySource,
    pub access_ttl: Duration,
    pub refresh_idle: Duration,
    pub session_max: Duration,
    pub refresh_reuse_grace: Duration,
    pub guest_idle: Duration,
    pub rate_limits_enabled: bool,
    pub rate_limits: RateLimits,
    pub app_base_url: String,
    pub mail_sender: MailSender,
    pub mail_from: Option<String>,
    pub mail_outbox_dir: PathBuf,
    pub cors_allowed_origins: Vec<String>,
    /// `API_PROFILES`: the client profiles served besides (or over) the native routes.
    pub profiles: Profiles,
    /// `PROFILE_<NAME>_<SETTING>`: each profile's lifetimes, rotation and limits.
    pub profile_settings: ProfileSettings,
    /// `SELF_ASSIGNABLE_ROLES`: roles a profile that lets clients pick one may accept.
    pub self_assignable_roles: Vec<String>,
    /// `TIERS`: the tiers the back office may give a user (`free` always among them).
    pub tiers: Vec<String>,
    /// `ROLES`: the roles the back office may give a user (`reader` and every self-assignable
    /// role always among them).
    pub roles: Vec<String>,
    /// `PROFILE_ROUTES_REQUIRE_API_KEY`: whether profile routes need `x-api-key` too (the
    /// local server's copy of the stack parameter `ProfileRoutesRequireApiKey`).
    pub profile_routes_require_api_key: bool,
    /// `AUTHORIZER_OPTIONAL_ROUTES`: the routes (`METHOD /resource`, comma list) of an app's API
    /// on which the Lambda authorizer lets a caller without an `Authorization` header through
    /// as anonymous.
    pub authorizer_optional_routes: Vec<(String, String)>,
    /// `LOGIN_FAILURE_FLOOR_MS`: a failed login answers no sooner than this after it began.
    pub login_failure_floor: Duration,
    /// `SOCIAL_<PROVIDER>_*`: the providers users may sign in with (those with client ids).
    pub social_providers: Vec<ProviderConfig>,
}

/// Reads typed settings from a lookup, naming the variable in every error.
struct Reader<F>(F);

impl<F: Fn(&str) -> Option<String>> Reader<F> {
    fn count_or_zero(&self, name: &'static str, default: u32) -> Result<u32, ConfigError> {
        self.whole(name, default, true, "expected a whole number")
    }

    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn whole<T: std::str::FromStr + PartialOrd + Default>(
        &self,
        name: &'static str,
        default: T,
        zero_ok: bool,
        expected: &str,
    ) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => {
                raw.parse::<T>().ok().filter(|n| zero_ok || *n > T::default()).ok_or_else(|| invalid(name, expected))
            }
        }
    }
}

impl<F: Fn(&str) -> Option<String>> SettingReader for Reader<F> {
    type Error = ConfigError;

    fn seconds(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.whole(name, default, false, "expected a whole number of seconds greater than 0").map(Duration::from_secs)
    }

    fn seconds_or_zero(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.whole(name, default, true, "expected a whole number of seconds").map(Duration::from_secs)
    }

    fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).as_deref() {
            None => Ok(default),
            Some("true") | Some("1") => Ok(true),
            Some("false") | Some("0") => Ok(false),
            Some(_) => Err(invalid(name, "expected true or false")),
        }
    }

    fn count(&self, name: &'static str, default: u32) -> Result<u32, ConfigError> {
        self.whole(name, default, false, "expected a whole number greater than 0")
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests can pass their own values.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let read = Reader(lookup);
        let get = |name: &str| read.get(name);
        let seconds = |name: &'static str, default: u64| read.seconds(name, default);

        let jwt_algorithm = match get("JWT_ALGORITHM").as_deref() {
            None | Some("ES256") => JwtAlgorithm::Es256,
            Some("HS256") => JwtAlgorithm::Hs256,
            Some(_) => return Err(invalid("JWT_ALGORITHM", "expected ES256 or HS256")),
        };
        // The first one set wins: the secret in AWS, a document or a file locally.
        let keys =
            match (get("JWT_KEYS_SECRET_ARN"), get("JWT_KEYS"), get("JWT_KEYS_FILE")) {
                (Some(arn), _, _) if is_secret_arn(&arn) => KeySource::SecretsManager(arn),
                (Some(_), _, _) => {
                    return Err(invalid(
                        "JWT_KEYS_SECRET_ARN",
                        "expected a Secrets Manager secret ARN (arn:…:secretsmanager:…)",
                    ))
                }
                (None, Some(inline), _) => KeySource::Inline(inline),
                (None, None, Some(path)) => KeySource::File(PathBuf::from(path)),
                (None, None, None) => return Err(invalid(
                    "JWT_KEYS_SECRET_ARN",
                    "set JWT_KEYS_SECRET_ARN (a Secrets Manager secret), JWT_KEYS (a key document) or JWT_KEYS_FILE",
                )),
            };
        let rate_limits_enabled = read.flag("RATE_LIMITS_ENABLED", true)?;
        let mail_sender = match get("MAIL_SENDER").as_deref() {
            None | Some("outbox") => MailSender::Outbox,
            Some("ses") => MailSender::Ses,
            Some(_) => return Err(invalid("MAIL_SENDER", "expected ses or outbox")),
        };
        let mail_from = get("MAIL_FROM");
        if mail_sender == MailSender::Ses && mail_from.is_none() {
            return Err(invalid("MAIL_FROM", "required when MAIL_SENDER=ses"));
        }
        let app_base_url = get("APP_BASE_URL").unwrap_or_else(|| "http://localhost:5173".to_owned());
        if !(app_base_url.starts_with("https://") || app_base_url.starts_with("http://")) {
            return Err(invalid("APP_BASE_URL", "expected an http(s) URL"));
        }

        let count = |name: &'static str, default: u32| read.count(name, default);
        let rate_limits = RateLimits {
            per_minute: PerScope::try_from_fn(|scope| count(scope.variable(), scope.default_per_minute()))?,
            lockout_after: count("LOGIN_LOCKOUT_THRESHOLD", 5)?,
            lockout_base: seconds("LOGIN_LOCKOUT_BASE_SECONDS", 30)?,
            lockout_max: seconds("LOGIN_LOCKOUT_MAX_SECONDS", 900)?,
            disable_after: count("LOGIN_DISABLE_THRESHOLD", 100)?,
        };

        let access_ttl = seconds("ACCESS_TOKEN_TTL_SECONDS", 900)?;
        let native = SessionPolicy { access_ttl, rotate_refresh: true, token_exchange: None };
        let profile_settings = ProfileSettings::read(native, &read)?;
        let config = Config {
            table_name: get("TABLE_NAME").ok_or_else(|| invalid("TABLE_NAME", "required"))?,
            dynamodb_endpoint: get("DYNAMODB_ENDPOINT"),
            aws_region: get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION")),
            endpoints: ServiceEndpoints {
                dynamodb: endpoint_url(get("AWS_ENDPOINT_URL_DYNAMODB"), "AWS_ENDPOINT_URL_DYNAMODB")?,
                secrets_manager: endpoint_url(
                    get("AWS_ENDPOINT_URL_SECRETS_MANAGER"),
                    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                )?,
            },
            init_warmup: read.flag("INIT_WARMUP", true)?,
            jwt_issuer: get("JWT_ISSUER").unwrap_or_else(|| "bookshelf-auth".to_owned()),
            jwt_audience: get("JWT_AUDIENCE").unwrap_or_else(|| "bookshelf-apps".to_owned()),
            jwt_algorithm,
            keys,
            access_ttl,
            refresh_idle: seconds("REFRESH_TOKEN_IDLE_SECONDS", 604_800)?,
            session_max: seconds("SESSION_MAX_SECONDS", 2_592_000)?,
            // 0 is allowed here: it switches the grace window off.
            refresh_reuse_grace: read.seconds_or_zero("REFRESH_REUSE_GRACE_SECONDS", 10)?,
            guest_idle: seconds("GUEST_IDLE_SECONDS", 2_592_000)?,
            rate_limits_enabled,
            rate_limits,
            app_base_url: app_base_url.trim_end_matches('/').to_owned(),
            mail_sender,
            mail_from,
            mail_outbox_dir: PathBuf::from(get("MAIL_OUTBOX_DIR").unwrap_or_else(|| ".local/outbox".to_owned())),
            cors_allowed_origins: get("CORS_ALLOWED_ORIGINS")
                .map(|raw| raw.split(',').map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect())
                .unwrap_or_default(),
            profiles: Profiles::parse(&get("API_PROFILES").unwrap_or_default())
                .map_err(|reason| invalid("API_PROFILES", &reason))?,
            profile_settings,
            self_assignable_roles: list(get("SELF_ASSIGNABLE_ROLES"), crate::domain::DEFAULT_ROLE),
            tiers: list(get("TIERS"), DEFAULT_TIERS),
            roles: list(get("ROLES"), DEFAULT_ROLES),
            profile_routes_require_api_key: read.flag("PROFILE_ROUTES_REQUIRE_API_KEY", false)?,
            social_providers: social_providers(get)?,
            login_failure_floor: Duration::from_millis(u64::from(read.count_or_zero("LOGIN_FAILURE_FLOOR_MS", 1_500)?)),
            authorizer_optional_routes: match get("AUTHORIZER_OPTIONAL_ROUTES") {
                None => Vec::new(),
                Some(raw) => raw
                    .split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(|route| match route.split_once(' ') {
                        Some((method, resource)) if resource.trim().starts_with('/') => {
                            Ok((method.to_ascii_uppercase(), resource.trim().to_owned()))
                        }
                        _ => Err(invalid("AUTHORIZER_OPTIONAL_ROUTES", "expected a comma list of `METHOD /resource`")),
                    })
                    .collect::<Result<_, _>>()?,
            },
        };
        if !config.tiers.iter().any(|t| t == crate::domain::DEFAULT_TIER) {
            return Err(invalid("TIERS", "must include free, the tier of every new account"));
        }
        if let Some(role) = std::iter::once(crate::domain::DEFAULT_ROLE)
            .chain(config.self_assignable_roles.iter().map(String::as_str))
            .find(|role| !config.roles.iter().any(|r| r == role))
        {
            return Err(invalid("ROLES", &format!("must include {role} (the default or a self-assignable role)")));
        }
        if config.dynamodb_endpoint.is_none() && config.aws_region.is_none() {
            return Err(invalid("AWS_REGION", "required outside Lambda unless DYNAMODB_ENDPOINT is set"));
        }
        Ok(config)
    }
}

/// The social sign-in providers that are enabled: those with client ids.
fn social_providers(get: impl Fn(&str) -> Option<String>) -> Result<Vec<ProviderConfig>, ConfigError> {
    // Their variables are named at run time; an error names one once per start-up.
    let name = |provider: Provider, setting: &str| -> &'static str { Box::leak(provider.variable(setting).into()) };
    let mut enabled = Vec::new();
    for provider in Provider::ALL {
        let client_ids = list(get(&provider.variable("CLIENT_IDS")), "");
        if client_ids.is_empty() {
            continue;
        }
        let (issuers, jwks_url, require_nonce) = provider.defaults();
        let jwks_url = get(&provider.variable("JWKS_URL")).unwrap_or_else(|| jwks_url.to_owned());
        if !crate::social::is_allowed_url(&jwks_url) {
            return Err(invalid(
                name(provider, "JWKS_URL"),
                "expected an https:// URL (http:// only on a loopback host)",
            ));
        }
        let require_nonce = match get(&provider.variable("REQUIRE_NONCE")).as_deref() {
            None => require_nonce,
            Some("true" | "1") => true,
            Some("false" | "0") => false,
            Some(_) => return Err(invalid(name(provider, "REQUIRE_NONCE"), "expected true or false")),
        };
        let issuers = list(get(&provider.variable("ISSUER")), issuers);
        enabled.push(ProviderConfig { provider, client_ids, issuers, jwks_url, require_nonce });
    }
    Ok(enabled)
}

/// The back office's tiers by default: BookWish's.
pub const DEFAULT_TIERS: &str = "free,premium,bookstore,admin";
/// The back office's roles by default: readers, and the staff and admins Book Corners shows as
/// `is_staff`.
pub const DEFAULT_ROLES: &str = "reader,staff,admin";

/// A comma list, `default` when unset.
fn list(value: Option<String>, default: &str) -> Vec<String> {
    value
        .as_deref()
        .unwrap_or(default)
        .split(',')
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

/// An endpoint override as the SDK takes it: an absolute http(s) URL without a trailing slash.
fn endpoint_url(value: Option<String>, name: &'static str) -> Result<Option<String>, ConfigError> {
    match value {
        None => Ok(None),
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
            Ok(Some(url.trim_end_matches('/').to_owned()))
        }
        Some(_) => Err(invalid(name, "expected an http(s) URL")),
    }
}

fn is_secret_arn(value: &str) -> bool {
    let parts: Vec<&str> = value.split(':').collect();
    parts.len() >= 7 && parts[0] == "arn" && parts[2] == "secretsmanager" && parts[5] == "secret"
}

fn invalid(name: &'static str, reason: &str) -> ConfigError {
    ConfigError { name, reason: reason.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    const BASE: &[(&str, &str)] = &[("TABLE_NAME", "t"), ("JWT_KEYS_FILE", "/tmp/k.json"), ("AWS_REGION", "eu-west-1")];

    #[test]
    fn defaults_follow_the_contract() {
        let c = config(BASE).expect("valid");
        assert_eq!(c.access_ttl, Duration::from_secs(900));
        assert_eq!(c.refresh_idle, Duration::from_secs(604_800));
        assert_eq!(c.session_max, Duration::from_secs(2_592_000));
        assert_eq!(c.refresh_reuse_grace, Duration::from_secs(10));
        assert_eq!(c.jwt_algorithm, JwtAlgorithm::Es256);
        assert!(c.rate_limits_enabled);
        assert_eq!(c.mail_sender, MailSender::Outbox);
    }

    #[test]
    fn an_invalid_value_names_its_variable() {
        let mut pairs = BASE.to_vec();
        pairs.push(("ACCESS_TOKEN_TTL_SECONDS", "soon"));
        assert_eq!(config(&pairs).expect_err("invalid").name, "ACCESS_TOKEN_TTL_SECONDS");
        assert_eq!(config(&[("JWT_KEYS", "{}")]).expect_err("missing").name, "TABLE_NAME");
        let mut pairs = BASE.to_vec();
        pairs.push(("JWT_ALGORITHM", "none"));
        assert_eq!(config(&pairs).expect_err("alg").name, "JWT_ALGORITHM");
    }

    #[test]
    fn a_social_provider_is_enabled_by_its_client_ids_with_the_real_providers_defaults() {
        assert!(config(BASE).expect("valid").social_providers.is_empty());
        let mut pairs = BASE.to_vec();
        pairs.push(("SOCIAL_APPLE_CLIENT_IDS", "com.example.bookwish, com.example.bookwish.web"));
        let providers = config(&pairs).expect("valid").social_providers;
        assert_eq!(providers.len(), 1);
        let apple = &providers[0];
        assert_eq!(apple.client_ids, ["com.example.bookwish", "com.example.bookwish.web"]);
        assert_eq!((apple.issuers.clone(), apple.require_nonce), (vec!["https://appleid.apple.com".to_owned()], true));
        assert_eq!(apple.jwks_url, "https://appleid.apple.com/auth/keys");

        pairs.push(("SOCIAL_GOOGLE_CLIENT_IDS", "id"));
        pairs.push(("SOCIAL_GOOGLE_JWKS_URL", "http://keys.example.com"));
        assert_eq!(config(&pairs).expect_err("plain http").name, "SOCIAL_GOOGLE_JWKS_URL");
        pairs.pop();
        pairs.push(("SOCIAL_GOOGLE_REQUIRE_NONCE", "sometimes"));
        assert_eq!(config(&pairs).expect_err("flag").name, "SOCIAL_GOOGLE_REQUIRE_NONCE");
    }

    #[test]
    fn the_back_offices_sets_must_hold_what_new_accounts_get() {
        let mut pairs = BASE.to_vec();
        pairs.push(("TIERS", "premium,gold"));
        assert_eq!(config(&pairs).expect_err("no free").name, "TIERS");
        let mut pairs = BASE.to_vec();
        pairs.push(("SELF_ASSIGNABLE_ROLES", "reader,author"));
        assert_eq!(config(&pairs).expect_err("author not a role").name, "ROLES");
        pairs.push(("ROLES", "reader,author"));
        assert_eq!(config(&pairs).expect("valid").roles, ["reader", "author"]);
    }

    #[test]
    fn a_deployed_function_needs_its_region() {
        let pairs = [("TABLE_NAME", "t"), ("JWT_KEYS_FILE", "/tmp/k.json")];
        assert_eq!(config(&pairs).expect_err("no region").name, "AWS_REGION");
        let local =
            [("TABLE_NAME", "t"), ("JWT_KEYS_FILE", "/tmp/k.json"), ("DYNAMODB_ENDPOINT", "http://127.0.0.1:8000")];
        assert_eq!(config(&local).expect("local").aws_region, None);
    }

    #[test]
    fn endpoint_overrides_take_the_sdks_names_and_keep_the_deployed_path() {
        let c = config(BASE).expect("valid");
        assert_eq!(c.endpoints, ServiceEndpoints::default());
        assert!(c.init_warmup, "warm-up is on unless switched off");
        let mut pairs = BASE.to_vec();
        pairs.push(("AWS_ENDPOINT_URL_DYNAMODB", "https://localhost:8443/"));
        pairs.push(("AWS_ENDPOINT_URL_SECRETS_MANAGER", "https://127.0.0.1:9443"));
        pairs.push(("INIT_WARMUP", "false"));
        let c = config(&pairs).expect("valid");
        assert_eq!(c.endpoints.dynamodb.as_deref(), Some("https://localhost:8443"));
        assert_eq!(c.endpoints.secrets_manager.as_deref(), Some("https://127.0.0.1:9443"));
        assert_eq!(c.dynamodb_endpoint, None, "not the DynamoDB Local path");
        assert!(!c.init_warmup);
        // The deployed path still needs its region.
        let no_region = [("TABLE_NAME", "t"), ("JWT_KEYS_FILE", "/k"), ("AWS_ENDPOINT_URL_DYNAMODB", "https://x")];
        assert_eq!(config(&no_region).expect_err("no region").name, "AWS_REGION");
    }

    #[test]
    fn an_endpoint_override_that_is_not_a_url_names_its_variable() {
        for name in ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SECRETS_MANAGER"] {
            let mut pairs = BASE.to_vec();
            pairs.push((name, "localhost:8443"));
            assert_eq!(config(&pairs).expect_err("no scheme").name, name);
        }
        let mut pairs = BASE.to_vec();
        pairs.push(("INIT_WARMUP", "maybe"));
        assert_eq!(config(&pairs).expect_err("flag").name, "INIT_WARMUP");
    }

    #[test]
    fn the_secret_arn_wins_over_local_key_sources() {
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bookshelf-keys-AbCdEf";
        let mut pairs = BASE.to_vec();
        pairs.push(("JWT_KEYS", "{}"));
        pairs.push(("JWT_KEYS_SECRET_ARN", arn));
        let c = config(&pairs).expect("valid");
        assert_eq!(c.keys, KeySource::SecretsManager(arn.to_owned()));
        assert_eq!(c.keys.variable(), "JWT_KEYS_SECRET_ARN");
    }

    #[test]
    fn a_secret_arn_that_is_not_one_names_its_variable() {
        let mut pairs = BASE.to_vec();
        pairs.push(("JWT_KEYS_SECRET_ARN", "bookshelf-keys"));
        assert_eq!(config(&pairs).expect_err("not an arn").name, "JWT_KEYS_SECRET_ARN");
        let missing = config(&[("TABLE_NAME", "t")]).expect_err("no keys");
        assert_eq!(missing.name, "JWT_KEYS_SECRET_ARN");
        assert!(missing.reason.contains("JWT_KEYS_FILE"), "{}", missing.reason);
    }

    #[test]
    fn an_unknown_profile_names_api_profiles() {
        let mut pairs = BASE.to_vec();
        pairs.push(("API_PROFILES", "bookshelf,bookworm"));
        let error = config(&pairs).expect_err("unknown profile");
        assert_eq!(error.name, "API_PROFILES");
        assert!(error.reason.contains("bookworm"), "{}", error.reason);
    }

    #[test]
    fn profile_settings_default_to_profiles_md_and_are_read_per_profile() {
        use crate::profile::Profile;
        let c = config(BASE).expect("valid");
        let policy = |p| c.profile_settings.policy(p);
        assert_eq!(policy(Profile::SessionApi).access_ttl, Duration::from_secs(43_200));
        assert!(!policy(Profile::BookCorners).rotate_refresh && !policy(Profile::Simplejwt).rotate_refresh);
        assert!(policy(Profile::Bookwish).rotate_refresh);
        let exchange = policy(Profile::UniversalBookshelf).token_exchange.expect("exchange");
        assert_eq!((exchange.window, exchange.grace), (Duration::from_secs(1_209_600), Duration::ZERO));
        let mut pairs = BASE.to_vec();
        pairs.push(("PROFILE_SIMPLEJWT_ROTATE_REFRESH", "true"));
        pairs.push(("PROFILE_SESSION_API_TOKEN_TTL_SECONDS", "60"));
        let c = config(&pairs).expect("valid");
        assert!(c.profile_settings.policy(Profile::Simplejwt).rotate_refresh);
        assert_eq!(c.profile_settings.policy(Profile::SessionApi).access_ttl, Duration::from_secs(60));
        pairs.push(("PROFILE_BOOK_CORNERS_ROTATE_REFRESH", "sometimes"));
        assert_eq!(config(&pairs).expect_err("flag").name, "PROFILE_BOOK_CORNERS_ROTATE_REFRESH");
    }

    #[test]
    fn ses_needs_a_sender_address() {
        let mut pairs = BASE.to_vec();
        pairs.push(("MAIL_SENDER", "ses"));
        assert_eq!(config(&pairs).expect_err("no from").name, "MAIL_FROM");
    }
}
