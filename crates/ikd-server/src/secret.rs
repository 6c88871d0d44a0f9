//! Respondent pseudonyms: identifiers (an employee number, say) are stored
//! only as HMAC-SHA256 under a server secret kept outside the database, so the
//! same person maps to the same pseudonym and a copy of the database alone
//! cannot be reversed by hashing every possible employee number.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::Write;
use std::path::Path;

/// Keyed hashing of respondent identifiers.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: Vec<u8>,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymizer(<secret>)")
    }
}

impl Pseudonymizer {
    pub fn new(key: Vec<u8>) -> Self {
        Pseudonymizer { key }
    }

    /// Reads the key file, or creates it with a fresh random key when it does
    /// not exist (first start). Keys shorter than 32 bytes are refused.
    pub fn load_or_create(path: &Path) -> std::io::Result<Self> {
        match std::fs::read(path) {
            Ok(key) if key.len() >= 32 => Ok(Pseudonymizer::new(key)),
            Ok(_) => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{}: a pseudonym key needs at least 32 bytes",
                    path.display()
                ),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = hex::encode(rand::random::<[u8; 32]>()).into_bytes();
                write_private(path, &key)?;
                tracing::info!(path = %path.display(), "created a new pseudonym key");
                Ok(Pseudonymizer::new(key))
            }
            Err(e) => Err(e),
        }
    }

    /// The pseudonym of a respondent identifier: lowercase hex of
    /// HMAC-SHA256(key, identifier).
    pub fn pseudonym(&self, identifier: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(identifier.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Creates `path` readable by its owner only; fails if it exists already, so a
/// secret is never overwritten.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_rfc_4231_test_vector() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        let p = Pseudonymizer::new(b"Jefe".to_vec());
        assert_eq!(
            p.pseudonym("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/pseudonym.key");
        let first = Pseudonymizer::load_or_create(&path).unwrap();
        let again = Pseudonymizer::load_or_create(&path).unwrap();
        assert_eq!(
            first.pseudonym("198001012005011001"),
            again.pseudonym("198001012005011001")
        );
        assert_ne!(first.pseudonym("a"), first.pseudonym("b"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "key readable by others: {mode:o}");
        }
    }
}
