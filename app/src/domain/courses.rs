//! Parenting courses (家长课堂, 科学育儿指导): courses for the parents of
//! children of an age range, each a list of video or audio lessons.
//!
//! District administrators write their district's courses and city
//! administrators all of them; families see published ones. A family
//! receives courses two ways: the courses page lists those that suit each
//! child's age in months today, and when a course is published, every
//! guardian with a child of its ages gets a message in the inbox
//! ([`announce_published`]). Signed-in viewers resume a lesson where they
//! stopped; that record is theirs, exported with the family's data and
//! deleted with the account.
//!
//! NOTE: live classes (直播课堂) are not modelled; a course plays files.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Months, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use crate::domain::audit::{self, AuditEntry};
use crate::domain::family::age_in_months;
use crate::entity::{
    child, course, course_lesson, course_progress, delegation, district, family, media_blob,
    notification,
};
use crate::error::AppError;
use crate::model::{
    CourseDetail, CourseInput, CourseStatus, CourseSummary, CourseTopic, CoursesForChild,
    GuidanceReach, LessonProgress, LessonView, MAX_COURSE_AGE_MONTHS, NotificationKind, Page,
    Viewer,
};
use crate::validate::{one_line, optional_one_line};

/// Maximum title length, in characters.
pub const MAX_TITLE_CHARS: usize = 60;
/// Maximum English title length, in characters.
pub const MAX_TITLE_EN_CHARS: usize = 120;
/// Maximum description length, in characters.
pub const MAX_SUMMARY_CHARS: usize = 2_000;
/// Maximum number of lessons in one course.
pub const MAX_LESSONS: u64 = 50;
/// Maximum number of courses on one page of a list.
pub const MAX_PAGE: u32 = 100;
/// Maximum size of a lesson's captions, in bytes.
pub const MAX_CAPTIONS_BYTES: usize = 256 * 1024;
/// Notifications written per statement when a course is announced.
const ANNOUNCE_BATCH: usize = 500;

/// Filters that families apply to the list of courses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CourseFilter {
    pub topic: Option<CourseTopic>,
    /// Only courses for a child of this age in months.
    pub age_months: Option<u32>,
}

/// Returns whether `viewer` may write a course of `district_code`, where
/// `None` is a course of the city.
fn may_edit(viewer: &Viewer, district_code: Option<&str>) -> bool {
    match district_code {
        Some(code) => viewer.administers_district(code),
        None => viewer.is_city_admin(),
    }
}

/// Checks a description: 1 to `MAX_SUMMARY_CHARS` characters, line breaks
/// allowed, other control characters not. Line ends become `\n`.
fn summary_text(field: &'static str, value: &str) -> Result<String, AppError> {
    let value = value.trim().replace("\r\n", "\n");
    let chars = value.chars().count();
    if chars == 0 || chars > MAX_SUMMARY_CHARS || value.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(AppError::invalid(
            field,
            format!("must be 1 to {MAX_SUMMARY_CHARS} characters"),
        ));
    }
    Ok(value)
}

/// A course input after its checks.
struct CheckedCourse {
    title: String,
    title_en: Option<String>,
    summary: String,
    summary_en: Option<String>,
    topic: CourseTopic,
    min_age: i32,
    max_age: i32,
    district_code: Option<String>,
}

async fn check_input(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &CourseInput,
) -> Result<CheckedCourse, AppError> {
    if !viewer.is_admin() {
        return Err(AppError::Forbidden);
    }

    let title = one_line("title", &input.title, MAX_TITLE_CHARS)?;
    let title_en = optional_one_line("title_en", input.title_en.as_deref(), MAX_TITLE_EN_CHARS)?;
    let summary = summary_text("summary", &input.summary)?;
    let summary_en = match input.summary_en.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(summary_text("summary_en", text)?),
    };

    if input.max_age_months > MAX_COURSE_AGE_MONTHS {
        return Err(AppError::invalid(
            "max_age_months",
            format!("must be at most {MAX_COURSE_AGE_MONTHS}"),
        ));
    }
    if input.min_age_months > input.max_age_months {
        return Err(AppError::invalid(
            "min_age_months",
            "must not be above the oldest age",
        ));
    }

    let district_code = match input.district_code.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(code) => Some(code.to_owned()),
    };
    // A district administrator's course belongs to their district when the
    // input names none. They may not write the city's courses.
    let district_code = match district_code {
        Some(code) => Some(code),
        None if viewer.is_city_admin() => None,
        None => viewer
            .district_codes()
            .first()
            .map(|code| (*code).to_owned()),
    };
    if let Some(code) = &district_code {
        let known = district::Entity::find_by_id(code.clone())
            .one(db)
            .await
            .map_err(AppError::from_db)?
            .is_some();
        if !known {
            return Err(AppError::invalid(
                "district_code",
                "is not a known district",
            ));
        }
    }
    if !may_edit(viewer, district_code.as_deref()) {
        return Err(AppError::Forbidden);
    }
    Ok(CheckedCourse {
        title,
        title_en,
        summary,
        summary_en,
        topic: input.topic,
        min_age: i32::try_from(input.min_age_months).unwrap_or(0),
        max_age: i32::try_from(input.max_age_months).unwrap_or(0),
        district_code,
    })
}

