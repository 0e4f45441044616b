//! Who may use the desk. A loopback address is no boundary against the
//! analyst's own browser, so the desk does what Jupyter's server does:
//!
//! - a secret token per `serve` (random, or read from `--token-file`), in
//!   the printed address; every page and API call must carry it, as
//!   `?token=`, an `Authorization: token ...` header, or the cookie set
//!   after the first visit; compared in constant time;
//! - the `Host` header must name the bound address or `localhost`, so a
//!   page whose domain was rebound to 127.0.0.1 is refused;
//! - a request that changes state must come from the desk's own origin
//!   (`Origin`, or `Referer` when a browser sends no `Origin`) and carry
//!   `Content-Type: application/json`, which a cross-site form cannot send.
//!
//! Every refusal answers before anything is read from or written to the
//! review store.

use std::net::IpAddr;
use std::path::Path;

use anyhow::{Context, Result};
use rand::RngCore;

use crate::review::ReviewError;

/// Bytes of randomness in a generated token (printed as hex).
const TOKEN_BYTES: usize = 24;
/// A token read from a file must be at least this long.
const MIN_TOKEN_LEN: usize = 16;

/// How the desk is protected: its token (None with `--no-token`) and the
/// `Host` values it answers to.
#[derive(Debug, Clone)]
pub struct Access {
    token: Option<String>,
    /// Host names accepted (lower case, without port); empty when the
    /// desk listens on every interface (then any name, the token guarding).
    hosts: Vec<String>,
    port: u16,
}

/// Why a request was refused: the status code and a message for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub message: &'static str,
}

/// What a request showed of itself, taken from its headers and URL.
#[derive(Debug, Default, Clone)]
pub struct RequestFacts<'a> {
    pub host: Option<&'a str>,
    pub origin: Option<&'a str>,
    pub referer: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub cookie: Option<&'a str>,
    /// The URL's query string (after `?`), if any.
    pub query: Option<&'a str>,
    /// GET or HEAD: reads nothing but the store.
    pub safe_method: bool,
}

/// A request that passed: whether its token came in the URL (the caller
/// then sets the cookie and, for pages, redirects to the clean address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Granted {
    pub token_in_url: bool,
}

