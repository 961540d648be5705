//! The sandbox control API under `/_sandbox/` (API.md section 8) as data:
//! each endpoint's path and the methods it offers. The edge routes by this
//! table and the OpenAPI document describes it, so the two cannot disagree.

use super::value::{parse_id, whole_number};

/// One control endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Health,
    Reset,
    Snapshot,
    Requests,
    Clock,
    JobRun,
    Outbox,
    Faults,
    Fault,
    Sessions,
    Session,
    Checkpoints,
    Checkpoint,
    CheckpointRestore,
    OpenApi,
    Report,
    Schedule,
    Compat,
    Console,
    Data,
}

/// A control endpoint's path and methods.
#[derive(Debug)]
pub struct ControlEndpoint {
    pub endpoint: Control,
    /// The path, with at most one `{JobId}` (a positive id), `{id}` (any
    /// whole number) or `{name}` (a session or checkpoint name) segment.
    pub path: &'static str,
    /// The methods offered, upper case, in `Allow` order.
    pub methods: &'static [&'static str],
    /// A one-line summary of each method, in the same order.
    pub summaries: &'static [&'static str],
}

/// Every control endpoint, in the order the OpenAPI document and
/// docs/control-api.md list them.
pub const CONTROL_ENDPOINTS: &[ControlEndpoint] = &[
    ControlEndpoint {
        endpoint: Control::Health,
        path: "/_sandbox/health",
        methods: &["GET"],
        summaries: &["What is loaded, whether fixtures are watched, the last reload's problem"],
    },
    ControlEndpoint {
        endpoint: Control::Reset,
        path: "/_sandbox/reset",
        methods: &["POST"],
        summaries: &["Reload the fixtures now"],
    },
    ControlEndpoint {
        endpoint: Control::Snapshot,
        path: "/_sandbox/snapshot",
        methods: &["GET", "PUT"],
        summaries: &[
            "The whole state as a bundle",
            "Replace the state with a bundle",
        ],
    },
    ControlEndpoint {
        endpoint: Control::Requests,
        path: "/_sandbox/requests",
        methods: &["GET", "DELETE"],
        summaries: &["The request journal, newest first", "Clear the journal"],
    },
    ControlEndpoint {
        endpoint: Control::Clock,
        path: "/_sandbox/clock",
        methods: &["GET", "POST"],
        summaries: &["The sandbox clock", "Advance or set the sandbox clock"],
    },
    ControlEndpoint {
        endpoint: Control::JobRun,
        path: "/_sandbox/jobs/{JobId}/run",
        methods: &["POST"],
        summaries: &["Simulate one run of a job (201 with the Log)"],
    },
    ControlEndpoint {
        endpoint: Control::Outbox,
        path: "/_sandbox/outbox",
        methods: &["GET", "DELETE"],
        summaries: &["E-mails the sandbox would have sent", "Clear the outbox"],
    },
    ControlEndpoint {
        endpoint: Control::Faults,
        path: "/_sandbox/faults",
        methods: &["GET", "POST", "DELETE"],
        summaries: &["Fault rules", "Add a fault rule (201)", "Remove all"],
    },
    ControlEndpoint {
        endpoint: Control::Fault,
        path: "/_sandbox/faults/{id}",
        methods: &["DELETE"],
        summaries: &["Remove one fault rule"],
    },
    ControlEndpoint {
        endpoint: Control::Sessions,
        path: "/_sandbox/sessions",
        methods: &["GET", "POST"],
        summaries: &[
            "The sessions alive, default first",
            "Create a session (201; 409 if the name exists; 429 beyond --max-sessions)",
        ],
    },
    ControlEndpoint {
        endpoint: Control::Session,
        path: "/_sandbox/sessions/{name}",
        methods: &["DELETE"],
        summaries: &["End a session (409 for default)"],
    },
    ControlEndpoint {
        endpoint: Control::Checkpoints,
        path: "/_sandbox/checkpoints",
        methods: &["GET", "POST"],
        summaries: &[
            "The session's checkpoints",
            "Save the session's state under a name (201; 409 if the name exists)",
        ],
    },
    ControlEndpoint {
        endpoint: Control::Checkpoint,
        path: "/_sandbox/checkpoints/{name}",
        methods: &["DELETE"],
        summaries: &["Drop a checkpoint"],
    },
    ControlEndpoint {
        endpoint: Control::CheckpointRestore,
        path: "/_sandbox/checkpoints/{name}/restore",
        methods: &["POST"],
        summaries: &["Return the session to a checkpoint"],
    },
    ControlEndpoint {
        endpoint: Control::OpenApi,
        path: "/_sandbox/openapi.json",
        methods: &["GET"],
        summaries: &["This document: the OpenAPI description of the control API"],
    },
    ControlEndpoint {
        endpoint: Control::Report,
        path: "/_sandbox/report",
        methods: &["GET", "DELETE"],
        summaries: &[
            "The conformance report of the session's /api/ requests (?format=json|markdown|junit)",
            "Start the conformance report afresh",
        ],
    },
    ControlEndpoint {
        endpoint: Control::Schedule,
        path: "/_sandbox/schedule",
        methods: &["GET", "PUT"],
        summaries: &[
            "The schedule: whether jobs run on the sandbox clock, and their outcomes",
            "Replace the schedule (422 and nothing changed for bad settings)",
        ],
    },
    ControlEndpoint {
        endpoint: Control::Compat,
        path: "/_sandbox/compat",
        methods: &["GET", "PUT"],
        summaries: &[
            "Compat mode: the shape changes the API may make without notice",
            "Replace the compat settings (422 and nothing changed for bad settings)",
        ],
    },
    ControlEndpoint {
        endpoint: Control::Console,
        path: "/_sandbox/console",
        methods: &["GET"],
        summaries: &["The console: a web page over this API (HTML)"],
    },
    ControlEndpoint {
        endpoint: Control::Data,
        path: "/_sandbox/data/{name}",
        methods: &["GET"],
        summaries: &[
            "Every partner's records of one collection, rendered as /api/ does, paged and searchable",
        ],
    },
];

