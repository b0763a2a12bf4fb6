//! Importing people from an HRIS export (CSV): parse, plan, apply.
//!
//! Parsing and planning do no I/O: they turn the file and the current
//! directory into a [`Plan`] that says, row by row, what would be created,
//! updated or rejected and why. Applying a plan runs in one transaction.
//! People are matched by email (case-insensitive), so importing the same
//! file twice changes nothing the second time. An empty cell leaves the
//! stored value as it is.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::civil::Date;

use super::model::{Email, PersonInput, PersonName, Role, TeamName, TimeZoneName, parse_date};
use super::service::Directory;
use super::store;
use crate::app::App;
use crate::audit::{self, Subject};
use crate::auth::magic::Invitation;
use crate::auth::{Actor, Permission};
use crate::db::new_id;
use crate::error::AppError;

pub const COLUMNS: [&str; 7] = [
    "name",
    "email",
    "team",
    "manager_email",
    "role",
    "start_date",
    "time_zone",
];
pub const MAX_ROWS: usize = 20_000;

/// Why one row (or one cell) cannot be imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub reason: String,
}

/// A row whose cells all parsed.
#[derive(Clone, Debug)]
struct Row {
    line: u64,
    name: PersonName,
    email: Email,
    team: Option<Vec<TeamName>>,
    manager_email: Option<Email>,
    role: Option<Role>,
    start_date: Option<Date>,
    time_zone: Option<TimeZoneName>,
}

/// The file, cell by cell.
#[derive(Debug, Default)]
pub struct ParsedFile {
    rows: Vec<Row>,
    errors: Vec<RowError>,
    pub unknown_columns: Vec<String>,
}

/// Reads a CSV file. A problem with the file as a whole (no header, a
/// required column missing) is an error; a problem in a row is reported
/// against that row and the rest is read.
pub fn parse(bytes: &[u8]) -> Result<ParsedFile, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    // Spreadsheets in many European locales save with semicolons.
    let delimiter = if !first_line.contains(&b',') && first_line.contains(&b';') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(bytes);
    let header = reader
        .byte_headers()
        .map_err(|e| format!("the header line cannot be read: {e}"))?
        .clone();
    if header.is_empty() || header.iter().all(|h| h.is_empty()) {
        return Err("the file is empty: the first line must name the columns (name, email, …)".into());
    }
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    let mut unknown_columns = Vec::new();
    for (i, raw) in header.iter().enumerate() {
        let name = std::str::from_utf8(raw)
            .map_err(|_| "the header line is not UTF-8 text; save the file as CSV UTF-8".to_owned())?;
        let key = name.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        match COLUMNS.iter().find(|c| **c == key) {
            Some(c) => {
                if index.insert(c, i).is_some() {
                    return Err(format!("the column {c:?} appears twice in the header"));
                }
            }
            None if key.is_empty() => {}
            None => unknown_columns.push(name.trim().to_owned()),
        }
    }
    for required in ["name", "email"] {
        if !index.contains_key(required) {
            return Err(format!(
                "the header has no {required:?} column (found: {})",
                header_names(&header)
            ));
        }
    }

    let mut parsed = ParsedFile {
        unknown_columns,
        ..Default::default()
    };
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                parsed.errors.push(RowError {
                    line,
                    column: String::new(),
                    reason: format!("unreadable CSV: {e}"),
                });
                break;
            }
        }
        if parsed.rows.len() + parsed.errors.len() >= MAX_ROWS {
            return Err(format!(
                "the file has more than {MAX_ROWS} rows; split it into smaller files"
            ));
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|cell| cell.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        match parse_row(line, &record, &index) {
            Ok(row) => parsed.rows.push(row),
            Err(mut errors) => parsed.errors.append(&mut errors),
        }
    }
    Ok(parsed)
}

