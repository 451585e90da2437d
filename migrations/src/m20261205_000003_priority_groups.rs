//! Priority groups for fair-release draws: groups that city administrators
//! define (for example left-behind children), the children they put in a
//! group, and the sessions whose draw serves those groups first.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CareSession::Table)
                    .add_column(
                        boolean(CareSession::DrawByPriority)
                            .default(false)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PriorityGroup::Table)
                    .col(big_pk_auto(PriorityGroup::Id))
                    .col(string_len_uniq(PriorityGroup::Code, 32))
                    .col(string_len(PriorityGroup::NameZh, 50))
                    .col(string_len(PriorityGroup::NameEn, 80))
                    // 1 is drawn first; groups may share a rank.
                    .col(integer(PriorityGroup::Rank))
                    .col(big_integer_null(PriorityGroup::CreatedBy))
                    .col(timestamp_with_time_zone(PriorityGroup::CreatedAt))
                    .check(Expr::col(PriorityGroup::Rank).between(1, 9))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ChildPriority::Table)
                    .col(big_integer(ChildPriority::ChildId))
                    .col(big_integer(ChildPriority::GroupId))
                    .col(big_integer_null(ChildPriority::GrantedBy))
                    .col(timestamp_with_time_zone(ChildPriority::GrantedAt))
                    .primary_key(
                        Index::create()
                            .col(ChildPriority::ChildId)
                            .col(ChildPriority::GroupId),
                    )
                    // Deleting the child (consent withdrawn, account deleted)
                    // or the group deletes the membership with it.
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_child_priority_child")
                            .from(ChildPriority::Table, ChildPriority::ChildId)
                            .to(Child::Table, Child::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_child_priority_group")
                            .from(ChildPriority::Table, ChildPriority::GroupId)
                            .to(PriorityGroup::Table, PriorityGroup::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_child_priority_group")
                    .table(ChildPriority::Table)
                    .col(ChildPriority::GroupId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChildPriority::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PriorityGroup::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CareSession::Table)
                    .drop_column(CareSession::DrawByPriority)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum CareSession {
    Table,
    DrawByPriority,
}

#[derive(DeriveIden)]
enum PriorityGroup {
    Table,
    Id,
    Code,
    NameZh,
    NameEn,
    Rank,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ChildPriority {
    Table,
    ChildId,
    GroupId,
    GrantedBy,
    GrantedAt,
}

#[derive(DeriveIden)]
enum Child {
    Table,
    Id,
}
