//! Ningyu's schema as ordered migrations. The same migrations build the
//! SQLite and the PostgreSQL schema; tests run them too, never a copy.

pub use sea_orm_migration::prelude::*;

mod m20261204_000001_places_and_sessions;
mod m20261204_000002_regions_and_import_keys;
mod m20261204_000003_accounts_and_sign_in;
mod m20261204_000004_families;
mod m20261204_000005_app_tokens;
mod m20261205_000001_place_details;
mod m20261205_000002_bookings;
mod m20261205_000003_priority_groups;
mod m20261205_000004_search_indexes;
mod m20261205_000005_childcare_places;
mod m20261205_000006_import_runs;
mod m20261206_000001_updated_at_indexes;
mod m20261206_000002_due_draw_index;
mod m20261207_000001_courses;
mod m20261207_000002_audit_district;
mod m20261207_000003_rate_limit_windows;
mod m20261207_000004_form_drafts;

/// Runs Ningyu's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261204_000001_places_and_sessions::Migration),
            Box::new(m20261204_000002_regions_and_import_keys::Migration),
            Box::new(m20261204_000003_accounts_and_sign_in::Migration),
            Box::new(m20261204_000004_families::Migration),
            Box::new(m20261204_000005_app_tokens::Migration),
            Box::new(m20261205_000001_place_details::Migration),
            Box::new(m20261205_000002_bookings::Migration),
            Box::new(m20261205_000003_priority_groups::Migration),
            Box::new(m20261205_000004_search_indexes::Migration),
            Box::new(m20261205_000005_childcare_places::Migration),
            Box::new(m20261205_000006_import_runs::Migration),
            Box::new(m20261206_000001_updated_at_indexes::Migration),
            Box::new(m20261206_000002_due_draw_index::Migration),
            Box::new(m20261207_000001_courses::Migration),
            Box::new(m20261207_000002_audit_district::Migration),
            Box::new(m20261207_000003_rate_limit_windows::Migration),
            Box::new(m20261207_000004_form_drafts::Migration),
        ]
    }
}
