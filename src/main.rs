//! `cargo run`: the whole lab. See `cors-lab --help` for every setting.

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
    println!(
        "CORS Lab is running (policy: {}).",
        config.api.policy.preset.name()
    );
    println!(
        "  trusted page    {}   <- open this",
        config.trusted.trusted_url
    );
    println!("  untrusted page  {}", config.untrusted.untrusted_url);
    println!("  API             {}", config.api.public_url);
    println!(
        "Stop with Ctrl-C. Switch policy by restarting, e.g. CORS_PRESET=permissive cargo run"
    );
    if let Err(e) = cors_lab::run(listeners, config, lab_process::shutdown_signal()).await {
        eprintln!("CORS Lab stopped: {e}");
        std::process::exit(1);
    }
}
