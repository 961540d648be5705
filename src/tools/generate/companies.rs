//! Companies, one at a time and depth first: the company, its users (the
//! first the account owner), its one subscription on a plan large enough for
//! every device, then its devices with everything under them.

use super::calendar::{COMPANIES_FROM, COMPANIES_UNTIL, DAY, HOUR, MINUTE, NOW, SECOND};
use super::calendar::{add_months, slot_time};
use super::devices::DeviceCtx;
use super::naming::{domain_of, expand, initials, person, phone, postal_code, street_address};
use super::partners::PartnerProfile;
use super::rng::{Rng, TAG_COMPANY};
use super::vocabulary::{City, Locale, pick_city, pick_locale};
use super::{Gen, GenerateError};
use crate::domain::schema::Res;
use crate::domain::value::civil_from_days;

/// What the records under a company need of it.
struct Company<'a> {
    id: i64,
    partner: &'a PartnerProfile,
    locale: &'static Locale,
    city: &'static City,
    domain: String,
    /// Device names start with it.
    code: String,
    added: i64,
    /// Everything of the company is added within `span` of the company.
    span: i64,
    /// When it was made inactive (UTC), if it was.
    until: Option<i64>,
}

impl Gen {
    /// Company `c` with everything under it.
    pub(super) fn company(&mut self, c: u64) -> Result<(), GenerateError> {
        let p = (c - 1) % self.partners + 1;
        let partner = PartnerProfile::new(self.seed, p, self.partners);
        let mut r = Rng::derive(self.seed, TAG_COMPANY, c, 0);
        let co = self.company_record(c, p, &partner, &mut r)?;
        let owner_email = self.company_users(&co, &mut r)?;
        let (subscription, plan) = self.subscription(&co, &owner_email, &mut r)?;

        // devices, added one after the other within the company's span
        let site_zone = self.zones.find(co.city.zone);
        let step_max = (2 * co.span / self.devices.max(1) as i64).max(10 * MINUTE);
        let mut dev_at = co.added + r.between(HOUR, 2 * DAY);
        for k in 0..self.devices {
            if k > 0 {
                dev_at = (dev_at + r.between(MINUTE, step_max)).min(co.added + co.span);
            }
            let ctx = DeviceCtx {
                company: co.id,
                k,
                subscription,
                plan,
                added: dev_at,
                company_until: co.until,
                zone: site_zone,
                code: &co.code,
                domain: &co.domain,
                owner_email: &owner_email,
                partner: &partner,
                locale: co.locale,
            };
            let dev = self.device(&ctx)?;
            for j in 0..self.jobs {
                self.job(&dev, co.locale.lang, &co.code, j)?;
            }
        }
        Ok(())
    }

