//! Which backups a rotation scheme expires: Press's two schemes (`Press Settings.
//! backup_rotation_scheme`, press/press/doctype/site/backups.py `FIFO` and `GFS`), decided
//! here on plain data so the storage side can delete exactly those objects.

use std::collections::BTreeMap;

use time::{Date, Duration, OffsetDateTime, Weekday};

use crate::names::ValidationError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub site: String,
    pub key: String,
    pub taken_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Keep the newest `keep` backups of each site.
    Fifo { keep: usize },
    /// Grandfather-father-son: keep everything from the last `daily_days`, Sunday backups
    /// for `weekly_weeks`, first-of-month backups for `monthly_days`, first-of-year backups
    /// for `yearly_days`.
    Gfs { daily_days: u32, weekly_weeks: u32, monthly_days: u32, yearly_days: u32 },
}

impl Scheme {
    /// Press's defaults: 30 backups per site.
    pub const PRESS_FIFO: Scheme = Scheme::Fifo { keep: 30 };
    /// Press's defaults: a week of dailies, 4 weeks of Sundays, a year of months, a decade of years.
    pub const PRESS_GFS: Scheme = Scheme::Gfs { daily_days: 7, weekly_weeks: 4, monthly_days: 366, yearly_days: 3653 };

    fn validate(&self) -> Result<(), ValidationError> {
        match *self {
            Scheme::Fifo { keep: 0 } => Err(ValidationError::new("FIFO rotation must keep at least one backup")),
            Scheme::Gfs { daily_days: 0, .. } => Err(ValidationError::new("GFS rotation must keep at least one day")),
            _ => Ok(()),
        }
    }
}

/// The keys of the backups that `scheme` expires on `today`, in the order given.
pub fn expired(backups: &[Backup], scheme: Scheme, today: Date) -> Result<Vec<String>, ValidationError> {
    scheme.validate()?;
    let expire: Vec<bool> = match scheme {
        Scheme::Fifo { keep } => {
            let mut by_site: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for (i, backup) in backups.iter().enumerate() {
                by_site.entry(&backup.site).or_default().push(i);
            }
            let mut expire = vec![false; backups.len()];
            for indices in by_site.values_mut() {
                indices.sort_by_key(|&i| std::cmp::Reverse(backups[i].taken_at));
                for &i in indices.iter().skip(keep) {
                    expire[i] = true;
                }
            }
            expire
        }
        Scheme::Gfs { daily_days, weekly_weeks, monthly_days, yearly_days } => {
            let before = |days: i64| today - Duration::days(days);
            let (daily, weekly) = (before(daily_days.into()), before(i64::from(weekly_weeks) * 7));
            let (monthly, yearly) = (before(monthly_days.into()), before(yearly_days.into()));
            backups
                .iter()
                .map(|b| {
                    let day = b.taken_at.to_offset(time::UtcOffset::UTC).date();
                    day < daily
                        && (day.weekday() != Weekday::Sunday || day < weekly)
                        && (day.day() != 1 || day < monthly)
                        && (day.ordinal() != 1 || day < yearly)
                })
                .collect()
        }
    };
    Ok(backups.iter().zip(expire).filter(|(_, e)| *e).map(|(b, _)| b.key.clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn daily(site: &str, from: Date, days: i64) -> Vec<Backup> {
        (0..days)
            .map(|i| {
                let day = from - Duration::days(i);
                Backup {
                    site: site.into(),
                    key: format!("{site}/{day}"),
                    taken_at: day.midnight().assume_utc() + Duration::hours(3),
                }
            })
            .collect()
    }

    #[test]
    fn fifo_keeps_the_newest_per_site() {
        let today = date!(2026 - 11 - 25);
        let mut backups = daily("a.test", today, 5);
        backups.extend(daily("b.test", today, 2));
        let gone = expired(&backups, Scheme::Fifo { keep: 3 }, today).unwrap();
        assert_eq!(gone, ["a.test/2026-11-22", "a.test/2026-11-21"]);
        assert!(expired(&backups, Scheme::Fifo { keep: 0 }, today).is_err());
    }

    #[test]
    fn gfs_keeps_dailies_sundays_months_and_years() {
        let today = date!(2026 - 11 - 25); // a Wednesday
        let backups = daily("a.test", today, 800);
        let gone = expired(&backups, Scheme::PRESS_GFS, today).unwrap();
        let kept: Vec<&str> = backups.iter().map(|b| b.key.as_str()).filter(|k| !gone.iter().any(|g| g == k)).collect();

        // Press expires `creation < today - 7 days` (at midnight): 11-18 .. 11-25 are kept.
        for day in 18..=25 {
            assert!(kept.contains(&format!("a.test/2026-11-{day}").as_str()), "{day}");
        }
        assert!(!kept.contains(&"a.test/2026-11-17"), "a Tuesday past the daily window");
        // Sundays from 2026-10-28 on: 11-15, 11-08, 11-01 (also a first); not 10-25.
        assert!(kept.contains(&"a.test/2026-11-15") && kept.contains(&"a.test/2026-11-08"));
        assert!(!kept.contains(&"a.test/2026-10-25"));
        // Firsts of the month within 366 days (2025-12-01 .. 2026-11-01), not older.
        assert!(kept.contains(&"a.test/2026-10-01") && kept.contains(&"a.test/2025-12-01"));
        assert!(!kept.contains(&"a.test/2025-11-01"), "older than 366 days");
        // The first of 2025 is past the months' window but within the years'.
        assert!(kept.contains(&"a.test/2025-01-01"));
        assert_eq!(kept.len(), 8 + 2 + 12 + 1, "{kept:?}");
        assert_eq!(gone.len(), backups.len() - kept.len());
    }

    #[test]
    fn gfs_judges_the_utc_day() {
        let today = date!(2026 - 11 - 25);
        let late = Backup {
            site: "a.test".into(),
            key: "late".into(),
            taken_at: datetime!(2026-11-01 23:30 -05:00), // 2026-11-02 04:30 UTC, a Monday
        };
        assert_eq!(
            expired(
                &[late],
                Scheme::Gfs { daily_days: 7, weekly_weeks: 4, monthly_days: 366, yearly_days: 3653 },
                today
            )
            .unwrap(),
            ["late"]
        );
    }
}
