//! From `CORS_*` environment variables to a validated [`Policy`].
//!
//! The user's main knob is a **preset** (`CORS_PRESET`): a named starting point. Each explicit
//! variable then overrides one field of it. Every value — the preset's and the user's — goes
//! through the same parsing and validation, and *all* problems are collected before anything
//! is reported, so one restart shows everything that is wrong. Each [`ConfigError`] names the
//! variable, the value and what would be accepted.
//!
//! Refused on purpose (browsers would reject it, or it would be unsafe):
//! `*` with credentials (origins and exposed headers), `null` origins, origins that are not in
//! browsers' canonical form (path, trailing slash, query, default port, upper case, other
//! schemes), forbidden or malformed method and header names, exposing `Set-Cookie`, a max-age
//! outside 0–86400, a wildcard over a public suffix with credentials, and plain-http origins
//! other than loopback with credentials.

use std::fmt;

use serde::Serialize;

use crate::header::{check_exposed_header_name, check_request_header_name, HeaderNameProblem};
use crate::method::{is_forbidden, is_token, normalize};
use crate::misconfig::Misconfiguration;
use crate::origin::{OriginError, Scheme};
use crate::pattern::{OriginPattern, PatternError};
use crate::policy::{
    AllowHeaders, AllowMethods, AllowOrigins, ExposeHeaders, MaxAge, NameList, OriginList, Policy,
};

/// Largest `CORS_MAX_AGE`: one day (Firefox's cap; Chromium caps at 7200 s, WebKit at 600 s).
pub const MAX_AGE_LIMIT: u64 = 86_400;

/// The named starting points of `CORS_PRESET`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// The trusted lab origin only, with credentials: what a real API should look like.
    Strict,
    /// Any origin, any method and header, no credentials.
    Permissive,
    /// No CORS headers at all: a server that has never heard of CORS.
    Off,
    /// `strict` with one classic mistake, on purpose (see [`Misconfiguration`]).
    Broken(Misconfiguration),
}

impl Serialize for Preset {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl Preset {
    /// Every preset: the three working ones, then the broken ones.
    pub fn all() -> impl Iterator<Item = Preset> {
        [Preset::Strict, Preset::Permissive, Preset::Off]
            .into_iter()
            .chain(Misconfiguration::ALL.into_iter().map(Preset::Broken))
    }

    pub fn name(self) -> &'static str {
        match self {
            Preset::Strict => "strict",
            Preset::Permissive => "permissive",
            Preset::Off => "off",
            Preset::Broken(m) => m.preset_name(),
        }
    }

    pub fn parse(text: &str) -> Option<Preset> {
        Preset::all().find(|p| p.name().eq_ignore_ascii_case(text.trim()))
    }

    pub fn is_broken(self) -> bool {
        matches!(self, Preset::Broken(_))
    }

    /// The preset's value for each field, as the text a user would write in the variable.
    fn defaults(self, trusted_origin: &str) -> FieldValues {
        match self {
            Preset::Strict | Preset::Broken(_) => FieldValues {
                allow_origins: trusted_origin.to_string(),
                allow_methods: "GET,POST,PUT,PATCH,DELETE".into(),
                allow_headers: match self {
                    Preset::Broken(Misconfiguration::NoContentType) => "x-token,authorization",
                    _ => "content-type,x-token,authorization",
                }
                .into(),
                expose_headers: "x-secret".into(),
                max_age: Some("600".into()),
                allow_credentials: "true".into(),
            },
            Preset::Permissive => FieldValues {
                allow_origins: "*".into(),
                allow_methods: "*".into(),
                allow_headers: "*,authorization".into(),
                expose_headers: "*".into(),
                max_age: None,
                allow_credentials: "false".into(),
            },
            Preset::Off => FieldValues {
                allow_origins: String::new(),
                allow_methods: String::new(),
                allow_headers: String::new(),
                expose_headers: String::new(),
                max_age: None,
                allow_credentials: "false".into(),
            },
        }
    }
}

struct FieldValues {
    allow_origins: String,
    allow_methods: String,
    allow_headers: String,
    expose_headers: String,
    max_age: Option<String>,
    allow_credentials: String,
}

