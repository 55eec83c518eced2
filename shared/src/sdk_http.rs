//! The HTTP client under every AWS SDK client (DynamoDB, SES, Secrets Manager): HTTP/1.1
//! over rustls with aws-lc, offering only the TLS algorithms AWS endpoints use.
//!
//! The SDK's own default client (`default-https-client`) links HTTP/2 (`h2`), a proxy layer
//! and rustls' whole aws-lc provider — Ed25519, P-521, ML-KEM, ML-DSA and ChaCha20 among
//! them — into every function, because any of them could be negotiated at run time. DynamoDB,
//! SES and Secrets Manager speak HTTP/1.1 with AES-GCM, X25519 or P-256 key exchange and RSA
//! or ECDSA P-256/P-384 certificate chains, so this client offers exactly those, and the rest
//! never reaches the binaries (`make bench` reports the sizes).
//!
//! Everything is built lazily on the first request, as the SDK's client does, so cold-start
//! init does not pay for reading the system's root certificates.

use std::error::Error as StdError;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::crypto::aws_lc_rs::{cipher_suite, kx_group};
use rustls::crypto::{CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::SigningKey;
use rustls::{ClientConfig, RootCertStore, SignatureScheme};
use webpki::aws_lc_rs as algs;

/// A client for one SDK client. Not shared across SDK clients: a connection's driver runs on
/// the tokio runtime that opened it, and tests (each with its own runtime) would otherwise
/// find pooled connections whose runtime is gone. The root certificates are shared.
pub fn client() -> SharedHttpClient {
    SharedHttpClient::new(SdkHttpClient::with_roots(|| {
        static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
        ROOTS.get_or_init(native_roots).clone()
    }))
}

/// The TLS algorithms offered: what AWS endpoints negotiate, nothing more.
pub fn crypto_provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: vec![
            cipher_suite::TLS13_AES_128_GCM_SHA256,
            cipher_suite::TLS13_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ],
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1],
        signature_verification_algorithms: SIGNATURE_ALGORITHMS,
        secure_random: &AwsLc,
        key_provider: &AwsLc,
    }
}

/// Certificate and handshake signatures accepted: RSA (PKCS#1 v1.5 and PSS) and ECDSA on
/// P-256/P-384, which cover the Amazon and public roots AWS endpoints chain to.
static SIGNATURE_ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        algs::ECDSA_P256_SHA256,
        algs::ECDSA_P256_SHA384,
        algs::ECDSA_P384_SHA256,
        algs::ECDSA_P384_SHA384,
        algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        algs::RSA_PKCS1_2048_8192_SHA256,
        algs::RSA_PKCS1_2048_8192_SHA384,
        algs::RSA_PKCS1_2048_8192_SHA512,
    ],
    mapping: &[
        (SignatureScheme::ECDSA_NISTP384_SHA384, &[algs::ECDSA_P384_SHA384, algs::ECDSA_P256_SHA384]),
        (SignatureScheme::ECDSA_NISTP256_SHA256, &[algs::ECDSA_P256_SHA256, algs::ECDSA_P384_SHA256]),
        (SignatureScheme::RSA_PSS_SHA512, &[algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY]),
        (SignatureScheme::RSA_PSS_SHA384, &[algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY]),
        (SignatureScheme::RSA_PSS_SHA256, &[algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY]),
        (SignatureScheme::RSA_PKCS1_SHA512, &[algs::RSA_PKCS1_2048_8192_SHA512]),
        (SignatureScheme::RSA_PKCS1_SHA384, &[algs::RSA_PKCS1_2048_8192_SHA384]),
        (SignatureScheme::RSA_PKCS1_SHA256, &[algs::RSA_PKCS1_2048_8192_SHA256]),
    ],
};

/// Randomness from aws-lc; no private keys (the SDK never authenticates with a client
/// certificate). rustls keeps its own `AwsLcRs` of these private.
#[derive(Debug)]
struct AwsLc;

impl SecureRandom for AwsLc {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        aws_lc_rs::rand::fill(buf).map_err(|_| GetRandomFailed)
    }
}

impl KeyProvider for AwsLc {
    fn load_private_key(&self, _key: PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        Err(rustls::Error::General("client certificates are not used".to_owned()))
    }
}

