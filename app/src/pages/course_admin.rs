use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::courses::{format_size, topic_label};
use crate::api::courses::{
    CourseForm, CourseFormData, RemoveCourseLesson, SaveCourse, SetCourseStatus, UPLOAD_FORM_PATH,
    admin_courses, load_course_form,
};
use crate::components::{ActionError, ErrorNotice, decode_url_error};
use crate::i18n::{Locale, t, t_string, use_i18n};
use crate::model::{CourseDetail, CourseStatus, CourseTopic};
use leptos_i18n::I18nContext;

fn status_label(i18n: I18nContext<Locale>, status: CourseStatus) -> String {
    match status {
        CourseStatus::Draft => t_string!(i18n, course_status_draft),
        CourseStatus::Published => t_string!(i18n, course_status_published),
        CourseStatus::Withdrawn => t_string!(i18n, course_status_withdrawn),
    }
    .to_string()
}

/// Renders the course list for administrators (`/admin/courses`): every
/// course they may write, in any state, with a link to write a new one.
#[component]
pub fn AdminCoursesPage() -> impl IntoView {
    let i18n = use_i18n();
    let courses = Resource::new(|| (), |()| admin_courses());
    view! {
        <Title text=t_string!(i18n, course_admin_title).to_string() />
        <h1>{t!(i18n, course_admin_title)}</h1>
        <p>{t!(i18n, course_admin_intro)}</p>
        <p><a class="button primary" href="/admin/courses/new">{t!(i18n, course_admin_new)}</a></p>
        <Suspense>
            {move || Suspend::new(async move {
                match courses.await {
                    Ok(courses) if courses.is_empty() => {
                        view! { <p>{t!(i18n, course_admin_none)}</p> }.into_any()
                    }
                    Ok(courses) => view! {
                        <ul class="place-list">
                            {courses
                                .into_iter()
                                .map(|course| {
                                    let href = format!("/admin/courses/{}", course.id);
                                    let badge = if course.status == CourseStatus::Published { "badge badge-ok" } else { "badge badge-warn" };
                                    let facts = format!(
                                        "{} · {} · {}",
                                        topic_label(i18n, course.topic),
                                        t_string!(i18n, course_ages, min = course.min_age_months, max = course.max_age_months),
                                        t_string!(i18n, course_lessons, count = course.lessons, size = format_size(course.total_bytes)),
                                    );
                                    view! {
                                        <li class="place">
                                            <a class="place-link" href=href>
                                                <span class="place-name">{course.title}</span>
                                                <span class="place-address">{facts}</span>
                                                <span class=badge>{status_label(i18n, course.status)}</span>
                                            </a>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Renders the course form: a new course at `/admin/courses/new`, or the
/// course `:id` at `/admin/courses/:id` with its state, its lessons and
/// the upload form. Every form works without JavaScript; a refused post
/// comes back with what was typed and the error.
#[component]
pub fn CourseEditPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    };
    let data = Resource::new(id, load_course_form);
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <CourseEditView data /> }.into_any(),
                    Err(error) => view! {
                        <Title text=t_string!(i18n, course_admin_title).to_string() />
                        <ErrorNotice error />
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CourseEditView(data: CourseFormData) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let read = move |name: &str| query.with_untracked(|query| query.get(name));
    let save = ServerAction::<SaveCourse>::new();
    let detail = data.detail.clone();
    let course_id = detail.as_ref().map(|detail| detail.course.id);
    // After a refused plain post the typed values come back in the query.
    let form = if read("__path").as_deref() == Some(SaveCourse::PATH) {
        CourseForm::from_query(read)
    } else {
        None
    }
    .unwrap_or_else(|| form_of(detail.as_ref()));
    let heading = if detail.is_some() {
        t_string!(i18n, course_form_heading_edit)
    } else {
        t_string!(i18n, course_form_heading_new)
    }
    .to_string();
    let saved = read("saved").is_some();
    let added = read("added").is_some();
    let districts = data.districts.clone();
    let chosen = form.district_code.clone();
    view! {
        <Title text=heading.clone() />
        <p><a href="/admin/courses">{t!(i18n, course_admin_title)}</a></p>
        <h1>{heading}</h1>
        {saved.then(|| view! { <p class="notice notice-ok" role="status">{t!(i18n, course_saved)}</p> })}
        {added.then(|| view! { <p class="notice notice-ok" role="status">{t!(i18n, course_lesson_added)}</p> })}
        {detail.clone().map(|detail| view! { <CourseState detail /> })}
        <ActionError action=save />
        <ActionForm action=save attr:class="stacked-form course-form">
            {course_id.map(|id| view! { <input type="hidden" name="course_id" value=id /> })}
            <label for="course-title">{t!(i18n, course_form_title)}</label>
            <input id="course-title" name="form[title]" required maxlength="60" value=form.title.clone() />
            <label for="course-title-en">{t!(i18n, course_form_title_en)}</label>
            <input id="course-title-en" name="form[title_en]" maxlength="120" value=form.title_en.clone() />
            <label for="course-summary">{t!(i18n, course_form_summary)}</label>
            <textarea id="course-summary" name="form[summary]" required maxlength="2000" rows="6">{form.summary.clone()}</textarea>
            <label for="course-summary-en">{t!(i18n, course_form_summary_en)}</label>
            <textarea id="course-summary-en" name="form[summary_en]" maxlength="2000" rows="4">{form.summary_en.clone()}</textarea>
            <label for="course-topic">{t!(i18n, course_form_topic)}</label>
            <select id="course-topic" name="form[topic]">
                {CourseTopic::ALL
                    .into_iter()
                    .map(|topic| {
                        let selected = form.topic == topic.as_str();
                        view! { <option value=topic.as_str() selected=selected>{topic_label(i18n, topic)}</option> }
                    })
                    .collect_view()}
            </select>
            <label for="course-min-age">{t!(i18n, course_form_min_age)}</label>
            <input id="course-min-age" name="form[min_age_months]" required inputmode="numeric" maxlength="2"
                value=form.min_age_months.clone() />
            <label for="course-max-age">{t!(i18n, course_form_max_age)}</label>
            <input id="course-max-age" name="form[max_age_months]" required inputmode="numeric" maxlength="2"
                value=form.max_age_months.clone() />
            <label for="course-district">{t!(i18n, course_form_district)}</label>
            <select id="course-district" name="form[district_code]">
                {data.city.then(|| view! {
                    <option value="" selected=chosen.is_empty()>{t!(i18n, course_publisher_city)}</option>
                })}
                {districts
                    .into_iter()
                    .map(|(code, name)| {
                        let selected = chosen == code;
                        let label = t_string!(i18n, course_publisher_district, district = name).to_string();
                        view! { <option value=code selected=selected>{label}</option> }
                    })
                    .collect_view()}
            </select>
            <button type="submit" class="button primary">{t!(i18n, course_form_save)}</button>
        </ActionForm>
        {detail.map(|detail| view! { <Lessons detail /> })}
    }
}

/// Fills the form from the stored course, or with defaults for a new one.
fn form_of(detail: Option<&CourseDetail>) -> CourseForm {
    match detail {
        Some(detail) => CourseForm {
            title: detail.course.title.clone(),
            title_en: detail.course.title_en.clone().unwrap_or_default(),
            summary: detail.summary.clone(),
            summary_en: detail.summary_en.clone().unwrap_or_default(),
            topic: detail.course.topic.as_str().to_owned(),
            min_age_months: detail.course.min_age_months.to_string(),
            max_age_months: detail.course.max_age_months.to_string(),
            district_code: detail.course.district_code.clone().unwrap_or_default(),
        },
        None => CourseForm {
            topic: CourseTopic::Development.as_str().to_owned(),
            min_age_months: "0".to_owned(),
            max_age_months: "36".to_owned(),
            ..CourseForm::default()
        },
    }
}

/// Renders the course's state with the buttons that change it.
#[component]
fn CourseState(detail: CourseDetail) -> impl IntoView {
    let i18n = use_i18n();
    let set_status = ServerAction::<SetCourseStatus>::new();
    let status = detail.course.status;
    let id = detail.course.id;
    let page = format!("/courses/{id}");
    let choices: Vec<(CourseStatus, String)> = match status {
        CourseStatus::Draft | CourseStatus::Withdrawn => vec![(
            CourseStatus::Published,
            t_string!(i18n, course_publish).to_string(),
        )],
        CourseStatus::Published => vec![
            (
                CourseStatus::Withdrawn,
                t_string!(i18n, course_withdraw).to_string(),
            ),
            (
                CourseStatus::Draft,
                t_string!(i18n, course_to_draft).to_string(),
            ),
        ],
    };
    view! {
        <p>
            <span class=if status == CourseStatus::Published { "badge badge-ok" } else { "badge badge-warn" }>
                {status_label(i18n, status)}
            </span>
            " "
            <a href=page>{t!(i18n, course_view_page)}</a>
        </p>
        {(status != CourseStatus::Published).then(|| view! { <p class="hint">{t!(i18n, course_publish_hint)}</p> })}
        <ActionError action=set_status />
        {choices
            .into_iter()
            .map(|(choice, label)| view! {
                <ActionForm action=set_status attr:class="inline-form">
                    <input type="hidden" name="course_id" value=id />
                    <input type="hidden" name="status" value=choice.as_str() />
                    <button type="submit" class="button">{label}</button>
                </ActionForm>
            })
            .collect_view()}
    }
}

/// Renders the lessons with their remove buttons, and the upload form.
#[component]
fn Lessons(detail: CourseDetail) -> impl IntoView {
    let i18n = use_i18n();
    let remove = ServerAction::<RemoveCourseLesson>::new();
    let query = use_query_map();
    let upload_error = query.with_untracked(|query| {
        (query.get("__path").as_deref() == Some(UPLOAD_FORM_PATH))
            .then(|| {
                query
                    .get("__err")
                    .and_then(|error| decode_url_error(&error))
            })
            .flatten()
    });
    let id = detail.course.id;
    let action = format!("/admin/courses/{id}/lessons");
    let empty = detail.lessons.is_empty();
    view! {
        <h2>{t!(i18n, course_lessons_heading)}</h2>
        {empty.then(|| view! { <p class="hint">{t!(i18n, course_no_lessons)}</p> })}
        <ActionError action=remove />
        <ol class="lesson-list">
            {detail
                .lessons
                .into_iter()
                .map(|lesson| view! {
                    <li class="lesson">
                        <a href=lesson.media_url.clone()>{lesson.title.clone()}</a>
                        " · " <span class="muted">{format_size(lesson.bytes)}</span>
                        {lesson.captions_url.is_some().then(|| view! { " · " <span class="muted">{t!(i18n, course_captions)}</span> })}
                        <ActionForm action=remove attr:class="inline-form">
                            <input type="hidden" name="course_id" value=id />
                            <input type="hidden" name="lesson_id" value=lesson.id />
                            <button type="submit" class="button">{t!(i18n, course_lesson_remove)}</button>
                        </ActionForm>
                    </li>
                })
                .collect_view()}
        </ol>
        <h2>{t!(i18n, course_upload_heading)}</h2>
        {upload_error.map(|error| view! { <ErrorNotice error /> })}
        <form class="stacked-form" method="post" action=action enctype="multipart/form-data">
            <label for="lesson-title">{t!(i18n, course_upload_title)}</label>
            <input id="lesson-title" name="title" required maxlength="60" />
            <label for="lesson-title-en">{t!(i18n, course_upload_title_en)}</label>
            <input id="lesson-title-en" name="title_en" maxlength="120" />
            <label for="lesson-file">{t!(i18n, course_upload_file)}</label>
            <input id="lesson-file" name="file" type="file" required
                accept="video/mp4,video/webm,audio/mpeg,audio/mp4,.mp4,.webm,.mp3,.m4a" />
            <label for="lesson-captions">{t!(i18n, course_upload_captions)}</label>
            <input id="lesson-captions" name="captions" type="file" accept=".vtt,text/vtt" />
            <p class="hint">{t!(i18n, course_upload_hint)}</p>
            <button type="submit" class="button primary">{t!(i18n, course_upload_submit)}</button>
        </form>
    }
}
