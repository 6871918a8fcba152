//! Verification keys for `dgp.filter.http.auth.jwt`: key sets built from a secret, a PEM public
//! key or a JWK set, the algorithms each key may verify, and remote JWK sets fetched over
//! HTTP(S) by a background task that refreshes them, keeps the last good set when a fetch fails,
//! and ends when the filter is dropped (on reload).

use arc_swap::ArcSwapOption;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};

/// Largest JWK set document accepted from a remote.
const MAX_JWKS_BYTES: usize = 1 << 20;
/// Shortest time between refreshes asked for by tokens with an unknown key id.
const NUDGE_INTERVAL: Duration = Duration::from_secs(30);
/// First retry delay after a failed fetch (doubling up to the refresh interval).
const RETRY_FIRST: Duration = Duration::from_secs(1);

const RSA_ALGS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];
const HMAC_ALGS: [Algorithm; 3] = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];

/// One verification key and the algorithms it may verify.
pub(crate) struct Key {
    /// `kid`, for JWK-set keys that have one.
    pub(crate) kid: Option<String>,
    /// The algorithms this key verifies (never mixing families).
    pub(crate) algs: Vec<Algorithm>,
    /// The key.
    pub(crate) key: DecodingKey,
}

/// A provider's keys.
#[derive(Default)]
pub(crate) struct KeySet {
    pub(crate) keys: Vec<Key>,
}

fn parse_alg(text: &str) -> Result<Algorithm, String> {
    Algorithm::from_str(text).map_err(|_| format!("unknown algorithm {text:?}"))
}

impl KeySet {
    /// An HMAC secret for `alg`.
    pub(crate) fn from_secret(secret: &[u8], alg: &str) -> Result<KeySet, String> {
        let alg = parse_alg(alg)?;
        if !HMAC_ALGS.contains(&alg) {
            return Err(format!("{alg:?} is not an HMAC algorithm"));
        }
        Ok(KeySet {
            keys: vec![Key {
                kid: None,
                algs: vec![alg],
                key: DecodingKey::from_secret(secret),
            }],
        })
    }

    /// A PEM public key: RSA, EC or Ed25519. Without `alg`, any algorithm of the key's type.
    pub(crate) fn from_pem(pem: &str, alg: Option<&str>) -> Result<KeySet, String> {
        let bytes = pem.as_bytes();
        let (key, family): (DecodingKey, &[Algorithm]) =
            if let Ok(k) = DecodingKey::from_rsa_pem(bytes) {
                (k, &RSA_ALGS)
            } else if let Ok(k) = DecodingKey::from_ec_pem(bytes) {
                (k, &[Algorithm::ES256, Algorithm::ES384])
            } else if let Ok(k) = DecodingKey::from_ed_pem(bytes) {
                (k, &[Algorithm::EdDSA])
            } else {
                return Err("public_key is not an RSA, EC or Ed25519 PEM public key".into());
            };
        let algs = match alg {
            None => family.to_vec(),
            Some(a) => {
                let a = parse_alg(a)?;
                if !family.contains(&a) {
                    return Err(format!(
                        "algorithm {a:?} does not fit the public key's type"
                    ));
                }
                vec![a]
            }
        };
        Ok(KeySet {
            keys: vec![Key {
                kid: None,
                algs,
                key,
            }],
        })
    }

    /// A JWK set document. Keys for encryption, of unsupported types or curves are skipped; a
    /// set without one usable key is an error.
    pub(crate) fn from_jwks(json: &[u8]) -> Result<KeySet, String> {
        let doc: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| format!("JWK set is not JSON: {e}"))?;
        let items = doc
            .get("keys")
            .and_then(serde_json::Value::as_array)
            .ok_or("a JWK set is a JSON object with a \"keys\" list")?;
        let mut keys = Vec::new();
        for item in items {
            let Ok(jwk) = serde_json::from_value::<Jwk>(item.clone()) else {
                continue;
            };
            if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                continue;
            }
            if let Some(key) = Self::jwk_key(&jwk) {
                keys.push(key);
            }
        }
        if keys.is_empty() {
            return Err("the JWK set has no usable signature key".into());
        }
        Ok(KeySet { keys })
    }

    fn jwk_key(jwk: &Jwk) -> Option<Key> {
        let family: Vec<Algorithm> = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => RSA_ALGS.to_vec(),
            AlgorithmParameters::EllipticCurve(p) => match p.curve {
                EllipticCurve::P256 => vec![Algorithm::ES256],
                EllipticCurve::P384 => vec![Algorithm::ES384],
                _ => return None,
            },
            AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
                vec![Algorithm::EdDSA]
            }
            AlgorithmParameters::OctetKeyPair(_) => return None,
            AlgorithmParameters::OctetKey(_) => HMAC_ALGS.to_vec(),
        };
        let algs = match jwk.common.key_algorithm {
            None => family,
            Some(ka) => {
                let a = key_algorithm(ka)?;
                if !family.contains(&a) {
                    return None;
                }
                vec![a]
            }
        };
        let key = DecodingKey::from_jwk(jwk).ok()?;
        Some(Key {
            kid: jwk.common.key_id.clone(),
            algs,
            key,
        })
    }

    /// The keys that may verify a token with this `kid` and `alg`: with a `kid`, only keys of
    /// that id; without, every key.
    pub(crate) fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: Algorithm,
    ) -> impl Iterator<Item = &'a Key> + 'a {
        self.keys
            .iter()
            .filter(move |k| k.algs.contains(&alg) && (kid.is_none() || k.kid.as_deref() == kid))
    }

    /// True when a key has this id.
    pub(crate) fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

