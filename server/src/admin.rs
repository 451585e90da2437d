//! `ningyu admin …`: account and role management from the command line.

use app::domain::accounts;
use app::model::Role;

use crate::cli::AdminCommand;
use crate::config::Config;

/// Runs `command` against the configured database, migrating it first.
pub async fn run(config: &Config, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Grant {
            subject,
            role,
            district,
            place,
        } => {
            let role = parse_role(&role, district, place)?;
            let mut no_demo = config.clone();
            no_demo.demo_data = false;
            let state = crate::startup::prepare_database(&no_demo).await?;
            let account_id =
                accounts::grant_role(&state.db, &subject, &role, None, chrono::Utc::now())
                    .await
                    .map_err(|error| anyhow::anyhow!("cannot grant the role: {error}"))?;
            tracing::info!(account = account_id, ?role, "role granted");
            Ok(())
        }
    }
}

fn parse_role(name: &str, district: Option<String>, place: Option<i64>) -> anyhow::Result<Role> {
    match (name, district, place) {
        ("city-admin", None, None) => Ok(Role::CityAdmin),
        ("district-admin", Some(code), None)
            if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Ok(Role::DistrictAdmin {
                district_code: code,
            })
        }
        ("room-staff", None, Some(place_id)) => Ok(Role::RoomStaff { place_id }),
        _ => anyhow::bail!(
            "invalid role: use --role city-admin, --role district-admin --district \
             CODE (six digits) or --role room-staff --place ID"
        ),
    }
}
