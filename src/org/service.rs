//! Use cases for organizations, teams and people. Each checks the actor's
//! permission, scopes everything by the actor's organization and runs in
//! one transaction.

use jiff::civil::Date;

use super::model::{
    Email, LeaveReason, OrgName, Organization, Person, PersonInput, PersonName, Role, Team, TeamName, TimeZoneName,
    reaches,
};
use super::store;
use crate::app::App;
use crate::audit::{self, Subject};
use crate::auth::magic::Invitation;
use crate::auth::password::{self, Password};
use crate::auth::{Actor, Permission};
use crate::db::{Db, Tx, new_id};
use crate::error::AppError;

/// Everyone and every team of one organization, loaded together.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    pub teams: Vec<Team>,
    pub people: Vec<Person>,
}

impl Directory {
    pub async fn load(conn: &mut sqlx::AnyConnection, org_id: i64) -> Result<Directory, sqlx::Error> {
        Ok(Directory {
            teams: store::list_teams(conn, org_id).await?,
            people: store::list_people(conn, org_id).await?,
        })
    }

    /// The teams, and of the people only those among `ids`: for a page
    /// that names a few people of a large organization.
    pub async fn with_people(
        conn: &mut sqlx::AnyConnection,
        org_id: i64,
        ids: &[i64],
    ) -> Result<Directory, sqlx::Error> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        Ok(Directory {
            teams: store::list_teams(conn, org_id).await?,
            people: store::people_among(conn, org_id, &ids).await?,
        })
    }

    pub fn team(&self, id: i64) -> Option<&Team> {
        self.teams.iter().find(|t| t.id == id)
    }

    /// The time zone a person reads dates and times in (theirs), when
    /// they are of the organization.
    pub fn zone_of(&self, id: i64) -> Option<jiff::tz::TimeZone> {
        self.person(id).and_then(|p| jiff::tz::TimeZone::get(&p.time_zone).ok())
    }

    pub fn person(&self, id: i64) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }

    pub fn team_by_key(&self, key: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.name.to_lowercase() == key)
    }

    pub fn person_by_email_key(&self, key: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.email.to_lowercase() == key)
    }

    /// "Parent / Child" for a nested team.
    pub fn team_path(&self, id: i64) -> String {
        let mut names: Vec<&str> = self
            .teams_up(id)
            .filter_map(|t| self.team(t))
            .map(|t| t.name.as_str())
            .collect();
        names.reverse();
        names.join(" / ")
    }

    /// `team` and every team above it, up to the top.
    pub fn teams_up(&self, team: i64) -> impl Iterator<Item = i64> + '_ {
        crate::shared::tree::up(Some(team), |t| self.team(t).and_then(|t| t.parent_id))
    }

    /// Active teams sorted by their path, for pickers.
    pub fn team_choices(&self) -> Vec<(i64, String)> {
        let mut v: Vec<_> = self
            .teams
            .iter()
            .filter(|t| t.active)
            .map(|t| (t.id, self.team_path(t.id)))
            .collect();
        v.sort_by_key(|a| a.1.to_lowercase());
        v
    }

    pub fn active_people(&self) -> impl Iterator<Item = &Person> {
        self.people.iter().filter(|p| p.active)
    }

    /// Whether `team` is `root` or one of its sub-teams, at any depth. A
    /// loop in the nesting (refused on write) counts as outside.
    pub fn team_within(&self, team: i64, root: i64) -> bool {
        self.teams_up(team).any(|t| t == root)
    }

    /// Everyone (leavers included) whose team is `root` or below it.
    pub fn people_within(&self, root: i64) -> impl Iterator<Item = &Person> {
        self.people
            .iter()
            .filter(move |p| p.team_id.is_some_and(|t| self.team_within(t, root)))
    }

    fn manager_chain_reaches(&self, start: Option<i64>, target: i64) -> bool {
        reaches(start, target, |id| self.person(id).and_then(|p| p.manager_id))
    }

    fn team_chain_reaches(&self, start: Option<i64>, target: i64) -> bool {
        reaches(start, target, |id| self.team(id).and_then(|t| t.parent_id))
    }
}

pub async fn directory(db: &Db, org_id: i64) -> Result<Directory, AppError> {
    let mut conn = db.acquire().await?;
    Ok(Directory::load(&mut conn, org_id).await?)
}

/// What `create_org` made: the organization, its owner, and the owner's
/// one-time password (shown once, never stored in clear).
pub struct NewOrg {
    pub org: Organization,
    pub owner_id: i64,
    pub owner_password: Password,
}