/// Creates a draft course and returns its id.
pub async fn create_course(
    db: &DatabaseConnection,
    viewer: &Viewer,
    input: &CourseInput,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let checked = check_input(db, viewer, input).await?;
    let (txn, _turn) = crate::db::begin_write(db)
        .await
        .map_err(AppError::from_db)?;
    let row = course::ActiveModel {
        title: Set(checked.title),
        title_en: Set(checked.title_en),
        summary: Set(checked.summary),
        summary_en: Set(checked.summary_en),
        topic: Set(checked.topic.as_str().to_owned()),
        min_age_months: Set(checked.min_age),
        max_age_months: Set(checked.max_age),
        district_code: Set(checked.district_code),
        status: Set(CourseStatus::Draft.as_str().to_owned()),
        published_at: Set(None),
        announced_at: Set(None),
        created_by: Set(Some(viewer.account_id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(AppError::from_db)?;
    audit_change(
        &txn,
        viewer,
        "course.create",
        (row.id, row.district_code.as_deref()),
        None,
        now,
    )
    .await?;
    txn.commit().await.map_err(AppError::from_db)?;
    Ok(row.id)
}

/// Replaces a course's description, topic, ages and district.
pub async fn update_course(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i64,
    input: &CourseInput,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let checked = check_input(db, viewer, input).await?;
    let (txn, _turn) = crate::db::begin_write(db)
        .await
        .map_err(AppError::from_db)?;
    let existing = editable_course(&txn, viewer, id).await?;
    let old_district = existing.district_code.clone();
    let new_district = checked.district_code.clone();
    let mut row: course::ActiveModel = existing.into();
    row.title = Set(checked.title);
    row.title_en = Set(checked.title_en);
    row.summary = Set(checked.summary);
    row.summary_en = Set(checked.summary_en);
    row.topic = Set(checked.topic.as_str().to_owned());
    row.min_age_months = Set(checked.min_age);
    row.max_age_months = Set(checked.max_age);
    row.district_code = Set(checked.district_code);
    row.updated_at = Set(now);
    row.update(&txn).await.map_err(AppError::from_db)?;

    audit_change(
        &txn,
        viewer,
        "course.update",
        (id, new_district.as_deref()),
        None,
        now,
    )
    .await?;
    if old_district != new_district {
        // The district the course left gets an entry for the move too.
        audit_change(
            &txn,
            viewer,
            "course.move_out",
            (id, old_district.as_deref()),
            Some(json!({ "to": new_district })),
            now,
        )
        .await?;
    }
    txn.commit().await.map_err(AppError::from_db)
}

/// Publishes or withdraws a course, or returns it to draft. A course needs
/// a lesson before it is published. Publishing again after a withdrawal
/// does not tell families a second time.
pub async fn set_status(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i64,
    status: CourseStatus,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let (txn, _turn) = crate::db::begin_write(db)
        .await
        .map_err(AppError::from_db)?;
    let existing = editable_course(&txn, viewer, id).await?;

    if status == CourseStatus::Published {
        let lessons = course_lesson::Entity::find()
            .filter(course_lesson::Column::CourseId.eq(id))
            .count(&txn)
            .await
            .map_err(AppError::from_db)?;
        if lessons == 0 {
            return Err(AppError::Conflict {
                reason: "a course needs a lesson before it is published".to_owned(),
            });
        }
    }
    let published_at = match (status, existing.published_at) {
        (CourseStatus::Published, None) => Some(now),
        (_, earlier) => earlier,
    };
    let district = existing.district_code.clone();
    let mut row: course::ActiveModel = existing.into();
    row.status = Set(status.as_str().to_owned());
    row.published_at = Set(published_at);
    row.updated_at = Set(now);
    row.update(&txn).await.map_err(AppError::from_db)?;
    let action = match status {
        CourseStatus::Draft => "course.draft",
        CourseStatus::Published => "course.publish",
        CourseStatus::Withdrawn => "course.withdraw",
    };
    audit_change(&txn, viewer, action, (id, district.as_deref()), None, now).await?;
    txn.commit().await.map_err(AppError::from_db)
}

/// A lesson about to be added: its titles, the stored file it plays and
/// its captions as uploaded.
#[derive(Debug, Clone, Copy)]
pub struct NewLesson<'a> {
    pub title: &'a str,
    pub title_en: Option<&'a str>,
    pub blob_id: i64,
    pub captions_vtt: Option<&'a str>,
}

/// Checks WebVTT captions: UTF-8 text that starts with `WEBVTT`, at most
/// [`MAX_CAPTIONS_BYTES`]. Line ends become `\n` and a byte order mark is
/// dropped.
pub fn check_captions(text: &str) -> Result<String, AppError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let header_ends = text
        .strip_prefix("WEBVTT")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\n', '\r']));
    if !header_ends {
        return Err(AppError::invalid(
            "captions",
            "must be a WebVTT file starting with WEBVTT",
        ));
    }
    if text.len() > MAX_CAPTIONS_BYTES || text.contains('\0') {
        return Err(AppError::invalid(
            "captions",
            format!("must be a text file of at most {MAX_CAPTIONS_BYTES} bytes"),
        ));
    }
    Ok(text.replace("\r\n", "\n"))
}

/// Adds a lesson at the end of the course and returns its id.
pub async fn add_lesson(
    db: &DatabaseConnection,
    viewer: &Viewer,
    course_id: i64,
    lesson: NewLesson<'_>,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let title = one_line("title", lesson.title, MAX_TITLE_CHARS)?;
    let title_en = optional_one_line("title_en", lesson.title_en, MAX_TITLE_EN_CHARS)?;
    let captions_vtt = lesson.captions_vtt.map(check_captions).transpose()?;
    let blob_id = lesson.blob_id;
    let (txn, _turn) = crate::db::begin_write(db)
        .await
        .map_err(AppError::from_db)?;
    let course = editable_course(&txn, viewer, course_id).await?;
    let lessons = course_lesson::Entity::find()
        .filter(course_lesson::Column::CourseId.eq(course_id))
        .order_by_desc(course_lesson::Column::Position)
        .all(&txn)
        .await
        .map_err(AppError::from_db)?;
    if lessons.len() as u64 >= MAX_LESSONS {
        return Err(AppError::Conflict {
            reason: format!("a course has at most {MAX_LESSONS} lessons"),
        });
    }

    let position = lessons.first().map_or(1, |last| last.position + 1);
    let row = course_lesson::ActiveModel {
        course_id: Set(course_id),
        position: Set(position),
        title: Set(title),
        title_en: Set(title_en),
        blob_id: Set(blob_id),
        captions_vtt: Set(captions_vtt),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(AppError::from_db)?;
    touch(&txn, course_id, now).await?;
    audit_change(
        &txn,
        viewer,
        "course.lesson_add",
        (course_id, course.district_code.as_deref()),
        Some(json!({ "lesson_id": row.id, "blob_id": blob_id })),
        now,
    )
    .await?;
    txn.commit().await.map_err(AppError::from_db)?;
    Ok(row.id)
}

/// Removes a lesson and returns its course's id. The last lesson of a
/// published course is kept, so withdraw the course first.
pub async fn remove_lesson(
    db: &DatabaseConnection,
    viewer: &Viewer,
    lesson_id: i64,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let (txn, _turn) = crate::db::begin_write(db)
        .await
        .map_err(AppError::from_db)?;
    let lesson = course_lesson::Entity::find_by_id(lesson_id)
        .one(&txn)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let existing = editable_course(&txn, viewer, lesson.course_id).await?;
    let lessons = course_lesson::Entity::find()
        .filter(course_lesson::Column::CourseId.eq(lesson.course_id))
        .count(&txn)
        .await
        .map_err(AppError::from_db)?;
    if lessons == 1 && existing.status == CourseStatus::Published.as_str() {
        return Err(AppError::Conflict {
            reason: "a published course keeps at least one lesson".to_owned(),
        });
    }
    course_lesson::Entity::delete_by_id(lesson_id)
        .exec(&txn)
        .await
        .map_err(AppError::from_db)?;
    touch(&txn, lesson.course_id, now).await?;
    audit_change(
        &txn,
        viewer,
        "course.lesson_remove",
        (lesson.course_id, existing.district_code.as_deref()),
        Some(json!({ "lesson_id": lesson_id })),
        now,
    )
    .await?;
    txn.commit().await.map_err(AppError::from_db)?;
    Ok(lesson.course_id)
}

async fn touch(
    txn: &impl ConnectionTrait,
    course_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    course::Entity::update_many()
        .col_expr(course::Column::UpdatedAt, Expr::value(now))
        .filter(course::Column::Id.eq(course_id))
        .exec(txn)
        .await
        .map_err(AppError::from_db)?;
    Ok(())
}

/// Checks that `viewer` may write the course. Returns `NotFound` otherwise,
/// as for a course that does not exist.
pub async fn require_editable(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: i64,
) -> Result<(), AppError> {
    editable_course(db, viewer, id).await.map(|_| ())
}

/// Returns the course if `viewer` may write it, and `NotFound` otherwise.
async fn editable_course(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: i64,
) -> Result<course::Model, AppError> {
    course::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .filter(|row| may_edit(viewer, row.district_code.as_deref()))
        .ok_or(AppError::NotFound)
}

/// Records a change to the course `course_id` of `district_code` (`None`:
/// the city's), so that the district's administrators see it.
async fn audit_change(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    action: &'static str,
    (course_id, district_code): (i64, Option<&str>),
    detail: Option<serde_json::Value>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    audit::record(
        db,
        AuditEntry {
            actor: Some(viewer.account_id),
            on_behalf_of: None,
            district_code: district_code.map(str::to_owned),
            action,
            target_kind: "course",
            target_id: Some(course_id.to_string()),
            detail,
        },
        now,
    )
    .await
}

/// Builds the summaries of `rows`, in their order, with lesson counts,
/// sizes and what `account_id` has finished.
async fn summaries(
    db: &impl ConnectionTrait,
    rows: Vec<course::Model>,
    account_id: Option<i64>,
) -> Result<Vec<CourseSummary>, AppError> {
    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let lessons = course_lesson::Entity::find()
        .filter(course_lesson::Column::CourseId.is_in(ids.clone()))
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let blob_ids: BTreeSet<i64> = lessons.iter().map(|lesson| lesson.blob_id).collect();
    let sizes: HashMap<i64, i64> = media_blob::Entity::find()
        .filter(media_blob::Column::Id.is_in(blob_ids))
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|blob| (blob.id, blob.byte_len))
        .collect();
    let finished: BTreeSet<i64> = match account_id {
        Some(account_id) => course_progress::Entity::find()
            .filter(course_progress::Column::AccountId.eq(account_id))
            .filter(
                course_progress::Column::LessonId
                    .is_in(lessons.iter().map(|lesson| lesson.id).collect::<Vec<_>>()),
            )
            .filter(course_progress::Column::CompletedAt.is_not_null())
            .all(db)
            .await
            .map_err(AppError::from_db)?
            .into_iter()
            .map(|row| row.lesson_id)
            .collect(),
        None => BTreeSet::new(),
    };
    let codes: BTreeSet<String> = rows
        .iter()
        .filter_map(|row| row.district_code.clone())
        .collect();
    let districts: HashMap<String, String> = district::Entity::find()
        .filter(district::Column::Code.is_in(codes))
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|row| (row.code, row.name))
        .collect();
    let mut per_course: HashMap<i64, (u32, u64, u32)> = HashMap::new();
    for lesson in &lessons {
        let entry = per_course.entry(lesson.course_id).or_default();
        entry.0 += 1;
        entry.1 += sizes
            .get(&lesson.blob_id)
            .and_then(|len| u64::try_from(*len).ok())
            .unwrap_or(0);
        if finished.contains(&lesson.id) {
            entry.2 += 1;
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let (lessons, total_bytes, finished) =
                per_course.get(&row.id).copied().unwrap_or_default();
            summary_of(row, lessons, total_bytes, finished, &districts)
        })
        .collect())
}

