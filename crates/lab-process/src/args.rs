//! The `LAB_*` flags that several of the lab's binaries take, declared once.
//!
//! `cors-lab` (the launcher), `api-server` and `origin-server` all need to know where the lab's
//! servers are *as a browser reaches them*, and the secret that lets the trusted page switch the
//! API's policy. Each of those flags is declared here, once — its long name, its environment
//! variable, its default and its `--help` line — and each binary `#[command(flatten)]`s the
//! structs it needs into its own `Parser`, so the three cannot drift apart.
//!
//! Not every binary takes every flag, so the flags come in four structs, and a binary flattens
//! exactly the ones whose flags it accepts:
//!
//! | struct | flag | env | `cors-lab` | `api-server` | `origin-server` |
//! |---|---|---|---|---|---|
//! | [`LabOrigins`] | `--api-url`, `--trusted-origin` | `LAB_API_URL`, `LAB_TRUSTED_ORIGIN` | yes | yes | yes |
//! | [`ApiAltUrl`] | `--api-alt-url` | `LAB_API_ALT_URL` | yes | yes | no |
//! | [`UntrustedOrigin`] | `--untrusted-origin` | `LAB_UNTRUSTED_ORIGIN` | yes | no | yes |
//! | [`LabSecret`] | `--lab-secret` | `LAB_SECRET` | yes | yes | yes |
//!
//! (The secret is a struct of its own, rather than part of [`LabOrigins`], so that it stays the
//! last of the `LAB_*` flags in every `--help`.)
//!
//! The values are plain text. Each binary checks them with
//! [`cors_policy::ConfigError::check_lab_origin`] together with its other settings, so that one
//! start reports every problem at once and exits with code 2 (see [`crate::exit_with`]).
//!
//! The `///` line of a field is the help a binary shows for it. Where a binary has something
//! more precise to say about a flag — above all `LAB_SECRET`, whose unset value means something
//! different in each binary — it replaces that line on its own `Parser`, by the field's name:
//!
//! ```
//! use clap::Parser;
//!
//! #[derive(Parser)]
//! #[command(mut_arg("lab_secret", |a| a.help("What the secret means for this binary")))]
//! struct Args {
//!     #[command(flatten)]
//!     origins: lab_process::args::LabOrigins,
//!     #[command(flatten)]
//!     secret: lab_process::args::LabSecret,
//! }
//!
//! let args = Args::parse_from([
//!     "demo",
//!     "--api-url=http://localhost:19090",
//!     "--trusted-origin=http://localhost:18080",
//!     "--lab-secret=",
//! ]);
//! assert_eq!(args.origins.api_url, "http://localhost:19090");
//! assert_eq!(args.origins.trusted_origin, "http://localhost:18080");
//! assert_eq!(args.secret.value(), None, "an empty secret is no secret");
//! ```

use clap::Args;

/// `--api-url` and `--trusted-origin`: the origins every binary needs.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct LabOrigins {
    /// The API's origin, as a browser reaches it.
    #[arg(long, env = "LAB_API_URL", default_value = "http://localhost:9090")]
    pub api_url: String,
    /// The trusted page's origin, as a browser reaches it.
    #[arg(
        long,
        env = "LAB_TRUSTED_ORIGIN",
        default_value = "http://localhost:8080"
    )]
    pub trusted_origin: String,
}

/// `--api-alt-url`: the API under its second origin (the launcher and the API).
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ApiAltUrl {
    /// The same API under a second origin, target of /api/redirect.
    #[arg(long, env = "LAB_API_ALT_URL", default_value = "http://127.0.0.1:9090")]
    pub api_alt_url: String,
}

/// `--untrusted-origin`: the page on another site (the launcher and the origin server).
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct UntrustedOrigin {
    /// The untrusted page's origin (another site), as a browser reaches it.
    #[arg(
        long,
        env = "LAB_UNTRUSTED_ORIGIN",
        default_value = "http://127.0.0.1:8081"
    )]
    pub untrusted_origin: String,
}

/// `--lab-secret`: the secret that lets the trusted page switch the API's policy at runtime.
///
/// Its value is never shown in `--help` (`hide_env_values`). What leaving it unset means
/// depends on the binary, so each one gives it its own help line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct LabSecret {
    /// Secret the trusted page sends to switch the API's policy at runtime.
    #[arg(long, env = "LAB_SECRET", hide_env_values = true)]
    pub lab_secret: Option<String>,
}

impl LabSecret {
    /// The secret, if one was given: an empty `LAB_SECRET=` counts as unset.
    pub fn value(&self) -> Option<&str> {
        self.lab_secret.as_deref().filter(|s| !s.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_secret_is_no_secret() {
        let secret = |s: Option<&str>| LabSecret {
            lab_secret: s.map(String::from),
        };
        assert_eq!(secret(None).value(), None);
        assert_eq!(secret(Some("")).value(), None);
        assert_eq!(secret(Some("s3cret")).value(), Some("s3cret"));
    }
}