/// TLS 1.2 and 1.3 settings trusting `roots`. No ALPN is offered: a client that offers none
/// speaks HTTP/1.1, and hyper-rustls refuses a config that names its own.
pub fn tls_config(roots: RootCertStore) -> Result<ClientConfig, rustls::Error> {
    Ok(ClientConfig::builder_with_provider(Arc::new(crypto_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The system's root certificates: the bundle `SSL_CERT_FILE` names, else the distribution's
/// bundle file alone; with `SSL_CERT_DIR` set, whatever rustls-native-certs reads.
///
/// Without those variables — a Lambda sets neither — rustls-native-certs reads the bundle *and*
/// every file of the certificate directories OpenSSL would search (`/etc/ssl/certs`,
/// `/etc/pki/tls/certs`), which hold the same roots again (one file per root on Debian, a
/// second bundle on Amazon Linux 2023): each root parsed twice at every cold start, where a
/// millisecond of CPU is ≈ 14 ms of wall time at 128 MB. The bundle alone holds them all, and
/// [`bundle_certificates`] reads it faster than rustls-native-certs does. `make bench` reports
/// the costs under its Lambda-like table: on the development machine 1.94 ms of CPU for bundle
/// and directory, 0.48 ms for the bundle through rustls-native-certs, 0.33 ms as read here.
pub fn native_roots() -> RootCertStore {
    if std::env::var_os("SSL_CERT_DIR").is_some() {
        return native(rustls_native_certs::load_native_certs());
    }
    let named = std::env::var_os("SSL_CERT_FILE").map(std::path::PathBuf::from);
    let bundle = named.or_else(|| BUNDLES.iter().map(std::path::PathBuf::from).find(|bundle| bundle.is_file()));
    match bundle {
        Some(bundle) => roots_from(Some(&bundle), None),
        None => native(rustls_native_certs::load_native_certs()),
    }
}

/// Root bundles, as openssl-probe knows them: Amazon Linux 2023 (Lambda's `provided.al2023`),
/// Fedora and RHEL; Debian, Ubuntu and Alpine; openSUSE.
const BUNDLES: &[&str] = &[
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The roots of a PEM bundle `file` (read by [`bundle_certificates`]) and, with `dir`, of the
/// PEM files in `dir` as rustls-native-certs reads them (`make bench` times both).
pub fn roots_from(file: Option<&Path>, dir: Option<&Path>) -> RootCertStore {
    let bundle = match (file, dir) {
        (Some(file), None) => std::fs::read(file).ok().and_then(|text| bundle_certificates(&text)),
        _ => None,
    };
    match bundle {
        Some(certs) => roots_of(certs, 0),
        None => native(rustls_native_certs::load_certs_from_paths(file, dir)),
    }
}

/// The `CERTIFICATE` sections of a PEM bundle, or `None` for text that is not UTF-8 (left to
/// rustls-native-certs). rustls-pki-types' PEM reader, which rustls-native-certs uses, goes
/// line by line and decodes base64 with code written for private keys (no secret-dependent
/// branches or lookups); roots are public, so a table-driven decoder of the whole section
/// does. Other sections (`TRUSTED CERTIFICATE`, keys) are skipped, as that reader skips them.
pub fn bundle_certificates(text: &[u8]) -> Option<Vec<CertificateDer<'static>>> {
    use base64::Engine;
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut rest = std::str::from_utf8(text).ok()?;
    let (mut certs, mut base64) = (Vec::new(), Vec::with_capacity(4096));
    while let Some(start) = rest.find(BEGIN) {
        let section = &rest[start + BEGIN.len()..];
        let Some(end) = section.find(END) else { break };
        base64.clear();
        base64.extend(section[..end].bytes().filter(|b| !b.is_ascii_whitespace()));
        if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(&base64) {
            certs.push(CertificateDer::from(der));
        }
        rest = &section[end + END.len()..];
    }
    Some(certs)
}

fn native(found: rustls_native_certs::CertificateResult) -> RootCertStore {
    roots_of(found.certs, found.errors.len())
}

fn roots_of(certs: Vec<CertificateDer<'static>>, errors: usize) -> RootCertStore {
    if errors > 0 {
        tracing::warn!(errors, "some root certificates could not be read");
    }
    let mut roots = RootCertStore::empty();
    let (_, unusable) = roots.add_parsable_certificates(certs);
    if roots.is_empty() {
        tracing::warn!(unusable, "no usable root certificates: TLS connections will fail");
    }
    roots
}

/// An HTTPS (or, for DynamoDB Local, plain HTTP) connector with `connect_timeout` on the TCP
/// connect; the TLS handshake is bounded by the SDK's attempt timeout.
pub fn https_connector(tls: ClientConfig, connect_timeout: Option<Duration>) -> HttpsConnector<TcpConnector> {
    let mut tcp = TcpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(connect_timeout);
    hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().wrap_connector(tcp)
}

/// The SDK's view of this client: one connector (and connection pool) per distinct timeout
/// setting, made on first use.
pub struct SdkHttpClient {
    roots: Box<dyn Fn() -> RootCertStore + Send + Sync>,
    tls: OnceLock<Result<ClientConfig, rustls::Error>>,
    connectors: RwLock<Vec<(Timeouts, SharedHttpConnector)>>,
}

type Timeouts = (Option<Duration>, Option<Duration>);

impl SdkHttpClient {
    /// With the roots `roots` returns when the first connection is made (tests pass their own).
    pub fn with_roots(roots: impl Fn() -> RootCertStore + Send + Sync + 'static) -> Self {
        SdkHttpClient { roots: Box::new(roots), tls: OnceLock::new(), connectors: RwLock::new(Vec::new()) }
    }

    fn connector(&self, timeouts: Timeouts) -> SharedHttpConnector {
        let tls = match self.tls.get_or_init(|| tls_config((self.roots)())) {
            Ok(tls) => tls.clone(),
            Err(error) => return SharedHttpConnector::new(Broken(error.to_string())),
        };
        let (connect_timeout, read_timeout) = timeouts;
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(https_connector(tls, connect_timeout));
        SharedHttpConnector::new(Connector { client, read_timeout })
    }
}

impl fmt::Debug for SdkHttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SdkHttpClient").finish_non_exhaustive()
    }
}

impl HttpClient for SdkHttpClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, _components: &RuntimeComponents) -> SharedHttpConnector {
        let timeouts = (settings.connect_timeout(), settings.read_timeout());
        let known = |list: &Vec<(Timeouts, SharedHttpConnector)>| {
            list.iter().find(|(t, _)| *t == timeouts).map(|(_, connector)| connector.clone())
        };
        if let Some(connector) = known(&self.connectors.read().unwrap_or_else(PoisonError::into_inner)) {
            return connector;
        }
        let mut connectors = self.connectors.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(connector) = known(&connectors) {
            return connector;
        }
        let connector = self.connector(timeouts);
        connectors.push((timeouts, connector.clone()));
        connector
    }
}

