//! The validated policy the engine applies.
//!
//! A [`Policy`] says which origins may read the API's responses, which methods and request
//! headers they may use after a preflight, which response headers script may read, how long a
//! browser may cache a preflight, and whether cookies may ride along. It is built by
//! [`crate::config`], which refuses combinations that browsers reject or that would be unsafe,
//! so the engine can apply it without second-guessing.

use std::collections::HashSet;

use crate::misconfig::Misconfiguration;
use crate::origin::Origin;
use crate::pattern::OriginPattern;

/// A CORS policy, ready for [`crate::engine::decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `false` is the `off` preset: the API sends no CORS headers at all, like a server that
    /// has never heard of CORS.
    pub enabled: bool,
    pub origins: AllowOrigins,
    pub methods: AllowMethods,
    pub headers: AllowHeaders,
    pub expose: ExposeHeaders,
    /// `Access-Control-Max-Age`; `None` sends no header (browsers then cache for 5 s).
    pub max_age: Option<MaxAge>,
    /// Send `Access-Control-Allow-Credentials: true` so credentialed requests may read responses.
    pub credentials: bool,
    /// On a refused preflight from an *allowed* origin, answer 204 with the origin headers only
    /// (instead of 403 without CORS headers), so the browser names the failing method or header.
    pub debug: bool,
    /// A deliberate mistake (only from a `broken-…` preset, never from the normal variables).
    pub misconfiguration: Option<Misconfiguration>,
}

/// Which origins a policy allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowOrigins {
    /// `*`: every origin (never together with credentials).
    Any,
    List(OriginList),
}

/// An allow list: exact origins compared directly while there are a few of them and in a set
/// beyond (lookup cost does not grow with the list), patterns tried one by one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OriginList {
    entries: Vec<OriginPattern>,
    exact: ExactOrigins,
    patterns: Vec<OriginPattern>,
}

/// Up to this many exact origins are compared one by one: cheaper than hashing the request's
/// origin, which a set lookup must do first.
const FEW_ORIGINS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
enum ExactOrigins {
    Few(Vec<String>),
    Many(HashSet<String>),
}

impl Default for ExactOrigins {
    fn default() -> Self {
        ExactOrigins::Few(Vec::new())
    }
}

impl ExactOrigins {
    fn contains(&self, origin: &str) -> bool {
        match self {
            ExactOrigins::Few(list) => list.iter().any(|o| o == origin),
            ExactOrigins::Many(set) => set.contains(origin),
        }
    }
}

impl OriginList {
    pub fn new(entries: Vec<OriginPattern>) -> Self {
        let mut exact = Vec::new();
        let mut patterns = Vec::new();
        for e in &entries {
            match e {
                OriginPattern::Exact(text) => exact.push(text.clone()),
                other => patterns.push(other.clone()),
            }
        }
        let exact = if exact.len() <= FEW_ORIGINS {
            ExactOrigins::Few(exact)
        } else {
            ExactOrigins::Many(exact.into_iter().collect())
        };
        OriginList {
            entries,
            exact,
            patterns,
        }
    }

    /// The entries as configured.
    pub fn entries(&self) -> &[OriginPattern] {
        &self.entries
    }

    /// How `origin` (the raw `Origin` header value) is allowed, if it is. Exact entries are
    /// compared directly or looked up in a set; only patterns are tried one by one.
    pub fn find(&self, origin: &str) -> Option<ListMatch<'_>> {
        if self.exact.contains(origin) {
            return Some(ListMatch::Exact);
        }
        if self.patterns.is_empty() {
            return None;
        }
        let parsed = Origin::parse(origin).ok()?;
        self.patterns
            .iter()
            .find(|p| p.matches(&parsed))
            .map(ListMatch::Pattern)
    }
}

/// How an origin matched an allow list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListMatch<'p> {
    /// The origin itself is on the list.
    Exact,
    /// A subdomain or port pattern covers it.
    Pattern(&'p OriginPattern),
}

/// Which methods a preflight may ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowMethods {
    /// `*`: any method.
    Any,
    /// These names, compared case-sensitively.
    List(Vec<String>),
}

impl AllowMethods {
    pub fn allows(&self, method: &str) -> bool {
        match self {
            AllowMethods::Any => true,
            // The length and first byte tell most names apart without a call to `memcmp`.
            AllowMethods::List(list) => list.iter().any(|m| {
                m.len() == method.len()
                    && m.as_bytes().first() == method.as_bytes().first()
                    && m == method
            }),
        }
    }
}

/// Which request headers a preflight may ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowHeaders {
    /// `*`: any header. The Fetch standard says `*` does not cover `Authorization`, so it is
    /// allowed only when listed as well (`CORS_ALLOW_HEADERS=*,authorization`).
    Any { authorization: bool },
    /// These names (lower case), compared case-insensitively.
    List(Vec<String>),
}

impl AllowHeaders {
    pub fn allows(&self, name: &str) -> bool {
        match self {
            AllowHeaders::Any { authorization } => {
                *authorization || !name.eq_ignore_ascii_case("authorization")
            }
            // The list is lower case, and so are the names browsers send: try bytes first.
            AllowHeaders::List(list) => list
                .iter()
                .any(|h| h.len() == name.len() && (h == name || h.eq_ignore_ascii_case(name))),
        }
    }
}

/// Which response headers script may read, beyond the CORS-safelisted ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExposeHeaders {
    /// `*`: all of them (only without credentials; with credentials `*` is a literal name).
    Any,
    /// These names; an empty list sends no header.
    List(NameList),
}

impl ExposeHeaders {
    /// The `Access-Control-Expose-Headers` value, if one is sent.
    pub fn header_value(&self) -> Option<&str> {
        match self {
            ExposeHeaders::Any => Some("*"),
            ExposeHeaders::List(l) if l.names().is_empty() => None,
            ExposeHeaders::List(l) => Some(l.joined()),
        }
    }
}

/// A list of header names with its header value prepared once, not per request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameList {
    names: Vec<String>,
    joined: String,
}

impl NameList {
    pub fn new(names: Vec<String>) -> Self {
        let joined = names.join(", ");
        NameList { names, joined }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn joined(&self) -> &str {
        &self.joined
    }
}

/// `Access-Control-Max-Age`, with its header text prepared once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxAge {
    seconds: u32,
    text: String,
}

impl MaxAge {
    pub fn new(seconds: u32) -> Self {
        MaxAge {
            seconds,
            text: seconds.to_string(),
        }
    }

    pub fn seconds(&self) -> u32 {
        self.seconds
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}
