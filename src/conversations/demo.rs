//! The demo's part of conversations: a year of talks between each manager
//! and their first reports — a 1:1 a month, a stay interview every six
//! months, a career talk — with shared notes, a few private ones, action
//! items closed or carried to the next talk, the next 1:1s scheduled, and
//! one stay interview overdue (Lena Fischer's with Priya Raman). Written
//! straight to the store (talks in the past cannot be scheduled), sealed
//! like any other.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::model::Kind;
use super::service::{self, action_purpose, note_purpose};
use super::store::{self, ActionRow, CadenceRow, NoteRow, TalkRow, pair};
use crate::app::App;
use crate::db::new_id;
use crate::org::service::Directory;

/// What the demo's pairs said, by template kind: a shared note per
/// question, picked in turn.
const ONE_ON_ONE: &[&str] = &[
    "Shipped the release notes page; the support team uses it already.",
    "Waiting on access to the staging database for two weeks now.",
    "Would like earlier reviews on design documents, before the code.",
    "Finish the migration plan, then take a day off after the launch.",
    "The pairing sessions with the new joiner went well.",
    "Too many meetings on Tuesdays; we agreed to move the sync.",
    "Liked how the incident review was run: no blame, clear steps.",
    "Mentoring the intern on testing; wants to present it at the demo day.",
];

const STAY: &[&str] = &[
    "Feels close to the team since the offsite; misses the old lunch group.",
    "The customer interviews give the work a point; wants more of them.",
    "Wants to grow towards leading a small project next half-year.",
    "Recognition comes mostly from peers; would like it from leadership too.",
    "Evenings are protected again since the on-call change.",
    "The people, and being trusted with hard problems, keep them here.",
];

const CAREER: &[&str] = &[
    "Staff engineer track, in about three years.",
    "System design and giving feedback well.",
    "Lead the next quarter's reliability work.",
    "A budget for one conference and time for a course.",
];

const PRIVATE: &[&str] = &[
    "Seemed tired; check in about workload next time.",
    "Ask HR about the promotion cycle dates before the next talk.",
    "Good energy today.",
];

const ITEMS: &[&str] = &[
    "Ask platform for staging access",
    "Share the design doc a week before review",
    "Book the system design course",
    "Move the Tuesday sync to Thursday",
    "Write up the on-call handbook changes",
    "Introduce them to the support lead",
];

