//! The HTML document and the root component with its routes.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::{Footer, Header};
use crate::i18n::{I18nContextProvider, t_string, use_i18n};
use crate::pages::{
    AcceptInvitationPage, AccountPage, AdminCoursesPage, AuditPage, BookingsPage, CourseEditPage,
    CoursePage, CoursesPage, CoveragePage, FamilyPage, HomePage, ImportPage, ImportRunPage,
    InboxPage, InvitationCreatedPage, NewSessionPage, NotFoundPage, PlaceEditPage, PlacePage,
    PriorityGroupsPage, PriorityMembersPage, SearchPage, SessionPage, SettingsPage, SignInPage,
    StaffPage, StaffSessionPage,
};
use crate::prefs::{TextSize, current_text_size};

/// Renders the whole HTML document on the server.
///
/// The text-size class sits on `<html>` and is decided here from the cookie,
/// so large text applies before any script runs and never flickers.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let text_class = match current_text_size() {
        TextSize::Large => Some("text-large"),
        TextSize::Normal => None,
    };
    view! {
        <!DOCTYPE html>
        <html class=text_class>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="theme-color" content="#b4412f" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Renders the root component: providers, layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Stylesheet id="ningyu" href="/pkg/ningyu.css" />
        <I18nContextProvider>
            <AppTitle />
            <Router>
                <Header />
                <main id="main" tabindex="-1">
                    <Routes fallback=NotFoundPage>
                        <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                        <Route path=path!("/search") view=SearchPage ssr=SsrMode::Async />
                        <Route path=path!("/places/:id") view=PlacePage ssr=SsrMode::Async />
                        <Route path=path!("/sessions/:id") view=SessionPage ssr=SsrMode::Async />
                        <Route path=path!("/courses") view=CoursesPage ssr=SsrMode::Async />
                        <Route path=path!("/courses/:id") view=CoursePage ssr=SsrMode::Async />
                        <Route path=path!("/bookings") view=BookingsPage ssr=SsrMode::Async />
                        <Route path=path!("/inbox") view=InboxPage ssr=SsrMode::Async />
                        <Route path=path!("/settings") view=SettingsPage />
                        <Route path=path!("/sign-in") view=SignInPage />
                        <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                        <Route path=path!("/family") view=FamilyPage ssr=SsrMode::Async />
                        <Route path=path!("/family/invitation") view=InvitationCreatedPage />
                        <Route path=path!("/invite/:code") view=AcceptInvitationPage ssr=SsrMode::Async />
                        <Route path=path!("/invite") view=AcceptInvitationPage ssr=SsrMode::Async />
                        <Route path=path!("/staff") view=StaffPage ssr=SsrMode::Async />
                        <Route path=path!("/staff/sessions/:id") view=StaffSessionPage ssr=SsrMode::Async />
                        <Route path=path!("/staff/places/:id/sessions/new") view=NewSessionPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/audit") view=AuditPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/coverage") view=CoveragePage ssr=SsrMode::Async />
                        <Route path=path!("/admin/places/new") view=PlaceEditPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/places/import") view=ImportPage />
                        <Route path=path!("/admin/priority-groups") view=PriorityGroupsPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/priority-groups/:id") view=PriorityMembersPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/imports/:id") view=ImportRunPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/places/:id/edit") view=PlaceEditPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/courses") view=AdminCoursesPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/courses/new") view=CourseEditPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/courses/:id") view=CourseEditPage ssr=SsrMode::Async />
                    </Routes>
                </main>
                <Footer />
            </Router>
        </I18nContextProvider>
    }
}

/// Sets the `<title>` format: "page · 宁育".
///
/// leptos_meta builds the title after the page has streamed, outside the
/// reactive arena of the request, so the formatter and every page's title
/// text must be plain strings: reading the locale signal there panics
/// under concurrent requests.
#[component]
fn AppTitle() -> impl IntoView {
    let i18n = use_i18n();
    let app = t_string!(i18n, app_name).to_string();
    view! {
        <Title formatter=move |page: String| {
            if page.is_empty() { app.clone() } else { format!("{page} · {app}") }
        } />
    }
}
