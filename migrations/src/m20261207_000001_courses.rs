//! Parenting courses (家长课堂): courses that administrators publish for
//! children of an age range, their lessons, the media files the lessons
//! play, and how far each account has watched.
//!
//! Media bytes live in the database, in chunks, so that every server
//! process can serve every file and none keeps state of its own. Each
//! process copies a file to its local disk the first time it serves it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Course::Table)
                    .col(big_pk_auto(Course::Id))
                    .col(string_len(Course::Title, 120))
                    .col(string_len_null(Course::TitleEn, 200))
                    .col(text(Course::Summary))
                    .col(text_null(Course::SummaryEn))
                    .col(string_len(Course::Topic, 24))
                    .col(integer(Course::MinAgeMonths))
                    .col(integer(Course::MaxAgeMonths))
                    // The publishing district; empty for the city's courses.
                    .col(string_len_null(Course::DistrictCode, 6))
                    // draft, published or withdrawn.
                    .col(string_len(Course::Status, 16))
                    .col(timestamp_with_time_zone_null(Course::PublishedAt))
                    // Set once the families it suits have been told.
                    .col(timestamp_with_time_zone_null(Course::AnnouncedAt))
                    .col(big_integer_null(Course::CreatedBy))
                    .col(timestamp_with_time_zone(Course::CreatedAt))
                    .col(timestamp_with_time_zone(Course::UpdatedAt))
                    .check(Expr::col(Course::MinAgeMonths).between(0, 36))
                    .check(Expr::col(Course::MaxAgeMonths).between(0, 36))
                    .check(Expr::col(Course::MinAgeMonths).lte(Expr::col(Course::MaxAgeMonths)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_course_status_published")
                    .table(Course::Table)
                    .col(Course::Status)
                    .col(Course::PublishedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MediaBlob::Table)
                    .col(big_pk_auto(MediaBlob::Id))
                    // Hex SHA-256 of the bytes: equal uploads share a blob.
                    .col(string_len_uniq(MediaBlob::Sha256, 64))
                    .col(string_len(MediaBlob::ContentType, 40))
                    .col(big_integer(MediaBlob::ByteLen))
                    // False while its chunks are being written.
                    .col(boolean(MediaBlob::Complete))
                    .col(timestamp_with_time_zone(MediaBlob::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MediaChunk::Table)
                    .col(big_integer(MediaChunk::BlobId))
                    .col(integer(MediaChunk::Seq))
                    .col(blob(MediaChunk::Data))
                    .primary_key(Index::create().col(MediaChunk::BlobId).col(MediaChunk::Seq))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_media_chunk_blob")
                            .from(MediaChunk::Table, MediaChunk::BlobId)
                            .to(MediaBlob::Table, MediaBlob::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CourseLesson::Table)
                    .col(big_pk_auto(CourseLesson::Id))
                    .col(big_integer(CourseLesson::CourseId))
                    .col(integer(CourseLesson::Position))
                    .col(string_len(CourseLesson::Title, 120))
                    .col(string_len_null(CourseLesson::TitleEn, 200))
                    .col(big_integer(CourseLesson::BlobId))
                    // WebVTT captions, for parents who cannot hear the sound.
                    .col(text_null(CourseLesson::CaptionsVtt))
                    .col(timestamp_with_time_zone(CourseLesson::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_course_lesson_course")
                            .from(CourseLesson::Table, CourseLesson::CourseId)
                            .to(Course::Table, Course::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_course_lesson_blob")
                            .from(CourseLesson::Table, CourseLesson::BlobId)
                            .to(MediaBlob::Table, MediaBlob::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_course_lesson_course")
                    .table(CourseLesson::Table)
                    .col(CourseLesson::CourseId)
                    .col(CourseLesson::Position)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_course_lesson_blob")
                    .table(CourseLesson::Table)
                    .col(CourseLesson::BlobId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CourseProgress::Table)
                    .col(big_integer(CourseProgress::AccountId))
                    .col(big_integer(CourseProgress::LessonId))
                    .col(integer(CourseProgress::PositionSeconds))
                    .col(timestamp_with_time_zone_null(CourseProgress::CompletedAt))
                    .col(timestamp_with_time_zone(CourseProgress::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(CourseProgress::AccountId)
                            .col(CourseProgress::LessonId),
                    )
                    // Deleting the account deletes what it watched.
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_course_progress_account")
                            .from(CourseProgress::Table, CourseProgress::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_course_progress_lesson")
                            .from(CourseProgress::Table, CourseProgress::LessonId)
                            .to(CourseLesson::Table, CourseLesson::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Notification::Table)
                    .add_column(big_integer_null(Notification::CourseId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Notification::Table)
                    .drop_column(Notification::CourseId)
                    .to_owned(),
            )
            .await?;
        for table in [
            CourseProgress::Table.into_iden(),
            CourseLesson::Table.into_iden(),
            MediaChunk::Table.into_iden(),
            MediaBlob::Table.into_iden(),
            Course::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Course {
    Table,
    Id,
    Title,
    TitleEn,
    Summary,
    SummaryEn,
    Topic,
    MinAgeMonths,
    MaxAgeMonths,
    DistrictCode,
    Status,
    PublishedAt,
    AnnouncedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MediaBlob {
    Table,
    Id,
    Sha256,
    ContentType,
    ByteLen,
    Complete,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MediaChunk {
    Table,
    BlobId,
    Seq,
    Data,
}

#[derive(DeriveIden)]
enum CourseLesson {
    Table,
    Id,
    CourseId,
    Position,
    Title,
    TitleEn,
    BlobId,
    CaptionsVtt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CourseProgress {
    Table,
    AccountId,
    LessonId,
    PositionSeconds,
    CompletedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Notification {
    Table,
    CourseId,
}
