//! Where to connect and under which namespace: the `kurrentdb://` URL, and the stream names
//! the namespace gives to suivi's streams and key streams.

use crate::StoreError;
use eventstore::ClientSettings;
use suivi_domain::ids::PupilId;
use suivi_domain::StreamName;

/// The namespace used when the URL names none.
pub const DEFAULT_PREFIX: &str = "suivi";

/// A parsed `kurrentdb://` URL: the client settings and the stream-name namespace.
#[derive(Clone, Debug)]
pub struct Target {
    pub settings: ClientSettings,
    /// Letters, digits and underscores only: no `-` nor `.`, so no namespace's streams can
    /// start with another namespace's `{prefix}-`, and key streams never match it.
    pub prefix: String,
}

impl Target {
    /// Parses `kurrentdb://[user:password@]host[:port][,host:port…][?tls=false&prefix=name&…]`.
    ///
    /// Accepted schemes: `kurrentdb`, `kdb` and `esdb`, each with an optional `+discover`
    /// (DNS / gossip discovery). `prefix` is ours; every other parameter is the client's
    /// (`tls`, `tlsVerifyCert`, `nodePreference`, …).
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let invalid = |reason: String| StoreError::InvalidUrl {
            url: redacted(url),
            reason,
        };
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(invalid(
                "expected kurrentdb://host:port (or kdb://, esdb://, with +discover for a cluster)"
                    .into(),
            ));
        };
        let discover = match scheme.to_ascii_lowercase().as_str() {
            "kurrentdb" | "kdb" | "esdb" => false,
            "kurrentdb+discover" | "kdb+discover" | "esdb+discover" => true,
            other => {
                return Err(invalid(format!(
                "unknown scheme {other:?}; expected kurrentdb, kdb or esdb (optionally +discover)"
            )))
            }
        };
        let (base, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut prefix = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some((key, value)) if key.eq_ignore_ascii_case("prefix") => {
                    check_prefix(value).map_err(&invalid)?;
                    prefix = Some(value.to_owned());
                }
                _ => kept.push(pair),
            }
        }
        let scheme = if discover { "esdb+discover" } else { "esdb" };
        let rebuilt = if kept.is_empty() {
            format!("{scheme}://{base}")
        } else {
            format!("{scheme}://{base}?{}", kept.join("&"))
        };
        let settings: ClientSettings = rebuilt.parse().map_err(|e| {
            // The client's message may quote the URL whole.
            let reason = format!("{e}");
            invalid(match password(url) {
                Some(secret) => reason.replace(secret, "***"),
                None => reason,
            })
        })?;
        Ok(Target {
            settings,
            prefix: prefix.unwrap_or_else(|| DEFAULT_PREFIX.to_owned()),
        })
    }

    /// What every suivi event stream of this namespace starts with (the `$all` filter).
    pub fn events_prefix(&self) -> String {
        format!("{}-", self.prefix)
    }

    /// The KurrentDB stream holding suivi's stream `stream`.
    pub fn stream(&self, stream: &StreamName) -> String {
        format!("{}-{stream}", self.prefix)
    }

    /// suivi's stream name for a KurrentDB stream of this namespace; `None` for any other.
    pub fn suivi_stream(&self, kurrent: &str) -> Option<StreamName> {
        kurrent
            .strip_prefix(self.prefix.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .map(StreamName::new)
    }

    /// The KurrentDB stream holding a pupil's data key: outside the events' namespace, so
    /// keys never get a global position.
    pub fn key_stream(&self, pupil: PupilId) -> String {
        format!("{}.keys-{pupil}", self.prefix)
    }
}

fn check_prefix(prefix: &str) -> Result<(), String> {
    if prefix.is_empty()
        || prefix.len() > 64
        || !prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Err(format!(
            "prefix {prefix:?} must be 1 to 64 letters, digits or underscores"
        ))
    } else {
        Ok(())
    }
}

/// The password of `scheme://user:password@host…`, if any.
fn password(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    Some(password).filter(|p| !p.is_empty())
}

