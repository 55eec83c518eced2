//! Token attacks: forged, tampered, confused and misplaced tokens. Every bearer route and
//! `/verify` answers 401 problem+json (never 500, never 200) to each named case.
//!
//! Forgeries that need a valid signature are signed with the service's real ES256 key, so a
//! case passes only because the rule it names is enforced, not because the signature failed.

use std::sync::Arc;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use base64::Engine;
use bookshelf::config::JwtAlgorithm;
use bookshelf::edge::dispatch;
use bookshelf::routes;
use bookshelf::signing_keys::{KeyDocument, KeyEntry, KeySet, SigningKey};
use bookshelf_tests::{
    http, jwt_claims, key_document, request, serve_http, strong_password, unique, Account, Reply, TestApp,
};
use http::Method;
use serde_json::{json, Value};

/// Signs tokens the way an attacker (or, for control cases, the service itself) would.
pub(crate) struct Forger {
    kid: String,
    pair: EcdsaKeyPair,
    public_point: Vec<u8>,
    hs256_kid: String,
    hs256_secret: Vec<u8>,
}

impl Forger {
    pub(crate) fn new() -> Self {
        let doc = key_document();
        let set = KeySet::parse(&doc, JwtAlgorithm::Es256).unwrap();
        let SigningKey::Es256 { kid, pkcs8, public_point } = &set.keys[0] else { panic!("no ES256 key") };
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8).unwrap();
        let parsed: KeyDocument = serde_json::from_str(&doc).unwrap();
        let (hs256_kid, secret) = parsed
            .keys
            .iter()
            .find_map(|k| match k {
                KeyEntry::Hs256 { kid, secret } => Some((kid.clone(), secret.clone())),
                KeyEntry::Es256 { .. } => None,
            })
            .unwrap();
        Forger {
            kid: kid.clone(),
            pair,
            public_point: public_point.clone(),
            hs256_kid,
            hs256_secret: B64.decode(secret).unwrap(),
        }
    }

    /// `header.payload` from raw JSON text (so duplicate keys and odd types survive).
    fn input(header: &str, payload: &str) -> String {
        format!("{}.{}", B64.encode(header), B64.encode(payload))
    }

    fn es256_raw(&self, header: &str, payload: &str) -> String {
        let input = Self::input(header, payload);
        let sig = self.pair.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", B64.encode(sig.as_ref()))
    }

    pub(crate) fn es256(&self, header: &Value, claims: &Value) -> String {
        self.es256_raw(&header.to_string(), &claims.to_string())
    }

    fn hs256(key: &[u8], header: &Value, claims: &Value) -> String {
        let input = Self::input(&header.to_string(), &claims.to_string());
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), input.as_bytes());
        format!("{input}.{}", B64.encode(tag.as_ref()))
    }

    pub(crate) fn unsigned(header: &Value, claims: &Value, signature: &str) -> String {
        format!("{}.{signature}", Self::input(&header.to_string(), &claims.to_string()))
    }

    pub(crate) fn header(&self) -> Value {
        json!({"alg": "ES256", "typ": "at+jwt", "kid": self.kid})
    }
}

pub(crate) fn with(value: &Value, key: &str, new: Value) -> Value {
    let mut out = value.clone();
    out[key] = new;
    out
}

fn without(value: &Value, key: &str) -> Value {
    let mut out = value.clone();
    out.as_object_mut().unwrap().remove(key);
    out
}

/// The SubjectPublicKeyInfo DER prefix of every P-256 public key.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

fn public_key_pem(point: &[u8]) -> String {
    let der = [&P256_SPKI_PREFIX[..], point].concat();
    format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", STANDARD.encode(der))
}

struct Case {
    name: &'static str,
    token: String,
    code: &'static str,
    /// Genuinely signed, refused only by the session check: `/logout` answers 204 to these,
    /// because ending a session that does not exist (in the signer's own partition) is
    /// harmless and the contract makes logout idempotent.
    logout_is_harmless: bool,
}

