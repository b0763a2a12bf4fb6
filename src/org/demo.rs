//! The demo organization: a believable small design-and-software studio,
//! seeded by `belong serve --demo` into an empty database. Later modules
//! add their demo data to the same seed.

use jiff::ToSpan;
use jiff::civil::Date;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::model::{Email, LeaveReason, Organization, PersonInput, PersonName, Role, Team, TimeZoneName};
use super::store;
use crate::app::App;
use crate::auth::password;
use crate::db::new_id;

pub const ORG_NAME: &str = "Fernhill Studio";
pub const ORG_SLUG: &str = "fernhill-studio";
/// Every demo person signs in with this password.
pub const PASSWORD: &str = "belong-demo";
pub const OWNER_EMAIL: &str = "maya.okafor@fernhill.example";
pub const HR_EMAIL: &str = "jonas.weber@fernhill.example";
pub const MANAGER_EMAIL: &str = "lena.fischer@fernhill.example";
pub const EMPLOYEE_EMAIL: &str = "tomas.novak@fernhill.example";

/// (team, parent, time zone of most of its people, manager, members)
type DemoTeam = (
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static [&'static str],
);
const TEAMS: &[DemoTeam] = &[
    ("Leadership", None, "Europe/Berlin", "Maya Okafor", &["Elif Yilmaz"]),
    ("Product & Engineering", None, "Europe/Berlin", "Daniel Brooks", &[]),
    (
        "Platform",
        Some("Product & Engineering"),
        "Europe/Berlin",
        "Lena Fischer",
        &[
            "Tomas Novak",
            "Priya Raman",
            "Arjun Mehta",
            "Sofia Costa",
            "Ben Carter",
            "Hana Sato",
            "Kwame Mensah",
        ],
    ),
    (
        "Mobile",
        Some("Product & Engineering"),
        "Europe/Lisbon",
        "Rui Almeida",
        &[
            "Inês Duarte",
            "Lukas Meyer",
            "Chloé Martin",
            "Omar Haddad",
            "Julia Wójcik",
            "Mateo Rossi",
        ],
    ),
    (
        "Design",
        Some("Product & Engineering"),
        "Europe/Berlin",
        "Clara Schmidt",
        &["Noah Becker", "Aisha Bello", "Emil Larsen", "Yuki Tanaka"],
    ),
    ("Customer", None, "Europe/London", "Grace Whitfield", &[]),
    (
        "Support",
        Some("Customer"),
        "Europe/London",
        "Samir Khan",
        &[
            "Ella Thompson",
            "Marta Nowak",
            "Liam O'Brien",
            "Zoe Adams",
            "Felix Wagner",
            "Nadia Petrova",
        ],
    ),
    (
        "Sales",
        Some("Customer"),
        "America/New_York",
        "Carlos Rivera",
        &[
            "Hannah Lee",
            "Jamal Wright",
            "Olivia Green",
            "Ethan Park",
            "Maria Gonzalez",
        ],
    ),
    ("Operations", None, "Europe/Berlin", "Katrin Vogel", &[]),
    (
        "People & Finance",
        Some("Operations"),
        "Europe/Berlin",
        "Jonas Weber",
        &["Anna Kowalski", "Peter Schulz", "Leila Farah", "David Cohen"],
    ),
];

/// People who have left: (name, team, months ago, reason).
const LEAVERS: &[(&str, &str, i64, LeaveReason)] = &[
    ("Max Hoffmann", "Platform", 2, LeaveReason::Voluntary),
    ("Sara Lindqvist", "Support", 5, LeaveReason::Voluntary),
    ("Tom Baker", "Sales", 8, LeaveReason::Involuntary),
    ("Ines Moreau", "Design", 11, LeaveReason::Other),
];

/// People in another time zone than their team: (name, zone).
const REMOTE: &[(&str, &str)] = &[
    ("Priya Raman", "Asia/Kolkata"),
    ("Arjun Mehta", "Asia/Kolkata"),
    ("Kwame Mensah", "Africa/Accra"),
    ("Ethan Park", "America/Los_Angeles"),
    ("Yuki Tanaka", "Asia/Tokyo"),
    ("Liam O'Brien", "Europe/Dublin"),
];

fn email_for(name: &str) -> String {
    let local: String = name
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('.'),
            'é' | 'è' => Some('e'),
            'ê' => Some('e'),
            'ó' => Some('o'),
            'ô' => Some('o'),
            'ç' => Some('c'),
            'ñ' => Some('n'),
            c if c.is_ascii_alphanumeric() => Some(c),
            _ => None,
        })
        .collect();
    format!("{local}@fernhill.example")
}

