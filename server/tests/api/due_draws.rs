//! The background job's query for due fair-release draws reads the partial
//! index `idx_care_session_due_draw`, not the whole `care_session` table.

use app::domain::booking::due_draw_candidates;
use chrono::Utc;
use sea_orm::sea_query::{PostgresQueryBuilder, QueryBuilder};
use sea_orm::{ConnectionTrait, DbBackend, QueryTrait, Statement, TransactionTrait};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

/// Copies the demo sessions until the table holds thousands of rows: most
/// first-come, every tenth a fair-release session that has been drawn.
const FILL_SESSIONS: &str = "
    INSERT INTO care_session (place_id, kind, title, starts_at, ends_at, capacity, booked,
        min_age_months, max_age_months, price_fen, is_demo, created_at, updated_at,
        booking_opens_at, booking_closes_at, cancel_until, guardian_attends, release_mode,
        release_window_minutes, drawn_at, draw_seed, draw_by_priority)
    WITH RECURSIVE copy(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM copy WHERE i < 400)
    SELECT c.place_id, c.kind, c.title, c.starts_at, c.ends_at, c.capacity, 0,
        c.min_age_months, c.max_age_months, c.price_fen, c.is_demo, c.created_at, c.updated_at,
        c.created_at, c.booking_closes_at, c.cancel_until, c.guardian_attends,
        CASE WHEN copy.i % 10 = 0 THEN 'fair_release' ELSE 'first_come' END,
        c.release_window_minutes,
        CASE WHEN copy.i % 10 = 0 THEN c.created_at ELSE NULL END,
        c.draw_seed, c.draw_by_priority
    FROM care_session c CROSS JOIN copy";

async fn due_draw_query_uses_index(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db_backend = app.db.get_database_backend();
    app.db
        .execute_unprepared(FILL_SESSIONS)
        .await
        .expect("sessions are copied");
    app.db.execute_unprepared("ANALYZE").await.expect("analyze");
    let count = app
        .db
        .query_one_raw(Statement::from_string(
            db_backend,
            "SELECT COUNT(*) AS n FROM care_session",
        ))
        .await
        .expect("query")
        .expect("row")
        .try_get::<i64>("", "n")
        .expect("count");
    assert!(count >= 4000, "the table holds {count} sessions");

    let query = due_draw_candidates(Utc::now()).build(db_backend);
    let plan = match db_backend {
        DbBackend::Sqlite => {
            let rows = app
                .db
                .query_all_raw(Statement::from_sql_and_values(
                    db_backend,
                    format!("EXPLAIN QUERY PLAN {}", query.sql),
                    query
                        .values
                        .clone()
                        .map(|values| values.0)
                        .unwrap_or_default(),
                ))
                .await
                .expect("plan");
            rows.iter()
                .map(|row| row.try_get::<String>("", "detail").expect("detail"))
                .collect::<Vec<_>>()
                .join("\n")
        }
        _ => {
            // The plan PostgreSQL caches for the driver's prepared statement
            // after a few runs is generic: it cannot see the parameters'
            // values, so the index must serve without them.
            let txn = app.db.begin().await.expect("transaction");
            txn.execute_unprepared(&format!("PREPARE due_draws AS {}", query.sql))
                .await
                .expect("prepare");
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_generic_plan")
                .await
                .expect("set");
            let arguments = query
                .values
                .iter()
                .flat_map(|values| values.0.iter())
                .map(|value| PostgresQueryBuilder.value_to_string(value))
                .collect::<Vec<_>>()
                .join(", ");
            let rows = txn
                .query_all_raw(Statement::from_string(
                    db_backend,
                    format!("EXPLAIN EXECUTE due_draws({arguments})"),
                ))
                .await
                .expect("plan");
            txn.execute_unprepared("DEALLOCATE due_draws")
                .await
                .expect("deallocate");
            rows.iter()
                .map(|row| row.try_get::<String>("", "QUERY PLAN").expect("line"))
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    assert!(
        plan.contains("idx_care_session_due_draw"),
        "the plan reads the index:\n{plan}"
    );
}
on_both_backends!(due_draw_query_uses_index);
