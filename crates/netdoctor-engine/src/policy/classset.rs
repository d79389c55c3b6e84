//! A fixed-size bit set over pod classes.

/// A set of class indices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ClassSet {
    words: Vec<u64>,
}

impl ClassSet {
    /// An empty set able to hold classes `0..len`.
    pub fn with_len(len: usize) -> ClassSet {
        ClassSet { words: vec![0; len.div_ceil(64)] }
    }

    pub fn insert(&mut self, class: usize) {
        if let Some(w) = self.words.get_mut(class / 64) {
            *w |= 1 << (class % 64);
        }
    }

    pub fn contains(&self, class: usize) -> bool {
        self.words.get(class / 64).is_some_and(|w| w & (1 << (class % 64)) != 0)
    }

    /// The members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| (0..64).filter(move |b| w & (1 << b) != 0).map(move |b| i * 64 + b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members() {
        let mut s = ClassSet::with_len(130);
        assert_eq!(s.iter().count(), 0);
        for c in [0, 63, 64, 129] {
            s.insert(c);
        }
        s.insert(500);
        assert!(s.contains(63) && s.contains(64) && !s.contains(1) && !s.contains(500));
        assert_eq!(s.iter().collect::<Vec<_>>(), [0, 63, 64, 129]);
    }
}
