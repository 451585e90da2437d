//! Media files that courses play, kept in the database.
//!
//! A file is one `media_blob` row, named by the SHA-256 of its bytes, and
//! its bytes in `media_chunk` rows of [`CHUNK_BYTES`]. Keeping them in the
//! database lets every server process on one PostgreSQL serve every file
//! with no shared disk. Each process copies a file to its own disk
//! ([`cached_copy`]) the first time it serves it and streams from there, so
//! range requests and repeated plays cost the database nothing.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::entity::{course_lesson, media_blob, media_chunk};
use crate::error::AppError;

/// Size of one stored piece of a file.
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// Chunks read from the database at a time while copying a file to disk.
pub const CHUNKS_PER_READ: i32 = 8;
/// Chunks written in one transaction while storing a file.
const CHUNKS_PER_WRITE: usize = 8;
/// How long a file no lesson plays, or one whose upload never finished,
/// is kept before [`remove_unused`] deletes it.
const UNUSED_GRACE: Duration = Duration::hours(24);

/// The kinds of file a lesson may play, recognised from their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Mp4Video,
    WebmVideo,
    Mp4Audio,
    Mp3Audio,
}

impl MediaKind {
    /// Recognises a file from its first bytes (at least 12 are needed).
    /// The name and type a browser sends are not trusted.
    pub fn sniff(head: &[u8]) -> Option<Self> {
        if head.len() >= 12 && &head[4..8] == b"ftyp" {
            return Some(match &head[8..12] {
                b"M4A " | b"M4B " => Self::Mp4Audio,
                _ => Self::Mp4Video,
            });
        }
        if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
            let window = &head[..head.len().min(64)];
            return window
                .windows(4)
                .any(|bytes| bytes == b"webm")
                .then_some(Self::WebmVideo);
        }
        if head.starts_with(b"ID3")
            || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0)
        {
            return Some(Self::Mp3Audio);
        }
        None
    }

    /// Returns the media type sent with the file.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Mp4Video => "video/mp4",
            Self::WebmVideo => "video/webm",
            Self::Mp4Audio => "audio/mp4",
            Self::Mp3Audio => "audio/mpeg",
        }
    }

    /// Returns the file name extension for the media type.
    pub fn extension_of(content_type: &str) -> &'static str {
        match content_type {
            "video/webm" => "webm",
            "audio/mp4" => "m4a",
            "audio/mpeg" => "mp3",
            _ => "mp4",
        }
    }
}

/// A file received into a local temporary file, with what was learnt from
/// it on the way.
#[derive(Debug, Clone)]
pub struct ReceivedFile {
    pub path: PathBuf,
    pub kind: MediaKind,
    pub sha256: String,
    pub byte_len: u64,
}

