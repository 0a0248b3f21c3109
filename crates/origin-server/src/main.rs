//! One page origin on its own: `cargo run -p origin-server -- --help`.

use clap::Parser;

#[tokio::main]
async fn main() {
    lab_process::init_tracing();
    let (listen, config) = origin_server::OriginArgs::parse()
        .resolve()
        .unwrap_or_else(|errors| lab_process::exit_with(errors));
    let listener = lab_process::bind_or_exit(listen).await;
    let listen = listener.local_addr().unwrap_or(listen);
    println!(
        "CORS Lab {} origin on {} (listening on {listen}), API {}",
        config.role.as_str(),
        config.page_origin(),
        config.api_url
    );
    if let Err(e) = origin_server::run(listener, config, lab_process::shutdown_signal()).await {
        eprintln!("origin-server stopped: {e}");
        std::process::exit(1);
    }
}
