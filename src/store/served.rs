//! The snapshots served lately ([`Served`]), so that a snapshot sent back
//! unchanged is known to hold the API changes made before it was taken:
//! loading it discards only those made since.

use super::recent::Recent;

/// How many served snapshots are remembered.
const SERVED_KEPT: usize = 16;

/// One served snapshot: its SHA-256 digest, the store generation of the
/// state it was taken of, and that state's API changes at that moment.
#[derive(Clone, Debug)]
struct Taken {
    digest: [u8; 32],
    generation: u64,
    changes: u64,
}

/// The last snapshots served, newest first.
#[derive(Debug)]
pub struct Served {
    taken: Recent<Taken>,
}

impl Default for Served {
    fn default() -> Served {
        Served {
            taken: Recent::new(SERVED_KEPT),
        }
    }
}

impl Served {
    /// Remembers a snapshot of the state of `generation` holding `changes`.
    pub fn remember(&self, digest: [u8; 32], generation: u64, changes: u64) {
        self.taken.push(Taken {
            digest,
            generation,
            changes,
        });
    }

    /// The API changes a bundle holds when it is a snapshot served of the
    /// state of `generation`.
    pub fn changes_held(&self, digest: &[u8; 32], generation: u64) -> Option<u64> {
        self.taken
            .list(|t| t.digest == *digest && t.generation == generation)
            .first()
            .map(|t| t.changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::state::sha256;

    #[test]
    fn served_snapshots_are_recognised_by_digest_and_generation() {
        let served = Served::default();
        let a = sha256(b"{}");
        served.remember(a, 3, 2);
        assert_eq!(served.changes_held(&a, 3), Some(2));
        assert_eq!(served.changes_held(&a, 4), None, "another state");
        assert_eq!(served.changes_held(&sha256(b"{ }"), 3), None);
        for g in 0..SERVED_KEPT as u64 {
            served.remember(sha256(&g.to_le_bytes()), 3, g);
        }
        assert_eq!(served.changes_held(&a, 3), None, "forgotten");
    }
}