fn case(name: &'static str, token: String) -> Case {
    Case { name, token, code: "invalid_token", logout_is_harmless: false }
}

/// Every attack, named after the rule it breaks.
fn cases(
    forger: &Forger,
    victim: &Account,
    other: &Account,
    jwks: &Value,
    one_time: &[(&'static str, String)],
) -> Vec<Case> {
    let real = &victim.access_token;
    let header = forger.header();
    let claims = jwt_claims(real);
    let now = claims["iat"].as_i64().unwrap();
    let [h, p, s]: [&str; 3] = real.split('.').collect::<Vec<_>>().try_into().unwrap();
    let attacker = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let attacker_point = attacker.public_key().as_ref().to_vec();
    let attacker_jwk = json!({
        "kty": "EC", "crv": "P-256", "kid": "attacker",
        "x": B64.encode(&attacker_point[1..33]), "y": B64.encode(&attacker_point[33..]),
    });
    let signed_by_attacker = |header: &Value, claims: &Value| {
        let input = Forger::input(&header.to_string(), &claims.to_string());
        let sig = attacker.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", B64.encode(sig.as_ref()))
    };
    let published = jwks["keys"][0].clone();
    let admin = with(&claims, "role", json!("admin"));
    let hs_header = with(&header, "alg", json!("HS256"));

    let mut cases = vec![
        // alg: none, in every spelling.
        case("alg_none_without_signature", Forger::unsigned(&with(&header, "alg", json!("none")), &admin, "")),
        case("alg_none_uppercase", Forger::unsigned(&with(&header, "alg", json!("NONE")), &admin, "")),
        case("alg_none_mixed_case", Forger::unsigned(&with(&header, "alg", json!("None")), &admin, "")),
        case(
            "alg_none_with_the_original_signature",
            Forger::unsigned(&with(&header, "alg", json!("none")), &claims, s),
        ),
        case("alg_none_without_kid_or_typ", Forger::unsigned(&json!({"alg": "none"}), &admin, "")),
        // Algorithm confusion: HS256 keyed with what the JWKS publishes.
        case(
            "hs256_signed_with_the_published_jwk_json",
            Forger::hs256(published.to_string().as_bytes(), &hs_header, &admin),
        ),
        case("hs256_signed_with_the_raw_public_point", Forger::hs256(&forger.public_point, &hs_header, &admin)),
        case(
            "hs256_signed_with_the_public_key_pem",
            Forger::hs256(public_key_pem(&forger.public_point).as_bytes(), &hs_header, &admin),
        ),
        case(
            "hs256_signed_with_the_published_x_coordinate",
            Forger::hs256(published["x"].as_str().unwrap().as_bytes(), &hs_header, &admin),
        ),
        // The deployment's own HS256 secret exists in the key document but is not the pinned algorithm.
        case(
            "hs256_signed_with_the_unused_hs256_secret",
            Forger::hs256(
                &forger.hs256_secret,
                &json!({"alg": "HS256", "typ": "at+jwt", "kid": forger.hs256_kid}),
                &claims,
            ),
        ),
        case("alg_es384_header_on_an_es256_signature", forger.es256(&with(&header, "alg", json!("ES384")), &claims)),
        case("alg_rs256_header_on_an_es256_signature", forger.es256(&with(&header, "alg", json!("RS256")), &claims)),
        case("alg_ps256_header_on_an_es256_signature", forger.es256(&with(&header, "alg", json!("PS256")), &claims)),
        case("alg_eddsa_header_on_an_es256_signature", forger.es256(&with(&header, "alg", json!("EdDSA")), &claims)),
        // Tampering with a genuine token.
        case("payload_tampered_to_role_admin", format!("{h}.{}.{s}", B64.encode(admin.to_string()))),
        case(
            "payload_tampered_to_another_user",
            format!("{h}.{}.{s}", B64.encode(with(&claims, "sub", json!(other.id)).to_string())),
        ),
        case(
            "payload_tampered_to_a_later_exp",
            format!("{h}.{}.{s}", B64.encode(with(&claims, "exp", json!(now + 86_400)).to_string())),
        ),
        case(
            "header_tampered_to_another_kid",
            format!("{}.{p}.{s}", B64.encode(with(&header, "kid", json!("other")).to_string())),
        ),
        case("signature_truncated", format!("{h}.{p}.{}", &s[..s.len() - 8])),
        case("signature_empty", format!("{h}.{p}.")),
        case("signature_segment_missing", format!("{h}.{p}")),
        case("signature_of_another_token", format!("{h}.{p}.{}", other.access_token.rsplit('.').next().unwrap())),
        case("signature_in_standard_base64", format!("{h}.{p}.{}", STANDARD.encode(B64.decode(s).unwrap()))),
        case("signature_flipped_bit", {
            let mut sig = B64.decode(s).unwrap();
            sig[10] ^= 1;
            format!("{h}.{p}.{}", B64.encode(sig))
        }),
        case("extra_fourth_segment", format!("{real}.{s}")),
        case("jwe_shaped_five_segments", format!("{h}.{p}.{s}.{p}.{s}")),
        // Headers that carry key material or point at it, signed with the real key.
        case(
            "jku_header_pointing_at_an_attacker_jwks",
            forger.es256(&with(&header, "jku", json!("https://evil.example/jwks.json")), &claims),
        ),
        case(
            "x5u_header_pointing_at_an_attacker_certificate",
            forger.es256(&with(&header, "x5u", json!("https://evil.example/cert.pem")), &claims),
        ),
        case(
            "x5c_header_with_a_certificate_chain",
            forger.es256(&with(&header, "x5c", json!([STANDARD.encode(b"not-a-cert")])), &claims),
        ),
        case("crit_header_with_an_unknown_extension", forger.es256(&with(&header, "crit", json!(["exp"])), &claims)),
        case(
            "jwk_header_embedding_the_real_public_key",
            forger.es256(&with(&header, "jwk", published.clone()), &claims),
        ),
        case(
            "jwk_header_embedding_an_attacker_key_signed_by_it",
            signed_by_attacker(
                &json!({"alg": "ES256", "typ": "at+jwt", "kid": "attacker", "jwk": attacker_jwk}),
                &admin,
            ),
        ),
        case(
            "unknown_kid_signed_by_an_attacker_key",
            signed_by_attacker(&with(&header, "kid", json!("attacker")), &admin),
        ),
        case("real_kid_signed_by_an_attacker_key", signed_by_attacker(&header, &admin)),
        // `kid` as an injection vector.
        case("kid_path_traversal", forger.es256(&with(&header, "kid", json!("../../../../../../dev/null")), &claims)),
        case(
            "kid_path_traversal_to_the_key_file",
            forger.es256(&with(&header, "kid", json!("../.local/jwt-keys.json")), &claims),
        ),
        case("kid_sql_injection", forger.es256(&with(&header, "kid", json!("' OR '1'='1' --")), &claims)),
        case("kid_command_injection", forger.es256(&with(&header, "kid", json!("x|cat /etc/passwd")), &claims)),
        case("kid_with_nul_byte", forger.es256(&with(&header, "kid", json!(format!("{}\u{0}", forger.kid))), &claims)),
        case(
            "kid_with_the_real_kid_as_prefix",
            forger.es256(&with(&header, "kid", json!(format!("{}x", forger.kid))), &claims),
        ),
        case(
            "kid_of_3_kib_under_the_length_cap",
            forger.es256(&with(&header, "kid", json!("k".repeat(3 * 1024))), &claims),
        ),
        case("kid_of_8_kib", forger.es256(&with(&header, "kid", json!("k".repeat(8 * 1024))), &claims)),
        case("kid_missing", forger.es256(&without(&header, "kid"), &claims)),
        case("kid_null", forger.es256(&with(&header, "kid", Value::Null), &claims)),
        case("kid_a_number", forger.es256(&with(&header, "kid", json!(1)), &claims)),
        case("kid_an_object", forger.es256(&with(&header, "kid", json!({"kid": forger.kid})), &claims)),
        // Time claims of the wrong type, missing, or in the future.
        case("exp_as_a_string", forger.es256(&header, &with(&claims, "exp", json!((now + 900).to_string())))),
        case("nbf_as_a_string", forger.es256(&header, &with(&claims, "nbf", json!(now.to_string())))),
        case("exp_as_a_float", forger.es256(&header, &with(&claims, "exp", json!((now + 900) as f64 + 0.5)))),
        case("exp_null", forger.es256(&header, &with(&claims, "exp", Value::Null))),
        case("exp_missing", forger.es256(&header, &without(&claims, "exp"))),
        case("nbf_missing", forger.es256(&header, &without(&claims, "nbf"))),
        case("nbf_an_hour_ahead", forger.es256(&header, &with(&claims, "nbf", json!(now + 3600)))),
        // Issuer, audience and claim shapes.
        case("iss_of_another_issuer", forger.es256(&header, &with(&claims, "iss", json!("https://evil.example")))),
        case("iss_missing", forger.es256(&header, &without(&claims, "iss"))),
        case("aud_of_another_audience", forger.es256(&header, &with(&claims, "aud", json!("another-app")))),
        case("aud_array_without_ours", forger.es256(&header, &with(&claims, "aud", json!(["another-app"])))),
        case("aud_missing", forger.es256(&header, &without(&claims, "aud"))),
        case("sub_missing", forger.es256(&header, &without(&claims, "sub"))),
        case("sub_not_a_uuid", forger.es256(&header, &with(&claims, "sub", json!("admin")))),
        case("sid_missing", forger.es256(&header, &without(&claims, "sid"))),
        case("sid_not_a_uuid", forger.es256(&header, &with(&claims, "sid", json!("*")))),
        Case {
            logout_is_harmless: true,
            ..case(
                "sid_of_another_users_session",
                forger.es256(&header, &with(&claims, "sid", jwt_claims(&other.access_token)["sid"].clone())),
            )
        },
        case(
            "duplicate_sub_claim_naming_another_user_last",
            forger.es256_raw(&header.to_string(), &{
                let text = claims.to_string();
                format!("{},\"sub\":\"{}\"}}", &text[..text.len() - 1], other.id)
            }),
        ),
        case("payload_a_json_array", forger.es256_raw(&header.to_string(), "[]")),
        case("payload_not_json", forger.es256_raw(&header.to_string(), "sub=admin")),
        case("header_not_json", format!("{}.{p}.{s}", B64.encode("alg=none"))),
        // `typ` confusion.
        case("typ_jwt_instead_of_at_jwt", forger.es256(&with(&header, "typ", json!("JWT")), &claims)),
        case("typ_uppercase", forger.es256(&with(&header, "typ", json!("AT+JWT")), &claims)),
        case("typ_of_a_refresh_token", forger.es256(&with(&header, "typ", json!("refresh+jwt")), &claims)),
        case("typ_missing", forger.es256(&without(&header, "typ"), &claims)),
        case("refresh_token_as_bearer", victim.refresh_token.clone()),
        // Garbage.
        case("empty_token", String::new()),
        case("not_base64", "!!!.???.***".into()),
        // 12 KiB: past the token cap, still under the 16 KiB body limit of `/verify`.
        case("token_of_12_kib", format!("{h}.{}.{s}", "A".repeat(12 * 1024))),
        case("non_ascii_token", "ëÿJ.ëÿJ.ëÿJ".into()),
        case("only_dots", "..".into()),
    ];
    for (name, token) in one_time {
        cases.push(case(name, token.clone()));
    }
    // A genuine token past exp and the leeway is the one case answered `token_expired`.
    let expired =
        with(&with(&with(&claims, "iat", json!(now - 3600)), "nbf", json!(now - 3600)), "exp", json!(now - 60));
    cases.push(Case { code: "token_expired", ..case("genuine_token_past_exp", forger.es256(&header, &expired)) });
    cases
}

/// A request to each bearer route (with a body good enough that only the token can fail it),
/// and `/verify` with the token in its body.
fn requests_with(token: &str, victim: &Account) -> Vec<(String, bookshelf::web::request::ApiRequest)> {
    let sid = jwt_claims(&victim.access_token)["sid"].as_str().unwrap().to_owned();
    let password = victim.password.clone();
    let bearer = |method: Method, path: &str, body: Option<Value>| {
        (format!("{method} {path}"), request(method, path, Some(token), body))
    };
    let mut all = vec![
        bearer(Method::POST, "/api/v1/auth/logout", Some(json!({}))),
        bearer(Method::GET, "/api/v1/auth/me", None),
        bearer(Method::PATCH, "/api/v1/auth/me", Some(json!({"display_name": "Mallory"}))),
        bearer(Method::DELETE, "/api/v1/auth/me", Some(json!({"password": password}))),
        bearer(
            Method::POST,
            "/api/v1/auth/password",
            Some(json!({"current_password": password, "new_password": strong_password()})),
        ),
        bearer(Method::GET, "/api/v1/auth/sessions", None),
        bearer(Method::DELETE, &format!("/api/v1/auth/sessions/{sid}"), None),
        bearer(
            Method::POST,
            "/api/v1/auth/guest/upgrade",
            Some(json!({"email": format!("{}@example.com", unique("up_")), "password": strong_password()})),
        ),
        bearer(Method::POST, "/api/v1/auth/email/verification", Some(json!({}))),
    ];
    all.push((
        "POST /api/v1/auth/verify".into(),
        request(Method::POST, "/api/v1/auth/verify", None, Some(json!({"token": token}))),
    ));
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_forged_tampered_or_confused_token_is_401_problem_json_on_every_bearer_route_and_verify() {
    let app = TestApp::with_env(&[("RATE_LIMITS_ENABLED", "false"), ("MAIL_SENDER", "outbox")]).await;
    let forger = Forger::new();
    let victim = app.register().await;
    let other = app.register().await;
    let jwks = app.call(Method::GET, "/.well-known/jwks.json", None, None).await.body;
    assert_eq!(jwks["keys"][0]["kid"], forger.kid.as_str(), "the forger holds the service's key");

    // Control: a token the forger re-signs unchanged is accepted, so every refusal below is
    // down to the rule its case breaks, not to a forger that cannot sign.
    let resigned = forger.es256(&forger.header(), &jwt_claims(&victim.access_token));
    assert_eq!(app.me(&resigned).await.status, 200);

    let verification = app.verification_token(&victim).await;
    let reset = app.reset_token(&victim).await;
    let one_time = [("email_verification_token_as_bearer", verification), ("password_reset_token_as_bearer", reset)];

    let cases = cases(&forger, &victim, &other, &jwks, &one_time);
    let mut failures = Vec::new();
    for case in &cases {
        for (route, req) in requests_with(&case.token, &victim) {
            if case.logout_is_harmless && route.ends_with("/logout") {
                assert_eq!(app.send(req).await.status, 204, "{}", case.name);
                continue;
            }
            let reply = app.send(req).await;
            let problem_json = reply.headers.get("content-type").is_some_and(|v| v == "application/problem+json");
            let challenged = route.ends_with("/verify") || reply.headers.contains_key("www-authenticate");
            if reply.status != 401 || reply.code() != case.code || !problem_json || !challenged {
                failures.push(format!("{} → {route}: {} {}", case.name, reply.status, reply.body));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));

    // Nothing above got through: the victim's account and session are untouched.
    let me = app.me(&victim.access_token).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_ne!(me.body["display_name"], "Mallory");
    assert_eq!(app.me(&other.access_token).await.status, 200, "another user's session survived");
    assert_eq!(app.login(&victim.username, &victim.password).await.status, 200);
}

#[tokio::test]
async fn refresh_and_reset_refuse_tokens_of_another_kind() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let verification = app.verification_token(&account).await;
    let reset = app.reset_token(&account).await;

    for (name, token) in [("verification token", &verification), ("reset token", &reset)] {
        let reply = app.refresh(token).await;
        assert_eq!((reply.status, reply.code()), (401, "invalid_refresh_token"), "{name} → /refresh");
    }
    let reply = app
        .post("/api/v1/auth/password/reset", json!({"token": account.refresh_token, "new_password": strong_password()}))
        .await;
    reply.assert_problem(401, "invalid_token");
    // Every refusal left the real tokens working.
    assert_eq!(app.refresh(&account.refresh_token).await.status, 200);
    assert_eq!(app.post("/api/v1/auth/email/verify", json!({"token": verification})).await.status, 204);
}

#[tokio::test]
async fn an_access_token_in_the_query_string_never_authenticates() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let addr = serve_http(&app).await;
    let key = ("x-api-key", "test-key");
    for name in ["access_token", "token", "authorization", "bearer"] {
        for path in ["/api/v1/auth/me", "/api/v1/auth/sessions"] {
            let reply = http(addr, "GET", &format!("{path}?{name}={}", account.access_token), &[key], vec![]).await;
            assert_eq!((reply.status, reply.code()), (401, "invalid_token"), "{path}?{name}=");
        }
    }
    // The same through an API Gateway event carrying the token as a query parameter.
    let event = json!({
        "resource": "/api/v1/auth/me", "path": "/api/v1/auth/me", "httpMethod": "GET",
        "headers": {"x-api-key": "k"}, "multiValueHeaders": {"x-api-key": ["k"]},
        "queryStringParameters": {"access_token": account.access_token},
        "multiValueQueryStringParameters": {"access_token": [account.access_token]},
        "pathParameters": null, "stageVariables": null,
        "requestContext": {"requestId": "attack-1", "stage": "v1", "httpMethod": "GET",
            "resourcePath": "/api/v1/auth/me", "identity": {"sourceIp": "198.51.100.9"}},
        "body": null, "isBase64Encoded": false,
    });
    let request = bookshelf::edge::lambda::from_lambda(serde_json::from_value(event).unwrap());
    let reply = Reply::from(dispatch::respond(Arc::clone(&app.state), routes::Route::GetMe, request).await);
    reply.assert_problem(401, "invalid_token");
    // The header form of the same token works, so the refusals above are about placement.
    assert_eq!(
        http(
            addr,
            "GET",
            "/api/v1/auth/me",
            &[key, ("authorization", &format!("Bearer {}", account.access_token))],
            vec![]
        )
        .await
        .status,
        200
    );
}

/// Found by `fuzz/` (apigw_event): lambda_http built a URI from `Host` and
/// `X-Forwarded-Proto` and panicked on values like these, so the request got no answer.
#[tokio::test]
async fn hostile_host_or_x_forwarded_proto_headers_are_answered_through_the_lambda_edge() {
    let app = TestApp::new().await;
    let text = std::fs::read_to_string(bookshelf_tests::workspace_root().join("events/forgot-password.json")).unwrap();
    for (name, value) in
        [("X-Forwarded-Proto", "+https"), ("X-Forwarded-Proto", ""), ("Host", "bad host"), ("Host", "h:99999")]
    {
        let mut event: Value = serde_json::from_str(&text).unwrap();
        event["headers"][name] = json!(value);
        event["multiValueHeaders"][name] = json!([value]);
        let request = bookshelf::edge::lambda::from_lambda(serde_json::from_value(event).unwrap());
        let response = dispatch::respond(Arc::clone(&app.state), routes::Route::ForgotPassword, request).await;
        assert_eq!(bookshelf::edge::lambda::into_lambda(response).status_code, 202, "{name}: {value}");
    }
}
