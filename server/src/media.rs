//! Course media over HTTP: serving lesson files with range requests, and
//! receiving administrators' uploads from the form and the REST API.
//!
//! Uploads are the one kind of request allowed a large body and a long
//! time; [`limit_request`] gives every other request the usual limits.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use app::domain::courses;
use app::domain::media::{self, MediaKind, ReceivedFile};
use app::entity::media_blob;
use app::error::AppError;
use app::model::Viewer;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Multipart, Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tower::ServiceExt;
use tower_http::services::ServeFile;

/// The file name under which a lesson's captions are served.
const CAPTIONS_FILE: &str = "captions.vtt";
/// Maximum duration of a lesson upload, for slow district networks.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(3600);

/// The size and time limits of requests.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// Maximum body size of an ordinary request, in bytes.
    pub body_bytes: u64,
    /// Maximum body size of a lesson upload, in bytes.
    pub upload_bytes: u64,
    /// Maximum duration of an ordinary request.
    pub timeout: Duration,
}

/// Returns whether the request uploads a lesson file.
fn is_upload(method: &Method, path: &str) -> bool {
    if method != Method::POST {
        return false;
    }
    let rest = path
        .strip_prefix("/api/v1/admin/courses/")
        .or_else(|| path.strip_prefix("/admin/courses/"));
    rest.and_then(|rest| rest.strip_suffix("/lessons"))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|byte| byte.is_ascii_digit()))
}

/// Limits each request's body size and duration, with larger limits for
/// lesson uploads. A body over the limit gets 413, and a request that takes
/// too long gets 408.
pub async fn limit_request(
    State(limits): State<RequestLimits>,
    request: Request,
    next: Next,
) -> Response {
    let upload = is_upload(request.method(), request.uri().path());
    let (max, timeout) = if upload {
        (limits.upload_bytes, UPLOAD_TIMEOUT)
    } else {
        (limits.body_bytes, limits.timeout)
    };
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, max)));
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// `GET /media/lessons/{lesson}/{file}`: a lesson's file, with range
/// requests and conditional requests. The file name contains the start of
/// the file's hash, so a published lesson's file is cached for good. A
/// draft's file is not cached at all.
pub async fn lesson_file(
    State(state): State<AppState>,
    viewer: Option<axum::Extension<Viewer>>,
    Path((lesson_id, file)): Path<(i64, String)>,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let viewer = viewer.map(|axum::Extension(viewer)| viewer);
    let lesson = match courses::lesson_file(&state.db, viewer.as_ref(), lesson_id).await {
        Ok(found) => found,
        Err(error) => return crate::web::plain_error(&headers, error),
    };
    let cache_control = HeaderValue::from_static(if lesson.published {
        "public, max-age=31536000, immutable"
    } else {
        "private, no-store"
    });

    if file == CAPTIONS_FILE {
        let Some(captions) = lesson.captions_vtt else {
            return crate::web::plain_error(&headers, AppError::NotFound);
        };
        return (
            [
                (
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/vtt; charset=utf-8"),
                ),
                (CACHE_CONTROL, cache_control),
            ],
            captions,
        )
            .into_response();
    }

    let blob = lesson.blob;
    let expected = courses::media_url(lesson_id, &blob.sha256, &blob.content_type);
    if !expected.ends_with(&format!("/{file}")) {
        // The lesson's file was replaced: an old address.
        return crate::web::plain_error(&headers, AppError::NotFound);
    }

    let Some(path) = media::existing_copy(&blob, &state.media.cache_dir).await else {
        // No copy here yet: respond from the database at once, and make
        // the copy in the background for the requests that follow.
        start_copy(&state, &blob);
        return from_database(&state, &blob, &headers, cache_control);
    };
    let mut response = match ServeFile::new(path).oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(error) => {
            tracing::error!(%error, "cannot serve a media file");
            return crate::web::plain_error(&headers, AppError::Internal);
        }
    };
    let response_headers = response.headers_mut();
    if let Ok(content_type) = HeaderValue::from_str(&blob.content_type) {
        response_headers.insert(CONTENT_TYPE, content_type);
    }
    response_headers.insert(CACHE_CONTROL, cache_control);
    response
}