fn header_names(header: &csv::ByteRecord) -> String {
    header
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_row(line: u64, record: &csv::ByteRecord, index: &HashMap<&'static str, usize>) -> Result<Row, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut cell = |column: &'static str| -> Option<String> {
        let raw = record.get(*index.get(column)?).unwrap_or_default();
        match std::str::from_utf8(raw) {
            Ok(s) if s.trim().is_empty() => None,
            Ok(s) => Some(s.trim().to_owned()),
            Err(_) => {
                errors.push(RowError {
                    line,
                    column: column.into(),
                    reason: "is not valid UTF-8 text; save the file as CSV UTF-8".into(),
                });
                None
            }
        }
    };
    let cells: HashMap<&str, Option<String>> = COLUMNS.iter().map(|c| (*c, cell(c))).collect();
    let get = |c: &str| cells.get(c).cloned().flatten();

    let undecodable: HashSet<String> = errors.iter().map(|e| e.column.clone()).collect();
    let mut fail = |column: &str, reason: String| {
        errors.push(RowError {
            line,
            column: column.into(),
            reason,
        });
    };
    let name = if undecodable.contains("name") {
        None
    } else {
        PersonName::parse(&get("name").unwrap_or_default())
            .map_err(|e| fail("name", e))
            .ok()
    };
    let email = if undecodable.contains("email") {
        None
    } else {
        Email::parse(&get("email").unwrap_or_default())
            .map_err(|e| fail("email", e))
            .ok()
    };
    let team = get("team").and_then(|raw| {
        let parts: Result<Vec<_>, _> = raw.split('/').map(TeamName::parse).collect();
        parts
            .map_err(|e| fail("team", format!("{raw:?}: a team name {e}")))
            .ok()
    });
    let manager_email =
        get("manager_email").and_then(|raw| Email::parse(&raw).map_err(|e| fail("manager_email", e)).ok());
    let role = get("role").and_then(|raw| Role::parse(&raw).map_err(|e| fail("role", e)).ok());
    let start_date = get("start_date").and_then(|raw| parse_date(&raw).map_err(|e| fail("start_date", e)).ok());
    let time_zone = get("time_zone").and_then(|raw| TimeZoneName::parse(&raw).map_err(|e| fail("time_zone", e)).ok());

    // Report a row's problems in the order of the file's columns.
    errors.sort_by_key(|e| index.get(e.column.as_str()).copied().unwrap_or(usize::MAX));
    match (name, email) {
        (Some(name), Some(email)) if errors.is_empty() => Ok(Row {
            line,
            name,
            email,
            team,
            manager_email,
            role,
            start_date,
            time_zone,
        }),
        _ => Err(errors),
    }
}

/// A person the import would add.
#[derive(Clone, Debug)]
pub struct Create {
    pub line: u64,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub team: Option<String>,
    pub manager_email: Option<String>,
}

/// A person the import would change, and how.
#[derive(Clone, Debug)]
pub struct Update {
    pub line: u64,
    pub person_id: i64,
    pub name: String,
    pub changes: Vec<String>,
}

/// What importing a file would do.
#[derive(Debug, Default)]
pub struct Plan {
    pub creates: Vec<Create>,
    pub updates: Vec<Update>,
    pub unchanged: usize,
    pub rejected: Vec<RowError>,
    pub unknown_columns: Vec<String>,
    /// Teams to create, as paths ("Engineering / Platform"), parents first.
    pub new_teams: Vec<String>,
    /// Per valid row, what to write (in file order).
    writes: Vec<Write>,
}

impl Plan {
    /// Lines with at least one error.
    pub fn rejected_lines(&self) -> usize {
        self.rejected.iter().map(|e| e.line).collect::<HashSet<_>>().len()
    }

    pub fn has_changes(&self) -> bool {
        !self.creates.is_empty() || !self.updates.is_empty()
    }
}

#[derive(Debug)]
struct Write {
    existing_id: Option<i64>,
    row: Row,
}

/// Decides, for each row, whether it creates, updates, changes nothing or
/// is rejected, against the organization as it is now.
pub fn plan(parsed: ParsedFile, dir: &Directory, actor: &Actor) -> Plan {
    let mut rejected = Rejected::default();
    for e in parsed.errors {
        rejected.0.entry(e.line).or_default().push(e);
    }
    let (mut rows, first_line_of) = check_rows(parsed.rows, dir, actor, &mut rejected);
    check_managers(&mut rows, dir, &first_line_of, &mut rejected);
    let mut plan = classify(rows, dir, parsed.unknown_columns);
    plan.rejected = rejected.0.into_values().flatten().collect();
    plan
}

/// The errors found so far, by line.
#[derive(Default)]
struct Rejected(BTreeMap<u64, Vec<RowError>>);

impl Rejected {
    fn add(&mut self, line: u64, column: &str, reason: String) {
        self.0.entry(line).or_default().push(RowError {
            line,
            column: column.into(),
            reason,
        });
    }
}

/// Row-local and directory checks: duplicates in the file, deactivated
/// people and teams, role changes the actor may not make (owners this file
/// demotes count as gone already), a person managing themselves. The rows
/// that pass, and each email's first line.
fn check_rows(
    parsed: Vec<Row>,
    dir: &Directory,
    actor: &Actor,
    rejected: &mut Rejected,
) -> (Vec<Row>, HashMap<String, u64>) {
    let mut demoted_owners: HashSet<i64> = HashSet::new();
    let mut first_line_of: HashMap<String, u64> = HashMap::new();
    let mut rows: Vec<Row> = Vec::new();
    for row in parsed {
        let key = row.email.key();
        if let Some(first) = first_line_of.get(&key) {
            rejected.add(row.line, "email", format!("this email is also on line {first}"));
            continue;
        }
        first_line_of.insert(key.clone(), row.line);
        let existing = dir.person_by_email_key(&key);
        if let Some(p) = existing.filter(|p| !p.active) {
            let when = p.end_date.map(|d| format!(" (left on {d})")).unwrap_or_default();
            rejected.add(
                row.line,
                "email",
                format!("this person is deactivated{when}; reactivate them on their page first"),
            );
            continue;
        }
        let current_role = existing.map(|p| p.role);
        let new_role = row.role.or(current_role).unwrap_or(Role::Employee);
        // Owners this file demotes count as gone already.
        let other_owners = dir.active_people().any(|p| {
            crate::auth::policy::is_owner(p.role)
                && existing.is_none_or(|e| e.id != p.id)
                && !demoted_owners.contains(&p.id)
        });
        if let Err(e) = crate::auth::policy::role_change(actor, current_role, new_role, other_owners) {
            rejected.add(row.line, "role", e.into());
            continue;
        }
        if let Some(p) = existing
            && current_role.is_some_and(crate::auth::policy::is_owner)
            && !crate::auth::policy::is_owner(new_role)
        {
            demoted_owners.insert(p.id);
        }
        if let Some(team) = &row.team
            && let Some(t) = dir.team_by_key(&team.last().expect("split yields one part").key())
            && !t.active
        {
            rejected.add(row.line, "team", format!("the team {:?} is deactivated", t.name));
            continue;
        }
        if row.manager_email.as_ref().is_some_and(|m| m.key() == key) {
            rejected.add(row.line, "manager_email", "a person cannot be their own manager".into());
            continue;
        }
        rows.push(row);
    }

    (rows, first_line_of)
}

/// Managers must exist (in the organization or among the valid rows), and
/// reporting lines may not loop. Rejecting a row can strand the rows it
/// manages, so this repeats until nothing changes.
fn check_managers(rows: &mut Vec<Row>, dir: &Directory, first_line_of: &HashMap<String, u64>, rejected: &mut Rejected) {
    loop {
        let in_file: HashMap<String, &Row> = rows.iter().map(|r| (r.email.key(), r)).collect();
        let manager_of = |key: &str| -> Option<String> {
            match in_file.get(key) {
                Some(r) => match &r.manager_email {
                    Some(m) => Some(m.key()),
                    None => dir
                        .person_by_email_key(key)
                        .and_then(|p| p.manager_id)
                        .and_then(|id| dir.person(id))
                        .map(|m| m.email.to_lowercase()),
                },
                None => dir
                    .person_by_email_key(key)
                    .and_then(|p| p.manager_id)
                    .and_then(|id| dir.person(id))
                    .map(|m| m.email.to_lowercase()),
            }
        };
        let mut bad: Vec<(u64, String)> = Vec::new();
        for row in rows.iter() {
            let Some(m) = &row.manager_email else {
                continue;
            };
            let mk = m.key();
            let known = in_file.contains_key(&mk) || dir.person_by_email_key(&mk).is_some_and(|p| p.active);
            if !known {
                let why = match (dir.person_by_email_key(&mk), first_line_of.get(&mk)) {
                    (Some(_), _) => format!("the manager {} is deactivated", m.as_str()),
                    (None, Some(line)) => {
                        format!("the manager's own row (line {line}) is rejected")
                    }
                    (None, None) => format!(
                        "no person with the email {} in the organization or in this file",
                        m.as_str()
                    ),
                };
                bad.push((row.line, why));
                continue;
            }
            // Walk up from the manager; reaching this row again is a loop.
            let me = row.email.key();
            if crate::shared::tree::up(Some(mk), |k: String| manager_of(&k)).any(|k| k == me) {
                bad.push((row.line, "this reporting line loops back to the person".into()));
            }
        }
        if bad.is_empty() {
            break;
        }
        let bad_lines: HashSet<u64> = bad.iter().map(|(l, _)| *l).collect();
        for (line, why) in bad {
            rejected.add(line, "manager_email", why);
        }
        rows.retain(|r| !bad_lines.contains(&r.line));
    }
}

/// Sorts the rows that passed into creates, updates and unchanged, with the
/// teams they need.
fn classify(rows: Vec<Row>, dir: &Directory, unknown_columns: Vec<String>) -> Plan {
    let mut plan = Plan {
        unknown_columns,
        ..Default::default()
    };
    let mut new_team_keys: HashSet<String> = HashSet::new();
    for row in rows {
        if let Some(path) = &row.team {
            let mut prefix: Vec<&str> = Vec::new();
            for part in path {
                prefix.push(part.as_str());
                if dir.team_by_key(&part.key()).is_none() && new_team_keys.insert(part.key()) {
                    plan.new_teams.push(prefix.join(" / "));
                }
            }
        }
        let team_label = row
            .team
            .as_ref()
            .map(|p| p.iter().map(TeamName::as_str).collect::<Vec<_>>().join(" / "));
        match dir.person_by_email_key(&row.email.key()) {
            None => {
                plan.creates.push(Create {
                    line: row.line,
                    name: row.name.as_str().to_owned(),
                    email: row.email.as_str().to_owned(),
                    role: row.role.unwrap_or(Role::Employee),
                    team: team_label,
                    manager_email: row.manager_email.as_ref().map(|m| m.as_str().to_owned()),
                });
                plan.writes.push(Write { existing_id: None, row });
            }
            Some(p) => {
                let changes = changes_for(p, &row, dir);
                if changes.is_empty() {
                    plan.unchanged += 1;
                } else {
                    plan.updates.push(Update {
                        line: row.line,
                        person_id: p.id,
                        name: p.name.clone(),
                        changes,
                    });
                    plan.writes.push(Write {
                        existing_id: Some(p.id),
                        row,
                    });
                }
            }
        }
    }
    plan
}

fn changes_for(p: &super::model::Person, row: &Row, dir: &Directory) -> Vec<String> {
    let mut changes = Vec::new();
    if p.name != row.name.as_str() {
        changes.push(format!("name: {} → {}", p.name, row.name.as_str()));
    }
    if p.email != row.email.as_str() {
        changes.push(format!("email: {} → {}", p.email, row.email.as_str()));
    }
    if let Some(role) = row.role.filter(|r| *r != p.role) {
        changes.push(format!("role: {} → {}", p.role.label(), role.label()));
    }
    if let Some(path) = &row.team {
        let leaf = path.last().expect("split yields one part").key();
        let same = p
            .team_id
            .and_then(|id| dir.team(id))
            .is_some_and(|t| t.name.to_lowercase() == leaf);
        if !same {
            let from = p
                .team_id
                .map(|id| dir.team_path(id))
                .unwrap_or_else(|| "no team".into());
            changes.push(format!("team: {from} → {}", path.last().expect("one part").as_str()));
        }
    }
    if let Some(m) = &row.manager_email {
        let current = p
            .manager_id
            .and_then(|id| dir.person(id))
            .map(|m| m.email.to_lowercase());
        if current.as_deref() != Some(m.key().as_str()) {
            changes.push(format!(
                "manager: {} → {}",
                current.unwrap_or_else(|| "none".into()),
                m.as_str()
            ));
        }
    }
    if let Some(d) = row.start_date.filter(|d| Some(*d) != p.start_date) {
        changes.push(format!(
            "start date: {} → {d}",
            p.start_date.map(|d| d.to_string()).unwrap_or_else(|| "none".into())
        ));
    }
    if let Some(tz) = row.time_zone.as_ref().filter(|tz| tz.as_str() != p.time_zone) {
        changes.push(format!("time zone: {} → {}", p.time_zone, tz.as_str()));
    }
    changes
}

/// How to treat a file with rejected rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Apply only if no row is rejected.
    AllOrNothing,
    /// Apply the valid rows and skip the rejected ones.
    ValidRowsOnly,
}

