//! Process plumbing shared by the lab's servers, so each `main` stays a few lines long:
//! logging set up from `RUST_LOG`, the signals that stop a server, the exit on bad settings,
//! [`serve`], the HTTP accept loop with the limits a public-facing lab needs, and [`args`], the
//! `LAB_*` flags that more than one binary takes.

pub mod args;
pub mod serve;

pub use serve::serve;

use cors_policy::ConfigErrors;

/// `RUST_LOG`-driven logging to stderr (default: `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

/// Completes on Ctrl-C or SIGTERM (what `docker stop` sends).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Prints every configuration problem and exits with code 2, the convention for bad usage.
pub fn exit_with(errors: ConfigErrors) -> ! {
    eprint!("{errors}");
    std::process::exit(2)
}

/// Binds `addr`, or exits with code 1 and a message naming the address.
pub async fn bind_or_exit(addr: std::net::SocketAddr) -> tokio::net::TcpListener {
    match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    }
}

/// A fresh 128-bit secret as 32 hex digits, from the standard library's randomly keyed hasher
/// (seeded from the OS), so the lab needs no extra dependency for one secret per start.
pub fn random_secret() -> String {
    use std::hash::{BuildHasher, Hasher};
    let half = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.finish()
    };
    format!("{:016x}{:016x}", half(), half())
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_differ_and_are_hex() {
        let (a, b) = (super::random_secret(), super::random_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    }
}