/// The raw `CORS_*` values, as read from the environment (or flags). Empty means unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyInput {
    pub preset: Option<String>,
    pub allow_origins: Option<String>,
    pub allow_methods: Option<String>,
    pub allow_headers: Option<String>,
    pub expose_headers: Option<String>,
    pub max_age: Option<String>,
    pub allow_credentials: Option<String>,
    pub debug: Option<String>,
}

/// One field of the effective policy, and where its value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldSource {
    pub name: &'static str,
    pub variable: &'static str,
    /// The value as written (empty: not sent).
    pub value: String,
    /// `"CORS_ALLOW_ORIGINS"` when the user set it, `"preset strict"` otherwise.
    pub source: String,
}

/// A validated policy with its provenance, for the page's policy panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectivePolicy {
    pub preset: Preset,
    #[serde(skip)]
    pub policy: Policy,
    pub fields: Vec<FieldSource>,
}

/// What is wrong with one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    UnknownPreset,
    NotABoolean,
    NotAnInteger,
    MaxAgeOutOfRange,
    EmptyList,
    EmptyEntry,
    WildcardNotAlone,
    InvalidOrigin {
        entry: String,
        error: PatternError,
    },
    WildcardOriginWithCredentials,
    PublicSuffixWithCredentials {
        entry: String,
    },
    InsecureOriginWithCredentials {
        entry: String,
    },
    InvalidMethod {
        entry: String,
    },
    ForbiddenMethod {
        entry: String,
    },
    InvalidHeader {
        entry: String,
        problem: HeaderNameProblem,
    },
    ExposeWildcardWithCredentials,
    IgnoredWhenOff,
    IgnoredWhenBroken,
    /// A lab setting (`LAB_*`) that must be an origin is not one.
    InvalidLabOrigin {
        error: OriginError,
    },
    /// A listen address is not `host:port`.
    InvalidListenAddress,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::UnknownPreset => write!(f, "is not a preset"),
            Problem::NotABoolean => write!(f, "is not a boolean"),
            Problem::NotAnInteger => write!(f, "is not a whole number of seconds"),
            Problem::MaxAgeOutOfRange => write!(f, "is outside 0–{MAX_AGE_LIMIT} seconds"),
            Problem::EmptyList => write!(f, "names nothing"),
            Problem::EmptyEntry => write!(f, "has an empty entry (two commas in a row, or a trailing comma)"),
            Problem::WildcardNotAlone => write!(f, "mixes '*' with other entries; '*' already means every one"),
            Problem::InvalidOrigin { entry, error } => write!(f, "entry '{entry}' {error}"),
            Problem::WildcardOriginWithCredentials => write!(
                f,
                "'*' cannot be combined with credentials (CORS_ALLOW_CREDENTIALS=true): browsers refuse \
                 `Access-Control-Allow-Origin: *` on credentialed requests (WildcardOriginNotAllowed)"
            ),
            Problem::PublicSuffixWithCredentials { entry } => write!(
                f,
                "entry '{entry}' covers a public suffix, so with credentials any site registered under \
                 it could read your users' data"
            ),
            Problem::InsecureOriginWithCredentials { entry } => write!(
                f,
                "entry '{entry}' is plain http on a host other than loopback; with credentials, anyone \
                 on the network path could inject script into that origin and read your users' data"
            ),
            Problem::InvalidMethod { entry } => write!(f, "entry '{entry}' is not a method name (an HTTP token)"),
            Problem::ForbiddenMethod { entry } => write!(f, "entry '{entry}' is a forbidden method; browsers never send it"),
            Problem::InvalidHeader { entry, problem } => match problem {
                HeaderNameProblem::NotAToken => write!(f, "entry '{entry}' is not a header name (an HTTP token)"),
                HeaderNameProblem::AccessControl => write!(
                    f,
                    "entry '{entry}' is a CORS protocol header; browsers set those themselves"
                ),
                HeaderNameProblem::Forbidden => write!(
                    f,
                    "entry '{entry}' is a forbidden header name: script can never set or read it"
                ),
            },
            Problem::ExposeWildcardWithCredentials => write!(
                f,
                "'*' with credentials is a literal header name called '*', not a wildcard, so it \
                 would expose nothing"
            ),
            Problem::IgnoredWhenOff => write!(
                f,
                "has no effect with CORS_PRESET=off, which sends no CORS headers at all"
            ),
            Problem::IgnoredWhenBroken => write!(
                f,
                "cannot change a broken-on-purpose preset, which shows one fixed mistake"
            ),
            Problem::InvalidLabOrigin { error } => write!(f, "is not an origin: it {error}"),
            Problem::InvalidListenAddress => write!(f, "is not a socket address"),
        }
    }
}