#[derive(Debug, Clone)]
struct Connector {
    client: Client<HttpsConnector<TcpConnector>, SdkBody>,
    /// Bounds the wait for the response head (the SDK sets none by default).
    read_timeout: Option<Duration>,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(error) => return HttpConnectorFuture::ready(Err(ConnectorError::user(error.into()))),
        };
        let response = self.client.request(request);
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let response = match read_timeout {
                Some(limit) => match tokio::time::timeout(limit, response).await {
                    Ok(response) => response,
                    Err(elapsed) => return Err(ConnectorError::timeout(elapsed.into())),
                },
                None => response.await,
            };
            let response = response.map_err(classify)?;
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// A connector for a client whose TLS settings could not be made: every call fails with why.
#[derive(Debug)]
struct Broken(String);

impl HttpConnector for Broken {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        HttpConnectorFuture::ready(Err(ConnectorError::other(self.0.clone().into(), None)))
    }
}

/// Sorts a transport failure the way the SDK's retry policy expects: connection failures and
/// dropped connections are I/O (retried), a cut-off response is transient (retried).
fn classify(error: hyper_util::client::legacy::Error) -> ConnectorError {
    if error.is_connect() {
        return ConnectorError::io(error.into());
    }
    if let Some(hyper) = find::<hyper::Error>(&error) {
        if hyper.is_timeout() {
            return ConnectorError::timeout(error.into());
        }
        if hyper.is_user() {
            return ConnectorError::user(error.into());
        }
        if hyper.is_incomplete_message() {
            return ConnectorError::other(error.into(), Some(ErrorKind::TransientError));
        }
        if hyper.is_closed() || hyper.is_canceled() {
            return ConnectorError::io(error.into());
        }
    }
    if find::<std::io::Error>(&error).is_some() {
        return ConnectorError::io(error.into());
    }
    ConnectorError::other(error.into(), None)
}