/// Stores a received file as a blob and returns the blob's id. A file
/// stored before is not stored again.
///
/// The chunks are written a few at a time, each batch in its own short
/// transaction, so a large upload never holds SQLite's write lock for
/// long. The blob counts only once it is marked complete.
pub async fn store(
    db: &DatabaseConnection,
    file: &ReceivedFile,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    if let Some(existing) = media_blob::Entity::find()
        .filter(media_blob::Column::Sha256.eq(&file.sha256))
        .one(db)
        .await
        .map_err(AppError::from_db)?
    {
        if existing.complete {
            return Ok(existing.id);
        }
        // An upload of the same file that did not finish: start again.
        media_blob::Entity::delete_by_id(existing.id)
            .exec(db)
            .await
            .map_err(AppError::from_db)?;
    }
    let byte_len = i64::try_from(file.byte_len).map_err(|_| AppError::TooLarge)?;
    let blob = media_blob::ActiveModel {
        sha256: Set(file.sha256.clone()),
        content_type: Set(file.kind.content_type().to_owned()),
        byte_len: Set(byte_len),
        complete: Set(false),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(AppError::from_db)?;
    if let Err(error) = write_chunks(db, blob.id, &file.path).await {
        // Best effort: an unfinished blob is removed by `remove_unused` too.
        let _ = media_blob::Entity::delete_by_id(blob.id).exec(db).await;
        return Err(error);
    }
    media_blob::Entity::update_many()
        .col_expr(media_blob::Column::Complete, Expr::value(true))
        .filter(media_blob::Column::Id.eq(blob.id))
        .exec(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(blob.id)
}

async fn write_chunks(db: &DatabaseConnection, blob_id: i64, path: &Path) -> Result<(), AppError> {
    let mut source = tokio::fs::File::open(path).await.map_err(io_error)?;
    let mut buffer = vec![0_u8; CHUNK_BYTES];
    let mut seq = 0_i32;
    let mut done = false;
    while !done {
        // A few chunks per transaction keep each turn at SQLite's one
        // writer short, so a booking waits for at most eight chunk writes.
        let (txn, _turn) = crate::db::begin_write(db)
            .await
            .map_err(AppError::from_db)?;
        for _ in 0..CHUNKS_PER_WRITE {
            let filled = read_full(&mut source, &mut buffer).await?;
            if filled > 0 {
                media_chunk::ActiveModel {
                    blob_id: Set(blob_id),
                    seq: Set(seq),
                    data: Set(buffer[..filled].to_vec()),
                }
                .insert(&txn)
                .await
                .map_err(AppError::from_db)?;
                seq += 1;
            }
            if filled < CHUNK_BYTES {
                done = true;
                break;
            }
        }
        txn.commit().await.map_err(AppError::from_db)?;
    }
    Ok(())
}

/// Fills `buffer` from `source` as far as the file allows.
async fn read_full(source: &mut tokio::fs::File, buffer: &mut [u8]) -> Result<usize, AppError> {
    let mut filled = 0;
    while filled < buffer.len() {
        let read = source.read(&mut buffer[filled..]).await.map_err(io_error)?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    Ok(filled)
}

fn io_error(error: std::io::Error) -> AppError {
    tracing::error!(%error, "media file input or output failed");
    AppError::Internal
}

/// Returns where this process keeps its copy of the file with `sha256`.
pub fn cache_path(cache_dir: &Path, sha256: &str, content_type: &str) -> PathBuf {
    cache_dir.join(format!(
        "{sha256}.{}",
        MediaKind::extension_of(content_type)
    ))
}

/// Returns the path of this process's complete copy of `blob`, if it has
/// one.
pub async fn existing_copy(blob: &media_blob::Model, cache_dir: &Path) -> Option<PathBuf> {
    let path = cache_path(cache_dir, &blob.sha256, &blob.content_type);
    let metadata = tokio::fs::metadata(&path).await.ok()?;
    (i64::try_from(metadata.len()).ok() == Some(blob.byte_len)).then_some(path)
}

/// Reads up to `count` chunks of the blob from `first` on, in order.
pub async fn read_chunks(
    db: &impl ConnectionTrait,
    blob_id: i64,
    first: i32,
    count: i32,
) -> Result<Vec<media_chunk::Model>, AppError> {
    media_chunk::Entity::find()
        .filter(media_chunk::Column::BlobId.eq(blob_id))
        .filter(media_chunk::Column::Seq.gte(first))
        .filter(media_chunk::Column::Seq.lt(first.saturating_add(count)))
        .order_by_asc(media_chunk::Column::Seq)
        .all(db)
        .await
        .map_err(AppError::from_db)
}

/// Returns the path of this process's copy of `blob` under `cache_dir`,
/// copying it from the database first when there is none.
///
/// The copy is written under a temporary name, checked against the blob's
/// length and hash, and renamed into place, so a reader never sees half a
/// file and two requests copying at once do no harm.
pub async fn cached_copy(
    db: &impl ConnectionTrait,
    blob: &media_blob::Model,
    cache_dir: &Path,
) -> Result<PathBuf, AppError> {
    if let Some(path) = existing_copy(blob, cache_dir).await {
        return Ok(path);
    }
    let path = cache_path(cache_dir, &blob.sha256, &blob.content_type);
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    tokio::fs::create_dir_all(cache_dir)
        .await
        .map_err(io_error)?;
    let partial = cache_dir.join(format!(".{name}.{}.part", uuid::Uuid::new_v4().simple()));
    let result = copy_out(db, blob, &partial).await;
    if let Err(error) = result {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(error);
    }
    tokio::fs::rename(&partial, &path).await.map_err(io_error)?;
    Ok(path)
}

async fn copy_out(
    db: &impl ConnectionTrait,
    blob: &media_blob::Model,
    target: &Path,
) -> Result<(), AppError> {
    let mut file = tokio::fs::File::create(target).await.map_err(io_error)?;
    let mut hasher = Sha256::new();
    let mut written = 0_i64;
    let mut next = 0_i32;
    loop {
        let chunks = read_chunks(db, blob.id, next, CHUNKS_PER_READ).await?;
        if chunks.is_empty() {
            break;
        }
        for chunk in &chunks {
            if chunk.seq != next {
                tracing::error!(blob = blob.id, seq = next, "media chunk missing");
                return Err(AppError::Internal);
            }
            hasher.update(&chunk.data);
            file.write_all(&chunk.data).await.map_err(io_error)?;
            written += chunk.data.len() as i64;
            next += 1;
        }
    }
    file.flush().await.map_err(io_error)?;
    file.sync_all().await.map_err(io_error)?;
    let sha256 = hex(&hasher.finalize());
    if written != blob.byte_len || sha256 != blob.sha256 {
        tracing::error!(
            blob = blob.id,
            written,
            "media blob does not match its hash or length"
        );
        return Err(AppError::Internal);
    }
    Ok(())
}

/// Returns the lower-case hex form of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

/// Deletes blobs that no lesson plays, and uploads that never finished,
/// once they are a day old. Safe to run on every server at once.
pub async fn remove_unused(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, AppError> {
    let used = Query::select()
        .column(course_lesson::Column::BlobId)
        .from(course_lesson::Entity)
        .to_owned();
    let removed = media_blob::Entity::delete_many()
        .filter(media_blob::Column::CreatedAt.lt(now - UNUSED_GRACE))
        .filter(media_blob::Column::Id.not_in_subquery(used))
        .exec(db)
        .await
        .map_err(AppError::from_db)?
        .rows_affected;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_files_by_their_first_bytes() {
        let mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0";
        assert_eq!(MediaKind::sniff(mp4), Some(MediaKind::Mp4Video));
        let m4a = b"\0\0\0\x18ftypM4A \0\0\x02\0";
        assert_eq!(MediaKind::sniff(m4a), Some(MediaKind::Mp4Audio));
        let webm = b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\xF7\x81\x01\x42\x82\x84webm";
        assert_eq!(MediaKind::sniff(webm), Some(MediaKind::WebmVideo));
        let matroska = b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x88matroska";
        assert_eq!(MediaKind::sniff(matroska), None);
        assert_eq!(
            MediaKind::sniff(b"ID3\x04\0\0\0\0\0\0\0\0"),
            Some(MediaKind::Mp3Audio)
        );
        assert_eq!(MediaKind::sniff(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3"), None);
        assert_eq!(MediaKind::sniff(b"<html><body>"), None);
    }

    #[test]
    fn hex_is_lower_case_and_padded() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab]), "000fab");
    }
}
