//! The CleverFox domain: pure and synchronous, it knows neither HTTP nor the
//! store's locks, files or tasks.

pub mod browse; // the data of a collection as the console browses it
pub mod build; // the checked record builder: a record filled by attribute name
pub mod compat; // compat mode: the shape changes the API promises it may make
pub mod control; // the /_sandbox/ endpoint table
pub mod engine; // list, read, create, update, delete within a partner's scope
pub mod faults; // fault rules as sandbox.json and the control API state them
pub mod input; // a POST or PUT body, parsed straight from its bytes
pub mod mail; // an e-mail the real service would have sent
pub mod recurrence; // when a job runs next, in its device's time zone
pub mod render; // records to JSON with embedding and envelopes
pub mod report; // the conformance report: counts, findings, formats
pub mod resources; // the fourteen resource tables
pub mod rules; // the named rules the tables point to
pub mod schedule; // the backup service running on the sandbox clock
pub mod schema; // the vocabulary of the resource tables
pub mod simulate; // simulated job runs
pub mod snapshot; // the whole state as a bundle
pub mod state; // State, Table, Record, API keys
pub mod validate; // JSON values to stored values, and request rules
pub mod value; // stored values and the timestamp format