fn summary_of(
    row: course::Model,
    lessons: u32,
    total_bytes: u64,
    finished: u32,
    districts: &HashMap<String, String>,
) -> CourseSummary {
    CourseSummary {
        id: row.id,
        district_name: row
            .district_code
            .as_ref()
            .and_then(|code| districts.get(code).cloned()),
        title: row.title,
        title_en: row.title_en,
        topic: CourseTopic::parse(&row.topic).unwrap_or(CourseTopic::Parenting),
        min_age_months: u32::try_from(row.min_age_months).unwrap_or(0),
        max_age_months: u32::try_from(row.max_age_months).unwrap_or(0),
        district_code: row.district_code,
        status: CourseStatus::parse(&row.status).unwrap_or(CourseStatus::Draft),
        published_at: row.published_at,
        lessons,
        total_bytes,
        finished,
    }
}

/// Returns published courses, newest first, narrowed by `filter`. An age
/// beyond 36 months or an offset beyond the database's integers is
/// `InvalidQuery`.
pub async fn list_published(
    db: &impl ConnectionTrait,
    filter: CourseFilter,
    account_id: Option<i64>,
    limit: u32,
    offset: u64,
) -> Result<Page<CourseSummary>, AppError> {
    let limit = limit.clamp(1, MAX_PAGE);
    if filter
        .age_months
        .is_some_and(|age| age > MAX_COURSE_AGE_MONTHS)
    {
        return Err(AppError::InvalidQuery {
            field: "age_months".to_owned(),
            reason: format!("must be from 0 to {MAX_COURSE_AGE_MONTHS}"),
        });
    }
    if i64::try_from(offset).is_err() {
        return Err(AppError::InvalidQuery {
            field: "offset".to_owned(),
            reason: "is too large".to_owned(),
        });
    }
    let mut query =
        course::Entity::find().filter(course::Column::Status.eq(CourseStatus::Published.as_str()));
    if let Some(topic) = filter.topic {
        query = query.filter(course::Column::Topic.eq(topic.as_str()));
    }
    if let Some(age) = filter.age_months {
        let age = i32::try_from(age).unwrap_or(i32::MAX);
        query = query
            .filter(course::Column::MinAgeMonths.lte(age))
            .filter(course::Column::MaxAgeMonths.gte(age));
    }
    let total = query.clone().count(db).await.map_err(AppError::from_db)?;
    let rows = query
        .order_by_desc(course::Column::PublishedAt)
        .order_by_desc(course::Column::Id)
        .limit(u64::from(limit))
        .offset(offset)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(Page {
        items: summaries(db, rows, account_id).await?,
        total,
        limit,
        offset,
    })
}

