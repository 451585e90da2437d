//! Family profiles against a real database: consent, isolation between
//! families, invitations for carers, export and deletion.

use app::domain::accounts::{self, PortalIdentity};
use app::domain::family::{self, ChildAccess, ChildInput};
use app::error::AppError;
use app::model::ChildRelation;
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

async fn account(db: &DatabaseConnection, subject: &str, name: &str, mobile: &str) -> i64 {
    accounts::sign_in(
        db,
        &PortalIdentity {
            subject: subject.into(),
            display_name: name.into(),
            mobile: Some(mobile.into()),
            real_name_verified: true,
        },
        Utc::now(),
    )
    .await
    .expect("account is created")
}

fn input(name: &str, birth: &str, notes: Option<&str>) -> ChildInput {
    ChildInput {
        display_name: name.into(),
        birth_date: birth.into(),
        care_notes: notes.map(str::to_owned),
    }
}

async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .expect("count query")
        .expect("one row");
    row.try_get::<i64>("", "n").expect("count")
}

async fn child_needs_consent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let parent = account(&app.db, "p1", "陈静", "19900000001").await;

    let rejected = family::add_child(
        &app.db,
        parent,
        &input("王小明", "2025-03-01", None),
        false,
        Utc::now(),
    )
    .await;
    assert!(
        matches!(rejected, Err(AppError::Invalid { ref field, .. }) if field == "consent"),
        "{rejected:?}"
    );
    assert_eq!(count(&app.db, "child").await, 0);
    assert_eq!(count(&app.db, "child_consent").await, 0);

    let child = family::add_child(
        &app.db,
        parent,
        &input("王小明", "2025-03-01", Some("花生过敏")),
        true,
        Utc::now(),
    )
    .await
    .expect("child is added with consent");
    assert_eq!(child.display_name, "王小明");
    assert_eq!(child.care_notes.as_deref(), Some("花生过敏"));
    assert_eq!(count(&app.db, "child_consent").await, 1);

    // Withdrawing consent deletes the record but keeps when consent ended.
    family::withdraw_consent(&app.db, &Default::default(), parent, child.id, Utc::now())
        .await
        .expect("consent is withdrawn");
    assert_eq!(count(&app.db, "child").await, 0);
    let export = family::export(&app.db, parent, Utc::now())
        .await
        .expect("export");
    assert!(
        export["consents"][0]["withdrawn_at"].is_string(),
        "{export}"
    );
}
on_both_backends!(child_needs_consent);

async fn families_are_isolated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let now = Utc::now();
    let first = account(db, "f1", "陈静", "19900000001").await;
    let second = account(db, "f2", "李建国", "19900000002").await;
    let child = family::add_child(db, first, &input("王小明", "2025-03-01", None), true, now)
        .await
        .expect("child");

    assert_eq!(
        family::get_child(db, second, child.id, now).await,
        Err(AppError::NotFound)
    );
    assert_eq!(
        family::child_access(db, second, child.id).await,
        Err(AppError::NotFound)
    );
    let missing = family::get_child(db, second, child.id + 1000, now).await;
    assert_eq!(
        missing,
        Err(AppError::NotFound),
        "same error as for a missing child"
    );
    assert_eq!(
        family::update_child(
            db,
            second,
            child.id,
            &input("改名", "2025-03-01", None),
            now
        )
        .await
        .map(|_| ()),
        Err(AppError::NotFound)
    );
    assert_eq!(
        family::withdraw_consent(db, &Default::default(), second, child.id, now).await,
        Err(AppError::NotFound)
    );
    assert_eq!(
        family::create_invitation(db, second, &[child.id], now)
            .await
            .map(|_| ()),
        Err(AppError::NotFound)
    );
    let overview = family::overview(db, second, now).await.expect("overview");
    assert!(overview.children.is_empty());
    assert!(overview.cared_for.is_empty());
    assert_eq!(count(db, "child").await, 1, "nothing changed");
}
on_both_backends!(families_are_isolated);

async fn carer_acts_for_named_children(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let now = Utc::now();
    let parent = account(db, "parent", "陈静", "19900000001").await;
    let grandparent = account(db, "grandparent", "李建国", "19900000002").await;
    let older = family::add_child(db, parent, &input("王大宝", "2024-05-01", None), true, now)
        .await
        .expect("child");
    let younger = family::add_child(db, parent, &input("王小宝", "2026-01-10", None), true, now)
        .await
        .expect("child");

    let invitation = family::create_invitation(db, parent, &[younger.id], now)
        .await
        .expect("invitation");
    assert_eq!(
        family::accept_invitation(db, parent, &invitation.code, now).await,
        Err(AppError::Conflict {
            reason: "this invitation is from your own family".into()
        })
    );
    // Codes are typed by people: lower case and spaces are fine.
    let typed = format!(" {} ", invitation.code.to_lowercase());
    let granted = family::accept_invitation(db, grandparent, &typed, now)
        .await
        .expect("accepted");
    assert_eq!(granted, vec![younger.id]);
    assert_eq!(
        family::accept_invitation(db, app_other(db).await, &invitation.code, now).await,
        Err(AppError::NotFound),
        "a code works once"
    );

    let access = family::child_access(db, grandparent, younger.id)
        .await
        .expect("carer has access");
    assert_eq!(access.on_behalf_of(), Some(parent));
    assert!(matches!(access, ChildAccess::Carer { .. }));
    assert_eq!(
        family::child_access(db, grandparent, older.id).await,
        Err(AppError::NotFound),
        "only the named children"
    );

    let seen = family::overview(db, grandparent, now)
        .await
        .expect("overview");
    assert_eq!(seen.cared_for.len(), 1);
    assert_eq!(seen.cared_for[0].display_name, "王小宝");
    assert_eq!(
        seen.cared_for[0].relation,
        ChildRelation::Carer {
            guardian_name: "陈静".into()
        }
    );
    let guardian_view = family::overview(db, parent, now).await.expect("overview");
    assert_eq!(guardian_view.carers.len(), 1);
    assert_eq!(guardian_view.carers[0].display_name, "李建国");

    let audit = app::domain::audit::recent(db, 50).await.expect("audit");
    let accepted = audit
        .iter()
        .find(|entry| entry.action == "invitation.accept")
        .expect("acceptance is audited");
    assert_eq!(accepted.actor_account_id, Some(grandparent));
    assert_eq!(accepted.on_behalf_of_account_id, Some(parent));

    family::revoke_carer(db, parent, grandparent, now)
        .await
        .expect("revoked");
    assert_eq!(
        family::child_access(db, grandparent, younger.id).await,
        Err(AppError::NotFound)
    );
    assert!(
        family::overview(db, grandparent, now)
            .await
            .expect("overview")
            .cared_for
            .is_empty()
    );
}
on_both_backends!(carer_acts_for_named_children);