/// A new random token (OS randomness), as lower-case hex.
pub fn random_token() -> String {
    let mut b = [0u8; TOKEN_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Reads a token from the first line of `path`: at least 16 characters,
/// visible ASCII without spaces, `;` or `,` (it travels in a cookie and a URL).
pub fn token_from_file(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the token file {}", path.display()))?;
    let token = text.lines().next().unwrap_or("").trim().to_string();
    let valid = token.len() >= MIN_TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b";,%&=?#+\"\\".contains(&b));
    if !valid {
        return Err(ReviewError::Access(format!(
            "{}: line 1: the token must be at least {MIN_TOKEN_LEN} visible ASCII characters without spaces or any of ;,%&=?#+\"\\",
            path.display()
        ))
        .into());
    }
    Ok(token)
}

/// Whether `bind` is a loopback address (or `localhost`).
pub fn is_loopback(bind: &str) -> bool {
    let b = bind.trim_start_matches('[').trim_end_matches(']');
    b.eq_ignore_ascii_case("localhost") || b.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a desk without a token on anything but loopback.
pub fn check_bind(has_token: bool, bind: &str) -> Result<()> {
    if has_token || is_loopback(bind) {
        Ok(())
    } else {
        Err(ReviewError::Access(format!(
            "--bind {bind} is not a loopback address: the desk needs its token there (drop --no-token)"
        ))
        .into())
    }
}

fn is_wildcard(bind: &str) -> bool {
    let b = bind.trim_start_matches('[').trim_end_matches(']');
    b.parse::<IpAddr>().is_ok_and(|ip| ip.is_unspecified())
}

/// Equal in constant time for equal lengths (the token's length is no secret).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Access {
    /// The desk's protection for a server bound to `bind:port`. A desk
    /// without a token is refused unless it listens on loopback only.
    pub fn new(token: Option<String>, bind: &str, port: u16) -> Result<Access> {
        check_bind(token.is_some(), bind)?;
        let b = bind
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let hosts = if is_wildcard(bind) {
            Vec::new()
        } else {
            let mut h = vec![b.clone()];
            if is_loopback(bind) {
                for name in ["localhost", "127.0.0.1", "::1"] {
                    if !h.iter().any(|x| x == name) {
                        h.push(name.to_string());
                    }
                }
            }
            h
        };
        Ok(Access { token, hosts, port })
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The cookie's name: one per port, as browsers share cookies across ports.
    pub fn cookie_name(&self) -> String {
        format!("sentinel-desk-{}", self.port)
    }

    /// The `Set-Cookie` value that keeps the token after a first visit.
    pub fn set_cookie(&self) -> Option<String> {
        self.token
            .as_ref()
            .map(|t| format!("{}={t}; Path=/; HttpOnly; SameSite=Strict", self.cookie_name()))
    }

    /// Splits `host[:port]` (or `[v6]:port`) and checks both parts.
    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim();
        let (name, port) = if let Some(rest) = host.strip_prefix('[') {
            match rest.split_once(']') {
                Some((n, p)) => (n, p.strip_prefix(':')),
                None => return false,
            }
        } else {
            match host.rsplit_once(':') {
                Some((n, p)) if !n.contains(':') => (n, Some(p)),
                _ => (host, None),
            }
        };
        // No port means HTTP's default, 80.
        let port = match port {
            Some(p) => p.parse::<u16>().ok(),
            None => Some(80),
        };
        if port != Some(self.port) {
            return false;
        }
        if name.is_empty() {
            return false;
        }
        self.hosts.is_empty() || self.hosts.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    /// Whether `origin` (scheme://host[:port], or a full URL for a Referer)
    /// is the desk's own.
    fn own_origin(&self, origin: &str) -> bool {
        let Some(rest) = origin.trim().strip_prefix("http://") else {
            return false;
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        !authority.contains('@') && self.host_allowed(authority)
    }

    /// The token a request carries: from the URL, the header or the cookie.
    fn presented<'a>(&self, r: &RequestFacts<'a>) -> (Option<&'a str>, Option<&'a str>, Option<&'a str>) {
        let in_url = r
            .query
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("token=")));
        let in_header = r.authorization.and_then(|a| {
            let a = a.trim();
            a.strip_prefix("token ")
                .or_else(|| a.strip_prefix("Token "))
                .or_else(|| a.strip_prefix("Bearer "))
                .map(str::trim)
        });
        let name = self.cookie_name();
        let in_cookie = r.cookie.and_then(|c| {
            c.split(';').find_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                (k == name).then_some(v.trim())
            })
        });
        (in_url, in_header, in_cookie)
    }

    /// Checks a request. Order: `Host` (403), then the token (401), then,
    /// for a state-changing request, its origin and content type (403).
    pub fn check(&self, r: &RequestFacts) -> Result<Granted, Refusal> {
        match r.host {
            Some(h) if self.host_allowed(h) => {}
            _ => {
                return Err(Refusal {
                    status: 403,
                    message: "the Host header does not name this desk",
                })
            }
        }
        let (in_url, in_header, in_cookie) = self.presented(r);
        let mut token_in_url = false;
        if let Some(token) = &self.token {
            let ok = |t: Option<&str>| t.is_some_and(|t| same(t.as_bytes(), token.as_bytes()));
            token_in_url = ok(in_url);
            if !(token_in_url || ok(in_header) || ok(in_cookie)) {
                return Err(Refusal {
                    status: 401,
                    message:
                        "this desk needs its token: open the address that `sentinel review serve` printed",
                });
            }
        }
        if !r.safe_method {
            // A browser sends Origin (or at least Referer) with every POST;
            // a client without either has shown the token itself.
            let from_browser_cookie = in_cookie.is_some() && !token_in_url && in_header.is_none();
            match (r.origin, r.referer) {
                (Some(o), _) if !self.own_origin(o) => {
                    return Err(Refusal {
                        status: 403,
                        message: "a request that changes the review store must come from the desk's own page",
                    })
                }
                (None, Some(rf)) if !self.own_origin(rf) => {
                    return Err(Refusal {
                        status: 403,
                        message: "a request that changes the review store must come from the desk's own page",
                    })
                }
                (None, None) if from_browser_cookie || self.token.is_none() => {
                    return Err(Refusal {
                        status: 403,
                        message:
                            "a request that changes the review store must say where it comes from (Origin)",
                    })
                }
                _ => {}
            }
            let json = r.content_type.is_some_and(|c| {
                c.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
            if !json {
                return Err(Refusal {
                    status: 403,
                    message:
                        "a request that changes the review store must carry Content-Type: application/json",
                });
            }
        }
        Ok(Granted { token_in_url })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "0123456789abcdef0123456789abcdef";

    fn desk() -> Access {
        Access::new(Some(T.into()), "127.0.0.1", 8765).unwrap()
    }

    fn get<'a>(host: &'a str) -> RequestFacts<'a> {
        RequestFacts {
            host: Some(host),
            safe_method: true,
            ..RequestFacts::default()
        }
    }

    #[test]
    fn a_request_without_the_token_is_refused() {
        let a = desk();
        assert_eq!(a.check(&get("127.0.0.1:8765")).unwrap_err().status, 401);
        let wrong = RequestFacts {
            query: Some("token=0123456789abcdef0123456789abcdeX"),
            ..get("127.0.0.1:8765")
        };
        assert_eq!(a.check(&wrong).unwrap_err().status, 401);
        let short = RequestFacts {
            authorization: Some("token 0123"),
            ..get("127.0.0.1:8765")
        };
        assert_eq!(a.check(&short).unwrap_err().status, 401);
    }

    #[test]
    fn the_token_is_taken_from_url_header_or_cookie() {
        let a = desk();
        let q = format!("x=1&token={T}");
        let url = RequestFacts {
            query: Some(&q),
            ..get("localhost:8765")
        };
        assert_eq!(a.check(&url), Ok(Granted { token_in_url: true }));
        let h = format!("token {T}");
        let header = RequestFacts {
            authorization: Some(&h),
            ..get("127.0.0.1:8765")
        };
        assert_eq!(a.check(&header), Ok(Granted { token_in_url: false }));
        let c = format!("other=1; sentinel-desk-8765={T}");
        let cookie = RequestFacts {
            cookie: Some(&c),
            ..get("127.0.0.1:8765")
        };
        assert!(a.check(&cookie).is_ok());
        // Another port's cookie is not this desk's.
        let c = format!("sentinel-desk-9999={T}");
        let other = RequestFacts {
            cookie: Some(&c),
            ..get("127.0.0.1:8765")
        };
        assert_eq!(a.check(&other).unwrap_err().status, 401);
    }

    #[test]
    fn another_host_is_refused_even_with_the_token() {
        let a = desk();
        let h = format!("token {T}");
        for host in [
            "evil.example:8765",
            "evil.example",
            "127.0.0.1:80",
            "localhost",
            "127.0.0.1.evil.example:8765",
            "",
            "[::1",
        ] {
            let r = RequestFacts {
                authorization: Some(&h),
                ..get(host)
            };
            assert_eq!(a.check(&r).unwrap_err().status, 403, "{host}");
        }
        let none = RequestFacts {
            host: None,
            authorization: Some(&h),
            safe_method: true,
            ..RequestFacts::default()
        };
        assert_eq!(a.check(&none).unwrap_err().status, 403);
        for host in ["127.0.0.1:8765", "LOCALHOST:8765", "localhost:8765", "[::1]:8765"] {
            let r = RequestFacts {
                authorization: Some(&h),
                ..get(host)
            };
            assert!(a.check(&r).is_ok(), "{host}");
        }
    }

    #[test]
    fn a_change_must_come_from_the_own_origin_as_json() {
        let a = desk();
        let c = format!("sentinel-desk-8765={T}");
        let post = |origin: Option<&'static str>, ct: Option<&'static str>| {
            let c = c.clone();
            let r = RequestFacts {
                host: Some("127.0.0.1:8765"),
                origin,
                content_type: ct,
                cookie: Some(&c),
                safe_method: false,
                ..RequestFacts::default()
            };
            a.check(&r).map_err(|e| e.status)
        };
        assert!(post(Some("http://127.0.0.1:8765"), Some("application/json")).is_ok());
        assert!(post(
            Some("http://localhost:8765"),
            Some("application/json; charset=utf-8")
        )
        .is_ok());
        assert_eq!(
            post(Some("http://evil.example"), Some("application/json")),
            Err(403)
        );
        assert_eq!(post(Some("null"), Some("application/json")), Err(403));
        assert_eq!(post(Some("http://127.0.0.1:8765"), Some("text/plain")), Err(403));
        assert_eq!(post(Some("http://127.0.0.1:8765"), None), Err(403));
        assert_eq!(
            post(Some("http://127.0.0.1:1"), Some("application/json")),
            Err(403)
        );
        // A browser's cookie alone, with neither Origin nor Referer: refused.
        assert_eq!(post(None, Some("application/json")), Err(403));
        // A client that shows the token itself needs no Origin.
        let h = format!("token {T}");
        let r = RequestFacts {
            host: Some("127.0.0.1:8765"),
            authorization: Some(&h),
            content_type: Some("application/json"),
            ..RequestFacts::default()
        };
        assert!(a.check(&r).is_ok());
    }

    #[test]
    fn no_token_is_for_loopback_only() {
        assert!(Access::new(None, "127.0.0.1", 1).is_ok());
        assert!(Access::new(None, "::1", 1).is_ok());
        let refused = Access::new(None, "0.0.0.0", 1).err().unwrap();
        assert!(matches!(
            refused.downcast_ref::<ReviewError>(),
            Some(ReviewError::Access(_))
        ));
        assert!(Access::new(None, "192.0.2.7", 1).is_err());
        let open = Access::new(None, "127.0.0.1", 1).unwrap();
        assert!(open.check(&get("127.0.0.1:1")).is_ok());
        assert_eq!(open.check(&get("evil.example:1")).unwrap_err().status, 403);
        // Without a token a change still needs the desk's own origin.
        let r = RequestFacts {
            host: Some("127.0.0.1:1"),
            content_type: Some("application/json"),
            ..RequestFacts::default()
        };
        assert_eq!(open.check(&r).unwrap_err().status, 403);
    }

    #[test]
    fn tokens_are_random_and_token_files_are_checked() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 2 * TOKEN_BYTES);
        assert_ne!(a, b);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t");
        std::fs::write(&p, format!("{T}\nignored\n")).unwrap();
        assert_eq!(token_from_file(&p).unwrap(), T);
        std::fs::write(&p, "short\n").unwrap();
        assert!(format!("{:#}", token_from_file(&p).unwrap_err()).contains("line 1"));
        std::fs::write(&p, "0123456789abcdef;0123\n").unwrap();
        assert!(token_from_file(&p).is_err());
    }

    #[test]
    fn wildcard_binds_accept_any_host_name_but_need_the_token() {
        let a = Access::new(Some(T.into()), "0.0.0.0", 80).unwrap();
        assert_eq!(a.check(&get("desk.internal:80")).unwrap_err().status, 401);
        let h = format!("token {T}");
        let r = RequestFacts {
            authorization: Some(&h),
            ..get("desk.internal")
        };
        assert!(a.check(&r).is_ok());
    }
}
