//! Private keys: generation, and PKCS#8 PEM at rest, encrypted (PBES2: PBKDF2-HMAC-SHA256 and
//! AES-256-CBC, the scheme `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes) when a passphrase
//! is given.

use std::fmt;
use std::str::FromStr;

use pkcs8::der::{Decode, Encode};
use pkcs8::{EncryptedPrivateKeyInfo, PrivateKeyInfo};
use rcgen::{KeyPair, SignatureAlgorithm};
use ring::rand::{SecureRandom, SystemRandom};

use super::Error;
use crate::names::ValidationError;

/// OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
const PBKDF2_ITERATIONS: u32 = 600_000;

const PLAIN_TAG: &str = "PRIVATE KEY";
const ENCRYPTED_TAG: &str = "ENCRYPTED PRIVATE KEY";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    EcdsaP256,
    EcdsaP384,
    Ed25519,
}

impl KeyType {
    pub const ALL: [KeyType; 3] = [KeyType::EcdsaP256, KeyType::EcdsaP384, KeyType::Ed25519];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::EcdsaP256 => "ecdsa-p256",
            KeyType::EcdsaP384 => "ecdsa-p384",
            KeyType::Ed25519 => "ed25519",
        }
    }

    fn algorithm(self) -> &'static SignatureAlgorithm {
        match self {
            KeyType::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyType::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyType::Ed25519 => &rcgen::PKCS_ED25519,
        }
    }
}

impl FromStr for KeyType {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyType::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            let known: Vec<_> = KeyType::ALL.iter().map(|k| k.as_str()).collect();
            ValidationError::new(format!("unknown key type {s:?}; expected one of {}", known.join(", ")))
        })
    }
}

/// A private key. Its `Debug` output names the key type only.
pub struct PrivateKey(KeyPair);

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({})", self.key_type().as_str())
    }
}

impl PrivateKey {
    pub fn generate(key_type: KeyType) -> Result<Self, Error> {
        KeyPair::generate_for(key_type.algorithm())
            .map(Self)
            .map_err(|e| Error::Certificate(format!("key generation failed: {e}")))
    }

    pub fn key_type(&self) -> KeyType {
        let alg = self.0.algorithm();
        KeyType::ALL
            .into_iter()
            .find(|k| k.algorithm() == alg)
            .expect("keys are only made or loaded for the supported key types")
    }

    pub(crate) fn key_pair(&self) -> &KeyPair {
        &self.0
    }

    pub(crate) fn into_key_pair(self) -> KeyPair {
        self.0
    }

    /// PKCS#8 PEM; encrypted when a passphrase is given.
    pub fn to_pem(&self, passphrase: Option<&str>) -> Result<String, Error> {
        let mut info = PrivateKeyInfo::from_der(self.0.serialized_der())
            .map_err(|e| Error::Certificate(format!("key serialisation: {e}")))?;
        // ring writes Ed25519 keys as PKCS#8 v2 (with the public key), which OpenSSL 3.0
        // cannot read; v1, without the optional public key, every consumer reads.
        info.public_key = None;
        let Some(passphrase) = passphrase else {
            let der = info.to_der().map_err(|e| Error::Certificate(format!("key serialisation: {e}")))?;
            return Ok(pem_encode(PLAIN_TAG, &der));
        };
        let passphrase = check_passphrase(passphrase)?;
        let salt: [u8; 16] = random_bytes();
        let iv: [u8; 16] = random_bytes();
        let params = pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(PBKDF2_ITERATIONS, &salt, &iv)
            .map_err(|e| Error::Certificate(format!("key encryption parameters: {e}")))?;
        let encrypted = info
            .encrypt_with_params(params, passphrase)
            .map_err(|e| Error::Certificate(format!("key encryption failed: {e}")))?;
        Ok(pem_encode(ENCRYPTED_TAG, encrypted.as_bytes()))
    }

    /// Reads a PKCS#8 PEM key, decrypting it when it is encrypted.
    pub fn from_pem(pem_text: &str, passphrase: Option<&str>) -> Result<Self, Error> {
        let block = pem::parse(pem_text).map_err(|_| Error::Certificate("not a PEM private key".into()))?;
        let der = match block.tag() {
            PLAIN_TAG => block.contents().to_vec(),
            ENCRYPTED_TAG => {
                let passphrase = passphrase.ok_or(Error::PassphraseRequired)?;
                let passphrase = check_passphrase(passphrase)?;
                let info = EncryptedPrivateKeyInfo::from_der(block.contents())
                    .map_err(|_| Error::Certificate("malformed encrypted private key".into()))?;
                let document = info.decrypt(passphrase).map_err(|_| Error::WrongPassphrase)?;
                document.as_bytes().to_vec()
            }
            other => {
                return Err(Error::Certificate(format!(
                    "unsupported private key format {other:?}: expected PKCS#8 (\"{PLAIN_TAG}\" or \"{ENCRYPTED_TAG}\")"
                )))
            }
        };
        let pair = KeyPair::try_from(der)
            .map_err(|e| Error::Certificate(format!("unsupported or malformed private key: {e}")))?;
        if !KeyType::ALL.iter().any(|k| k.algorithm() == pair.algorithm()) {
            return Err(Error::Certificate("unsupported private key algorithm".into()));
        }
        Ok(Self(pair))
    }
}

fn check_passphrase(passphrase: &str) -> Result<&str, ValidationError> {
    if passphrase.is_empty() {
        return Err(ValidationError::new("passphrase is empty"));
    }
    Ok(passphrase)
}

fn pem_encode(tag: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(tag, der), config)
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    SystemRandom::new().fill(&mut bytes).expect("the operating system's random source failed");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_encrypted_round_trip_for_every_key_type() {
        for key_type in KeyType::ALL {
            let key = PrivateKey::generate(key_type).unwrap();
            let plain = key.to_pem(None).unwrap();
            assert!(plain.starts_with("-----BEGIN PRIVATE KEY-----"));
            assert_eq!(PrivateKey::from_pem(&plain, None).unwrap().to_pem(None).unwrap(), plain);

            let encrypted = key.to_pem(Some("correct horse")).unwrap();
            assert!(encrypted.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
            let back = PrivateKey::from_pem(&encrypted, Some("correct horse")).unwrap();
            assert_eq!(back.key_type(), key_type);
            assert_eq!(back.to_pem(None).unwrap(), plain);
        }
    }

    #[test]
    fn wrong_or_missing_passphrase_is_refused_without_echoing_it() {
        let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
        let encrypted = key.to_pem(Some("s3cret-passphrase")).unwrap();
        let err = PrivateKey::from_pem(&encrypted, Some("guess")).unwrap_err();
        assert!(matches!(err, Error::WrongPassphrase));
        assert!(!err.to_string().contains("guess"));
        assert!(matches!(PrivateKey::from_pem(&encrypted, None).unwrap_err(), Error::PassphraseRequired));
        assert!(matches!(PrivateKey::from_pem(&encrypted, Some("")).unwrap_err(), Error::Invalid(_)));
    }

    #[test]
    fn key_types_parse_from_their_names() {
        for key_type in KeyType::ALL {
            assert_eq!(key_type.as_str().parse::<KeyType>().unwrap(), key_type);
        }
        assert!("rsa-1024".parse::<KeyType>().unwrap_err().to_string().contains("ecdsa-p256"));
    }
}