/// Creates an organization and its first owner. The slug is derived from
/// the name; "-2", "-3"… are added if it is taken.
pub async fn create_org(
    app: &App,
    name: &OrgName,
    owner_name: &PersonName,
    owner_email: &Email,
    time_zone: &TimeZoneName,
) -> Result<NewOrg, AppError> {
    let owner_password = Password::generate();
    let hash = password::hash(&owner_password).await;
    let mut tx = app.db.begin().await?;
    let (org, owner_id) =
        insert_org_and_owner(&mut tx, app, name, owner_name, owner_email, time_zone, &hash, true).await?;
    tx.commit().await?;
    Ok(NewOrg {
        org,
        owner_id,
        owner_password,
    })
}

/// The first organization of an empty installation, set up in the
/// browser: its owner chose their password. Refused (409) once any
/// organization exists — checked under a lock on PostgreSQL (SQLite's
/// write transaction holds one already), so two set-ups at once make one.
pub async fn set_up_first_org(
    app: &App,
    name: &OrgName,
    owner_name: &PersonName,
    owner_email: &Email,
    time_zone: &TimeZoneName,
    owner_password: &Password,
) -> Result<(Organization, i64), AppError> {
    let hash = password::hash(owner_password).await;
    let mut tx = app.db.begin().await?;
    store::lock_organizations(&mut tx, app.db.backend).await?;
    if store::any_org(&mut tx).await? {
        return Err(AppError::conflict(
            "setup",
            "this server is set up already; sign in instead",
        ));
    }
    let made = insert_org_and_owner(&mut tx, app, name, owner_name, owner_email, time_zone, &hash, false).await?;
    tx.commit().await?;
    Ok(made)
}

#[allow(clippy::too_many_arguments)]
async fn insert_org_and_owner(
    tx: &mut Tx,
    app: &App,
    name: &OrgName,
    owner_name: &PersonName,
    owner_email: &Email,
    time_zone: &TimeZoneName,
    hash: &str,
    must_change_password: bool,
) -> Result<(Organization, i64), AppError> {
    let now = app.now().as_second();
    let base = name.slug();
    let mut slug = base.clone();
    let mut n = 2;
    while store::slug_taken(tx, &slug).await? {
        slug = format!("{base}-{n}");
        n += 1;
    }
    let org = Organization {
        id: new_id(),
        slug,
        name: name.as_str().to_owned(),
        time_zone: time_zone.as_str().to_owned(),
    };
    store::insert_org(tx, &org, now).await?;
    let owner_id = new_id();
    let owner = PersonInput {
        name: owner_name.clone(),
        email: owner_email.clone(),
        role: Role::Owner,
        team_id: None,
        manager_id: None,
        start_date: None,
        time_zone: time_zone.clone(),
    };
    store::insert_person(tx, org.id, owner_id, &owner, Some(hash), must_change_password, now).await?;
    Ok((org, owner_id))
}

/// Checks the rules that involve other rows: the team and manager exist in
/// this organization, reporting lines have no loops, only owners touch the
/// owner role, and an organization always keeps an active owner.
fn check_person(actor: &Actor, dir: &Directory, id: Option<i64>, input: &PersonInput) -> Result<(), AppError> {
    if let Some(team_id) = input.team_id
        && !dir.team(team_id).is_some_and(|t| t.active)
    {
        return Err(AppError::invalid(
            "team",
            "choose one of the organization's active teams",
        ));
    }
    if let Some(manager_id) = input.manager_id {
        let Some(manager) = dir.person(manager_id).filter(|m| m.active) else {
            return Err(AppError::invalid(
                "manager",
                "choose an active person of the organization",
            ));
        };
        if Some(manager.id) == id {
            return Err(AppError::invalid("manager", "a person cannot be their own manager"));
        }
        if let Some(id) = id
            && dir.manager_chain_reaches(Some(manager_id), id)
        {
            return Err(AppError::invalid(
                "manager",
                format!("{} already reports to this person, directly or not", manager.name),
            ));
        }
    }
    let current = id.and_then(|id| dir.person(id));
    let others = id.is_none_or(|id| !is_last_owner(dir, id));
    crate::auth::policy::role_change(actor, current.map(|p| p.role), input.role, others)
        .map_err(|e| AppError::invalid("role", e))?;
    if let Some(other) = dir.person_by_email_key(&input.email.key())
        && Some(other.id) != id
    {
        return Err(AppError::conflict(
            "email",
            "another person of the organization has this email",
        ));
    }
    Ok(())
}

fn is_last_owner(dir: &Directory, id: i64) -> bool {
    !dir.active_people()
        .any(|p| crate::auth::policy::is_owner(p.role) && p.id != id)
}