pub async fn seed(app: &App, org_id: i64) -> anyhow::Result<()> {
    let mut tx = app.db.begin().await?;
    let now = app.now();
    let dir = Directory::load(&mut tx, org_id).await?;
    service::ensure_templates(&mut tx, org_id, now.as_second()).await?;
    let templates = store::templates(&mut tx, org_id).await?;
    let of = |kind: Kind| templates.iter().find(|t| t.kind == kind.as_str() && t.current);
    let (Some(one), Some(stay), Some(career)) = (of(Kind::OneOnOne), of(Kind::Stay), of(Kind::Career)) else {
        return Ok(());
    };
    let overdue = (
        dir.people.iter().find(|p| p.name == "Lena Fischer").map(|p| p.id),
        dir.people.iter().find(|p| p.name == "Priya Raman").map(|p| p.id),
    );
    let mut pairs: Vec<(i64, i64, String)> = Vec::new();
    for manager in dir.active_people() {
        let mut reports: Vec<_> = dir
            .active_people()
            .filter(|p| p.manager_id == Some(manager.id))
            .collect();
        // Priya first among Lena's, for the overdue stay interview.
        reports.sort_by_key(|p| Some(p.id) != overdue.1);
        for r in reports.into_iter().take(2) {
            pairs.push((manager.id, r.id, manager.time_zone.clone()));
        }
    }
    let day = SignedDuration::from_hours(24);
    let mut n = 0usize;
    for (i, (manager, report, zone)) in pairs.iter().enumerate() {
        let zone_tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
        let at = |days_ago: i64, hour: i8| -> i64 {
            let d = now
                .to_zoned(zone_tz.clone())
                .date()
                .saturating_sub(jiff::Span::new().days(days_ago));
            d.at(hour, 0, 0, 0)
                .to_zoned(zone_tz.clone())
                .map_or(now.as_second(), |z| z.timestamp().as_second())
        };
        let is_overdue = overdue == (Some(*manager), Some(*report));
        // (template, days ago, minutes) of every talk of the year, oldest first.
        let mut talks: Vec<(&store::TemplateRow, i64, i64)> = Vec::new();
        for k in (1..=12).rev() {
            talks.push((one, k * 30 - (i as i64 % 5), 30));
        }
        let stays: &[i64] = if is_overdue { &[390, 200] } else { &[350, 170] };
        for d in stays {
            talks.push((stay, *d + i as i64 % 7, 45));
        }
        talks.push((career, 120 + i as i64 % 9, 45));
        talks.sort_by_key(|t| -t.1);
        let (low, high) = pair(*manager, *report);
        let mut open: Vec<i64> = Vec::new();
        for (template, days_ago, minutes) in talks {
            let start = at(days_ago, 10 + (i % 6) as i8);
            let t = TalkRow {
                id: new_id(),
                template_id: template.id,
                organizer_id: *manager,
                guest_id: *report,
                requested_by: None,
                status: "held".into(),
                starts_at: Some(start),
                minutes,
                zone: zone.clone(),
                sequence: 0,
                created_at: start - 14 * 86_400,
            };
            store::insert_talk(&mut tx, org_id, &t).await?;
            let bank = match template.kind.as_str() {
                "stay" => STAY,
                "career" => CAREER,
                _ => ONE_ON_ONE,
            };
            for q in 0..template.questions.len() {
                let text = bank[(q + n) % bank.len()];
                n += 1;
                let scope_notes = [(0, *manager, text)]
                    .into_iter()
                    .chain((n.is_multiple_of(4) && q == 0).then_some((*manager, *manager, PRIVATE[n % PRIVATE.len()])));
                for (scope, by, text) in scope_notes {
                    let note = NoteRow {
                        question: q as i64,
                        scope,
                        sealed: app
                            .master_key
                            .seal(&note_purpose(org_id, t.id, q as i64, scope), text.as_bytes()),
                        updated_at: start + 3600,
                        updated_by: by,
                    };
                    store::put_note(&mut tx, org_id, t.id, &note).await?;
                }
            }
            // The items of the talk before are closed in this one; one new
            // item comes out of it, owned in turn.
            for id in open.drain(..) {
                let ts = Timestamp::from_second(start)?;
                let due = ts.to_zoned(zone_tz.clone()).date().to_string();
                store::set_action(&mut tx, org_id, id, "done", &due, Some(start)).await?;
            }
            let id = new_id();
            let due = Timestamp::from_second(start)?
                .saturating_add(day * 21)?
                .to_zoned(zone_tz.clone())
                .date()
                .to_string();
            let item = ActionRow {
                id,
                talk_id: t.id,
                person_low: low,
                person_high: high,
                owner_id: if n.is_multiple_of(2) { *report } else { *manager },
                due_date: due,
                status: "open".into(),
                sealed: app
                    .master_key
                    .seal(&action_purpose(org_id, id), ITEMS[n % ITEMS.len()].as_bytes()),
                created_at: start + 3000,
                closed_at: None,
            };
            store::insert_action(&mut tx, org_id, &item).await?;
            open.push(id);
        }
        // The next 1:1, next week; and the pair's repeats.
        let next = TalkRow {
            id: new_id(),
            template_id: one.id,
            organizer_id: *manager,
            guest_id: *report,
            requested_by: None,
            status: "scheduled".into(),
            starts_at: Some(at(-(3 + i as i64 % 5), 10)),
            minutes: 30,
            zone: zone.clone(),
            sequence: 0,
            created_at: now.as_second() - 86_400,
        };
        store::insert_talk(&mut tx, org_id, &next).await?;
        for (family, every_days) in [(one.family, 30), (stay.family, 182)] {
            let c = CadenceRow {
                person_low: low,
                person_high: high,
                family,
                every_days,
                organizer_id: *manager,
                reminded_for: None,
                created_at: now.as_second() - 365 * 86_400,
            };
            store::put_cadence(&mut tx, org_id, &c).await?;
        }
    }
    tx.commit().await?;
    if !pairs.is_empty() {
        super::jobs::ensure(app, org_id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}
