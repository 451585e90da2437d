use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::courses::{PAGE_SIZE, get_course, list_courses};
use crate::components::{ErrorNotice, LessonPlayer};
use crate::error::AppError;
use crate::i18n::{Locale, t, t_string, use_i18n};
use crate::model::{CourseDetail, CourseSummary, CourseTopic, LessonView};
use leptos_i18n::I18nContext;

/// Returns the translated name of a course topic.
pub fn topic_label(i18n: I18nContext<Locale>, topic: CourseTopic) -> String {
    match topic {
        CourseTopic::Feeding => t_string!(i18n, course_topic_feeding),
        CourseTopic::Sleep => t_string!(i18n, course_topic_sleep),
        CourseTopic::Development => t_string!(i18n, course_topic_development),
        CourseTopic::Health => t_string!(i18n, course_topic_health),
        CourseTopic::Safety => t_string!(i18n, course_topic_safety),
        CourseTopic::Parenting => t_string!(i18n, course_topic_parenting),
    }
    .to_string()
}

/// Formats a file size the way people read a phone's data use:
/// "850 KB", "37 MB", "1.2 GB".
pub fn format_size(bytes: u64) -> String {
    const KB: f64 = 1000.0;
    let bytes = bytes as f64;
    if bytes < KB * KB {
        format!("{} KB", (bytes / KB).ceil().max(1.0))
    } else if bytes < KB * KB * KB {
        format!("{:.0} MB", (bytes / (KB * KB)).max(1.0))
    } else {
        format!("{:.1} GB", bytes / (KB * KB * KB))
    }
}

/// Formats seconds as `m:ss` or `h:mm:ss`.
fn format_clock(seconds: u32) -> String {
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{seconds:02}")
    } else {
        format!("{minutes}:{seconds:02}")
    }
}

fn title_in(locale: Locale, zh: &str, en: Option<&str>) -> String {
    match (locale, en) {
        (Locale::en, Some(en)) => en.to_owned(),
        _ => zh.to_owned(),
    }
}

