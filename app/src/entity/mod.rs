//! Database rows as sea-orm entities. They stay on the server; pages and the
//! REST API see the view types in `model`.

pub mod account;
pub mod app_handoff;
pub mod audit_log;
pub mod booking;
pub mod booking_request;
pub mod calendar_feed;
pub mod care_session;
pub mod child;
pub mod child_consent;
pub mod child_priority;
pub mod course;
pub mod course_lesson;
pub mod course_progress;
pub mod delegation;
pub mod district;
pub mod family;
pub mod form_draft;
pub mod import_run;
pub mod invitation;
pub mod login_request;
pub mod media_blob;
pub mod media_chunk;
pub mod notification;
pub mod place;
pub mod priority_group;
pub mod rate_limit_window;
pub mod refresh_token;
pub mod role_grant;
pub mod signing_key;
pub mod street;
pub mod waitlist_entry;
pub mod web_session;
