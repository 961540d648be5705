//! Names and contact details made from a locale: company and partner names
//! from templates, the domains and device prefixes folded from them, postal
//! codes, telephone numbers in the ranges kept for fiction, street
//! addresses, and people with e-mail addresses unique within their domain.

use std::fmt::Write as _;

use super::rng::Rng;
use super::vocabulary::{City, Locale, Phones, Postal, Street};
use crate::domain::build::RecordBuilder;

/// Expands a name template (see [`Locale::companies`]).
pub fn expand(r: &mut Rng, l: &Locale, city: &City, tpl: &str, words: &[&'static str]) -> String {
    let mut out = String::new();
    let mut surname = "";
    let mut rest = tpl;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(j) = after.find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        match &after[..j] {
            "L" => {
                surname = r.pick(l.last);
                out.push_str(surname);
            }
            "M" => {
                let mut other = r.pick(l.last);
                for _ in 0..4 {
                    if other != surname {
                        break;
                    }
                    other = r.pick(l.last);
                }
                out.push_str(other);
            }
            "W" => out.push_str(r.pick(words)),
            "C" => out.push_str(city.name),
            "I" => out.push_str(r.pick(l.industries)),
            "S" => out.push_str(r.pick(l.suffixes)),
            "n" => {
                let _ = write!(out, "{}", r.between(1, 9));
            }
            "h" => {
                let _ = write!(out, "{}", r.between(1, 9) * 100);
            }
            "A" => out.push(char::from(b'A' + r.below(6) as u8)),
            other => {
                out.push('{');
                out.push_str(other);
                out.push('}');
            }
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    out
}

/// Appends `s` folded to lowercase ASCII letters and digits.
fn fold_into(s: &str, out: &mut String) {
    for ch in s.chars() {
        let rep = match ch {
            'ä' | 'Ä' | 'æ' => "ae",
            'ö' | 'Ö' | 'ø' | 'œ' => "oe",
            'ü' | 'Ü' => "ue",
            'ß' => "ss",
            'à' | 'á' | 'â' | 'å' | 'À' | 'Â' => "a",
            'ç' | 'Ç' => "c",
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' => "e",
            'î' | 'ï' | 'í' | 'Î' => "i",
            'ô' | 'ó' | 'Ô' => "o",
            'ù' | 'û' | 'ú' => "u",
            'ñ' => "n",
            c if c.is_ascii_alphanumeric() => {
                out.push(c.to_ascii_lowercase());
                continue;
            }
            _ => "",
        };
        out.push_str(rep);
    }
}

pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(s, &mut out);
    out
}

/// Legal forms and small words left out of domains and device prefixes.
const STOP_WORDS: &[&str] = &[
    "llc", "inc", "pc", "corp", "co", "ltd", "llp", "gmbh", "mbb", "kg", "sarl", "sas", "bv",
    "pty", "ek", "dr", "the", "du", "de", "la", "le", "am", "und", "and", "partner", "associes",
];

fn name_words(name: &str) -> impl Iterator<Item = String> + '_ {
    name.split([' ', ',', '&', '-', '.'])
        .map(fold)
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(&w.as_str()))
}

/// `great-lakes.example.com` for "Great Lakes Dental Group, PC".
pub fn domain_of(name: &str) -> String {
    let words: Vec<String> = name_words(name).take(2).collect();
    let label = if words.is_empty() {
        "company".to_string()
    } else {
        words.join("-")
    };
    format!("{label}.example.com")
}

/// `GLD` for "Great Lakes Dental Group, PC": device names start with it.
pub fn initials(name: &str) -> String {
    let mut out: String = name_words(name)
        .take(3)
        .filter_map(|w| w.chars().next())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if out.len() < 2 {
        out = name_words(name)
            .next()
            .unwrap_or_default()
            .chars()
            .take(3)
            .map(|c| c.to_ascii_uppercase())
            .collect();
    }
    if out.len() < 2 {
        out = "CO".into();
    }
    out
}

