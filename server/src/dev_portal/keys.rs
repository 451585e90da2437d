//! RSA signing keys of the stand-in portal and their JWK form.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Modulus size of every generated key, in bits.
const KEY_BITS: usize = 2048;

/// One RS256 signing key and its public parts.
#[derive(Clone)]
pub(super) struct SigningKey {
    /// Key ID: the RFC 7638 JWK thumbprint of the public key.
    pub kid: String,
    /// The modulus, base64url without padding.
    pub n: String,
    /// The public exponent, base64url without padding.
    pub e: String,
    pub encoding: EncodingKey,
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key. The work is CPU-bound and its duration
    /// varies with the random primes, so async callers run it on a blocking
    /// thread.
    pub fn generate() -> anyhow::Result<Self> {
        let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, KEY_BITS)
            .map_err(|error| anyhow::anyhow!("RSA key generation failed: {error}"))?;
        let der = private.to_pkcs1_der().map_err(|error| {
            anyhow::anyhow!("PKCS#1 DER encoding of the RSA key failed: {error}")
        })?;
        let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
        Ok(Self {
            kid: jwk_thumbprint(&n, &e),
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            n,
            e,
        })
    }

    /// Returns the public key as a JWK for the `/jwks` document.
    pub fn public_jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": self.n,
            "e": self.e,
        })
    }

    /// Builds the key that verifies this key's signatures.
    pub fn decoding_key(&self) -> Result<DecodingKey, jsonwebtoken::errors::Error> {
        DecodingKey::from_rsa_components(&self.n, &self.e)
    }
}

/// Computes the RFC 7638 thumbprint of an RSA public key: SHA-256 over the
/// required members in lexicographic order, without whitespace.
fn jwk_thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}
