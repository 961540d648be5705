//! The generator's vocabulary: what a locale is made of (names, cities,
//! streets, postal codes, telephone numbers, company and partner name
//! templates), and the words of each language for databases, shares, folders
//! and job names. The data itself is in `names` and `locales`.

use super::jobs::JobKind;
use super::locales::{FALLBACK_CITY, LOCALES};
use super::rng::Rng;
use super::schedule::Freq;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
    Fr,
    Nl,
}

#[derive(Clone, Copy, Debug)]
pub enum Postal {
    /// The city's prefix, then digits up to this length.
    Digits(usize),
    /// `M5V 2T6`
    Ca,
    /// `EC1A 4BD`
    Gb,
    /// `1012 AB`
    Nl,
}

/// Telephone numbers, in each country's range reserved for fiction.
#[derive(Clone, Copy, Debug)]
pub enum Phones {
    Nanp,
    Gb,
    De,
    Fr,
    Nl,
    Au,
}

#[derive(Clone, Copy, Debug)]
pub enum Street {
    /// `2150 Breton Rd SE`, numbers up to this.
    NumberFirst(i64),
    /// `Mönckebergstraße 17`
    NumberLast(i64),
}

pub struct City {
    pub name: &'static str,
    pub state: Option<&'static str>,
    pub zone: &'static str,
    pub postal: &'static str,
    /// The telephone area code (GB: area code and exchange).
    pub area: &'static str,
}

pub const fn city(
    name: &'static str,
    state: &'static str,
    zone: &'static str,
    postal: &'static str,
    area: &'static str,
) -> City {
    City {
        name,
        state: if state.is_empty() { None } else { Some(state) },
        zone,
        postal,
        area,
    }
}

pub struct Locale {
    pub country: &'static str,
    pub lang: Lang,
    /// How often partners are from here (percent).
    pub weight: u64,
    pub cities: &'static [City],
    pub first: &'static [&'static str],
    pub last: &'static [&'static str],
    pub streets: &'static [&'static str],
    pub street: Street,
    /// AddressLine2 templates.
    pub line2: &'static [&'static str],
    pub postal: Postal,
    pub phones: Phones,
    /// Company name templates and their words ({L} {M} surnames, {W} word,
    /// {C} city, {I} industry, {S} suffix).
    pub companies: &'static [&'static str],
    pub words: &'static [&'static str],
    pub industries: &'static [&'static str],
    pub suffixes: &'static [&'static str],
    /// Partner (managed service provider) name templates and words.
    pub partners: &'static [&'static str],
    pub partner_words: &'static [&'static str],
}

pub fn pick_locale(r: &mut Rng) -> &'static Locale {
    let total: u64 = LOCALES.iter().map(|l| l.weight).sum();
    let mut x = r.below(total);
    for l in &LOCALES {
        if x < l.weight {
            return l;
        }
        x -= l.weight;
    }
    &LOCALES[0]
}

pub fn pick_city(r: &mut Rng, l: &'static Locale) -> &'static City {
    let i = r.below(l.cities.len() as u64) as usize;
    l.cities.get(i).unwrap_or(&FALLBACK_CITY)
}

/// Zones of machines away from their company's site.
pub const TRAVEL_ZONES: &[&str] = &[
    "Eastern Standard Time",
    "Central Standard Time",
    "Pacific Standard Time",
    "GMT Standard Time",
    "W. Europe Standard Time",
    "Romance Standard Time",
    "Central Europe Standard Time",
    "E. Europe Standard Time",
    "AUS Eastern Standard Time",
    "India Standard Time",
    "Singapore Standard Time",
    "Tokyo Standard Time",
    "UTC",
];

/// Integrations that set `ApplicationId`.
pub const APPLICATION_IDS: &[&str] = &[
    "ConnectWise-Sync",
    "Autotask-Bridge",
    "HaloPSA",
    "PSA-Connector",
    "Provisioning",
    "RMM-Deploy",
];

/// SQL Server versions and editions: Express first.
pub const SQL_VERSIONS: &[(&str, &str)] = &[
    ("13.0.6445.1", "Express Edition (64-bit)"),
    ("14.0.3480.1", "Express Edition (64-bit)"),
    ("15.0.4375.4", "Standard Edition (64-bit)"),
    ("16.0.4145.4", "Standard Edition (64-bit)"),
    ("16.0.4135.4", "Enterprise Edition (64-bit)"),
];

pub fn databases(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::En => &[
            "Accounting",
            "CRM",
            "Sales",
            "Inventory",
            "Payroll",
            "WebShop",
            "EMR",
            "Timesheets",
            "Dynamics_NAV",
            "Sage100",
            "Projects",
            "Reporting",
        ],
        Lang::De => &[
            "WaWi",
            "FiBu",
            "Lohn",
            "CRM",
            "Shop",
            "Kasse",
            "Zeiterfassung",
            "DATEV_Kanzlei",
        ],
        Lang::Fr => &[
            "Compta", "Gestion", "Paie", "CRM", "Boutique", "Stocks", "Devis",
        ],
        Lang::Nl => &[
            "Boekhouding",
            "Voorraad",
            "Salaris",
            "CRM",
            "Webshop",
            "Planning",
            "Facturatie",
        ],
    }
}