fn key_algorithm(ka: KeyAlgorithm) -> Option<Algorithm> {
    Some(match ka {
        KeyAlgorithm::HS256 => Algorithm::HS256,
        KeyAlgorithm::HS384 => Algorithm::HS384,
        KeyAlgorithm::HS512 => Algorithm::HS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

/// A JWK set fetched from a URL and refreshed in the background.
pub(crate) struct RemoteKeys {
    uri: String,
    timeout: Duration,
    keys: ArcSwapOption<KeySet>,
    loaded_tx: watch::Sender<bool>,
    loaded_rx: watch::Receiver<bool>,
    /// Wakes the refresh task early (unknown key id, or this value being dropped).
    wake: Arc<Notify>,
    epoch: Instant,
    last_nudge_ms: AtomicU64,
}

impl Drop for RemoteKeys {
    fn drop(&mut self) {
        // The task holds only a weak reference; waking it lets it see that and end.
        self.wake.notify_one();
    }
}

impl RemoteKeys {
    /// Starts fetching `uri` now and every `refresh`. Needs a tokio runtime.
    pub(crate) fn start(
        uri: &str,
        timeout: Duration,
        refresh: Duration,
    ) -> Result<Arc<RemoteKeys>, String> {
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| "remote_jwks needs the gateway's runtime".to_owned())?;
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .tls_built_in_root_certs(uri.starts_with("https://"))
            .build()
            .map_err(|e| format!("remote_jwks: cannot build an HTTP client: {e}"))?;
        let (loaded_tx, loaded_rx) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let me = Arc::new(RemoteKeys {
            uri: uri.to_owned(),
            timeout,
            keys: ArcSwapOption::empty(),
            loaded_tx,
            loaded_rx,
            wake: Arc::clone(&wake),
            epoch: Instant::now(),
            last_nudge_ms: AtomicU64::new(0),
        });
        handle.spawn(refresh_task(Arc::downgrade(&me), wake, client, refresh));
        Ok(me)
    }

    /// The last good key set, if one was fetched.
    pub(crate) fn current(&self) -> Option<Arc<KeySet>> {
        self.keys.load_full()
    }

    /// Waits (up to the fetch timeout) for the first key set.
    pub(crate) async fn wait_loaded(&self) {
        if *self.loaded_rx.borrow() {
            return;
        }
        let mut rx = self.loaded_rx.clone();
        let _ = tokio::time::timeout(self.timeout, rx.wait_for(|v| *v)).await;
    }

    /// Asks for an early refresh (a token named a key id the set lacks), at most every 30s.
    pub(crate) fn nudge(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.last_nudge_ms.load(Ordering::Relaxed);
        let gap = u64::try_from(NUDGE_INTERVAL.as_millis()).unwrap_or(u64::MAX);
        if (last == 0 || now.saturating_sub(last) >= gap)
            && self
                .last_nudge_ms
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.wake.notify_one();
        }
    }

    fn store(&self, set: KeySet) {
        self.keys.store(Some(Arc::new(set)));
        self.loaded_tx.send_replace(true);
    }
}

async fn fetch(client: &reqwest::Client, uri: &str) -> Result<KeySet, String> {
    let mut resp = client.get(uri).send().await.map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err(format!("JWK set larger than {MAX_JWKS_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    KeySet::from_jwks(&body)
}

async fn refresh_task(
    keys: Weak<RemoteKeys>,
    wake: Arc<Notify>,
    client: reqwest::Client,
    refresh: Duration,
) {
    let mut retry = RETRY_FIRST;
    loop {
        let Some(uri) = keys.upgrade().map(|k| k.uri.clone()) else {
            return;
        };
        let outcome = fetch(&client, &uri).await;
        let Some(k) = keys.upgrade() else {
            return;
        };
        let wait = match outcome {
            Ok(set) => {
                tracing::debug!(uri, keys = set.keys.len(), "JWK set fetched");
                k.store(set);
                retry = RETRY_FIRST;
                refresh
            }
            Err(e) => {
                tracing::warn!(uri, error = %e, "JWK set fetch failed; keeping the last good set");
                let w = retry;
                retry = (retry * 2).min(refresh);
                w
            }
        };
        drop(k);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => {}
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A JWK set with one HMAC key `kid` holding `secret`.
    pub(crate) fn oct_jwks(kid: &str, secret: &[u8]) -> String {
        use base64::Engine;
        let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        format!(r#"{{"keys":[{{"kty":"oct","kid":"{kid}","alg":"HS256","k":"{k}"}}]}}"#)
    }

    #[test]
    fn jwk_sets_skip_what_they_cannot_use() {
        let set = KeySet::from_jwks(oct_jwks("a", b"0123456789abcdef").as_bytes()).unwrap();
        assert_eq!(set.keys.len(), 1);
        assert!(set.has_kid("a"));
        assert_eq!(set.candidates(Some("a"), Algorithm::HS256).count(), 1);
        assert_eq!(set.candidates(Some("b"), Algorithm::HS256).count(), 0);
        assert_eq!(
            set.candidates(None, Algorithm::HS384).count(),
            0,
            "alg pinned"
        );
        let mixed = r#"{"keys":[{"kty":"weird"},{"kty":"oct","use":"enc","k":"AAAA"},{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}]}"#;
        assert_eq!(
            KeySet::from_jwks(mixed.as_bytes()).err().unwrap(),
            "the JWK set has no usable signature key"
        );
        assert!(KeySet::from_jwks(b"[]").is_err());
        assert!(KeySet::from_jwks(b"{").is_err());
    }

    #[test]
    fn secrets_and_pems_pin_their_family() {
        let s = KeySet::from_secret(b"k", "HS384").unwrap();
        assert_eq!(s.keys[0].algs, [Algorithm::HS384]);
        assert!(KeySet::from_secret(b"k", "RS256").is_err());
        assert!(KeySet::from_pem(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            None
        )
        .is_err());
    }
}