/// One invalid value: the variable, the value, the problem and what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub value: String,
    pub problem: Problem,
}

impl ConfigError {
    /// What the variable accepts.
    pub fn accepted(&self) -> &'static str {
        accepted(self.variable, &self.problem)
    }
}

fn accepted(variable: &str, problem: &Problem) -> &'static str {
    match (variable, problem) {
        (_, Problem::IgnoredWhenOff) => "leave it unset, or choose CORS_PRESET=strict or permissive",
        (_, Problem::InvalidLabOrigin { .. }) => {
            "the origin a browser uses to reach that server, such as http://localhost:8080 (no path, no trailing slash)"
        }
        (_, Problem::InvalidListenAddress) => "an IP address and port such as 127.0.0.1:9090 or 0.0.0.0:9090",
        (_, Problem::IgnoredWhenBroken) => {
            "leave it unset: a broken-on-purpose preset is a fixed demonstration (only CORS_DEBUG applies)"
        }
        ("CORS_PRESET", _) => {
            "strict, permissive, off, or a broken-on-purpose preset: broken-trailing-slash, \
             broken-wildcard-credentials, broken-no-content-type, broken-double-origin, \
             broken-auth-preflight, broken-reflect-origin, broken-allow-null"
        }
        ("CORS_ALLOW_ORIGINS", Problem::WildcardOriginWithCredentials) => {
            "a list of origins such as http://localhost:8080,https://app.example.com, or CORS_ALLOW_CREDENTIALS=false"
        }
        ("CORS_ALLOW_ORIGINS", Problem::PublicSuffixWithCredentials { .. }) => {
            "a pattern under a domain you own, such as https://*.example.com"
        }
        ("CORS_ALLOW_ORIGINS", Problem::InsecureOriginWithCredentials { .. }) => {
            "https origins, loopback http origins (localhost, 127.0.0.1), or CORS_ALLOW_CREDENTIALS=false"
        }
        ("CORS_ALLOW_ORIGINS", _) => {
            "'*' alone, or a comma list of origins (https://app.example.com, http://localhost:8080), \
             subdomain patterns (https://*.example.com) and port wildcards (http://localhost:*)"
        }
        ("CORS_ALLOW_METHODS", _) => {
            "'*', or a comma list of method names such as GET,POST,PUT,PATCH,DELETE (not CONNECT, TRACE, TRACK)"
        }
        ("CORS_ALLOW_HEADERS", _) => {
            "'*' (optionally with authorization: *,authorization), or a comma list of header names \
             such as content-type,x-token (not Cookie, Host, Origin, Sec-*, Proxy-*, Access-Control-*)"
        }
        ("CORS_EXPOSE_HEADERS", Problem::ExposeWildcardWithCredentials) => {
            "a list of header names such as x-secret,x-request-id, or CORS_ALLOW_CREDENTIALS=false"
        }
        ("CORS_EXPOSE_HEADERS", _) => "'*', or a comma list of response header names such as x-secret (not Set-Cookie)",
        ("CORS_MAX_AGE", _) => "a whole number of seconds from 0 to 86400",
        _ => "true or false",
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}='{}': {}; accepted: {}",
            self.variable,
            self.value,
            self.problem,
            self.accepted()
        )
    }
}

impl ConfigError {
    /// Checks a lab setting that must be a browser-visible origin (`LAB_API_URL`, …).
    pub fn check_lab_origin(variable: &'static str, value: &str) -> Result<(), ConfigError> {
        crate::origin::Origin::parse(value)
            .map(|_| ())
            .map_err(|error| ConfigError {
                variable,
                value: value.to_string(),
                problem: Problem::InvalidLabOrigin { error },
            })
    }