/// Every control endpoint's path and methods, as docs/control-api.md lists
/// them (`{…}` stands for a number or a name): a view of [`CONTROL_ENDPOINTS`].
pub const ENDPOINTS: [(&str, &[&str]); CONTROL_ENDPOINTS.len()] = {
    let mut out: [(&str, &[&str]); CONTROL_ENDPOINTS.len()] = [("", &[]); CONTROL_ENDPOINTS.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = (CONTROL_ENDPOINTS[i].path, CONTROL_ENDPOINTS[i].methods);
        i += 1;
    }
    out
};

/// The value of a path's `{…}` segment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Param {
    /// `{JobId}` or `{id}`, else 0.
    pub id: u64,
    /// `{name}`, else empty.
    pub name: String,
}

/// The endpoint a path names, with the value of its `{…}` segment.
/// Leading, trailing and repeated slashes after `/_sandbox` are ignored at
/// the ends, as before.
pub fn find(path: &str) -> Option<(&'static ControlEndpoint, Param)> {
    let rest = path.strip_prefix("/_sandbox")?;
    let parts: Vec<&str> = rest.trim_matches('/').split('/').collect();
    CONTROL_ENDPOINTS
        .iter()
        .find_map(|e| matches(e.path, &parts).map(|n| (e, n)))
}

/// Whether `parts` fit the template `path`; the value of its parameter.
fn matches(path: &str, parts: &[&str]) -> Option<Param> {
    let template: Vec<&str> = path.trim_start_matches("/_sandbox/").split('/').collect();
    if template.len() != parts.len() {
        return None;
    }
    let mut param = Param::default();
    for (t, p) in template.iter().zip(parts) {
        match *t {
            "{JobId}" => param.id = positive_id(p)?,
            "{id}" => param.id = whole_number(p)?,
            "{name}" if valid_name(p) => param.name = (*p).to_string(),
            _ if t == p => {}
            _ => return None,
        }
    }
    Some(param)
}

/// A session or checkpoint name: `[A-Za-z0-9_.-]{1,64}`.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A record id, as a path names it.
fn positive_id(s: &str) -> Option<u64> {
    parse_id(s).and_then(|id| u64::try_from(id).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_has_its_summary() {
        for e in CONTROL_ENDPOINTS {
            assert_eq!(e.methods.len(), e.summaries.len(), "{}", e.path);
        }
        assert_eq!(ENDPOINTS[5], ("/_sandbox/jobs/{JobId}/run", &["POST"][..]));
    }

    #[test]
    fn finds_endpoints_and_their_ids() {
        let f = |p: &str| find(p).map(|(e, n)| (e.endpoint, n.id));
        assert_eq!(f("/_sandbox/health"), Some((Control::Health, 0)));
        assert_eq!(f("/_sandbox/health/"), Some((Control::Health, 0)));
        assert_eq!(f("/_sandbox/jobs/7/run"), Some((Control::JobRun, 7)));
        assert_eq!(f("/_sandbox/faults/0"), Some((Control::Fault, 0)));
        for p in [
            "/_sandbox",
            "/_sandbox/",
            "/_sandbox/jobs/0/run",
            "/_sandbox/jobs/x/run",
            "/_sandbox/jobs/9223372036854775808/run",
            "/_sandbox/faults/-1",
            "/_sandbox/nope",
            "/_sandbox/sessions/a%20b",
            "/_sandbox/checkpoints/a/b",
        ] {
            assert_eq!(f(p), None, "{p}");
        }
        let (e, n) =
            find("/_sandbox/checkpoints/before-1/restore").unwrap_or_else(|| unreachable!());
        assert_eq!(
            (e.endpoint, n.name.as_str()),
            (Control::CheckpointRestore, "before-1")
        );
    }
}