/// Turns a uniqueness violation that slipped past the checks (two admins
/// at once) into a 409 on the field.
fn unique_to_conflict(err: sqlx::Error, field: &str, message: &str) -> AppError {
    if crate::db::is_unique_violation(&err) {
        AppError::conflict(field, message)
    } else {
        err.into()
    }
}

async fn begin_checked(app: &App, actor: &Actor) -> Result<(Tx, Directory), AppError> {
    actor.require(Permission::ManagePeople)?;
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let dir = Directory::load(&mut tx, actor.org_id).await?;
    Ok((tx, dir))
}

/// Adds a person; with `invite` (and email on), they get an invitation
/// with a sign-in link, queued in the same transaction.
pub async fn add_person(app: &App, actor: &Actor, input: &PersonInput, invite: bool) -> Result<i64, AppError> {
    let (mut tx, dir) = begin_checked(app, actor).await?;
    check_person(actor, &dir, None, input)?;
    let id = new_id();
    let detail = format!("role {}", input.role.as_str());
    audit::record(
        &mut tx,
        actor,
        "person.created",
        Subject::Person(id),
        &detail,
        app.now(),
    )
    .await?;
    store::insert_person(&mut tx, actor.org_id, id, input, None, false, app.now().as_second())
        .await
        .map_err(|e| unique_to_conflict(e, "email", "another person of the organization has this email"))?;
    if invite && app.mailer.is_on() {
        let invitation = Invitation {
            org_id: actor.org_id,
            person_id: id,
            name: input.name.as_str(),
            email: input.email.as_str(),
            invited_by: inviter(&dir, actor),
        };
        crate::auth::magic::invite(&mut tx, app, &invitation).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// The name an invitation is signed with: the person adding them, or the
/// organization's administrators for the command line.
pub fn inviter<'a>(dir: &'a Directory, actor: &Actor) -> &'a str {
    dir.person(actor.person_id)
        .map_or("Your administrators", |p| p.name.as_str())
}

pub async fn update_person(app: &App, actor: &Actor, id: i64, input: &PersonInput) -> Result<(), AppError> {
    let (mut tx, dir) = begin_checked(app, actor).await?;
    let before = dir.person(id).ok_or(AppError::NotFound)?;
    check_person(actor, &dir, Some(id), input)?;
    if before.role != input.role {
        let change = format!("{} → {}", before.role.as_str(), input.role.as_str());
        audit::record(
            &mut tx,
            actor,
            "person.role_changed",
            Subject::Person(id),
            &change,
            app.now(),
        )
        .await?;
    }
    audit::record(&mut tx, actor, "person.updated", Subject::Person(id), "", app.now()).await?;
    store::update_person(&mut tx, actor.org_id, id, input, app.now().as_second())
        .await
        .map_err(|e| unique_to_conflict(e, "email", "another person of the organization has this email"))?;
    tx.commit().await?;
    Ok(())
}