fn find<'a, E: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(found) = error.downcast_ref::<E>() {
            return Some(found);
        }
        next = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    use http_body_util::Full;
    use hyper::body::Bytes;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SignatureAlgorithm};
    use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
    use rustls::{ProtocolVersion, ServerConfig, SupportedProtocolVersion};
    use std::sync::Mutex;
    use tokio::net::TcpListener;

    /// A CA and a `localhost` certificate it issued, with keys of `alg`.
    struct Pki {
        ca: CertificateDer<'static>,
        leaf: CertificateDer<'static>,
        leaf_key: Vec<u8>,
    }

    fn pki(alg: &'static SignatureAlgorithm) -> Pki {
        let ca_key = KeyPair::generate_for(alg).unwrap();
        let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf_key = KeyPair::generate_for(alg).unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &Issuer::from_params(&ca_params, &ca_key))
            .unwrap();
        Pki { ca: ca.der().clone(), leaf: leaf.der().clone(), leaf_key: leaf_key.serialize_der() }
    }

    /// What the server saw of each connection: the protocol version and ALPN it agreed.
    type Seen = Arc<Mutex<Vec<(Option<ProtocolVersion>, Option<Vec<u8>>)>>>;

    /// An HTTPS server on loopback (rustls' full default provider, so the client's offer is
    /// what decides) answering every request as DynamoDB answers `ListTables`.
    async fn server(pki: &Pki, versions: &[&'static SupportedProtocolVersion]) -> (u16, Seen) {
        let mut config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_protocol_versions(versions)
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![pki.leaf.clone()], PrivatePkcs8KeyDer::from(pki.leaf_key.clone()).into())
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Seen::default();
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, log) = (acceptor.clone(), log.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let (_, session) = tls.get_ref();
                    log.lock().unwrap().push((session.protocol_version(), session.alpn_protocol().map(<[u8]>::to_vec)));
                    let service = hyper::service::service_fn(|_request| async {
                        let body = Full::new(Bytes::from_static(br#"{"TableNames":["books"]}"#));
                        Ok::<_, std::convert::Infallible>(
                            hyper::Response::builder()
                                .header("content-type", "application/x-amz-json-1.0")
                                .body(body)
                                .unwrap(),
                        )
                    });
                    let io = hyper_util::rt::TokioIo::new(tls);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        (port, seen)
    }

    fn dynamodb(port: u16, trusted: CertificateDer<'static>) -> aws_sdk_dynamodb::Client {
        let http = SdkHttpClient::with_roots(move || {
            let mut roots = RootCertStore::empty();
            roots.add(trusted.clone()).unwrap();
            roots
        });
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(format!("https://localhost:{port}"))
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .http_client(SharedHttpClient::new(http))
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    #[tokio::test]
    async fn sdk_calls_work_over_tls_1_2_and_1_3_with_rsa_and_ecdsa_certificates() {
        let cases = [
            (&rcgen::PKCS_RSA_SHA256, &rustls::version::TLS13, ProtocolVersion::TLSv1_3),
            (&rcgen::PKCS_RSA_SHA256, &rustls::version::TLS12, ProtocolVersion::TLSv1_2),
            (&rcgen::PKCS_ECDSA_P256_SHA256, &rustls::version::TLS13, ProtocolVersion::TLSv1_3),
            (&rcgen::PKCS_ECDSA_P256_SHA256, &rustls::version::TLS12, ProtocolVersion::TLSv1_2),
            (&rcgen::PKCS_ECDSA_P384_SHA384, &rustls::version::TLS13, ProtocolVersion::TLSv1_3),
        ];
        for (alg, version, expected) in cases {
            let pki = pki(alg);
            let (port, seen) = server(&pki, &[version]).await;
            let tables = dynamodb(port, pki.ca.clone()).list_tables().send().await;
            let tables = tables.unwrap_or_else(|e| panic!("{alg:?} over {expected:?}: {e:?}"));
            assert_eq!(tables.table_names(), ["books"]);
            let seen = seen.lock().unwrap().clone();
            assert_eq!(seen, vec![(Some(expected), None)], "{alg:?}: one connection, no ALPN (HTTP/1.1)");
        }
    }

    #[tokio::test]
    async fn a_server_whose_certificate_no_trusted_root_issued_is_refused() {
        let pki = pki(&rcgen::PKCS_ECDSA_P256_SHA256);
        let stranger = self::pki(&rcgen::PKCS_ECDSA_P256_SHA256);
        let (port, seen) = server(&pki, &[&rustls::version::TLS13]).await;
        let error = dynamodb(port, stranger.ca).list_tables().send().await.unwrap_err();
        let text = format!("{:?}", aws_sdk_dynamodb::error::DisplayErrorContext(&error));
        assert!(text.contains("InvalidCertificate"), "{text}");
        assert!(seen.lock().unwrap().is_empty(), "no request reached the server");
    }

    #[test]
    fn a_bundle_is_read_to_the_same_certificates_as_rustls_native_certs_reads_it() {
        let (a, b) = (pki(&rcgen::PKCS_ECDSA_P256_SHA256), pki(&rcgen::PKCS_RSA_SHA256));
        let pem = |der: &CertificateDer<'_>| {
            use base64::Engine;
            let text = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
            let lines: Vec<&str> = text.as_bytes().chunks(64).map(|l| std::str::from_utf8(l).unwrap()).collect();
            format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
        };
        // Comments, CRLF line ends, and sections that are not certificates, as bundles have them.
        let text = format!(
            "# Root A\n{}\n-----BEGIN TRUSTED CERTIFICATE-----\nAAAA\n-----END TRUSTED CERTIFICATE-----\n{}{}",
            pem(&a.ca),
            pem(&b.ca).replace('\n', "\r\n"),
            pem(&a.leaf)
        );
        let file = std::env::temp_dir().join(format!("bundle-{}.pem", uuid::Uuid::new_v4().simple()));
        std::fs::write(&file, &text).unwrap();
        let theirs = rustls_native_certs::load_certs_from_paths(Some(&file), None).certs;
        let _ = std::fs::remove_file(&file);
        let by_bytes = |a: &CertificateDer<'_>, b: &CertificateDer<'_>| a.as_ref().cmp(b.as_ref());
        let mut ours = bundle_certificates(text.as_bytes()).unwrap();
        ours.sort_by(by_bytes);
        assert_eq!(ours, theirs);
        assert_eq!(ours.len(), 3);
        // The machine's own bundle too, when it has one.
        for system in BUNDLES.iter().map(Path::new).filter(|p| p.is_file()) {
            let mut ours = bundle_certificates(&std::fs::read(system).unwrap()).unwrap();
            ours.sort_by(by_bytes);
            ours.dedup();
            assert_eq!(ours, rustls_native_certs::load_certs_from_paths(Some(system), None).certs, "{system:?}");
        }
    }

    #[tokio::test]
    async fn the_init_warm_up_opens_the_connection_the_first_request_uses() {
        let pki = pki(&rcgen::PKCS_ECDSA_P256_SHA256);
        let (port, seen) = server(&pki, &[&rustls::version::TLS13]).await;
        let store = crate::store::Store::from_client(dynamodb(port, pki.ca.clone()), "t".to_owned());
        store.warm_up().await.unwrap();
        assert_eq!(seen.lock().unwrap().len(), 1, "the warm-up connected");
        // Between init and the first event the runtime polls the Runtime API; a few turns of
        // the scheduler stand for that here, while the connection goes back to the pool.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        store.client().list_tables().send().await.unwrap();
        assert_eq!(seen.lock().unwrap().len(), 1, "the first request found the warm-up's connection");
    }

    #[test]
    fn only_the_algorithms_aws_endpoints_use_are_offered() {
        let provider = crypto_provider();
        let suites: Vec<_> = provider.cipher_suites.iter().map(|s| format!("{:?}", s.suite())).collect();
        assert!(suites.iter().all(|s| s.contains("AES_128_GCM") || s.contains("AES_256_GCM")), "{suites:?}");
        let groups: Vec<_> = provider.kx_groups.iter().map(|g| g.name()).collect();
        assert_eq!(groups, [rustls::NamedGroup::X25519, rustls::NamedGroup::secp256r1]);
        let schemes = provider.signature_verification_algorithms.supported_schemes();
        assert!(!schemes.contains(&SignatureScheme::ED25519));
        assert!(!schemes.contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
        assert!(
            schemes.contains(&SignatureScheme::RSA_PKCS1_SHA256) && schemes.contains(&SignatureScheme::RSA_PSS_SHA256)
        );
    }
}