/// Copies being made by this process, by their path, so that many first
/// plays of one file start one copy.
static COPYING: LazyLock<Mutex<HashSet<PathBuf>>> = LazyLock::new(Default::default);

/// Starts copying `blob` to this process's cache, unless a copy is already
/// under way.
fn start_copy(state: &AppState, blob: &media_blob::Model) {
    let path = media::cache_path(&state.media.cache_dir, &blob.sha256, &blob.content_type);
    {
        let Ok(mut copying) = COPYING.lock() else {
            return;
        };
        if !copying.insert(path.clone()) {
            return;
        }
    }
    let db = state.db.clone();
    let cache_dir = state.media.cache_dir.clone();
    let blob = blob.clone();
    tokio::spawn(async move {
        if let Err(error) = media::cached_copy(&db, &blob, &cache_dir).await {
            tracing::warn!(%error, blob = blob.id, "cannot copy a media file to the cache");
        }
        if let Ok(mut copying) = COPYING.lock() {
            copying.remove(&path);
        }
    });
}

/// A byte range a client asked for, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ByteRange {
    first: u64,
    last: u64,
}

/// Reads a `Range` header for a file of `len` bytes. Returns `Ok(None)` for
/// no header, or for one that gets the whole file in response (several
/// ranges, another unit, malformed), and `Err(())` for a single range that
/// lies beyond the file (416).
fn requested_range(header: Option<&HeaderValue>, len: u64) -> Result<Option<ByteRange>, ()> {
    let Some(spec) = header
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().strip_prefix("bytes="))
    else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let range = match (first.trim(), last.trim()) {
        ("", suffix) => match suffix.parse::<u64>() {
            Ok(0) => return Err(()),
            Ok(suffix) => ByteRange {
                first: len.saturating_sub(suffix),
                last: len.saturating_sub(1),
            },
            Err(_) => return Ok(None),
        },
        (first, last) => {
            let Ok(first) = first.parse::<u64>() else {
                return Ok(None);
            };
            let last = match last {
                "" => len.saturating_sub(1),
                last => match last.parse::<u64>() {
                    Ok(last) if last >= first => last.min(len.saturating_sub(1)),
                    _ => return Ok(None),
                },
            };
            ByteRange { first, last }
        }
    };
    if len == 0 || range.first >= len {
        return Err(());
    }
    Ok(Some(range))
}