/// Returns, for each child the account looks after (its own and those it
/// cares for), the published courses that suit the child's age today.
pub async fn for_children(
    db: &impl ConnectionTrait,
    account_id: i64,
    today: NaiveDate,
) -> Result<Vec<CoursesForChild>, AppError> {
    let ids = crate::domain::booking::reachable_children(db, account_id).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let children = child::Entity::find()
        .filter(child::Column::Id.is_in(ids))
        .order_by_asc(child::Column::BirthDate)
        .order_by_asc(child::Column::Id)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let courses = course::Entity::find()
        .filter(course::Column::Status.eq(CourseStatus::Published.as_str()))
        .order_by_desc(course::Column::PublishedAt)
        .order_by_desc(course::Column::Id)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let courses = summaries(db, courses, Some(account_id)).await?;
    Ok(children
        .into_iter()
        .filter_map(|row| {
            let age = age_in_months(row.birth_date, today)?;
            let suited = courses
                .iter()
                .filter(|course| course.min_age_months <= age && age <= course.max_age_months)
                .cloned()
                .collect();
            Some(CoursesForChild {
                child_id: row.id,
                child_name: row.display_name,
                age_months: age,
                courses: suited,
            })
        })
        .collect())
}

/// Returns the courses `viewer` may write, newest first: every course for
/// a city administrator, their district's for a district administrator.
pub async fn admin_list(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
) -> Result<Vec<CourseSummary>, AppError> {
    if !viewer.is_admin() {
        return Err(AppError::Forbidden);
    }
    let mut query = course::Entity::find();
    if !viewer.is_city_admin() {
        query = query.filter(course::Column::DistrictCode.is_in(viewer.district_codes()));
    }
    let rows = query
        .order_by_desc(course::Column::UpdatedAt)
        .order_by_desc(course::Column::Id)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    summaries(db, rows, None).await
}

