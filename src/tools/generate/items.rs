//! Job items: the databases of a SQL job and the folders of a file job, as
//! the job item records and the log items of every run repeat them.

use super::calendar::SECOND;
use super::devices::{Device, Role};
use super::jobs::JobKind;
use super::rng::Rng;
use super::vocabulary::{Lang, databases, documents, shares};
use super::{Gen, GenerateError};
use crate::domain::build::RecordBuilder;
use crate::domain::schema::Res;

/// A job item, as its job item record and log items repeat it.
pub struct Item {
    pub id: i64,
    pub name: String,
    pub sql: bool,
    pub base: Option<String>,
    pub include_sub: Option<bool>,
    pub search: Option<&'static str>,
    pub exclude_folders: Option<String>,
    pub exclude_patterns: Option<&'static str>,
    pub no_compress: Option<&'static str>,
    pub server: Option<String>,
    pub database: Option<String>,
    pub port: Option<i64>,
    pub copy_only: Option<bool>,
    pub log_only: Option<bool>,
}

impl Item {
    /// The attributes a job item and its log items share.
    pub fn fill(&self, r: &mut RecordBuilder) {
        r.str("Name", &self.name)
            .opt_str("BaseFolder", self.base.as_deref())
            .opt_flag("IncludeSubFolders", self.include_sub)
            .opt_str("SearchPatterns", self.search)
            .opt_str("ExcludeFolders", self.exclude_folders.as_deref())
            .opt_str("ExcludePatterns", self.exclude_patterns)
            .opt_str("NoCompressExtensions", self.no_compress)
            .opt_str("ServerName", self.server.as_deref())
            .opt_str("DatabaseName", self.database.as_deref())
            .opt_int("Port", self.port)
            .opt_str("AuthenticationMode", self.sql.then_some("W"))
            .flag("OptionCompress", true)
            .opt_flag("OptionCopyOnly", self.copy_only)
            .opt_flag("OptionLogOnly", self.log_only);
    }
}

impl Gen {
    /// The job's items into `self.items` (their ids are the next job item ids).
    pub(super) fn make_items(
        &mut self,
        dev: &Device,
        lang: Lang,
        code: &str,
        kind: JobKind,
        r: &mut Rng,
    ) {
        self.items.clear();
        let first_id = self.out.next_id(Res::JobItems);
        match kind {
            JobKind::Sql | JobKind::SqlLog => {
                self.sql_items(dev, lang, code, kind, first_id, r);
            }
            JobKind::Files => self.file_items(dev, lang, first_id, r),
        }
    }

    /// One to three databases of the device's instance.
    fn sql_items(
        &mut self,
        dev: &Device,
        lang: Lang,
        code: &str,
        kind: JobKind,
        first_id: i64,
        r: &mut Rng,
    ) {
        let dbs = databases(lang);
        let n = 1 + r.below(3) as usize;
        let start = r.below(dbs.len() as u64) as usize;
        let prefixed = r.percent(40);
        let copy_only = r.percent(15);
        for k in 0..n.min(dbs.len()) {
            let db = dbs
                .get((start + k) % dbs.len())
                .copied()
                .unwrap_or("master");
            let db = if prefixed {
                format!("{code}_{db}")
            } else {
                db.to_string()
            };
            self.items.push(Item {
                id: first_id + k as i64,
                name: db.clone(),
                sql: true,
                base: None,
                include_sub: None,
                search: None,
                exclude_folders: None,
                exclude_patterns: None,
                no_compress: None,
                server: Some(dev.sql_server.clone()),
                database: Some(db),
                port: dev.sql_port,
                copy_only: Some(copy_only && kind == JobKind::Sql),
                log_only: Some(kind == JobKind::SqlLog),
            });
        }
    }