    /// Parses a listen address (`LAB_API_LISTEN`, …).
    pub fn parse_listen(
        variable: &'static str,
        value: &str,
    ) -> Result<std::net::SocketAddr, ConfigError> {
        value.trim().parse().map_err(|_| ConfigError {
            variable,
            value: value.to_string(),
            problem: Problem::InvalidListenAddress,
        })
    }
}

/// Every problem found in one configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "invalid configuration: {n} problem{}",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Names of the variables, in the order they are documented.
pub const VARIABLES: [&str; 8] = [
    "CORS_PRESET",
    "CORS_ALLOW_ORIGINS",
    "CORS_ALLOW_METHODS",
    "CORS_ALLOW_HEADERS",
    "CORS_EXPOSE_HEADERS",
    "CORS_MAX_AGE",
    "CORS_ALLOW_CREDENTIALS",
    "CORS_DEBUG",
];

impl PolicyInput {
    /// Reads the variables through `lookup` (e.g. `|k| std::env::var(k).ok()`).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        PolicyInput {
            preset: lookup("CORS_PRESET"),
            allow_origins: lookup("CORS_ALLOW_ORIGINS"),
            allow_methods: lookup("CORS_ALLOW_METHODS"),
            allow_headers: lookup("CORS_ALLOW_HEADERS"),
            expose_headers: lookup("CORS_EXPOSE_HEADERS"),
            max_age: lookup("CORS_MAX_AGE"),
            allow_credentials: lookup("CORS_ALLOW_CREDENTIALS"),
            debug: lookup("CORS_DEBUG"),
        }
    }

    /// Takes the variables from `(name, value)` pairs, as tests and tools write them.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        PolicyInput::from_lookup(|k| {
            pairs
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        })
    }

    /// Validates the input. `trusted_origin` is the lab page's origin, which `strict` allows.
    pub fn resolve(&self, trusted_origin: &str) -> Result<EffectivePolicy, ConfigErrors> {
        let mut errors = Vec::new();

        let preset = match set(&self.preset) {
            None => Preset::Strict,
            Some(text) => Preset::parse(text).unwrap_or_else(|| {
                errors.push(ConfigError {
                    variable: "CORS_PRESET",
                    value: text.to_string(),
                    problem: Problem::UnknownPreset,
                });
                Preset::Strict
            }),
        };
        let defaults = preset.defaults(trusted_origin);
        let preset_source = format!("preset {}", preset.name());
        let mut fields = Vec::new();
        // Picks the user's value over the preset's and records where it came from.
        let mut pick = |name: &'static str,
                        variable: &'static str,
                        user: &Option<String>,
                        default: Option<String>|
         -> Option<String> {
            let (value, source) = match set(user) {
                Some(v) => (Some(v.to_string()), variable.to_string()),
                None => (default, preset_source.clone()),
            };
            fields.push(FieldSource {
                name,
                variable,
                value: value.clone().unwrap_or_default(),
                source,
            });
            value
        };

        let credentials_text = pick(
            "allow_credentials",
            "CORS_ALLOW_CREDENTIALS",
            &self.allow_credentials,
            Some(defaults.allow_credentials),
        )
        .unwrap_or_default();
        let origins_text = pick(
            "allow_origins",
            "CORS_ALLOW_ORIGINS",
            &self.allow_origins,
            Some(defaults.allow_origins),
        )
        .unwrap_or_default();
        let methods_text = pick(
            "allow_methods",
            "CORS_ALLOW_METHODS",
            &self.allow_methods,
            Some(defaults.allow_methods),
        )
        .unwrap_or_default();
        let headers_text = pick(
            "allow_headers",
            "CORS_ALLOW_HEADERS",
            &self.allow_headers,
            Some(defaults.allow_headers),
        )
        .unwrap_or_default();
        let expose_text = pick(
            "expose_headers",
            "CORS_EXPOSE_HEADERS",
            &self.expose_headers,
            Some(defaults.expose_headers),
        )
        .unwrap_or_default();
        let max_age_text = pick("max_age", "CORS_MAX_AGE", &self.max_age, defaults.max_age);
        let debug_text =
            pick("debug", "CORS_DEBUG", &self.debug, Some("true".into())).unwrap_or_default();

        let mut err = |variable: &'static str, value: &str, problem: Problem| {
            errors.push(ConfigError {
                variable,
                value: value.to_string(),
                problem,
            })
        };

        let credentials = parse_bool("CORS_ALLOW_CREDENTIALS", &credentials_text, &mut err);
        let debug = parse_bool("CORS_DEBUG", &debug_text, &mut err);

        let fixed_fields = match preset {
            Preset::Off => Some(Problem::IgnoredWhenOff),
            Preset::Broken(_) => Some(Problem::IgnoredWhenBroken),
            _ => None,
        };
        if let Some(problem) = fixed_fields {
            for (variable, user) in [
                ("CORS_ALLOW_ORIGINS", &self.allow_origins),
                ("CORS_ALLOW_METHODS", &self.allow_methods),
                ("CORS_ALLOW_HEADERS", &self.allow_headers),
                ("CORS_EXPOSE_HEADERS", &self.expose_headers),
                ("CORS_MAX_AGE", &self.max_age),
                ("CORS_ALLOW_CREDENTIALS", &self.allow_credentials),
            ] {
                if let Some(v) = set(user) {
                    err(variable, v, problem.clone());
                }
            }
        }
        if preset == Preset::Off {
            return finish(
                errors,
                preset,
                fields,
                Policy {
                    enabled: false,
                    origins: AllowOrigins::List(OriginList::default()),
                    methods: AllowMethods::List(Vec::new()),
                    headers: AllowHeaders::List(Vec::new()),
                    expose: ExposeHeaders::List(NameList::default()),
                    max_age: None,
                    credentials: false,
                    debug,
                    misconfiguration: None,
                },
            );
        }

        let origins = parse_origins(&origins_text, credentials, &mut err);
        let methods = parse_methods(&methods_text, &mut err);
        let headers = parse_headers(&headers_text, &mut err);
        let expose = parse_expose(&expose_text, credentials, &mut err);
        let max_age = max_age_text
            .and_then(|t| parse_max_age(&t, &mut err))
            .map(MaxAge::new);

        let policy = Policy {
            enabled: true,
            origins,
            methods,
            headers,
            expose,
            max_age,
            credentials,
            debug,
            misconfiguration: None,
        };
        let policy = match preset {
            // The only way past validation: a named, labelled mistake applied to `strict`.
            Preset::Broken(mistake) => {
                if let Some(shown) = mistake.effective_origins(trusted_origin) {
                    if let Some(f) = fields.iter_mut().find(|f| f.name == "allow_origins") {
                        f.value = shown;
                    }
                }
                mistake.apply(policy)
            }
            _ => policy,
        };
        finish(errors, preset, fields, policy)
    }
}