/// Returns the address a lesson's file is served at.
pub fn media_url(lesson_id: i64, sha256: &str, content_type: &str) -> String {
    format!(
        "/media/lessons/{lesson_id}/{}.{}",
        &sha256[..sha256.len().min(16)],
        crate::domain::media::MediaKind::extension_of(content_type)
    )
}

/// Returns a course with its lessons. Families and signed-out visitors get
/// published courses only, and an administrator who may write the course
/// gets it in any state. Anything else is `NotFound`.
pub async fn get_course(
    db: &impl ConnectionTrait,
    viewer: Option<&Viewer>,
    id: i64,
) -> Result<CourseDetail, AppError> {
    let row = course::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let editable = viewer.is_some_and(|viewer| may_edit(viewer, row.district_code.as_deref()));
    if row.status != CourseStatus::Published.as_str() && !editable {
        return Err(AppError::NotFound);
    }
    let summary = row.summary.clone();
    let summary_en = row.summary_en.clone();
    let account_id = viewer.map(|viewer| viewer.account_id);
    let course = summaries(db, vec![row], account_id)
        .await?
        .pop()
        .ok_or(AppError::Internal)?;

    let lessons = course_lesson::Entity::find()
        .filter(course_lesson::Column::CourseId.eq(id))
        .order_by_asc(course_lesson::Column::Position)
        .order_by_asc(course_lesson::Column::Id)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let blobs: HashMap<i64, media_blob::Model> = media_blob::Entity::find()
        .filter(
            media_blob::Column::Id.is_in(
                lessons
                    .iter()
                    .map(|lesson| lesson.blob_id)
                    .collect::<Vec<_>>(),
            ),
        )
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|blob| (blob.id, blob))
        .collect();

    let progress: HashMap<i64, course_progress::Model> = match account_id {
        Some(account_id) => course_progress::Entity::find()
            .filter(course_progress::Column::AccountId.eq(account_id))
            .filter(
                course_progress::Column::LessonId
                    .is_in(lessons.iter().map(|lesson| lesson.id).collect::<Vec<_>>()),
            )
            .all(db)
            .await
            .map_err(AppError::from_db)?
            .into_iter()
            .map(|row| (row.lesson_id, row))
            .collect(),
        None => HashMap::new(),
    };

    let lessons = lessons
        .into_iter()
        .enumerate()
        .filter_map(|(index, lesson)| {
            let blob = blobs.get(&lesson.blob_id)?;
            let watched = progress.get(&lesson.id);
            Some(LessonView {
                id: lesson.id,
                position: u32::try_from(index + 1).unwrap_or(u32::MAX),
                media_url: media_url(lesson.id, &blob.sha256, &blob.content_type),
                captions_url: lesson
                    .captions_vtt
                    .as_ref()
                    .map(|_| format!("/media/lessons/{}/captions.vtt", lesson.id)),
                content_type: blob.content_type.clone(),
                bytes: u64::try_from(blob.byte_len).unwrap_or(0),
                resume_seconds: watched.and_then(|row| u32::try_from(row.position_seconds).ok()),
                finished: watched.is_some_and(|row| row.completed_at.is_some()),
                title: lesson.title,
                title_en: lesson.title_en,
            })
        })
        .collect();
    Ok(CourseDetail {
        course,
        summary,
        summary_en,
        lessons,
        editable,
    })
}