/// Renders the parent classes page (`/courses`): for a signed-in family
/// the courses that suit each child's age today, then every published
/// course, narrowed by topic and age with a plain GET form.
#[component]
pub fn CoursesPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let params = move || {
        query.with(|query| {
            (
                query.get("topic").filter(|topic| !topic.is_empty()),
                query
                    .get("age")
                    .and_then(|age| age.trim().parse::<u32>().ok()),
                query
                    .get("offset")
                    .and_then(|offset| offset.parse::<u64>().ok())
                    .unwrap_or(0),
            )
        })
    };
    let data = Resource::new(params, |(topic, age, offset)| {
        list_courses(topic, age, offset)
    });
    view! {
        <Title text=t_string!(i18n, courses_title).to_string() />
        <h1>{t!(i18n, courses_title)}</h1>
        <p>{t!(i18n, courses_intro)}</p>
        <Suspense>
            {move || Suspend::new(async move {
                let (topic, age, _) = params();
                match data.await {
                    Ok(data) => {
                        let for_children = (!data.for_children.is_empty()).then(|| {
                            view! {
                                <section class="courses-for-children">
                                    <h2>{t!(i18n, courses_for_children_heading)}</h2>
                                    {data
                                        .for_children
                                        .into_iter()
                                        .map(|child| {
                                            let heading = t_string!(i18n, courses_for_child, name = child.child_name.clone(), months = child.age_months).to_string();
                                            let empty = child.courses.is_empty();
                                            view! {
                                                <h3>{heading}</h3>
                                                {empty.then(|| view! { <p class="muted">{t!(i18n, courses_none_for_child)}</p> })}
                                                <CourseList courses=child.courses />
                                            }
                                        })
                                        .collect_view()}
                                </section>
                            }
                        });
                        let page = data.page;
                        let empty = page.items.is_empty();
                        let previous = (page.offset > 0).then(|| {
                            page_link(topic.as_deref(), age, page.offset.saturating_sub(u64::from(PAGE_SIZE)))
                        });
                        let next_offset = page.offset + u64::from(page.limit);
                        let next = (next_offset < page.total)
                            .then(|| page_link(topic.as_deref(), age, next_offset));
                        view! {
                            {for_children}
                            <h2>{t!(i18n, courses_all_heading)}</h2>
                            <FilterForm topic=topic.clone() age />
                            {empty.then(|| view! { <p>{t!(i18n, courses_none)}</p> })}
                            <CourseList courses=page.items />
                            <nav class="pager">
                                {previous.map(|href| view! { <a href=href rel="prev">{t!(i18n, courses_page_prev)}</a> })}
                                {next.map(|href| view! { <a href=href rel="next">{t!(i18n, courses_page_next)}</a> })}
                            </nav>
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn page_link(topic: Option<&str>, age: Option<u32>, offset: u64) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(topic) = topic {
        pairs.push(("topic", topic.to_owned()));
    }
    if let Some(age) = age {
        pairs.push(("age", age.to_string()));
    }
    pairs.push(("offset", offset.to_string()));
    format!(
        "/courses?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

#[component]
fn FilterForm(topic: Option<String>, age: Option<u32>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <form class="search-form" method="get" action="/courses">
            <label for="course-topic">{t!(i18n, courses_filter_topic)}</label>
            <select id="course-topic" name="topic">
                <option value="">{t!(i18n, courses_filter_any_topic)}</option>
                {CourseTopic::ALL
                    .into_iter()
                    .map(|option| {
                        let selected = topic.as_deref() == Some(option.as_str());
                        view! { <option value=option.as_str() selected=selected>{topic_label(i18n, option)}</option> }
                    })
                    .collect_view()}
            </select>
            <label for="course-age">{t!(i18n, courses_filter_age)}</label>
            <input id="course-age" name="age" inputmode="numeric" pattern="[0-9]*" maxlength="2"
                value=age.map(|age| age.to_string()) />
            <button type="submit" class="button">{t!(i18n, courses_filter_submit)}</button>
        </form>
    }
}

/// Renders a list of course cards.
#[component]
pub fn CourseList(courses: Vec<CourseSummary>) -> impl IntoView {
    view! {
        <ul class="place-list course-list">
            {courses.into_iter().map(|course| view! { <CourseCard course /> }).collect_view()}
        </ul>
    }
}

#[component]
fn CourseCard(course: CourseSummary) -> impl IntoView {
    let i18n = use_i18n();
    let href = format!("/courses/{}", course.id);
    let title = title_in(i18n.get_locale(), &course.title, course.title_en.as_deref());
    let facts = format!(
        "{} · {} · {}",
        topic_label(i18n, course.topic),
        t_string!(
            i18n,
            course_ages,
            min = course.min_age_months,
            max = course.max_age_months
        ),
        t_string!(
            i18n,
            course_lessons,
            count = course.lessons,
            size = format_size(course.total_bytes)
        ),
    );
    let finished = (course.finished > 0).then(|| {
        t_string!(
            i18n,
            course_finished,
            done = course.finished,
            count = course.lessons
        )
        .to_string()
    });
    view! {
        <li class="place">
            <a class="place-link" href=href>
                <span class="place-name">{title}</span>
                <span class="place-address">{facts}</span>
                {finished.map(|text| view! { <span class="badge badge-ok">{text}</span> })}
            </a>
        </li>
    }
}

/// Renders a course's page (`/courses/:id`): who publishes it, for which
/// ages, its description and its lessons, each with a player.
#[component]
pub fn CoursePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    };
    let course = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_course(id).await,
            None => {
                #[cfg(feature = "ssr")]
                crate::api::set_status(404);
                Err(AppError::NotFound)
            }
        }
    });
    let viewer = Resource::new(|| (), |()| crate::api::current_viewer());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let signed_in = viewer.await.ok().flatten().is_some();
                match course.await {
                    Ok(detail) => view! { <CourseView detail signed_in /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CourseView(detail: CourseDetail, signed_in: bool) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale();
    let course = detail.course;
    let title = title_in(locale, &course.title, course.title_en.as_deref());
    let publisher = match &course.district_name {
        Some(district) => {
            t_string!(i18n, course_publisher_district, district = district.clone()).to_string()
        }
        None => t_string!(i18n, course_publisher_city).to_string(),
    };
    let facts = format!(
        "{} · {} · {}",
        topic_label(i18n, course.topic),
        t_string!(
            i18n,
            course_ages,
            min = course.min_age_months,
            max = course.max_age_months
        ),
        t_string!(
            i18n,
            course_lessons,
            count = course.lessons,
            size = format_size(course.total_bytes)
        ),
    );
    let summary = match (locale, &detail.summary_en) {
        (Locale::en, Some(en)) => en.clone(),
        _ => detail.summary.clone(),
    };
    let paragraphs = summary
        .split('\n')
        .filter(|line| !line.trim().is_empty())
        .map(|line| view! { <p>{line.to_owned()}</p> })
        .collect_view();
    let unpublished = course.status != crate::model::CourseStatus::Published;
    let edit = detail
        .editable
        .then(|| format!("/admin/courses/{}", course.id));
    view! {
        <Title text=title.clone() />
        <h1>{title}</h1>
        <p class="muted">{publisher}</p>
        <p>{facts}</p>
        {unpublished.then(|| view! { <p class="notice">{t!(i18n, course_not_published)}</p> })}
        {edit.map(|href| view! { <p><a class="button" href=href>{t!(i18n, course_edit)}</a></p> })}
        <section class="course-summary">{paragraphs}</section>
        {(!signed_in).then(|| view! { <p class="hint">{t!(i18n, course_sign_in_to_resume)}</p> })}
        <ol class="lesson-list">
            {detail
                .lessons
                .into_iter()
                .map(|lesson| view! { <Lesson lesson signed_in /> })
                .collect_view()}
        </ol>
    }
}

#[component]
fn Lesson(lesson: LessonView, signed_in: bool) -> impl IntoView {
    let i18n = use_i18n();
    let title = title_in(i18n.get_locale(), &lesson.title, lesson.title_en.as_deref());
    let size = t_string!(i18n, course_lesson_size, size = format_size(lesson.bytes)).to_string();
    let status = if lesson.finished {
        Some(t_string!(i18n, course_lesson_finished).to_string())
    } else {
        lesson
            .resume_seconds
            .filter(|seconds| *seconds > 0)
            .map(|seconds| t_string!(i18n, course_resume, at = format_clock(seconds)).to_string())
    };
    view! {
        <li class="lesson" id=format!("lesson-{}", lesson.id)>
            <h2 class="lesson-title">{title.clone()}</h2>
            <p class="muted">
                {size}
                {status.map(|status| view! { " · " <span class="lesson-status">{status}</span> })}
            </p>
            <LessonPlayer
                lesson_id=lesson.id
                src=lesson.media_url
                content_type=lesson.content_type
                resume=lesson.resume_seconds.unwrap_or(0)
                signed_in
                label=title
                captions=lesson.captions_url.map(|src| (src, t_string!(i18n, course_captions).to_string()))
            />
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_phone_data_use() {
        assert_eq!(format_size(0), "1 KB");
        assert_eq!(format_size(849_500), "850 KB");
        assert_eq!(format_size(37_400_000), "37 MB");
        assert_eq!(format_size(1_240_000_000), "1.2 GB");
    }

    #[test]
    fn clock_has_hours_only_when_needed() {
        assert_eq!(format_clock(205), "3:25");
        assert_eq!(format_clock(3_725), "1:02:05");
    }
}