pub fn postal_code(r: &mut Rng, l: &Locale, c: &City) -> String {
    let mut s = c.postal.to_string();
    const LETTERS: &[u8] = b"ABCEGHJKLMNPRSTVWXYZ";
    let letter = |r: &mut Rng| char::from(LETTERS[r.below(LETTERS.len() as u64) as usize]);
    match l.postal {
        Postal::Digits(n) => {
            while s.len() < n {
                s.push(char::from(b'0' + r.below(10) as u8));
            }
        }
        Postal::Ca => {
            s.push(' ');
            s.push(char::from(b'0' + r.below(10) as u8));
            s.push(letter(r));
            s.push(char::from(b'0' + r.below(10) as u8));
        }
        Postal::Gb => {
            s.push(' ');
            s.push(char::from(b'1' + r.below(9) as u8));
            s.push(letter(r));
            s.push(letter(r));
        }
        Postal::Nl => {
            s.push(' ');
            s.push(letter(r));
            s.push(letter(r));
        }
    }
    s
}

/// A landline number in the city's area (or a mobile number), in the range
/// each country keeps for fiction.
pub fn phone(r: &mut Rng, l: &Locale, c: &City, mobile: bool) -> String {
    let a = c.area;
    match (l.phones, mobile) {
        (Phones::Nanp, _) => format!("+1 {a}-555-01{:02}", r.below(100)),
        (Phones::Gb, false) => format!("+44 {a} 0{:03}", r.below(1000)),
        (Phones::Gb, true) => format!("+44 7700 900{:03}", r.below(1000)),
        (Phones::De, false) => format!("+49 {a} 5550 {:04}", r.below(10_000)),
        (Phones::De, true) => format!(
            "+49 1{} 5550{:03}",
            r.pick(&[51, 60, 70, 71, 76]),
            r.below(1000)
        ),
        (Phones::Fr, false) => format!("+33 {a} 99 00 {:02} {:02}", r.below(100), r.below(100)),
        (Phones::Fr, true) => format!("+33 6 39 98 {:02} {:02}", r.below(100), r.below(100)),
        (Phones::Nl, false) => format!("+31 {a} 555 {:04}", r.below(10_000)),
        (Phones::Nl, true) => format!("+31 6 5555 {:04}", r.below(10_000)),
        (Phones::Au, false) => format!("+61 {a} 5550 {:04}", r.below(10_000)),
        (Phones::Au, true) => format!("+61 491 570 {:03}", r.below(1000)),
    }
}

pub fn street_address(r: &mut Rng, l: &Locale) -> String {
    let street = r.pick(l.streets);
    match l.street {
        Street::NumberFirst(max) => format!("{} {street}", r.between(1, max)),
        Street::NumberLast(max) => format!("{street} {}", r.between(1, max)),
    }
}

/// A person: names and an e-mail address unique among `taken` (ignoring case).
pub struct Person {
    pub first: &'static str,
    pub last: &'static str,
    pub email: String,
    pub login: String,
}

impl Person {
    /// Sets the person's names, e-mail address and phones (home, mobile,
    /// work) on a user record (partner or company user).
    pub fn fill<'b>(
        &self,
        b: &'b mut RecordBuilder,
        [home, mobile, work]: [Option<&str>; 3],
    ) -> &'b mut RecordBuilder {
        b.str("FirstName", self.first)
            .str("LastName", self.last)
            .str("Email", &self.email)
            .opt_str("HomePhone", home)
            .opt_str("MobilePhone", mobile)
            .opt_str("WorkPhone", work)
    }
}

pub fn person(r: &mut Rng, l: &Locale, domain: &str, taken: &mut Vec<String>) -> Person {
    let (first, last) = (r.pick(l.first), r.pick(l.last));
    let (f, la) = (fold(first), fold(last));
    let initial = f.get(..1).unwrap_or("x");
    let mut local = match r.below(4) {
        0 => format!("{f}.{la}"),
        1 => format!("{initial}{la}"),
        2 => f.clone(),
        _ => format!("{initial}.{la}"),
    };
    if local.is_empty() {
        local = "office".into();
    }
    let base = local.clone();
    let mut n = 2;
    while taken.contains(&local) {
        local = format!("{base}{n}");
        n += 1;
    }
    taken.push(local.clone());
    Person {
        first,
        last,
        email: format!("{local}@{domain}"),
        login: format!("{initial}{la}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_into_domains_and_prefixes() {
        assert_eq!(
            domain_of("Bäckerei Hofmann GmbH"),
            "baeckerei-hofmann.example.com"
        );
        assert_eq!(initials("Great Lakes Dental Group, PC"), "GLD");
        assert_eq!(initials("Apotheke am Markt"), "AM");
        assert_eq!(fold("Élodie O'Brien"), "elodieobrien");
    }
}
