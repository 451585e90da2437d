//! Connecting to the database, for SQLite and PostgreSQL alike.

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Pool settings that the server reads from its configuration.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// Maximum wait for a connection before a request fails with 503.
    pub acquire_timeout: Duration,
}

/// Opens a pool on `url` (`sqlite://…` or `postgres://…`).
///
/// SQLite gets WAL mode, foreign keys, a busy timeout and `synchronous=NORMAL`,
/// which is durable in WAL mode except against power loss in the last commit.
/// It also reads the database file through a memory map of up to
/// [`SQLITE_MMAP_BYTES`], so that every pooled connection reads the
/// operating system's cached pages in place instead of copying them into
/// its own small page cache.
pub async fn connect(url: &str, settings: &PoolSettings) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(settings.max_connections)
        .min_connections(0)
        .acquire_timeout(settings.acquire_timeout)
        .connect_timeout(settings.acquire_timeout)
        .sqlx_logging(false);
    // A connection to PostgreSQL that sat idle for a second is checked
    // before use and replaced when it broke while the server was away, so
    // Ningyu recovers once it is back. Busy connections skip the check,
    // which costs a round trip per statement. An embedded SQLite file
    // cannot go away.
    if url.starts_with("postgres") {
        options.test_before_acquire_if_idle_for(Duration::from_secs(1));
    } else {
        options.test_before_acquire(false);
    }
    options.map_sqlx_sqlite_opts(|opts| {
        use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};

        opts.create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string())
    });
    Database::connect(options).await
}

/// Largest part of an SQLite database file that is read through a memory
/// map. Address space, not memory: the pages stay in the operating system's
/// cache. An I/O error on a mapped page stops the process (SIGBUS) instead
/// of returning an error, which SQLite's documentation lists as the cost.
pub const SQLITE_MMAP_BYTES: u64 = 256 * 1024 * 1024;

/// Starts a transaction that will write, with this process's turn to
/// write. On SQLite it takes the write lock at `BEGIN` (waiting up to the
/// busy timeout): a transaction that read first and wrote later would
/// fail at once, without waiting, whenever another connection had written
/// in between. PostgreSQL ignores the mode.
///
/// SQLite has one writer at a time. Within one process writers queue on a
/// fair async mutex instead of SQLite's busy handler, which sleeps in
/// steps of up to 100 ms and so lets a burst of bookings pile up. The busy
/// timeout still covers other processes on the same file. Keep the
/// [`WriterTurn`] until the transaction has committed.
pub async fn begin_write(
    db: &DatabaseConnection,
) -> Result<(DatabaseTransaction, WriterTurn), DbErr> {
    let turn = if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        Some(SQLITE_WRITER.clone().lock_owned().await)
    } else {
        None
    };
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    Ok((txn, WriterTurn { _guard: turn }))
}

/// Returns a number that identifies this pool among the pools open in the
/// process, for state kept per database (tests open many).
pub fn pool_id(db: &DatabaseConnection) -> usize {
    // Each pool keeps its connect options in one `Arc` for its lifetime.
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            std::sync::Arc::as_ptr(&db.get_sqlite_connection_pool().connect_options()) as usize
        }
        sea_orm::DatabaseBackend::Postgres => {
            std::sync::Arc::as_ptr(&db.get_postgres_connection_pool().connect_options()) as usize
        }
        _ => 0,
    }
}

/// A process's turn to write to SQLite; nothing on PostgreSQL.
#[derive(Debug)]
pub struct WriterTurn {
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

static SQLITE_WRITER: std::sync::LazyLock<std::sync::Arc<tokio::sync::Mutex<()>>> =
    std::sync::LazyLock::new(|| std::sync::Arc::new(tokio::sync::Mutex::new(())));

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Checks that the database responds to a trivial query.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}
