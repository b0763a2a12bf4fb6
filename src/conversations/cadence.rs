//! When a pair's next talk of a kind is due, by its cadence.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::store::{self, CadenceRow, TalkRow};

/// When each pair's cadence is due next: the last held talk of the
/// family plus its days, or (never held) the day it was set.
pub fn due(c: &CadenceRow, talks: &[(TalkRow, i64)], zone: &TimeZone) -> (Date, bool) {
    let (low, high) = (c.person_low, c.person_high);
    let of_pair = talks
        .iter()
        .filter(|(t, fam)| t.pair() == (low, high) && *fam == c.family);
    let last = of_pair
        .clone()
        .filter(|(t, _)| t.status == "held")
        .filter_map(|(t, _)| t.starts_at)
        .max();
    let scheduled = of_pair
        .clone()
        .any(|(t, _)| t.status == "scheduled" || t.status == "requested");
    let day = |s: i64| Timestamp::from_second(s).map_or(Date::ZERO, |t| t.to_zoned(zone.clone()).date());
    let due = match last {
        Some(s) => day(s).saturating_add(jiff::Span::new().days(c.every_days)),
        None => day(c.created_at),
    };
    (due, scheduled)
}

/// Every talk of the organization with its template's family.
pub async fn talks_with_family(
    conn: &mut sqlx::AnyConnection,
    org_id: i64,
) -> Result<Vec<(TalkRow, i64)>, sqlx::Error> {
    let templates = store::templates(conn, org_id).await?;
    Ok(store::all_talks(conn, org_id)
        .await?
        .into_iter()
        .map(|t| {
            let family = templates.iter().find(|x| x.id == t.template_id).map_or(0, |x| x.family);
            (t, family)
        })
        .collect())
}