/// Parses, plans and (unless it is a dry run, or rows are rejected under
/// [`Mode::AllOrNothing`]) applies an import in one transaction. The plan
/// is made inside the transaction, so it matches what is written.
/// With `invite` (and email on), each person added gets an invitation
/// with a sign-in link, queued in the same transaction.
pub async fn run(
    app: &App,
    actor: &Actor,
    bytes: &[u8],
    mode: Mode,
    dry_run: bool,
    invite: bool,
) -> Result<(Plan, bool), AppError> {
    actor.require(Permission::ManagePeople)?;
    let parsed = parse(bytes).map_err(|e| AppError::invalid("file", e))?;
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let dir = Directory::load(&mut tx, actor.org_id).await?;
    let plan = plan(parsed, &dir, actor);
    if dry_run || (mode == Mode::AllOrNothing && !plan.rejected.is_empty()) || !plan.has_changes() {
        return Ok((plan, false));
    }
    let now = app.now().as_second();
    let org_id = actor.org_id;

    // Teams, parents first.
    let mut team_ids: HashMap<String, i64> = dir.teams.iter().map(|t| (t.name.to_lowercase(), t.id)).collect();
    for path in &plan.new_teams {
        let names: Vec<&str> = path.split(" / ").collect();
        let name = names.last().expect("a path has a leaf");
        let parent_id = names.len().checked_sub(2).map(|i| team_ids[&names[i].to_lowercase()]);
        let team = super::model::Team {
            id: new_id(),
            name: (*name).to_owned(),
            parent_id,
            active: true,
        };
        store::insert_team(&mut tx, org_id, &team, now).await?;
        team_ids.insert(name.to_lowercase(), team.id);
    }

    // People without managers first, so every manager exists when linked.
    let mut person_ids: HashMap<String, i64> = dir.people.iter().map(|p| (p.email.to_lowercase(), p.id)).collect();
    for w in &plan.writes {
        let current = w.existing_id.and_then(|id| dir.person(id));
        let input = PersonInput {
            name: w.row.name.clone(),
            email: w.row.email.clone(),
            role: w.row.role.or(current.map(|p| p.role)).unwrap_or(Role::Employee),
            team_id: match &w.row.team {
                Some(path) => Some(team_ids[&path.last().expect("one part").key()]),
                None => current.and_then(|p| p.team_id),
            },
            manager_id: current.and_then(|p| p.manager_id),
            start_date: w.row.start_date.or(current.and_then(|p| p.start_date)),
            time_zone: match (&w.row.time_zone, current) {
                (Some(tz), _) => tz.clone(),
                (None, Some(p)) => TimeZoneName::parse(&p.time_zone).unwrap_or_else(|_| TimeZoneName::utc()),
                (None, None) => org_time_zone(&mut tx, org_id).await?,
            },
        };
        if let Some(p) = current.filter(|p| p.role != input.role) {
            let change = format!("{} → {} (import)", p.role.as_str(), input.role.as_str());
            audit::record(
                &mut tx,
                actor,
                "person.role_changed",
                Subject::Person(p.id),
                &change,
                app.now(),
            )
            .await?;
        }
        match w.existing_id {
            Some(id) => {
                store::update_person(&mut tx, org_id, id, &input, now).await?;
            }
            None => {
                let id = new_id();
                store::insert_person(&mut tx, org_id, id, &input, None, false, now).await?;
                person_ids.insert(w.row.email.key(), id);
                if invite && app.mailer.is_on() {
                    let invitation = Invitation {
                        org_id,
                        person_id: id,
                        name: input.name.as_str(),
                        email: input.email.as_str(),
                        invited_by: super::service::inviter(&dir, actor),
                    };
                    crate::auth::magic::invite(&mut tx, app, &invitation).await?;
                }
            }
        }
    }
    for w in &plan.writes {
        if let Some(m) = &w.row.manager_email {
            let id = person_ids[&w.row.email.key()];
            store::set_manager(&mut tx, org_id, id, Some(person_ids[&m.key()])).await?;
        }
    }
    let detail = format!("{} added, {} updated", plan.creates.len(), plan.updates.len());
    audit::record(&mut tx, actor, "import.applied", Subject::People, &detail, app.now()).await?;
    tx.commit().await?;
    tracing::info!(
        created = plan.creates.len(),
        updated = plan.updates.len(),
        "people imported"
    );
    Ok((plan, true))
}