/// The URL with its password replaced, fit for an error message.
fn redacted(url: &str) -> String {
    match password(url) {
        Some(secret) => url.replacen(&format!(":{secret}@"), ":***@", 1),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(url: &str) -> String {
        match Target::parse(url) {
            Err(StoreError::InvalidUrl { reason, .. }) => reason,
            other => panic!("{url}: expected InvalidUrl, got {other:?}"),
        }
    }

    #[test]
    fn parses_host_tls_and_prefix() {
        let t = Target::parse("kurrentdb://localhost:2113?tls=false&prefix=test123").unwrap();
        assert_eq!(t.prefix, "test123");
        assert!(!t.settings.is_secure_mode_enabled());
        assert!(!t.settings.is_dns_discovery_enabled());
        let hosts: Vec<(String, u32)> = t
            .settings
            .hosts()
            .iter()
            .map(|e| (e.host.clone(), e.port))
            .collect();
        assert_eq!(hosts, [("localhost".to_owned(), 2113)]);
    }

    #[test]
    fn defaults_to_the_suivi_prefix_and_tls() {
        let t = Target::parse("kurrentdb://db.example:2113").unwrap();
        assert_eq!(t.prefix, "suivi");
        assert!(t.settings.is_secure_mode_enabled());
    }

    #[test]
    fn accepts_the_other_schemes_and_discovery() {
        for url in [
            "esdb://h:1?tls=false",
            "kdb://h:1?tls=false",
            "KurrentDB://h:1?tls=false",
        ] {
            assert!(!Target::parse(url)
                .unwrap()
                .settings
                .is_dns_discovery_enabled());
        }
        let t = Target::parse("kurrentdb+discover://cluster.example:2113?prefix=a_b").unwrap();
        assert!(t.settings.is_dns_discovery_enabled());
        assert_eq!(t.prefix, "a_b");
    }

    #[test]
    fn refuses_bad_urls_with_a_reason() {
        assert!(reason("kurrentdb://h:2113?prefix=a-b").contains("prefix \"a-b\" must be"));
        assert!(reason("kurrentdb://h:2113?prefix=").contains("prefix \"\" must be"));
        assert!(reason("kurrentdb://h:2113?prefix=a.b").contains("letters, digits or underscores"));
        assert!(reason("postgres://h/db").contains("unknown scheme \"postgres\""));
        assert!(reason("localhost:2113").contains("expected kurrentdb://"));
        assert!(!reason("kurrentdb://h:2113?tls=maybe").is_empty());
    }

    #[test]
    fn error_urls_hide_the_password() {
        match Target::parse("kurrentdb://admin:changeit@h:2113?prefix=a-b") {
            Err(StoreError::InvalidUrl { url, .. }) => {
                assert_eq!(url, "kurrentdb://admin:***@h:2113?prefix=a-b");
            }
            other => panic!("expected InvalidUrl, got {other:?}"),
        }
        assert_eq!(redacted("kurrentdb://h:2113"), "kurrentdb://h:2113");
        assert_eq!(redacted("kurrentdb://u@h:2113"), "kurrentdb://u@h:2113");
        // A reason quoting the URL does not leak it either.
        match Target::parse("kurrentdb://admin:s3cret@h:2113?tls=maybe") {
            Err(StoreError::InvalidUrl { url, reason }) => {
                assert!(
                    !url.contains("s3cret") && !reason.contains("s3cret"),
                    "{url} {reason}"
                );
            }
            other => panic!("expected InvalidUrl, got {other:?}"),
        }
    }

    #[test]
    fn names_streams_inside_the_namespace() {
        let t = Target::parse("kurrentdb://h:2113?prefix=test123").unwrap();
        let s = StreamName::new("assessment-0193");
        assert_eq!(t.stream(&s), "test123-assessment-0193");
        assert_eq!(t.suivi_stream("test123-assessment-0193"), Some(s));
        assert_eq!(t.suivi_stream("test1234-assessment-0193"), None);
        assert_eq!(t.suivi_stream("$$test123-assessment-0193"), None);
        let pupil = PupilId(uuid::Uuid::from_u128(0x1ea));
        let keys = t.key_stream(pupil);
        assert_eq!(keys, format!("test123.keys-{pupil}"));
        assert!(!keys.starts_with(&t.events_prefix()));
        assert_eq!(t.suivi_stream(&keys), None);
    }
}