    /// One or two folders, with their patterns.
    fn file_items(&mut self, dev: &Device, lang: Lang, first_id: i64, r: &mut Rng) {
        let folders = file_folders(dev, lang, r);
        for (k, (name, base)) in folders.into_iter().enumerate() {
            let search = match r.below(10) {
                0..7 => "*.*",
                7..9 => "*.docx\r\n*.xlsx\r\n*.pdf",
                _ => "*.pdf\r\n*.xlsx\r\n*.zip",
            };
            let exclude_folders = r
                .percent(25)
                .then(|| format!("{base}\\{}", r.pick(&["Temp", "Archive", "Cache"])));
            let exclude_patterns = r.percent(55).then(|| {
                r.pick(&[
                    "*.tmp\r\n~$*",
                    "*.tmp\r\n~$*\r\nThumbs.db",
                    "*.bak",
                    "*.log",
                ])
            });
            let no_compress = r.percent(40).then(|| {
                r.pick(&[
                    ".zip\r\n.7z\r\n.jpg\r\n.png\r\n.mp4\r\n.pdf",
                    ".zip\r\n.7z\r\n.jpg\r\n.mp4",
                    ".zip\r\n.pdf",
                ])
            });
            self.items.push(Item {
                id: first_id + k as i64,
                name,
                sql: false,
                base: Some(base),
                include_sub: Some(!r.percent(8)),
                search: Some(search),
                exclude_folders,
                exclude_patterns,
                no_compress,
                server: None,
                database: None,
                port: None,
                copy_only: None,
                log_only: None,
            });
        }
    }

    /// The job item records of the job `job_id` added at `added`, with their
    /// events.
    pub(super) fn item_records(
        &mut self,
        dev: &Device,
        job_id: i64,
        added: i64,
        r: &mut Rng,
    ) -> Result<(), GenerateError> {
        let o = &mut self.out;
        for (n, item) in self.items.iter().enumerate() {
            let at = added + (n as i64 + 1) * r.between(2 * SECOND, 9 * SECOND) + r.ms();
            let item_id = o.next_id(Res::JobItems);
            let kind = if item.sql {
                &self.reference.sql
            } else {
                &self.reference.file
            };
            let rec = o.rec(Res::JobItems);
            rec.int("JobItemId", item_id)
                .int("JobId", job_id)
                .int("BackupTypeId", kind.id);
            item.fill(rec);
            rec.time("AddedOn", at);
            o.emit(Res::JobItems)?;
            o.added(
                Res::JobItems,
                at,
                &[
                    ("JobItemId", item_id),
                    ("JobId", job_id),
                    ("DeviceId", dev.id),
                    ("CompanyId", dev.company),
                    ("BackupTypeId", kind.id),
                ],
            )?;
        }
        Ok(())
    }
}

/// (Name, BaseFolder) of a file job's items: 1 or 2, distinct.
fn file_folders(dev: &Device, lang: Lang, r: &mut Rng) -> Vec<(String, String)> {
    let n = if r.percent(65) { 1 } else { 2 };
    match dev.role {
        Role::Workstation | Role::Laptop => {
            let mut out = vec![(
                documents(lang).to_string(),
                format!("C:\\Users\\{}\\Documents", dev.login),
            )];
            if n > 1 {
                out.push((
                    "Desktop".into(),
                    format!("C:\\Users\\{}\\Desktop", dev.login),
                ));
            }
            out
        }
        role => {
            let (root, shares) = shares(lang);
            let start = r.below(shares.len() as u64) as usize;
            let mut out: Vec<(String, String)> = (0..n)
                .filter_map(|k| shares.get((start + k) % shares.len()))
                .map(|s| (s.to_string(), format!("{root}\\{s}")))
                .collect();
            let special = match role {
                Role::App => Some(("Web root", "C:\\inetpub\\wwwroot")),
                Role::DomainController => Some(("SYSVOL", "C:\\Windows\\SYSVOL\\domain")),
                Role::Server if r.percent(20) => Some(("POS data", "C:\\POS\\Data")),
                _ => None,
            };
            if let (Some((name, base)), Some(first)) = (special, out.first_mut()) {
                *first = (name.to_string(), base.to_string());
            }
            out
        }
    }
}