/// Responds to a request for `blob` from its chunks in the database, with
/// the requested range or the whole file, streamed a few chunks at a time.
fn from_database(
    state: &AppState,
    blob: &media_blob::Model,
    headers: &HeaderMap,
    cache_control: HeaderValue,
) -> Response {
    let len = u64::try_from(blob.byte_len).unwrap_or(0);
    let (status, range) = match requested_range(headers.get(RANGE), len) {
        Ok(Some(range)) => (StatusCode::PARTIAL_CONTENT, range),
        Ok(None) => (
            StatusCode::OK,
            ByteRange {
                first: 0,
                last: len.saturating_sub(1),
            },
        ),
        Err(()) => {
            return (
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(CONTENT_RANGE, format!("bytes */{len}"))],
            )
                .into_response();
        }
    };

    let chunk = media::CHUNK_BYTES as u64;
    let db = state.db.clone();
    let blob_id = blob.id;
    let first_seq = i32::try_from(range.first / chunk).unwrap_or(i32::MAX);
    let stream = futures_util::stream::unfold(first_seq, move |seq| {
        let db = db.clone();
        async move {
            let start = u64::try_from(seq).ok()? * chunk;
            if start > range.last {
                return None;
            }
            let chunks = match media::read_chunks(&db, blob_id, seq, media::CHUNKS_PER_READ).await {
                Ok(chunks) if !chunks.is_empty() => chunks,
                Ok(_) => {
                    tracing::error!(blob = blob_id, seq, "media chunk missing");
                    return Some((Err(std::io::Error::other("media chunk missing")), i32::MAX));
                }
                Err(error) => {
                    return Some((Err(std::io::Error::other(error.to_string())), i32::MAX));
                }
            };
            let mut bytes = Vec::new();
            let mut next = seq;
            for piece in chunks {
                let piece_start = u64::try_from(piece.seq).unwrap_or(0) * chunk;
                let piece_end = piece_start + piece.data.len() as u64;
                let from = range.first.max(piece_start);
                let to = (range.last + 1).min(piece_end);
                if from < to {
                    let offset = usize::try_from(from - piece_start).unwrap_or(0);
                    let until = usize::try_from(to - piece_start).unwrap_or(0);
                    bytes.extend_from_slice(&piece.data[offset..until]);
                }
                next = piece.seq + 1;
            }
            Some((Ok(axum::body::Bytes::from(bytes)), next))
        }
    });

    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    let response_headers = response.headers_mut();
    if let Ok(content_type) = HeaderValue::from_str(&blob.content_type) {
        response_headers.insert(CONTENT_TYPE, content_type);
    }
    response_headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    response_headers.insert(
        CONTENT_LENGTH,
        HeaderValue::from(range.last + 1 - range.first),
    );
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(value) =
            HeaderValue::from_str(&format!("bytes {}-{}/{len}", range.first, range.last))
    {
        response_headers.insert(CONTENT_RANGE, value);
    }
    response_headers.insert(CACHE_CONTROL, cache_control);
    response
}

/// A lesson upload: its titles and its file, received to local disk.
struct LessonUpload {
    title: String,
    title_en: Option<String>,
    captions_vtt: Option<String>,
    file: Option<ReceivedFile>,
}

impl Drop for LessonUpload {
    fn drop(&mut self) {
        if let Some(file) = &self.file {
            let _ = std::fs::remove_file(&file.path);
        }
    }
}

/// Reads the multipart fields `title`, `title_en`, `captions` and `file`,
/// writing the file to a temporary file while hashing it. Rejects files whose first
/// bytes are not those of MP4, WebM or MP3.
async fn receive(state: &AppState, mut multipart: Multipart) -> Result<LessonUpload, AppError> {
    let mut upload = LessonUpload {
        title: String::new(),
        title_en: None,
        captions_vtt: None,
        file: None,
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => return Err(multipart_error(&error)),
        };
        match field.name().unwrap_or_default() {
            "file" => upload.file = receive_file(state, field).await?,
            "title" => {
                upload.title = field
                    .text()
                    .await
                    .map_err(|error| multipart_error(&error))?
            }
            "title_en" => {
                let text = field
                    .text()
                    .await
                    .map_err(|error| multipart_error(&error))?;
                upload.title_en = Some(text).filter(|text| !text.trim().is_empty());
            }
            "captions" => upload.captions_vtt = receive_captions(field).await?,
            _ => {}
        }
    }
    Ok(upload)
}

/// Reads and drops the rest of a rejected upload. When a server responds
/// before reading the body and then closes the connection, browsers report
/// a reset connection instead of showing the response. `limit_request`
/// bounds the body.
async fn drain(mut multipart: Multipart) {
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}

/// Reads the optional captions file: none when no file was chosen.
async fn receive_captions(
    field: axum::extract::multipart::Field<'_>,
) -> Result<Option<String>, AppError> {
    let bytes = field
        .bytes()
        .await
        .map_err(|error| multipart_error(&error))?;
    if bytes.is_empty() {
        return Ok(None);
    }
    if bytes.len() > courses::MAX_CAPTIONS_BYTES {
        return Err(AppError::invalid(
            "captions",
            format!(
                "must be a text file of at most {} bytes",
                courses::MAX_CAPTIONS_BYTES
            ),
        ));
    }
    String::from_utf8(bytes.to_vec())
        .map(Some)
        .map_err(|_| AppError::invalid("captions", "must be a UTF-8 WebVTT file"))
}

