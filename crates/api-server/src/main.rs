//! The API on its own: `cargo run -p api-server -- --help`.

use clap::Parser;

#[tokio::main]
async fn main() {
    lab_process::init_tracing();
    let (listen, config) = api_server::cli::ApiArgs::parse()
        .resolve()
        .unwrap_or_else(|errors| lab_process::exit_with(errors));
    let listener = lab_process::bind_or_exit(listen).await;
    let listen = listener.local_addr().unwrap_or(listen);
    println!(
        "CORS Lab API on {} (listening on {listen}), policy: {}",
        config.public_url,
        config.policy.preset.name()
    );
    if let Err(e) = api_server::run(listener, config, lab_process::shutdown_signal()).await {
        eprintln!("api-server stopped: {e}");
        std::process::exit(1);
    }
}
