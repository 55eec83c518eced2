//! The JWT crypto provider: aws-lc, with each ES256 key parsed once per process.
//!
//! jsonwebtoken's own aws-lc provider parses the key on every call: a PKCS#8 private key
//! (including its public-key consistency check) per signature and the public point per
//! verification. On the hot routes that parse costs about as much as the signature itself,
//! so this provider keeps parsed ES256 keys and hands every other algorithm to aws-lc's
//! default provider unchanged.

use std::sync::{Arc, Mutex, OnceLock};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ParsedPublicKey, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING};
use jsonwebtoken::crypto::{aws_lc, CryptoProvider, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{Error, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};

/// Makes this the process's provider (once; later calls keep the first).
pub fn install() {
    static PROVIDER: OnceLock<CryptoProvider> = OnceLock::new();
    let provider = PROVIDER.get_or_init(|| CryptoProvider {
        signer_factory: signer,
        verifier_factory: verifier,
        key_utils: aws_lc::DEFAULT_PROVIDER.key_utils.clone(),
    });
    // Already installed means this very provider: `TokenService::new` is the only caller and
    // runs before any token is signed or checked.
    let _ = provider.install_default();
}

/// Parsed keys by their encoded bytes. A process holds a handful of keys (its key document),
/// so a short list beats a map; it is capped so no input could grow it without bound.
type Cache<K> = OnceLock<Mutex<Vec<(Box<[u8]>, Arc<K>)>>>;
const CACHE_CAP: usize = 16;

fn cached<K>(cache: &'static Cache<K>, bytes: &[u8], parse: impl FnOnce() -> Option<K>) -> Option<Arc<K>> {
    let entries = cache.get_or_init(Mutex::default);
    let hit = |list: &Vec<(Box<[u8]>, Arc<K>)>| list.iter().find(|(b, _)| **b == *bytes).map(|(_, k)| Arc::clone(k));
    if let Some(key) = hit(&entries.lock().unwrap_or_else(|e| e.into_inner())) {
        return Some(key);
    }
    let key = Arc::new(parse()?);
    let mut list = entries.lock().unwrap_or_else(|e| e.into_inner());
    if list.len() < CACHE_CAP {
        list.push((bytes.into(), Arc::clone(&key)));
    }
    Some(key)
}

struct Es256Signer(Arc<EcdsaKeyPair>);

impl Signer<Vec<u8>> for Es256Signer {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, Error> {
        let signature = self.0.sign(&SystemRandom::new(), message).map_err(Error::from_source)?;
        Ok(signature.as_ref().to_vec())
    }
}

impl JwtSigner for Es256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }
}

struct Es256Verifier(Arc<ParsedPublicKey>);

impl Verifier<Vec<u8>> for Es256Verifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> std::result::Result<(), Error> {
        self.0.verify_sig(message, signature).map_err(Error::from_source)
    }
}

impl JwtVerifier for Es256Verifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }
}

fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    static KEYS: Cache<EcdsaKeyPair> = OnceLock::new();
    if *algorithm != Algorithm::ES256 {
        return (aws_lc::DEFAULT_PROVIDER.signer_factory)(algorithm, key);
    }
    if key.family() != AlgorithmFamily::Ec {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    let pkcs8 = key.as_bytes();
    let pair = cached(&KEYS, pkcs8, || EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8).ok())
        .ok_or(ErrorKind::InvalidEcdsaKey)?;
    Ok(Box::new(Es256Signer(pair)))
}

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    static KEYS: Cache<ParsedPublicKey> = OnceLock::new();
    if *algorithm != Algorithm::ES256 {
        return (aws_lc::DEFAULT_PROVIDER.verifier_factory)(algorithm, key);
    }
    if key.family() != AlgorithmFamily::Ec {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    let point = key.try_get_as_bytes()?;
    let parsed = cached(&KEYS, point, || ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).ok())
        .ok_or(ErrorKind::InvalidEcdsaKey)?;
    Ok(Box::new(Es256Verifier(parsed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_key_signs_what_the_default_provider_verifies_and_back() {
        install();
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("keygen");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).expect("parse");
        use aws_lc_rs::signature::KeyPair;
        let public = pair.public_key().as_ref().to_vec();
        let (encoding, decoding) = (EncodingKey::from_ec_der(pkcs8.as_ref()), DecodingKey::from_ec_der(&public));
        let message = b"header.claims";

        for _ in 0..2 {
            // Twice: the second round runs on the cached keys.
            let ours = signer(&Algorithm::ES256, &encoding).expect("signer").try_sign(message).expect("sign");
            let theirs = (aws_lc::DEFAULT_PROVIDER.verifier_factory)(&Algorithm::ES256, &decoding).expect("verifier");
            assert!(theirs.verify(message, &ours).is_ok());
            let theirs = (aws_lc::DEFAULT_PROVIDER.signer_factory)(&Algorithm::ES256, &encoding)
                .expect("signer")
                .try_sign(message)
                .expect("sign");
            let ours = verifier(&Algorithm::ES256, &decoding).expect("verifier");
            assert!(ours.verify(message, &theirs).is_ok());
            assert!(ours.verify(b"header.tampered", &theirs).is_err());
        }
    }

    #[test]
    fn an_hmac_key_is_refused_for_es256() {
        let hmac = EncodingKey::from_secret(&[7u8; 32]);
        assert!(signer(&Algorithm::ES256, &hmac).is_err());
        assert!(verifier(&Algorithm::ES256, &DecodingKey::from_secret(&[7u8; 32])).is_err());
    }
}
