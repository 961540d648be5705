//! What forking the state costs (scripts/bench_state.py runs it): loads a
//! fixtures set, then times `State::clone` (a session fork, a checkpoint, a
//! restore: each is one clone) and the first write to a fork, median of N,
//! and the resident memory that N live forks with one write each add.
//!
//! usage: state_fork FIXTURES [N]

use std::time::Instant;

use cleverfox_sandbox::domain::schema::Res;
use cleverfox_sandbox::domain::state::State;
use cleverfox_sandbox::store::fixtures;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: state_fork FIXTURES [N]");
        std::process::exit(2);
    };
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);
    let t = Instant::now();
    let loaded = match fixtures::load(path.as_ref(), 0) {
        Ok(l) => l,
        Err(p) => {
            eprintln!("the fixtures do not load: {}", p[0]);
            std::process::exit(1);
        }
    };
    let state = loaded.state;
    println!(
        "loaded {} records in {:.1} s; RSS {} MiB",
        loaded.records,
        t.elapsed().as_secs_f64(),
        rss_kib() / 1024
    );
    let device = state
        .table(Res::Devices)
        .rows
        .get_min()
        .map(|(id, r)| (*id, r.vals.to_vec()));
    let before = rss_kib();
    let mut forks: Vec<State> = Vec::with_capacity(n);
    let (mut clone_us, mut write_us) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let t = Instant::now();
        let mut fork = state.clone();
        clone_us.push(t.elapsed().as_secs_f64() * 1e6);
        if let Some((id, vals)) = &device {
            let t = Instant::now();
            fork.replace_vals(Res::Devices, *id, vals.clone());
            fork.changes += 1;
            write_us.push(t.elapsed().as_secs_f64() * 1e6);
        }
        forks.push(fork);
    }
    let after = rss_kib();
    println!(
        "clone (fork / checkpoint / restore): median {:.2} us over {n}; first write to a fork: median {:.2} us",
        median(clone_us),
        median(write_us)
    );
    println!(
        "{n} live forks with one write each: +{} KiB resident ({:.1} KiB per fork)",
        after.saturating_sub(before),
        after.saturating_sub(before) as f64 / n as f64
    );
    // a scoped page deep in partner 1's devices, on a fork
    let info = Res::Devices.info();
    let t = Instant::now();
    let ids = forks[0].table(Res::Devices).visible_ids(info, 1);
    let page: Vec<i64> = ids.map_or_else(Vec::new, |ids| {
        let end = ids.len().saturating_sub(ids.len() / 2);
        (end.saturating_sub(20)..end)
            .rev()
            .filter_map(|i| ids.get(i).copied())
            .collect()
    });
    println!(
        "ids of a page of 20 in the middle of partner 1's devices: {:.2} us ({} ids)",
        t.elapsed().as_secs_f64() * 1e6,
        page.len()
    );
}
