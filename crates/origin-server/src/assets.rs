//! The files of `static/` (scripts, styles, the scenario catalogue), embedded in the binary
//! at build time, so the server needs no files beside it and the lab works offline.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../static/"]
pub struct Static;

/// `GET /static/{path}`.
pub async fn file(Path(path): Path<String>) -> Response {
    serve(&path)
}

/// `GET /scenarios.json`: the scenario catalogue, the one source the page and the tests share.
pub async fn scenarios() -> Response {
    serve("scenarios.json")
}

fn serve(path: &str) -> Response {
    match Static::get(path) {
        Some(file) => {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
            (
                [
                    (header::CONTENT_TYPE, mime.as_ref().to_string()),
                    (header::CACHE_CONTROL, "no-cache".to_string()),
                ],
                file.data.into_owned(),
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
    }
}

/// The catalogue's text, for tests and tools that read it without a server.
pub fn catalogue() -> Option<String> {
    Static::get("scenarios.json").map(|f| String::from_utf8_lossy(&f.data).into_owned())
}