/// A variable's value, trimmed; empty counts as unset.
fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn finish(
    errors: Vec<ConfigError>,
    preset: Preset,
    fields: Vec<FieldSource>,
    policy: Policy,
) -> Result<EffectivePolicy, ConfigErrors> {
    if errors.is_empty() {
        Ok(EffectivePolicy {
            preset,
            policy,
            fields,
        })
    } else {
        Err(ConfigErrors(errors))
    }
}

fn parse_bool(
    variable: &'static str,
    text: &str,
    err: &mut impl FnMut(&'static str, &str, Problem),
) -> bool {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" => true,
        "false" => false,
        _ => {
            err(variable, text, Problem::NotABoolean);
            false
        }
    }
}

fn parse_max_age(text: &str, err: &mut impl FnMut(&'static str, &str, Problem)) -> Option<u32> {
    match text.trim().parse::<u64>() {
        Ok(n) if n <= MAX_AGE_LIMIT => Some(n as u32),
        Ok(_) => {
            err("CORS_MAX_AGE", text, Problem::MaxAgeOutOfRange);
            None
        }
        Err(_) => {
            err("CORS_MAX_AGE", text, Problem::NotAnInteger);
            None
        }
    }
}

/// Splits a comma list into trimmed entries; reports an empty list or empty entries.
fn entries<'t>(
    variable: &'static str,
    text: &'t str,
    err: &mut impl FnMut(&'static str, &str, Problem),
) -> Vec<&'t str> {
    let items: Vec<&str> = text.split(',').map(str::trim).collect();
    if items.iter().all(|i| i.is_empty()) {
        err(variable, text, Problem::EmptyList);
        return Vec::new();
    }
    if items.iter().any(|i| i.is_empty()) {
        err(variable, text, Problem::EmptyEntry);
    }
    items.into_iter().filter(|i| !i.is_empty()).collect()
}