/// Seeds the demo organization if the database has no organization yet.
/// Returns whether it did.
/// The demo organization, its teams and people (the modules seed the rest:
/// `crate::modules::seed_demo`); returns its id.
pub async fn seed(app: &App) -> anyhow::Result<i64> {
    let now = app.now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut rng = StdRng::seed_from_u64(2026);
    // One hash for everyone: the demo is for trying the product, and
    // hashing fifty passwords would slow the first start for nothing.
    let hash = password::hash_now(PASSWORD);
    let mut tx = app.db.begin().await?;
    let org = Organization {
        id: new_id(),
        slug: ORG_SLUG.to_owned(),
        name: ORG_NAME.to_owned(),
        time_zone: "Europe/Berlin".to_owned(),
    };
    store::insert_org(&mut tx, &org, now.as_second()).await?;

    let mut team_ids = std::collections::HashMap::new();
    for (name, parent, ..) in TEAMS {
        let team = Team {
            id: new_id(),
            name: (*name).to_owned(),
            parent_id: parent.map(|p| team_ids[p]),
            active: true,
        };
        store::insert_team(&mut tx, org.id, &team, now.as_second()).await?;
        team_ids.insert(*name, team.id);
    }

    let mut seeder = Seeder {
        org_id: org.id,
        hash,
        now: now.as_second(),
        team_ids,
        person_ids: std::collections::HashMap::new(),
    };
    let random_start = |rng: &mut StdRng| today - (rng.gen_range(30..6 * 365) as i64).days();

    // Managers first (in team order, so each one's own manager exists).
    for (team, parent, zone, manager, _) in TEAMS {
        let role = match *manager {
            "Maya Okafor" => Role::Owner,
            "Jonas Weber" => Role::HrAdmin,
            _ => Role::Manager,
        };
        let boss = match (*manager, parent) {
            ("Maya Okafor", _) => None,
            (_, Some(p)) => TEAMS.iter().find(|t| t.0 == *p).map(|t| t.3),
            (_, None) => Some("Maya Okafor"),
        };
        if !seeder.person_ids.contains_key(*manager) {
            // Managers have been around a while.
            let start = today - (rng.gen_range(2 * 365..8 * 365) as i64).days();
            seeder.add(&mut tx, manager, role, team, zone, boss, start).await?;
        }
    }
    for (team, _, zone, manager, members) in TEAMS {
        for member in *members {
            if !seeder.person_ids.contains_key(*member) {
                let start = random_start(&mut rng);
                seeder
                    .add(&mut tx, member, Role::Employee, team, zone, Some(manager), start)
                    .await?;
            }
        }
    }
    for (name, team, months_ago, reason) in LEAVERS {
        let (_, _, zone, manager, _) = TEAMS.iter().find(|t| t.0 == *team).expect("leaver's team exists");
        let end = today - months_ago.months();
        let start = end - (rng.gen_range(200..1500) as i64).days();
        let id = seeder
            .add(&mut tx, name, Role::Employee, team, zone, Some(manager), start)
            .await?;
        store::deactivate_person(&mut tx, org.id, id, end, *reason, now.as_second()).await?;
    }
    tx.commit().await?;
    Ok(org.id)
}

struct Seeder {
    org_id: i64,
    hash: String,
    now: i64,
    team_ids: std::collections::HashMap<&'static str, i64>,
    person_ids: std::collections::HashMap<&'static str, i64>,
}

impl Seeder {
    #[allow(clippy::too_many_arguments)]
    async fn add(
        &mut self,
        tx: &mut crate::db::Tx,
        name: &'static str,
        role: Role,
        team: &str,
        zone: &str,
        manager: Option<&str>,
        start: Date,
    ) -> anyhow::Result<i64> {
        let zone = REMOTE.iter().find(|(n, _)| *n == name).map_or(zone, |(_, z)| z);
        let input = PersonInput {
            name: PersonName::parse(name).map_err(anyhow::Error::msg)?,
            email: Email::parse(&email_for(name)).map_err(anyhow::Error::msg)?,
            role,
            team_id: Some(self.team_ids[team]),
            manager_id: manager.map(|m| self.person_ids[m]),
            start_date: Some(start),
            time_zone: TimeZoneName::parse(zone).map_err(anyhow::Error::msg)?,
        };
        let id = new_id();
        store::insert_person(tx, self.org_id, id, &input, Some(&self.hash), false, self.now).await?;
        self.person_ids.insert(name, id);
        Ok(id)
    }
}

/// What `--demo` prints so a newcomer can sign in.
pub fn sign_in_help(base_url: &str) -> String {
    format!(
        "Demo organization \"{ORG_NAME}\" — sign in at {base_url}/signin\n\
         \x20 organization: {ORG_SLUG}\n\
         \x20 password (everyone): {PASSWORD}\n\
         \x20 owner:    {OWNER_EMAIL}\n\
         \x20 HR admin: {HR_EMAIL}\n\
         \x20 manager:  {MANAGER_EMAIL}\n\
         \x20 employee: {EMPLOYEE_EMAIL}"
    )
}