pub async fn deactivate_person(
    app: &App,
    actor: &Actor,
    id: i64,
    end_date: Date,
    reason: LeaveReason,
) -> Result<(), AppError> {
    let (mut tx, dir) = begin_checked(app, actor).await?;
    let person = dir.person(id).ok_or(AppError::NotFound)?;
    if id == actor.person_id {
        return Err(AppError::conflict("person", "you cannot deactivate yourself"));
    }
    if crate::auth::policy::is_owner(person.role) {
        actor.require(Permission::ManageOwners)?;
        if is_last_owner(&dir, id) {
            return Err(AppError::conflict(
                "person",
                "the organization needs at least one active owner",
            ));
        }
    }
    store::deactivate_person(&mut tx, actor.org_id, id, end_date, reason, app.now().as_second()).await?;
    let detail = format!("left {end_date} ({})", reason.as_str());
    audit::record(
        &mut tx,
        actor,
        "person.deactivated",
        Subject::Person(id),
        &detail,
        app.now(),
    )
    .await?;
    // Their reports now report to their manager, so nobody points at a leaver.
    for report in dir.people.iter().filter(|p| p.manager_id == Some(id)) {
        store::set_manager(&mut tx, actor.org_id, report.id, person.manager_id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Erases the personal data of someone who has left, on an owner's request
/// (PRIVACY.md rule 19): their name and email, start date, password,
/// sessions, API tokens and pulse invitations, and what other modules keep
/// of them alone (`module::EraseHooks`: their private conversation notes
/// and calendar feed). What they contributed
/// anonymously (answers, released results, feedback) is untouched: none of
/// it was theirs by name. Thank-yous they wrote or received then show
/// "Former member". Audited; cannot be undone.
pub async fn erase_person(app: &App, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require(Permission::ManageOwners)?;
    let (mut tx, dir) = begin_checked(app, actor).await?;
    let person = dir.person(id).ok_or(AppError::NotFound)?;
    if person.active {
        return Err(AppError::conflict(
            "person",
            "deactivate them first: only the personal data of someone who has left can be erased",
        ));
    }
    if person.email.ends_with(ERASED_DOMAIN) {
        return Err(AppError::conflict("person", "their personal data is erased already"));
    }
    let now = app.now().as_second();
    let email = format!("erased-{id}{ERASED_DOMAIN}");
    store::erase_person(&mut tx, actor.org_id, id, ERASED_NAME, &email, now).await?;
    if let Some(hooks) = app.parts.get::<crate::module::EraseHooks>() {
        for erase in &hooks.0 {
            erase(&mut tx, actor.org_id, id).await?;
        }
    }
    audit::record(
        &mut tx,
        actor,
        "person.erased",
        Subject::Person(id),
        "personal data erased",
        app.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The name an erased person shows under.
pub const ERASED_NAME: &str = "Former member";
/// Where an erased person's email address points: nowhere (RFC 2606).
pub const ERASED_DOMAIN: &str = "@erased.invalid";

pub async fn reactivate_person(app: &App, actor: &Actor, id: i64) -> Result<(), AppError> {
    let (mut tx, dir) = begin_checked(app, actor).await?;
    let person = dir.person(id).ok_or(AppError::NotFound)?;
    if crate::auth::policy::is_owner(person.role) {
        actor.require(Permission::ManageOwners)?;
    }
    if person.email.ends_with(ERASED_DOMAIN) {
        return Err(AppError::conflict(
            "person",
            "their personal data was erased: add them again instead",
        ));
    }
    store::reactivate_person(&mut tx, actor.org_id, id, app.now().as_second()).await?;
    audit::record(&mut tx, actor, "person.reactivated", Subject::Person(id), "", app.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Gives a person a random password to be changed at first sign-in, and
/// returns it to show once.
pub async fn issue_one_time_password(app: &App, actor: &Actor, id: i64) -> Result<Password, AppError> {
    actor.require(Permission::ManagePeople)?;
    let person = store::get_person(&app.db, actor.org_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !person.active {
        return Err(AppError::conflict("person", "reactivate this person first"));
    }
    if crate::auth::policy::is_owner(person.role) && person.id != actor.person_id {
        actor.require(Permission::ManageOwners)?;
    }
    let pw = Password::generate();
    let hash = password::hash(&pw).await;
    let mut tx = app.db.begin().await?;
    store::set_password(&mut tx, actor.org_id, id, &hash, true, app.now().as_second()).await?;
    audit::record(
        &mut tx,
        actor,
        "person.one_time_password",
        Subject::Person(id),
        "",
        app.now(),
    )
    .await?;
    tx.commit().await?;
    crate::auth::session::end_all_for(&app.db, actor.org_id, id, None).await?;
    Ok(pw)
}

fn check_team(dir: &Directory, id: Option<i64>, name: &TeamName, parent_id: Option<i64>) -> Result<(), AppError> {
    if let Some(other) = dir.team_by_key(&name.key())
        && Some(other.id) != id
    {
        return Err(AppError::conflict(
            "name",
            "another team of the organization has this name",
        ));
    }
    if let Some(parent_id) = parent_id {
        if !dir.team(parent_id).is_some_and(|t| t.active) {
            return Err(AppError::invalid(
                "parent",
                "choose one of the organization's active teams",
            ));
        }
        if let Some(id) = id
            && dir.team_chain_reaches(Some(parent_id), id)
        {
            return Err(AppError::invalid(
                "parent",
                "a team cannot sit inside itself or its own sub-team",
            ));
        }
    }
    Ok(())
}

pub async fn create_team(app: &App, actor: &Actor, name: &TeamName, parent_id: Option<i64>) -> Result<i64, AppError> {
    let (mut tx, dir) = begin_checked(app, actor).await?;
    check_team(&dir, None, name, parent_id)?;
    let team = Team {
        id: new_id(),
        name: name.as_str().to_owned(),
        parent_id,
        active: true,
    };
    store::insert_team(&mut tx, actor.org_id, &team, app.now().as_second())
        .await
        .map_err(|e| unique_to_conflict(e, "name", "another team of the organization has this name"))?;
    tx.commit().await?;
    Ok(team.id)
}

pub async fn update_team(
    app: &App,
    actor: &Actor,
    id: i64,
    name: &TeamName,
    parent_id: Option<i64>,
) -> Result<(), AppError> {
    let (mut tx, dir) = begin_checked(app, actor).await?;
    let current = dir.team(id).ok_or(AppError::NotFound)?;
    check_team(&dir, Some(id), name, parent_id)?;
    let team = Team {
        id,
        name: name.as_str().to_owned(),
        parent_id,
        active: current.active,
    };
    store::update_team(&mut tx, actor.org_id, &team)
        .await
        .map_err(|e| unique_to_conflict(e, "name", "another team of the organization has this name"))?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_team_active(app: &App, actor: &Actor, id: i64, active: bool) -> Result<(), AppError> {
    let (mut tx, dir) = begin_checked(app, actor).await?;
    let mut team = dir.team(id).ok_or(AppError::NotFound)?.clone();
    if !active {
        let members = dir.active_people().filter(|p| p.team_id == Some(id)).count();
        if members > 0 {
            return Err(AppError::conflict(
                "team",
                format!("{members} active people are in this team; move them to another team first"),
            ));
        }
        if dir.teams.iter().any(|t| t.active && t.parent_id == Some(id)) {
            return Err(AppError::conflict(
                "team",
                "this team has active sub-teams; move or deactivate them first",
            ));
        }
    } else if let Some(parent) = team.parent_id.and_then(|p| dir.team(p))
        && !parent.active
    {
        return Err(AppError::conflict(
            "team",
            format!("reactivate its parent team {} first", parent.name),
        ));
    }
    team.active = active;
    store::update_team(&mut tx, actor.org_id, &team).await?;
    tx.commit().await?;
    Ok(())
}

/// How many organizations the database holds (the demo seeds only an empty one).
pub async fn count_orgs(db: &crate::db::Db) -> Result<i64, sqlx::Error> {
    store::count_orgs(db).await
}

/// The organization's time zone: its name as stored, and the zone. A name
/// that is not a time zone is corrupt data, refused on write: an error,
/// never quietly UTC.
/// The organization's anonymity threshold k (PRIVACY.md rule 7); a stored
/// value outside what the settings accept is corrupt data, an error.
pub async fn anonymity_k(conn: &mut sqlx::AnyConnection, org_id: i64) -> Result<u32, AppError> {
    let k = store::anonymity_k(conn, org_id).await?.ok_or(AppError::NotFound)?;
    u32::try_from(k)
        .ok()
        .filter(|k| (crate::privacy::MIN_K..=crate::privacy::MAX_K).contains(k))
        .ok_or_else(|| AppError::internal(format!("organization {org_id} has a stored k of {k}")))
}

pub async fn time_zone(conn: &mut sqlx::AnyConnection, org_id: i64) -> Result<(String, jiff::tz::TimeZone), AppError> {
    let org = store::org_by_id(conn, org_id).await?.ok_or(AppError::NotFound)?;
    let zone = jiff::tz::TimeZone::get(&org.time_zone).map_err(|e| {
        AppError::internal(format!(
            "organization {org_id} has the stored time zone {:?}: {e}",
            org.time_zone
        ))
    })?;
    Ok((org.time_zone, zone))
}

/// The organization's team tree alone, without its people (results only
/// ever walk teams).
pub async fn team_tree(conn: &mut sqlx::AnyConnection, org_id: i64) -> Result<Directory, sqlx::Error> {
    Ok(Directory {
        teams: store::list_teams(conn, org_id).await?,
        people: Vec::new(),
    })
}

/// The organization with this slug, if there is one.
pub async fn org_by_slug(db: &Db, slug: &str) -> Result<Option<super::model::Organization>, sqlx::Error> {
    store::org_by_slug(db, slug).await
}

/// The id of the person with this email key (see `Email::key`), if any.
pub async fn person_id_by_email(
    conn: &mut sqlx::AnyConnection,
    org_id: i64,
    email_key: &str,
) -> Result<Option<i64>, sqlx::Error> {
    store::person_id_by_email(conn, org_id, email_key).await
}

/// The active people with this email key in any organization (or only
/// in the one with slug `only`): (org id, person id, org slug) each.
pub async fn active_by_email(
    db: &Db,
    email_key: &str,
    only: Option<&str>,
) -> Result<Vec<(i64, i64, String)>, sqlx::Error> {
    store::active_by_email(db, email_key, only.unwrap_or("")).await
}

/// One person of the organization, leavers included.
pub async fn person(db: &Db, org_id: i64, id: i64) -> Result<Option<Person>, sqlx::Error> {
    store::get_person(db, org_id, id).await
}
