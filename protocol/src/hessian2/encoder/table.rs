//! The encoder's definition tables (class definitions, type names): an append-only list that
//! answers "which index did this key get?", scanning linearly while small and hashing once large.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

/// Number of entries after which a table also keeps a hash index (below that a linear scan is
/// faster than hashing a class definition).
const INDEX_THRESHOLD: usize = 16;

/// An append-only table of definitions that answers "which index did this key get?".
#[derive(Debug, Clone)]
pub(super) struct Table<K> {
    items: Vec<K>,
    index: HashMap<K, u32>,
}

impl<K> Default for Table<K> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Table<K> {
    pub(super) fn find<Q>(&self, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.items.len() <= INDEX_THRESHOLD {
            let pos = self.items.iter().position(|k| k.borrow() == key)?;
            u32::try_from(pos).ok()
        } else {
            self.index.get(key).copied()
        }
    }

    pub(super) fn insert(&mut self, key: K) -> u32 {
        let idx = u32::try_from(self.items.len()).unwrap_or(u32::MAX);
        if self.items.len() >= INDEX_THRESHOLD {
            if self.index.is_empty() {
                for (i, k) in self.items.iter().enumerate() {
                    self.index
                        .insert(k.clone(), u32::try_from(i).unwrap_or(u32::MAX));
                }
            }
            self.index.insert(key.clone(), idx);
        }
        self.items.push(key);
        idx
    }

    pub(super) fn clear(&mut self) {
        self.items.clear();
        self.index.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::Table;

    #[test]
    fn indices_are_stable_across_the_switch_to_hashing() {
        let mut t = Table::<String>::default();
        for i in 0..40 {
            assert_eq!(t.find(format!("t{i}").as_str()), None);
            assert_eq!(t.insert(format!("t{i}")), i);
            for j in 0..=i {
                assert_eq!(
                    t.find(format!("t{j}").as_str()),
                    Some(j),
                    "after {i} inserts"
                );
            }
        }
        t.clear();
        assert_eq!(t.find("t3"), None);
        assert_eq!(t.insert("x".to_owned()), 0);
    }
}