fn parse_origins(
    text: &str,
    credentials: bool,
    err: &mut impl FnMut(&'static str, &str, Problem),
) -> AllowOrigins {
    const VAR: &str = "CORS_ALLOW_ORIGINS";
    let items = entries(VAR, text, err);
    if items.contains(&"*") {
        if items.len() > 1 {
            err(VAR, text, Problem::WildcardNotAlone);
        }
        if credentials {
            err(VAR, text, Problem::WildcardOriginWithCredentials);
        }
        return AllowOrigins::Any;
    }
    let mut patterns = Vec::new();
    for entry in items {
        match OriginPattern::parse(entry) {
            Ok(p) => {
                if credentials && p.covers_public_suffix() {
                    err(
                        VAR,
                        text,
                        Problem::PublicSuffixWithCredentials {
                            entry: entry.into(),
                        },
                    );
                } else if credentials && p.scheme() == Scheme::Http && !p.is_loopback_only() {
                    err(
                        VAR,
                        text,
                        Problem::InsecureOriginWithCredentials {
                            entry: entry.into(),
                        },
                    );
                }
                patterns.push(p);
            }
            Err(error) => err(
                VAR,
                text,
                Problem::InvalidOrigin {
                    entry: entry.into(),
                    error,
                },
            ),
        }
    }
    AllowOrigins::List(OriginList::new(patterns))
}

fn parse_methods(text: &str, err: &mut impl FnMut(&'static str, &str, Problem)) -> AllowMethods {
    const VAR: &str = "CORS_ALLOW_METHODS";
    let items = entries(VAR, text, err);
    if items.contains(&"*") {
        if items.len() > 1 {
            err(VAR, text, Problem::WildcardNotAlone);
        }
        return AllowMethods::Any;
    }
    let mut methods = Vec::new();
    for entry in items {
        if !is_token(entry) {
            err(
                VAR,
                text,
                Problem::InvalidMethod {
                    entry: entry.into(),
                },
            );
        } else if is_forbidden(entry) {
            err(
                VAR,
                text,
                Problem::ForbiddenMethod {
                    entry: entry.into(),
                },
            );
        } else {
            methods.push(normalize(entry));
        }
    }
    AllowMethods::List(methods)
}

fn parse_headers(text: &str, err: &mut impl FnMut(&'static str, &str, Problem)) -> AllowHeaders {
    const VAR: &str = "CORS_ALLOW_HEADERS";
    let items = entries(VAR, text, err);
    let mut names = Vec::new();
    let mut wildcard = false;
    for entry in items {
        if entry == "*" {
            wildcard = true;
            continue;
        }
        match check_request_header_name(entry) {
            Ok(()) => names.push(entry.to_ascii_lowercase()),
            Err(problem) => err(
                VAR,
                text,
                Problem::InvalidHeader {
                    entry: entry.into(),
                    problem,
                },
            ),
        }
    }
    if wildcard {
        // Next to '*', only `authorization` adds anything: '*' does not cover it.
        let authorization = names.iter().any(|n| n == "authorization");
        if names.iter().any(|n| n != "authorization") {
            err(VAR, text, Problem::WildcardNotAlone);
        }
        return AllowHeaders::Any { authorization };
    }
    AllowHeaders::List(names)
}

fn parse_expose(
    text: &str,
    credentials: bool,
    err: &mut impl FnMut(&'static str, &str, Problem),
) -> ExposeHeaders {
    const VAR: &str = "CORS_EXPOSE_HEADERS";
    if text.trim().is_empty() {
        return ExposeHeaders::List(NameList::default());
    }
    let items = entries(VAR, text, err);
    if items.contains(&"*") {
        if items.len() > 1 {
            err(VAR, text, Problem::WildcardNotAlone);
        }
        if credentials {
            err(VAR, text, Problem::ExposeWildcardWithCredentials);
        }
        return ExposeHeaders::Any;
    }
    let mut names = Vec::new();
    for entry in items {
        match check_exposed_header_name(entry) {
            Ok(()) => names.push(entry.to_ascii_lowercase()),
            Err(problem) => err(
                VAR,
                text,
                Problem::InvalidHeader {
                    entry: entry.into(),
                    problem,
                },
            ),
        }
    }
    ExposeHeaders::List(NameList::new(names))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAB: &str = "http://localhost:8080";

    fn input(pairs: &[(&str, &str)]) -> PolicyInput {
        PolicyInput::from_pairs(pairs)
    }

    fn errors(pairs: &[(&str, &str)]) -> Vec<ConfigError> {
        input(pairs).resolve(LAB).unwrap_err().0
    }

    #[test]
    fn default_is_strict_for_the_lab_origin() {
        let e = input(&[]).resolve(LAB).unwrap();
        assert_eq!(e.preset, Preset::Strict);
        let p = e.policy;
        assert!(p.enabled && p.credentials && p.debug);
        assert_eq!(p.max_age.map(|m| m.seconds()), Some(600));
        match &p.origins {
            AllowOrigins::List(l) => {
                assert!(l.find(LAB).is_some());
                assert!(l.find("http://127.0.0.1:8081").is_none());
            }
            AllowOrigins::Any => panic!("strict must not allow every origin"),
        }
        assert!(p.methods.allows("PATCH") && !p.methods.allows("patch"));
        assert!(p.headers.allows("Content-Type") && p.headers.allows("x-token"));
        assert!(!p.headers.allows("x-other"));
        assert_eq!(p.expose.header_value(), Some("x-secret"));
        assert!(e.fields.iter().all(|f| f.source == "preset strict"));
    }

    #[test]
    fn explicit_variables_override_the_preset_and_are_credited() {
        let e = input(&[("CORS_PRESET", "permissive"), ("CORS_MAX_AGE", "0")])
            .resolve(LAB)
            .unwrap();
        assert_eq!(e.preset, Preset::Permissive);
        assert_eq!(e.policy.origins, AllowOrigins::Any);
        assert_eq!(e.policy.max_age.map(|m| m.seconds()), Some(0));
        let max_age = e.fields.iter().find(|f| f.name == "max_age").unwrap();
        assert_eq!(
            (max_age.value.as_str(), max_age.source.as_str()),
            ("0", "CORS_MAX_AGE")
        );
        let origins = e.fields.iter().find(|f| f.name == "allow_origins").unwrap();
        assert_eq!(origins.source, "preset permissive");
    }

    #[test]
    fn off_sends_nothing_and_refuses_fields() {
        let e = input(&[("CORS_PRESET", "off")]).resolve(LAB).unwrap();
        assert!(!e.policy.enabled);
        let errs = errors(&[("CORS_PRESET", "off"), ("CORS_ALLOW_ORIGINS", "*")]);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].problem, Problem::IgnoredWhenOff);
    }

    #[test]
    fn wildcard_with_credentials_is_refused_with_a_precise_message() {
        let errs = errors(&[
            ("CORS_ALLOW_ORIGINS", "*"),
            ("CORS_ALLOW_CREDENTIALS", "true"),
        ]);
        assert_eq!(errs.len(), 1, "{errs:?}");
        let text = errs[0].to_string();
        assert!(
            text.starts_with("CORS_ALLOW_ORIGINS='*': '*' cannot be combined with credentials"),
            "{text}"
        );
        assert!(text.contains("accepted: "), "{text}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errs = errors(&[
            ("CORS_PRESET", "lax"),
            (
                "CORS_ALLOW_ORIGINS",
                "null,https://a.com/,https://a.com/x,https://a.com?q,https://a.com:443,ftp://a.com",
            ),
            ("CORS_ALLOW_METHODS", "GET,TRACE,connect,GE T"),
            (
                "CORS_ALLOW_HEADERS",
                "Cookie,Sec-Foo,Proxy-X,Access-Control-Allow-Origin,x y",
            ),
            ("CORS_EXPOSE_HEADERS", "Set-Cookie"),
            ("CORS_MAX_AGE", "86401"),
            ("CORS_ALLOW_CREDENTIALS", "yes"),
            ("CORS_DEBUG", "maybe"),
        ]);
        let vars: Vec<&str> = errs.iter().map(|e| e.variable).collect();
        assert_eq!(
            vars,
            [
                "CORS_PRESET",
                "CORS_ALLOW_CREDENTIALS",
                "CORS_DEBUG",
                "CORS_ALLOW_ORIGINS",
                "CORS_ALLOW_ORIGINS",
                "CORS_ALLOW_ORIGINS",
                "CORS_ALLOW_ORIGINS",
                "CORS_ALLOW_ORIGINS",
                "CORS_ALLOW_ORIGINS",
                "CORS_ALLOW_METHODS",
                "CORS_ALLOW_METHODS",
                "CORS_ALLOW_METHODS",
                "CORS_ALLOW_HEADERS",
                "CORS_ALLOW_HEADERS",
                "CORS_ALLOW_HEADERS",
                "CORS_ALLOW_HEADERS",
                "CORS_ALLOW_HEADERS",
                "CORS_EXPOSE_HEADERS",
                "CORS_MAX_AGE",
            ]
        );
        let all = ConfigErrors(errs).to_string();
        assert!(all.contains("19 problems"), "{all}");
        assert!(all.starts_with("invalid configuration: "), "{all}");
        assert!(
            all.contains("entry 'https://a.com/' ends with '/'"),
            "{all}"
        );
        assert!(all.contains("entry 'TRACE' is a forbidden method"), "{all}");
        assert!(
            all.contains("CORS_MAX_AGE='86401': is outside 0–86400 seconds"),
            "{all}"
        );
    }

    #[test]
    fn credential_safety_rules() {
        let errs = errors(&[("CORS_ALLOW_ORIGINS", "https://*.com")]);
        assert!(matches!(
            errs[0].problem,
            Problem::PublicSuffixWithCredentials { .. }
        ));
        let errs = errors(&[("CORS_ALLOW_ORIGINS", "http://app.example.com")]);
        assert!(matches!(
            errs[0].problem,
            Problem::InsecureOriginWithCredentials { .. }
        ));
        // The same entries are fine without credentials, and loopback http is fine with them.
        for ok in [
            vec![
                ("CORS_ALLOW_ORIGINS", "https://*.com"),
                ("CORS_ALLOW_CREDENTIALS", "false"),
            ],
            vec![(
                "CORS_ALLOW_ORIGINS",
                "http://127.0.0.1:3000,http://localhost:*,https://*.example.com",
            )],
        ] {
            assert!(input(&ok).resolve(LAB).is_ok(), "{ok:?}");
        }
        let errs = errors(&[("CORS_EXPOSE_HEADERS", "*")]);
        assert_eq!(errs[0].problem, Problem::ExposeWildcardWithCredentials);
    }

    #[test]
    fn lists_are_normalized() {
        let e = input(&[
            ("CORS_ALLOW_METHODS", "put, patch ,Delete"),
            ("CORS_ALLOW_HEADERS", "X-Token, Content-Type"),
        ])
        .resolve(LAB)
        .unwrap();
        assert_eq!(
            e.policy.methods,
            AllowMethods::List(vec!["PUT".into(), "patch".into(), "DELETE".into()])
        );
        assert_eq!(
            e.policy.headers,
            AllowHeaders::List(vec!["x-token".into(), "content-type".into()])
        );
        let e = input(&[
            ("CORS_ALLOW_HEADERS", "*,Authorization"),
            ("CORS_ALLOW_CREDENTIALS", "false"),
            ("CORS_EXPOSE_HEADERS", "x-secret"),
        ])
        .resolve(LAB)
        .unwrap();
        assert_eq!(
            e.policy.headers,
            AllowHeaders::Any {
                authorization: true
            }
        );
        let errs = errors(&[("CORS_ALLOW_HEADERS", "*,x-token")]);
        assert_eq!(errs[0].problem, Problem::WildcardNotAlone);
        let errs = errors(&[("CORS_ALLOW_ORIGINS", "https://a.com,,https://b.com")]);
        assert_eq!(errs[0].problem, Problem::EmptyEntry);
    }
}