/// The file and captions of a lesson, for the server to send.
#[derive(Debug, Clone)]
pub struct LessonFile {
    pub blob: media_blob::Model,
    pub captions_vtt: Option<String>,
    /// Whether the lesson's course is published, and so may be cached by
    /// anyone.
    pub published: bool,
}

/// Returns the file and captions a lesson plays. Returns `NotFound` when
/// `viewer` may not see the lesson.
pub async fn lesson_file(
    db: &impl ConnectionTrait,
    viewer: Option<&Viewer>,
    lesson_id: i64,
) -> Result<LessonFile, AppError> {
    let lesson = course_lesson::Entity::find_by_id(lesson_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let row = course::Entity::find_by_id(lesson.course_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let published = row.status == CourseStatus::Published.as_str();
    if !published && !viewer.is_some_and(|viewer| may_edit(viewer, row.district_code.as_deref())) {
        return Err(AppError::NotFound);
    }
    let blob = media_blob::Entity::find_by_id(lesson.blob_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .filter(|blob| blob.complete)
        .ok_or(AppError::NotFound)?;
    Ok(LessonFile {
        blob,
        captions_vtt: lesson.captions_vtt,
        published,
    })
}

/// Records where the account stopped in a lesson of a published course.
/// A lesson once finished stays finished.
pub async fn record_progress(
    db: &DatabaseConnection,
    account_id: i64,
    lesson_id: i64,
    progress: LessonProgress,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    // A position beyond a day (86,400 s) is malformed for any lesson.
    if progress.position_seconds > 86_400 {
        return Err(AppError::invalid(
            "position_seconds",
            "must be at most 86400",
        ));
    }
    lesson_file(db, None, lesson_id).await?;
    let row = course_progress::ActiveModel {
        account_id: Set(account_id),
        lesson_id: Set(lesson_id),
        position_seconds: Set(i32::try_from(progress.position_seconds).unwrap_or(i32::MAX)),
        completed_at: Set(progress.finished.then_some(now)),
        updated_at: Set(now),
    };
    let on_conflict = OnConflict::columns([
        course_progress::Column::AccountId,
        course_progress::Column::LessonId,
    ])
    .update_columns([
        course_progress::Column::PositionSeconds,
        course_progress::Column::UpdatedAt,
    ])
    .value(
        course_progress::Column::CompletedAt,
        Expr::cust("COALESCE(course_progress.completed_at, excluded.completed_at)"),
    )
    .to_owned();
    let (txn, _turn) = crate::db::begin_write(db)
        .await
        .map_err(AppError::from_db)?;
    course_progress::Entity::insert(row)
        .on_conflict(on_conflict)
        .exec_without_returning(&txn)
        .await
        .map_err(AppError::from_db)?;
    txn.commit().await.map_err(AppError::from_db)
}

/// Tells the guardians of children whom a newly published course suits:
/// one inbox message per family. Each course is claimed by setting its
/// `announced_at` in the transaction that writes the messages, so several
/// servers running this at once announce a course once. Returns how many
/// messages were written.
pub async fn announce_published(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<u32, AppError> {
    let due = course::Entity::find()
        .filter(course::Column::Status.eq(CourseStatus::Published.as_str()))
        .filter(course::Column::AnnouncedAt.is_null())
        .order_by_asc(course::Column::Id)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let today = crate::time::local_date(now);
    let mut written = 0;
    for course in due {
        let (txn, _turn) = crate::db::begin_write(db)
            .await
            .map_err(AppError::from_db)?;
        let claimed = course::Entity::update_many()
            .col_expr(course::Column::AnnouncedAt, Expr::value(now))
            .filter(course::Column::Id.eq(course.id))
            .filter(course::Column::AnnouncedAt.is_null())
            .filter(course::Column::Status.eq(CourseStatus::Published.as_str()))
            .exec(&txn)
            .await
            .map_err(AppError::from_db)?
            .rows_affected;
        if claimed == 0 {
            continue;
        }
        let guardians = guardians_of_ages(
            &txn,
            today,
            u32::try_from(course.min_age_months).unwrap_or(0),
            u32::try_from(course.max_age_months).unwrap_or(0),
        )
        .await?;
        for batch in guardians.chunks(ANNOUNCE_BATCH) {
            let rows = batch.iter().map(|account_id| notification::ActiveModel {
                account_id: Set(*account_id),
                kind: Set(NotificationKind::NewCourse.as_str().to_owned()),
                session_id: Set(None),
                course_id: Set(Some(course.id)),
                detail: Set(None),
                created_at: Set(now),
                ..Default::default()
            });
            notification::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await
                .map_err(AppError::from_db)?;
        }
        txn.commit().await.map_err(AppError::from_db)?;
        written += u32::try_from(guardians.len()).unwrap_or(u32::MAX);
    }
    Ok(written)
}

/// Counts the families with a child under three on `today`, and those of
/// them whose guardian or a carer has played at least one lesson.
///
/// NOTE: guidance given outside Ningyu (home visits, classes in person) is
/// not recorded, so this is a lower bound of the city's figure.
pub async fn guidance_reach(
    db: &impl ConnectionTrait,
    today: NaiveDate,
) -> Result<GuidanceReach, AppError> {
    let cutoff = today
        .checked_sub_months(Months::new(MAX_COURSE_AGE_MONTHS))
        .unwrap_or(NaiveDate::MIN);
    let young = || {
        child::Entity::find()
            .select_only()
            .column(child::Column::FamilyId)
            .distinct()
            .filter(child::Column::BirthDate.gt(cutoff))
            .filter(child::Column::BirthDate.lte(today))
    };
    let families = young().count(db).await.map_err(AppError::from_db)?;

    let watchers = || {
        Query::select()
            .column(course_progress::Column::AccountId)
            .from(course_progress::Entity)
            .to_owned()
    };
    let by_guardian = Query::select()
        .column(family::Column::Id)
        .from(family::Entity)
        .and_where(family::Column::GuardianAccountId.in_subquery(watchers()))
        .to_owned();
    let by_carer = Query::select()
        .column(delegation::Column::FamilyId)
        .from(delegation::Entity)
        .and_where(delegation::Column::CarerAccountId.in_subquery(watchers()))
        .and_where(delegation::Column::RevokedAt.is_null())
        .to_owned();
    let reached = young()
        .filter(
            Condition::any()
                .add(child::Column::FamilyId.in_subquery(by_guardian))
                .add(child::Column::FamilyId.in_subquery(by_carer)),
        )
        .count(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(GuidanceReach {
        families,
        reached,
        percent: (families > 0).then(|| reached as f64 * 100.0 / families as f64),
    })
}

/// Returns the guardians, once each, of children aged `min`–`max` whole
/// months on `today`.
async fn guardians_of_ages(
    db: &impl ConnectionTrait,
    today: NaiveDate,
    min: u32,
    max: u32,
) -> Result<Vec<i64>, AppError> {
    // Birth dates a month either side of the range, then the exact age.
    let earliest = today
        .checked_sub_months(Months::new(max + 2))
        .unwrap_or(NaiveDate::MIN);
    let latest = today
        .checked_sub_months(Months::new(min.saturating_sub(1)))
        .unwrap_or(today);
    let rows: Vec<(i64, NaiveDate)> = child::Entity::find()
        .select_only()
        .column(child::Column::FamilyId)
        .column(child::Column::BirthDate)
        .filter(child::Column::BirthDate.between(earliest, latest))
        .into_tuple()
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let families: BTreeSet<i64> = rows
        .into_iter()
        .filter(|(_, birth)| {
            age_in_months(*birth, today).is_some_and(|age| min <= age && age <= max)
        })
        .map(|(family_id, _)| family_id)
        .collect();
    let mut guardians = BTreeSet::new();
    let families: Vec<i64> = families.into_iter().collect();
    for batch in families.chunks(ANNOUNCE_BATCH) {
        let found: Vec<i64> = family::Entity::find()
            .select_only()
            .column(family::Column::GuardianAccountId)
            .filter(family::Column::Id.is_in(batch.to_vec()))
            .into_tuple()
            .all(db)
            .await
            .map_err(AppError::from_db)?;
        guardians.extend(found);
    }
    Ok(guardians.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    fn viewer(roles: Vec<Role>) -> Viewer {
        Viewer {
            account_id: 1,
            display_name: "测试".to_owned(),
            roles,
        }
    }

    #[test]
    fn district_admins_write_only_their_district() {
        let district = viewer(vec![Role::DistrictAdmin {
            district_code: "320102".to_owned(),
        }]);
        assert!(may_edit(&district, Some("320102")));
        assert!(!may_edit(&district, Some("320104")));
        assert!(!may_edit(&district, None));
        let city = viewer(vec![Role::CityAdmin]);
        assert!(may_edit(&city, None));
        assert!(may_edit(&city, Some("320104")));
        let staff = viewer(vec![Role::RoomStaff { place_id: 3 }]);
        assert!(!may_edit(&staff, None));
    }

    #[test]
    fn captions_must_be_webvtt() {
        assert_eq!(
            check_captions("\u{feff}WEBVTT - 第一节\r\n\r\n00:01.000 --> 00:02.000\r\n你好\r\n")
                .unwrap(),
            "WEBVTT - 第一节\n\n00:01.000 --> 00:02.000\n你好\n"
        );
        assert!(check_captions("WEBVTT").is_ok());
        assert!(
            check_captions("WEBVTTX\n").is_err(),
            "the header word must end"
        );
        assert!(check_captions("1\n00:00:01,000 --> 00:00:02,000\nSRT\n").is_err());
        assert!(check_captions("WEBVTT\n\0").is_err());
        let long = format!("WEBVTT\n{}", "字".repeat(MAX_CAPTIONS_BYTES / 3 + 1));
        assert!(check_captions(&long).is_err());
    }

    #[test]
    fn summary_keeps_only_line_breaks() {
        assert_eq!(
            summary_text("summary", "  第一段\r\n第二段  ").unwrap(),
            "第一段\n第二段"
        );
        assert!(summary_text("summary", "响铃\u{7}").is_err());
        assert!(summary_text("summary", "   ").is_err());
        assert!(summary_text("summary", &"字".repeat(MAX_SUMMARY_CHARS + 1)).is_err());
    }
}
