//! The pages' assets, compiled into the binary: the stylesheet (screen and print), the
//! column sorting of the board, and the live board's script. Served with a long cache
//! lifetime under a name that changes with their content.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../assets/suivi.css");
const SORT_JS: &str = include_str!("../assets/tri.js");
const LIVE_JS: &str = include_str!("../assets/seance.js");

pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "suivi.css" => (CSS, "text/css; charset=utf-8"),
        "tri.js" => (SORT_JS, "text/javascript; charset=utf-8"),
        "seance.js" => (LIVE_JS, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "introuvable").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}
