//! Server functions for the parenting course pages and their
//! administration. They call `domain::courses`, as the REST API under
//! `/api/v1/courses` and `/api/v1/admin/courses` does.
//!
//! Lesson files are uploaded by a plain multipart form to
//! `/admin/courses/{id}/lessons`, which the server handles outside server
//! functions (`server/src/media.rs`), since it streams the file to disk.

use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos::server_fn::ServerFn;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::{CourseDetail, CourseSummary, CoursesForChild, Page};

#[cfg(feature = "ssr")]
use super::form_redirect;
#[cfg(feature = "ssr")]
use super::support::{require_viewer, state, viewer, with_status};

/// The `__path` under which the upload form's error comes back to the
/// course's administration page.
pub const UPLOAD_FORM_PATH: &str = "/admin/courses/lessons";

/// Courses per page of the list.
pub const PAGE_SIZE: u32 = 20;

/// Data of the courses page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoursesPageData {
    /// For a signed-in family, the courses that suit each child today.
    pub for_children: Vec<CoursesForChild>,
    pub page: Page<CourseSummary>,
}

/// Lists published courses, narrowed by topic and age, with the courses
/// that suit the signed-in family's children.
#[server(prefix = "/sfn", endpoint = "list_courses")]
pub async fn list_courses(
    topic: Option<String>,
    age_months: Option<u32>,
    offset: u64,
) -> Result<CoursesPageData, AppError> {
    use crate::domain::courses::{self, CourseFilter};
    use crate::model::CourseTopic;

    let state = state()?;
    let viewer = viewer();
    let topic = match topic.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(name) => Some(with_status(CourseTopic::parse(name).ok_or_else(|| {
            AppError::InvalidQuery {
                field: "topic".to_owned(),
                reason: "is not a topic".to_owned(),
            }
        }))?),
    };
    let filter = CourseFilter { topic, age_months };
    let account = viewer.as_ref().map(|viewer| viewer.account_id);
    let page =
        with_status(courses::list_published(&state.db, filter, account, PAGE_SIZE, offset).await)?;
    let for_children = match account {
        Some(account) => with_status(
            courses::for_children(
                &state.db,
                account,
                crate::time::local_date(chrono::Utc::now()),
            )
            .await,
        )?,
        None => Vec::new(),
    };
    Ok(CoursesPageData { for_children, page })
}

/// Loads a course with its lessons and where the viewer stopped in each.
#[server(prefix = "/sfn", endpoint = "get_course")]
pub async fn get_course(id: i64) -> Result<CourseDetail, AppError> {
    let state = state()?;
    let viewer = viewer();
    with_status(crate::domain::courses::get_course(&state.db, viewer.as_ref(), id).await)
}

/// Records where the viewer stopped in a lesson. The player calls it.
#[server(prefix = "/sfn", endpoint = "save_lesson_progress")]
pub async fn save_lesson_progress(
    lesson_id: i64,
    position_seconds: u32,
    finished: bool,
) -> Result<(), AppError> {
    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let progress = crate::model::LessonProgress {
        position_seconds,
        finished,
    };
    with_status(
        crate::domain::courses::record_progress(
            &state.db,
            viewer.account_id,
            lesson_id,
            progress,
            chrono::Utc::now(),
        )
        .await,
    )
}

/// Lists the courses the administrator may write, in any state.
#[server(prefix = "/sfn", endpoint = "admin_courses")]
pub async fn admin_courses() -> Result<Vec<CourseSummary>, AppError> {
    let viewer = with_status(require_viewer())?;
    let state = state()?;
    with_status(crate::domain::courses::admin_list(&state.db, &viewer).await)
}

/// Data of the course form: the course, when it exists, and the districts
/// the administrator may publish for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseFormData {
    pub detail: Option<CourseDetail>,
    pub districts: Vec<(String, String)>,
    /// Whether the administrator may publish for the whole city.
    pub city: bool,
}

/// Loads the course form: the course `id`, or an empty form.
#[server(prefix = "/sfn", endpoint = "load_course_form")]
pub async fn load_course_form(id: Option<i64>) -> Result<CourseFormData, AppError> {
    use sea_orm::{EntityTrait, QueryOrder};

    use crate::entity::district;

    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let own = viewer.district_codes();
    let city = viewer.is_city_admin();
    if !city && own.is_empty() {
        return with_status(Err(AppError::NotFound));
    }
    let detail = match id {
        Some(id) => {
            let detail = with_status(
                crate::domain::courses::get_course(&state.db, Some(&viewer), id).await,
            )?;
            if !detail.editable {
                return with_status(Err(AppError::NotFound));
            }
            Some(detail)
        }
        None => None,
    };
    let districts = with_status(
        district::Entity::find()
            .order_by_asc(district::Column::Code)
            .all(&state.db)
            .await
            .map_err(AppError::from_db),
    )?
    .into_iter()
    .filter(|row| city || own.contains(&row.code.as_str()))
    .map(|row| (row.code, row.name))
    .collect();
    Ok(CourseFormData {
        detail,
        districts,
        city,
    })
}

