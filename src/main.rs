//! `cargo run`: the whole lab. See `cors-lab --help` for every setting.

use std::io::Write;

use clap::Parser;

#[tokio::main]
async fn main() {
    lab_process::init_tracing();
    let args = cors_lab::LabArgs::parse();
    let (addrs, config) = args
        .resolve()
        .unwrap_or_else(|errors| lab_process::exit_with(errors));
    let listeners = cors_lab::Listeners {
        trusted: lab_process::bind_or_exit(addrs.trusted).await,
        untrusted: lab_process::bind_or_exit(addrs.untrusted).await,
        api: lab_process::bind_or_exit(addrs.api).await,
    };
    // The addresses really bound (a port of 0 in LAB_*_LISTEN lets the OS pick).
    let bound = |l: &tokio::net::TcpListener, asked| l.local_addr().unwrap_or(asked);
    let preset = config.api.policy.preset.name();
    // A closed stdout (`cors-lab | head -3`) must not stop the lab: ignore write errors.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "CORS Lab is running (policy: {preset}).");
    let _ = writeln!(
        out,
        "  trusted page    {}   <- open this   (listening on {})",
        config.trusted.trusted_url,
        bound(&listeners.trusted, addrs.trusted)
    );
    let _ = writeln!(
        out,
        "  untrusted page  {}   (listening on {})",
        config.untrusted.untrusted_url,
        bound(&listeners.untrusted, addrs.untrusted)
    );
    let _ = writeln!(
        out,
        "  API             {}   (listening on {})",
        config.api.public_url,
        bound(&listeners.api, addrs.api)
    );
    let _ = writeln!(
        out,
        "Stop with Ctrl-C. Switch policy by restarting, e.g. CORS_PRESET=permissive cargo run"
    );
    drop(out);
    if let Err(e) = cors_lab::run(listeners, config, lab_process::shutdown_signal()).await {
        eprintln!("CORS Lab stopped: {e}");
        std::process::exit(1);
    }
}
