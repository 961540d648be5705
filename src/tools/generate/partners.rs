//! Partners: each partner's profile (locale, city, name, domain, when it
//! joined), derived from (seed, PartnerId) alone, and the partner with its
//! users and their events.

use super::calendar::{DAY, NOW, PARTNERS_FROM, PARTNERS_UNTIL, SECOND, slot_time};
use super::naming::{domain_of, expand, initials, person, phone};
use super::rng::{Rng, TAG_PARTNER};
use super::vocabulary::{APPLICATION_IDS, City, Locale, pick_city, pick_locale};
use super::{Gen, GenerateError};
use crate::domain::schema::Res;

/// A partner's profile, derived from (seed, PartnerId) alone so that every
/// company can recompute its partner's without keeping a table of them.
pub struct PartnerProfile {
    pub locale: &'static Locale,
    pub city: &'static City,
    pub name: String,
    pub domain: String,
    pub code: String,
    pub added: i64,
    pub app: Option<&'static str>,
}

impl PartnerProfile {
    pub fn new(seed: u64, p: u64, partners: u64) -> PartnerProfile {
        let mut r = Rng::derive(seed, TAG_PARTNER, p, 0);
        let locale = pick_locale(&mut r);
        let city = pick_city(&mut r, locale);
        let tpl = r.pick(locale.partners);
        let name = expand(&mut r, locale, city, tpl, locale.partner_words);
        let added = slot_time(&mut r, PARTNERS_FROM, PARTNERS_UNTIL, p, partners);
        let app = r.percent(30).then(|| r.pick(APPLICATION_IDS));
        PartnerProfile {
            locale,
            city,
            domain: domain_of(&name),
            code: initials(&name),
            name,
            added,
            app,
        }
    }
}

impl Gen {
    pub(super) fn partner(&mut self, p: u64) -> Result<(), GenerateError> {
        let pid = p as i64;
        let prof = PartnerProfile::new(self.seed, p, self.partners);
        let mut r = Rng::derive(self.seed, TAG_PARTNER, p, 1);
        let updated = r
            .percent(10)
            .then(|| r.between(prof.added + 30 * DAY, NOW - DAY));
        let o = &mut self.out;
        o.rec(Res::Partners)
            .int("PartnerId", pid)
            .int("PlanTypeId", self.reference.plan_type)
            .str("Name", &prof.name)
            .opt_str("ApplicationId", prof.app)
            .flag("IsInactive", false)
            .time("AddedOn", prof.added)
            .opt_time("UpdatedOn", updated);
        o.emit(Res::Partners)?;
        if let Some(at) = updated {
            o.modified(Res::Partners, at, &[("PartnerId", pid)])?;
        }
        let mut taken = Vec::new();
        let mut at = prof.added + 2 * SECOND + r.ms();
        for u in 0..1 + r.below(3) {
            if u > 0 {
                at = r.between(at + 30 * DAY, (at + 900 * DAY).min(NOW - DAY));
            }
            let who = person(&mut r, prof.locale, &prof.domain, &mut taken);
            let id = o.next_id(Res::PartnerUsers);
            let mobile = r
                .percent(60)
                .then(|| phone(&mut r, prof.locale, prof.city, true));
            let work = r
                .percent(80)
                .then(|| phone(&mut r, prof.locale, prof.city, false));
            let rec = o.rec(Res::PartnerUsers);
            rec.int("PartnerUserId", id).int("PartnerId", pid);
            who.fill(rec, [None, mobile.as_deref(), work.as_deref()])
                .flag("IsAccountOwner", u == 0)
                .flag("IsInactive", u > 0 && r.percent(10))
                .time("AddedOn", at);
            o.emit(Res::PartnerUsers)?;
            o.added(
                Res::PartnerUsers,
                at,
                &[("PartnerUserId", id), ("PartnerId", pid)],
            )?;
        }
        Ok(())
    }
}