async fn app_other(db: &DatabaseConnection) -> i64 {
    account(db, "someone-else", "周敏", "19900000003").await
}

async fn stale_invitations_rejected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let now = Utc::now();
    let parent = account(db, "parent", "陈静", "19900000001").await;
    let carer = account(db, "carer", "李建国", "19900000002").await;
    let child = family::add_child(db, parent, &input("王小宝", "2026-01-10", None), true, now)
        .await
        .expect("child");

    let revoked = family::create_invitation(db, parent, &[child.id], now)
        .await
        .expect("invitation");
    let id = family::overview(db, parent, now)
        .await
        .expect("overview")
        .invitations[0]
        .id;
    family::revoke_invitation(db, parent, id, now)
        .await
        .expect("revoked");
    assert_eq!(
        family::accept_invitation(db, carer, &revoked.code, now).await,
        Err(AppError::NotFound)
    );

    let old = family::create_invitation(db, parent, &[child.id], now)
        .await
        .expect("invitation");
    let later = now + family::INVITATION_TTL + chrono::Duration::seconds(1);
    assert_eq!(
        family::accept_invitation(db, carer, &old.code, later).await,
        Err(AppError::NotFound)
    );
}
on_both_backends!(stale_invitations_rejected);

async fn deletion_removes_personal_data(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let now = Utc::now();
    let parent = account(db, "subject-to-forget", "测试家长甲", "13912345678").await;
    let carer = account(db, "carer-stays", "李建国", "19900000002").await;
    let child = family::add_child(
        db,
        parent,
        &input("测试宝宝乙", "2025-08-08", Some("测试过敏丙")),
        true,
        now,
    )
    .await
    .expect("child");
    let invitation = family::create_invitation(db, parent, &[child.id], now)
        .await
        .expect("invitation");
    family::accept_invitation(db, carer, &invitation.code, now)
        .await
        .expect("accepted");
    let export = family::export(db, parent, now).await.expect("export");
    let text = export.to_string();
    for expected in [
        "subject-to-forget",
        "测试家长甲",
        "13912345678",
        "测试宝宝乙",
        "测试过敏丙",
        app::model::CHILD_NOTICE_VERSION,
        "invitation.create",
    ] {
        assert!(text.contains(expected), "export lacks {expected}: {text}");
    }
    assert_eq!(export["carers"][0]["carer_account_id"], carer);

    family::delete_account(db, &Default::default(), parent, now)
        .await
        .expect("deleted");

    for table in user_tables(db).await {
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT * FROM {table}"),
            ))
            .await
            .expect("table is readable");
        for row in rows {
            let text = row_text(&row);
            for secret in [
                "subject-to-forget",
                "测试家长甲",
                "13912345678",
                "测试宝宝乙",
                "测试过敏丙",
            ] {
                assert!(
                    !text.contains(secret),
                    "{table} still contains {secret}: {text}"
                );
            }
        }
    }
    assert!(
        family::overview(db, carer, now)
            .await
            .expect("overview")
            .cared_for
            .is_empty(),
        "the carer's access went with the family"
    );
    let audit = app::domain::audit::recent(db, 50).await.expect("audit");
    let deletion = audit
        .iter()
        .find(|entry| entry.action == "account.delete")
        .expect("deletion is recorded");
    assert_eq!(deletion.detail, Some(serde_json::json!({ "children": 1 })));
}
on_both_backends!(deletion_removes_personal_data);

async fn user_tables(db: &DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        _ => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("table list");
    let tables: Vec<String> = rows
        .iter()
        .map(|row| row.try_get::<String>("", "name").expect("name"))
        .collect();
    assert!(tables.iter().any(|table| table == "child"), "{tables:?}");
    tables
}

/// Renders every text column of a row, for searching.
fn row_text(row: &sea_orm::QueryResult) -> String {
    let mut text = String::new();
    for column in row.column_names() {
        if let Ok(Some(value)) = row.try_get::<Option<String>>("", &column) {
            text.push_str(&value);
            text.push('\u{1f}');
        } else if let Ok(Some(value)) = row.try_get::<Option<serde_json::Value>>("", &column) {
            text.push_str(&value.to_string());
            text.push('\u{1f}');
        }
    }
    text
}