/// The file server's share root and share names.
pub fn shares(lang: Lang) -> (&'static str, &'static [&'static str]) {
    match lang {
        Lang::En => (
            "D:\\Shares",
            &[
                "Company",
                "Finance",
                "HR",
                "Projects",
                "Scans",
                "Marketing",
                "Accounting",
                "Clients",
                "Public",
                "Management",
            ],
        ),
        Lang::De => (
            "D:\\Freigaben",
            &[
                "Buchhaltung",
                "Personal",
                "Projekte",
                "Scans",
                "Verwaltung",
                "Mandanten",
                "Vertrieb",
                "Abschlüsse",
                "Allgemein",
            ],
        ),
        Lang::Fr => (
            "D:\\Partages",
            &[
                "Comptabilité",
                "Projets",
                "RH",
                "Commun",
                "Scans",
                "Clients",
                "Direction",
            ],
        ),
        Lang::Nl => (
            "D:\\Shares",
            &[
                "Administratie",
                "Projecten",
                "Personeel",
                "Algemeen",
                "Scans",
                "Klanten",
                "Directie",
            ],
        ),
    }
}

pub fn documents(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Documents",
        Lang::De => "Dokumente",
        Lang::Fr => "Documents",
        Lang::Nl => "Documenten",
    }
}

pub fn job_name(r: &mut Rng, lang: Lang, kind: JobKind, freq: Freq, label: &str) -> String {
    use Freq::*;
    match (lang, kind) {
        (Lang::En, JobKind::Sql) => match r.below(3) {
            0 => "Nightly SQL backup".into(),
            1 => format!("SQL Server {label} backup"),
            _ => format!("{label} database backup"),
        },
        (Lang::En, JobKind::SqlLog) => format!("{label} transaction log backup"),
        (Lang::En, JobKind::Files) => match freq {
            Hourly => format!("Hourly {label} backup"),
            Daily if r.percent(40) => "Daily file share backup".into(),
            Daily => format!("Nightly {label} backup"),
            Weekly => "Weekly server files".into(),
            Monthly => "Monthly archive".into(),
            OneTime => format!("One-time copy of {label}"),
        },
        (Lang::De, JobKind::Sql) => format!("SQL-Sicherung {label}"),
        (Lang::De, JobKind::SqlLog) => format!("Transaktionsprotokolle {label}"),
        (Lang::De, JobKind::Files) => match freq {
            Hourly => format!("Stündliche Sicherung {label}"),
            Daily => format!("Tägliche Sicherung {label}"),
            Weekly => "Wöchentliche Dateisicherung".into(),
            Monthly => "Monatsabschluss Archiv".into(),
            OneTime => format!("Einmalige Sicherung {label}"),
        },
        (Lang::Fr, JobKind::Sql) => format!("Sauvegarde SQL {label}"),
        (Lang::Fr, JobKind::SqlLog) => format!("Journaux de transactions {label}"),
        (Lang::Fr, JobKind::Files) => match freq {
            Hourly => format!("Sauvegarde horaire {label}"),
            Daily => format!("Sauvegarde quotidienne {label}"),
            Weekly => "Sauvegarde hebdomadaire des fichiers".into(),
            Monthly => "Archive mensuelle".into(),
            OneTime => format!("Copie unique {label}"),
        },
        (Lang::Nl, JobKind::Sql) => format!("SQL back-up {label}"),
        (Lang::Nl, JobKind::SqlLog) => format!("Transactielogboek {label}"),
        (Lang::Nl, JobKind::Files) => match freq {
            Hourly => format!("Back-up per uur {label}"),
            Daily => format!("Dagelijkse back-up {label}"),
            Weekly => "Wekelijkse back-up bestanden".into(),
            Monthly => "Maandarchief".into(),
            OneTime => format!("Eenmalige back-up {label}"),
        },
    }
}