    /// The company record and its events.
    fn company_record<'a>(
        &mut self,
        c: u64,
        p: u64,
        partner: &'a PartnerProfile,
        r: &mut Rng,
    ) -> Result<Company<'a>, GenerateError> {
        let (cid, pid) = (c as i64, p as i64);
        let locale = if r.percent(85) {
            partner.locale
        } else {
            pick_locale(r)
        };
        let city = pick_city(r, locale);
        let tpl = r.pick(locale.companies);
        let name = expand(r, locale, city, tpl, locale.words);
        let added = slot_time(r, COMPANIES_FROM, COMPANIES_UNTIL, c, self.companies);
        let span = (NOW - 45 * DAY - added).clamp(30 * DAY, 400 * DAY);
        let inactive = r.percent(3);
        let until = inactive.then(|| r.between(added + span + 41 * DAY, NOW - 2 * DAY));
        let updated = until.or_else(|| r.percent(15).then(|| r.between(added + DAY, NOW - HOUR)));
        let line1 = street_address(r, locale);
        let line2_tpl = r.pick(locale.line2);
        let line2 = r
            .percent(30)
            .then(|| expand(r, locale, city, line2_tpl, &[]));
        let postal = postal_code(r, locale, city);
        let country = r.percent(95).then_some(locale.country);
        let company_phone = r.percent(85).then(|| phone(r, locale, city, false));
        let external = r
            .percent(50)
            .then(|| format!("{}-{}", partner.code, 10_000 + c));

        let plan_type = self.reference.plan_type;
        let o = &mut self.out;
        o.rec(Res::Companies)
            .int("CompanyId", cid)
            .int("PartnerId", pid)
            .int("PlanTypeId", plan_type)
            .str("Name", &name)
            .str("AddressLine1", &line1)
            .opt_str("AddressLine2", line2.as_deref())
            .str("CityMunicipality", city.name)
            .opt_str("StateProvidence", city.state)
            .str("PostalCode", &postal)
            .opt_str("Country", country)
            .opt_str("Phone", company_phone.as_deref())
            .opt_str("ExternalId", external.as_deref())
            .opt_flag(
                "IsInactive",
                if inactive {
                    Some(true)
                } else {
                    (!r.percent(3)).then_some(false)
                },
            )
            .time("AddedOn", added)
            .opt_time("UpdatedOn", updated);
        o.emit(Res::Companies)?;
        let names = [("CompanyId", cid), ("PartnerId", pid)];
        o.added(Res::Companies, added, &names)?;
        if let Some(at) = updated {
            o.modified(Res::Companies, at, &names)?;
        }
        Ok(Company {
            id: cid,
            partner,
            locale,
            city,
            domain: domain_of(&name),
            code: initials(&name),
            added,
            span,
            until,
        })
    }

    /// The company's users, the first the account owner; returns the owner's
    /// e-mail address.
    fn company_users(&mut self, co: &Company, r: &mut Rng) -> Result<String, GenerateError> {
        let (locale, city) = (co.locale, co.city);
        let mut taken = Vec::new();
        let mut owner_email = String::new();
        let mut at = co.added + 45 * SECOND + r.ms();
        for u in 0..1 + r.below(3) {
            if u > 0 {
                at = r.between(at + HOUR, co.added + co.span);
            }
            let who = person(r, locale, &co.domain, &mut taken);
            if u == 0 {
                owner_email.clone_from(&who.email);
            }
            let home = r.percent(5).then(|| phone(r, locale, city, false));
            let mobile = r.percent(50).then(|| phone(r, locale, city, true));
            let work = r.percent(85).then(|| phone(r, locale, city, false));
            let o = &mut self.out;
            let id = o.next_id(Res::CompanyUsers);
            let rec = o.rec(Res::CompanyUsers);
            rec.int("CompanyUserId", id).int("CompanyId", co.id);
            who.fill(rec, [home.as_deref(), mobile.as_deref(), work.as_deref()])
                .flag("IsAccountOwner", u == 0)
                .flag("IsInactive", u > 0 && r.percent(8))
                .time("AddedOn", at);
            o.emit(Res::CompanyUsers)?;
            o.added(
                Res::CompanyUsers,
                at,
                &[("CompanyUserId", id), ("CompanyId", co.id)],
            )?;
        }
        Ok(owner_email)
    }

    /// The company's subscription and its event; returns (SubscriptionId, PlanId).
    fn subscription(
        &mut self,
        co: &Company,
        owner_email: &str,
        r: &mut Rng,
    ) -> Result<(i64, i64), GenerateError> {
        let sid = self.out.next_id(Res::Subscriptions);
        let (plan, extra) = self.reference.plan_for(r, self.devices as i64);
        let sub_added = co.added + 95 * SECOND + r.between(0, 60 * SECOND) + r.ms();
        let months = {
            let (y, m, _) = civil_from_days(sub_added.div_euclid(DAY));
            let (ny, nm, _) = civil_from_days(NOW.div_euclid(DAY));
            (ny * 12 + nm) - (y * 12 + m)
        };
        let mut period = add_months(sub_added, months);
        if period > NOW {
            period = add_months(sub_added, months - 1);
        }
        let period_end = add_months(period, 1);
        let storage_alert = r.percent(45);
        let sub_to = storage_alert.then(|| {
            if r.percent(50) {
                format!("billing@{}", co.domain)
            } else {
                owner_email.to_string()
            }
        });
        let sub_cc =
            (storage_alert && r.percent(30)).then(|| format!("billing@{}", co.partner.domain));
        let o = &mut self.out;
        o.rec(Res::Subscriptions)
            .int("SubscriptionId", sid)
            .int("CompanyId", co.id)
            .int("PlanId", plan)
            .opt_str("ApplicationId", co.partner.app.filter(|_| r.percent(50)))
            .opt_str(
                "ExternalId",
                r.percent(50)
                    .then(|| format!("SUB-{}-{sid:06}", civil_from_days(sub_added / DAY).0))
                    .as_deref(),
            )
            .flag("IsInactive", false)
            .int("BillingId", 100_000 + sid)
            .str("Status", "Active")
            .time("PeriodStart", period)
            .time("PeriodEnd", period_end)
            .int("AdditionalDevice", extra)
            .opt_str("SendNotificationTo", sub_to.as_deref())
            .opt_str("SendNotificationCc", sub_cc.as_deref())
            .flag("SendNotificationOnStorageLimit", storage_alert)
            .time("AddedOn", sub_added);
        o.emit(Res::Subscriptions)?;
        o.added(
            Res::Subscriptions,
            sub_added,
            &[
                ("SubscriptionId", sid),
                ("CompanyId", co.id),
                ("PlanId", plan),
            ],
        )?;
        Ok((sid, plan))
    }
}