fn multipart_error(error: &axum::extract::multipart::MultipartError) -> AppError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge
    } else {
        AppError::BadRequest {
            detail: error.body_text(),
        }
    }
}

async fn receive_file(
    state: &AppState,
    mut field: axum::extract::multipart::Field<'_>,
) -> Result<Option<ReceivedFile>, AppError> {
    let directory = state.media.cache_dir.join("uploads");
    tokio::fs::create_dir_all(&directory)
        .await
        .map_err(io_error)?;
    let path = directory.join(format!("{}.part", uuid::Uuid::new_v4().simple()));
    let mut received = ReceivedFile {
        path,
        kind: MediaKind::Mp4Video,
        sha256: String::new(),
        byte_len: 0,
    };
    let result = write_field(state, &mut field, &mut received).await;
    match result {
        Ok(true) => Ok(Some(received)),
        Ok(false) => {
            let _ = tokio::fs::remove_file(&received.path).await;
            Ok(None)
        }
        Err(error) => {
            let _ = tokio::fs::remove_file(&received.path).await;
            Err(error)
        }
    }
}

/// Streams `field` into `received.path`. Returns false for an empty field,
/// which a form sends when no file was chosen.
async fn write_field(
    state: &AppState,
    field: &mut axum::extract::multipart::Field<'_>,
    received: &mut ReceivedFile,
) -> Result<bool, AppError> {
    let mut out = tokio::fs::File::create(&received.path)
        .await
        .map_err(io_error)?;
    let mut hasher = Sha256::new();
    let mut head: Vec<u8> = Vec::with_capacity(64);
    loop {
        let chunk = match field.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(error) => return Err(multipart_error(&error)),
        };
        received.byte_len += chunk.len() as u64;
        if received.byte_len > state.media.max_upload_bytes {
            return Err(AppError::TooLarge);
        }
        if head.len() < 64 {
            let take = (64 - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await.map_err(io_error)?;
    }
    if received.byte_len == 0 {
        return Ok(false);
    }
    out.flush().await.map_err(io_error)?;
    received.kind = MediaKind::sniff(&head)
        .ok_or_else(|| AppError::invalid("file", "must be an MP4, WebM or MP3 file"))?;
    received.sha256 = media::hex(&hasher.finalize());
    Ok(true)
}

fn io_error(error: std::io::Error) -> AppError {
    tracing::error!(%error, "cannot write an uploaded file");
    AppError::Internal
}

/// Receives an upload for `course_id`, adds it as a lesson, and returns the
/// lesson's id and title.
pub(crate) async fn add_uploaded_lesson(
    state: &AppState,
    viewer: &Viewer,
    course_id: i64,
    multipart: Multipart,
) -> Result<(i64, String), AppError> {
    if let Err(error) = courses::require_editable(&state.db, viewer, course_id).await {
        drain(multipart).await;
        return Err(error);
    }
    let upload = receive(state, multipart).await?;
    let title = upload.title.clone();
    let Some(file) = &upload.file else {
        return Err(AppError::invalid("file", "choose a video or audio file"));
    };
    app::validate::one_line("title", &title, courses::MAX_TITLE_CHARS)?;
    if let Some(captions) = &upload.captions_vtt {
        courses::check_captions(captions)?;
    }

    let now = chrono::Utc::now();
    let blob_id = media::store(&state.db, file, now).await?;
    // The received file is this process's copy from now on, so the first
    // play here needs no copy from the database. The upload folder is inside
    // the cache folder, so this is a rename on one file system.
    let cached = media::cache_path(
        &state.media.cache_dir,
        &file.sha256,
        file.kind.content_type(),
    );
    if let Err(error) = tokio::fs::rename(&file.path, &cached).await {
        tracing::warn!(%error, blob = blob_id, "cannot keep the uploaded file as the local copy");
    }
    let lesson = courses::add_lesson(
        &state.db,
        viewer,
        course_id,
        courses::NewLesson {
            title: &title,
            title_en: upload.title_en.as_deref(),
            blob_id,
            captions_vtt: upload.captions_vtt.as_deref(),
        },
        now,
    )
    .await?;
    Ok((lesson, title))
}

/// `POST /admin/courses/{id}/lessons`: the upload form of the course's
/// administration page (multipart, so it works without JavaScript).
/// Returns to that page, with the error on failure.
pub async fn upload_lesson_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    viewer: Option<axum::Extension<Viewer>>,
    Path(course_id): Path<i64>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let Some(axum::Extension(viewer)) = viewer else {
        return crate::web::plain_error(&headers, AppError::Unauthenticated);
    };
    let page = format!("/admin/courses/{course_id}");
    let multipart = match multipart {
        Ok(multipart) => multipart,
        Err(rejection) => {
            return crate::web::plain_error(
                &headers,
                AppError::BadRequest {
                    detail: rejection.body_text(),
                },
            );
        }
    };
    match add_uploaded_lesson(&state, &viewer, course_id, multipart).await {
        Ok((lesson, _)) => Redirect::to(&format!("{page}?added={lesson}")).into_response(),
        Err(AppError::NotFound) => crate::web::plain_error(&headers, AppError::NotFound),
        Err(error) => {
            use base64::Engine;

            let json = serde_json::to_vec(&error).unwrap_or_default();
            let query = serde_urlencoded::to_string([
                ("__path", app::api::courses::UPLOAD_FORM_PATH.to_owned()),
                (
                    "__err",
                    base64::engine::general_purpose::URL_SAFE.encode(json),
                ),
            ])
            .unwrap_or_default();
            Redirect::to(&format!("{page}?{query}")).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_headers_are_read_as_browsers_send_them() {
        let range =
            |value: &str| requested_range(Some(&HeaderValue::from_str(value).unwrap()), 1000);
        let bytes = |first, last| Ok(Some(ByteRange { first, last }));
        assert_eq!(requested_range(None, 1000), Ok(None));
        assert_eq!(range("bytes=0-"), bytes(0, 999));
        assert_eq!(range("bytes=100-199"), bytes(100, 199));
        assert_eq!(range("bytes=900-5000"), bytes(900, 999), "cut at the end");
        assert_eq!(range("bytes=-100"), bytes(900, 999));
        assert_eq!(range("bytes=-5000"), bytes(0, 999));
        assert_eq!(range("bytes=1000-"), Err(()));
        assert_eq!(range("bytes=-0"), Err(()));
        assert_eq!(
            range("bytes=0-1,5-9"),
            Ok(None),
            "several ranges: the whole file"
        );
        assert_eq!(range("bytes=9-5"), Ok(None));
        assert_eq!(range("items=0-5"), Ok(None));
        assert_eq!(range("bytes=x-5"), Ok(None));
    }

    #[test]
    fn only_lesson_uploads_get_the_large_limit() {
        assert!(is_upload(&Method::POST, "/admin/courses/12/lessons"));
        assert!(is_upload(&Method::POST, "/api/v1/admin/courses/7/lessons"));
        assert!(!is_upload(&Method::GET, "/admin/courses/12/lessons"));
        assert!(!is_upload(&Method::POST, "/admin/courses//lessons"));
        assert!(!is_upload(&Method::POST, "/admin/courses/1x/lessons"));
        assert!(!is_upload(&Method::POST, "/admin/places/import"));
        assert!(!is_upload(
            &Method::POST,
            "/api/v1/admin/courses/7/lessons/extra"
        ));
    }
}