async fn org_time_zone(conn: &mut sqlx::AnyConnection, org_id: i64) -> Result<TimeZoneName, AppError> {
    let org = store::org_by_id(conn, org_id).await?.ok_or(AppError::NotFound)?;
    Ok(TimeZoneName::parse(&org.time_zone).unwrap_or_else(|_| TimeZoneName::utc()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Actor {
        Actor {
            org_id: 1,
            person_id: 1,
            role: Role::Owner,
        }
    }

    fn plan_of(csv: &str) -> Plan {
        plan(parse(csv.as_bytes()).unwrap(), &Directory::default(), &owner())
    }

    #[test]
    fn headers_match_case_insensitively_and_unknown_columns_are_reported() {
        let p = plan_of("Name,EMAIL,Team,Favourite Colour\nAna,ana@x.org,Sales,blue\n");
        assert_eq!(p.creates.len(), 1);
        assert_eq!(p.unknown_columns, vec!["Favourite Colour".to_owned()]);
        assert_eq!(p.new_teams, vec!["Sales".to_owned()]);
    }

    #[test]
    fn missing_email_column_rejects_the_file() {
        let e = parse(b"name,mail\nAna,ana@x.org\n").unwrap_err();
        assert!(e.contains("\"email\""), "{e}");
    }

    #[test]
    fn each_bad_cell_names_line_and_column() {
        let p = plan_of(
            "name,email,start_date,time_zone,role\n\
             Ana,ana@x.org,2024-01-05,Europe/Lisbon,employee\n\
             Bo,not-an-email,2024-01-05,UTC,employee\n\
             Cy,cy@x.org,05/01/2024,UTC,employee\n\
             Di,di@x.org,2024-01-05,Moon/Base,boss\n",
        );
        assert_eq!(p.creates.len(), 1);
        let got: Vec<(u64, &str)> = p.rejected.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(
            got,
            vec![(3, "email"), (4, "start_date"), (5, "time_zone"), (5, "role")]
        );
        assert_eq!(p.rejected_lines(), 3);
    }

    #[test]
    fn invalid_utf8_is_a_row_error_not_a_crash() {
        let mut bytes = b"name,email\nAna,ana@x.org\n".to_vec();
        bytes.extend_from_slice(b"B\xff\xfe,bo@x.org\n");
        let p = plan(parse(&bytes).unwrap(), &Directory::default(), &owner());
        assert_eq!(p.creates.len(), 1);
        assert_eq!(p.rejected.len(), 1);
        assert_eq!((p.rejected[0].line, p.rejected[0].column.as_str()), (3, "name"));
    }

    #[test]
    fn duplicate_emails_and_unknown_managers_are_rejected() {
        let p = plan_of(
            "name,email,manager_email\n\
             Ana,ana@x.org,\n\
             Ana Again,ANA@x.org,\n\
             Bo,bo@x.org,ghost@x.org\n\
             Cy,cy@x.org,ana@x.org\n",
        );
        assert_eq!(p.creates.len(), 2);
        assert!(p.rejected[0].reason.contains("line 2"));
        assert_eq!(p.rejected[1].column, "manager_email");
    }

    #[test]
    fn reporting_loops_are_rejected_and_strand_their_reports() {
        let p = plan_of(
            "name,email,manager_email\n\
             Ana,ana@x.org,bo@x.org\n\
             Bo,bo@x.org,ana@x.org\n\
             Cy,cy@x.org,bo@x.org\n\
             Di,di@x.org,\n",
        );
        assert_eq!(p.creates.len(), 1, "{:?}", p.rejected);
        assert_eq!(p.rejected_lines(), 3);
    }

    #[test]
    fn nested_teams_are_created_parents_first() {
        let p = plan_of("name,email,team\nAna,ana@x.org,Engineering / Platform\nBo,bo@x.org,Engineering\n");
        assert_eq!(
            p.new_teams,
            vec!["Engineering".to_owned(), "Engineering / Platform".to_owned()]
        );
    }

    #[test]
    fn semicolon_files_and_byte_order_marks_are_read() {
        let p = plan_of("\u{feff}name;email\nAna;ana@x.org\n");
        assert_eq!(p.creates.len(), 1);
        assert!(p.rejected.is_empty());
    }

    #[test]
    fn hr_admins_cannot_import_owners() {
        let hr = Actor {
            org_id: 1,
            person_id: 1,
            role: Role::HrAdmin,
        };
        let p = plan(
            parse(b"name,email,role\nAna,ana@x.org,owner\n").unwrap(),
            &Directory::default(),
            &hr,
        );
        assert!(p.creates.is_empty());
        assert_eq!(p.rejected[0].column, "role");
    }

    proptest::proptest! {
        /// Any bytes are a file or refused, never a panic; every data line
        /// of a file that reads ends up created or rejected, not lost.
        #[test]
        fn any_bytes_are_read_or_refused(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let mut bytes = b"name,email,team\n".to_vec();
            bytes.extend(tail);
            if let Ok(parsed) = parse(&bytes) {
                let p = plan(parsed, &Directory::default(), &owner());
                proptest::prop_assert!(p.creates.len() + p.rejected_lines() <= bytes.len());
            }
        }

        /// Rows written as a spreadsheet writes them (quoted where needed,
        /// commas or semicolons) all become people, with their cells intact.
        #[test]
        fn written_rows_become_people(
            people in proptest::collection::vec(("[A-Z][a-z]{1,8}( [A-Z][a-z]{1,8})?", "[A-Za-z ,]{1,12}"), 1..12),
            semicolons in proptest::prelude::any::<bool>(),
        ) {
            let sep = if semicolons { ';' } else { ',' };
            let mut csv = format!("name{sep}email{sep}team\n");
            for (i, (name, team)) in people.iter().enumerate() {
                let team = format!("\"{}\"", team.trim().replace('"', "\"\""));
                csv.push_str(&format!("{name}{sep}p{i}@x.org{sep}{team}\n"));
            }
            let p = plan_of(&csv);
            proptest::prop_assert!(p.rejected.is_empty(), "{csv}: {:?}", p.rejected);
            proptest::prop_assert_eq!(p.creates.len(), people.len());
            for (i, (name, team)) in people.iter().enumerate() {
                let made = &p.creates[i];
                proptest::prop_assert_eq!(&made.email, &format!("p{i}@x.org"));
                proptest::prop_assert_eq!(&made.name, name);
                let team = team.trim();
                proptest::prop_assert_eq!(made.team.as_deref(), (!team.is_empty()).then_some(team));
            }
        }
    }
}