/// The course form as the browser posts it: every field as text, so that
/// a form without JavaScript can send it and come back as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CourseForm {
    pub title: String,
    pub title_en: String,
    pub summary: String,
    pub summary_en: String,
    pub topic: String,
    pub min_age_months: String,
    pub max_age_months: String,
    /// A district code, or empty for the city.
    pub district_code: String,
}

impl CourseForm {
    /// Returns the fields as `(name, value)` pairs.
    pub fn fields(&self) -> [(&'static str, &str); 8] {
        [
            ("title", &self.title),
            ("title_en", &self.title_en),
            ("summary", &self.summary),
            ("summary_en", &self.summary_en),
            ("topic", &self.topic),
            ("min_age_months", &self.min_age_months),
            ("max_age_months", &self.max_age_months),
            ("district_code", &self.district_code),
        ]
    }

    /// Rebuilds the form from the page's query after a refused post.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Option<Self> {
        get("title").map(|title| Self {
            title,
            title_en: get("title_en").unwrap_or_default(),
            summary: get("summary").unwrap_or_default(),
            summary_en: get("summary_en").unwrap_or_default(),
            topic: get("topic").unwrap_or_default(),
            min_age_months: get("min_age_months").unwrap_or_default(),
            max_age_months: get("max_age_months").unwrap_or_default(),
            district_code: get("district_code").unwrap_or_default(),
        })
    }

    /// Converts the form into the input the domain checks.
    pub fn to_input(&self) -> Result<crate::model::CourseInput, AppError> {
        let optional = |value: &str| {
            let value = value.trim();
            (!value.is_empty()).then(|| value.to_owned())
        };
        let months = |field: &'static str, value: &str| {
            value
                .trim()
                .parse::<u32>()
                .map_err(|_| AppError::invalid(field, "must be a whole number of months"))
        };
        Ok(crate::model::CourseInput {
            title: self.title.clone(),
            title_en: optional(&self.title_en),
            summary: self.summary.clone(),
            summary_en: optional(&self.summary_en),
            topic: crate::model::CourseTopic::parse(self.topic.trim())
                .ok_or_else(|| AppError::invalid("topic", "is not a topic"))?,
            min_age_months: months("min_age_months", &self.min_age_months)?,
            max_age_months: months("max_age_months", &self.max_age_months)?,
            district_code: optional(&self.district_code),
        })
    }
}

/// Creates a course (without `course_id`) or replaces one, then opens its
/// administration page. A refused plain post returns to the form with what
/// was typed.
#[server(prefix = "/sfn", endpoint = "save_course")]
pub async fn save_course(course_id: Option<i64>, form: CourseForm) -> Result<(), AppError> {
    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let now = chrono::Utc::now();
    let saved = match form.to_input() {
        Ok(input) => match course_id {
            Some(id) => crate::domain::courses::update_course(&state.db, &viewer, id, &input, now)
                .await
                .map(|()| id),
            None => crate::domain::courses::create_course(&state.db, &viewer, &input, now).await,
        },
        Err(error) => Err(error),
    };
    match saved {
        Ok(id) => {
            leptos_axum::redirect(&format!("/admin/courses/{id}?saved=1"));
            Ok(())
        }
        Err(error) => {
            let page = course_id.map_or_else(
                || "/admin/courses/new".to_owned(),
                |id| format!("/admin/courses/{id}"),
            );
            form_redirect::back_to(&page, &form.fields(), Some((SaveCourse::PATH, &error)));
            with_status(Err(error))
        }
    }
}

/// Publishes a course, withdraws it or returns it to draft.
#[server(prefix = "/sfn", endpoint = "set_course_status")]
pub async fn set_course_status(course_id: i64, status: String) -> Result<(), AppError> {
    use crate::model::CourseStatus;

    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let page = format!("/admin/courses/{course_id}");
    let result = match CourseStatus::parse(status.trim()) {
        Some(status) => {
            crate::domain::courses::set_status(
                &state.db,
                &viewer,
                course_id,
                status,
                chrono::Utc::now(),
            )
            .await
        }
        None => Err(AppError::invalid("status", "is not a course state")),
    };
    match result {
        Ok(()) => {
            form_redirect::back_to(&page, &[], None);
            Ok(())
        }
        Err(error) => {
            form_redirect::back_to(&page, &[], Some((SetCourseStatus::PATH, &error)));
            with_status(Err(error))
        }
    }
}

/// Removes a lesson from a course.
#[server(prefix = "/sfn", endpoint = "remove_course_lesson")]
pub async fn remove_course_lesson(course_id: i64, lesson_id: i64) -> Result<(), AppError> {
    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let page = format!("/admin/courses/{course_id}");
    let result =
        crate::domain::courses::remove_lesson(&state.db, &viewer, lesson_id, chrono::Utc::now())
            .await;
    match result {
        Ok(_) => {
            form_redirect::back_to(&page, &[], None);
            Ok(())
        }
        Err(error) => {
            form_redirect::back_to(&page, &[], Some((RemoveCourseLesson::PATH, &error)));
            with_status(Err(error))
        }
    }
}
