//! Addresses outside the cluster: IPv4 interval sets, and the partition of the address
//! space that policies' ipBlocks induce (the coarsest split in which every block is a
//! union of parts), so that each part is one peer of the matrix.
//!
//! IPv6 blocks are not evaluated yet; the engine reports them as skipped.

use ipnet::IpNet;
use netdoctor_model::k8s::IpBlock;
use std::fmt;
use std::net::Ipv4Addr;

/// An inclusive range of IPv4 addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Range {
    pub start: u32,
    pub end: u32,
}

impl Ipv4Range {
    /// Every IPv4 address.
    pub const ALL: Ipv4Range = Ipv4Range { start: 0, end: u32::MAX };

    /// The addresses of an IPv4 network; `None` for IPv6.
    pub fn from_net(net: &IpNet) -> Option<Ipv4Range> {
        match net {
            IpNet::V4(v4) => Some(Ipv4Range { start: u32::from(v4.network()), end: u32::from(v4.broadcast()) }),
            IpNet::V6(_) => None,
        }
    }

    /// One address.
    pub fn single(addr: Ipv4Addr) -> Ipv4Range {
        let n = u32::from(addr);
        Ipv4Range { start: n, end: n }
    }

    pub fn contains(&self, other: &Ipv4Range) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

impl fmt::Display for Ipv4Range {
    /// `10.0.0.0-10.255.255.255`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", Ipv4Addr::from(self.start), Ipv4Addr::from(self.end))
    }
}

/// A set of IPv4 addresses as sorted, disjoint, non-adjacent ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Ipv4Set {
    ranges: Vec<Ipv4Range>,
}

impl Ipv4Set {
    pub fn empty() -> Ipv4Set {
        Ipv4Set::default()
    }

    pub fn from_range(r: Ipv4Range) -> Ipv4Set {
        Ipv4Set { ranges: vec![r] }
    }

    /// The addresses of an ipBlock (its CIDR minus the exceptions); `None` for IPv6.
    pub fn from_block(block: &IpBlock) -> Option<Ipv4Set> {
        let mut set = Ipv4Set::from_range(Ipv4Range::from_net(&block.cidr)?);
        for except in &block.except {
            if let Some(hole) = Ipv4Range::from_net(except) {
                set = set.subtract_range(hole);
            }
        }
        Some(set)
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The ranges, ascending.
    pub fn ranges(&self) -> &[Ipv4Range] {
        &self.ranges
    }

    /// Adds a range.
    pub fn union_range(&self, r: Ipv4Range) -> Ipv4Set {
        Ipv4Set::from_ranges(self.ranges.iter().copied().chain(std::iter::once(r)))
    }

    /// Every address in either set.
    pub fn union(&self, other: &Ipv4Set) -> Ipv4Set {
        Ipv4Set::from_ranges(self.ranges.iter().chain(&other.ranges).copied())
    }

    /// Every address of any of the ranges (in any order, overlapping or not), in one
    /// sort: building a set one `union_range` at a time is quadratic.
    pub fn from_ranges(ranges: impl IntoIterator<Item = Ipv4Range>) -> Ipv4Set {
        let mut all: Vec<Ipv4Range> = ranges.into_iter().collect();
        all.sort_unstable();
        let mut out: Vec<Ipv4Range> = Vec::with_capacity(all.len());
        for r in all {
            match out.last_mut() {
                Some(last) if u64::from(r.start) <= u64::from(last.end) + 1 => last.end = last.end.max(r.end),
                _ => out.push(r),
            }
        }
        Ipv4Set { ranges: out }
    }

    /// Removes a range.
    pub fn subtract_range(&self, hole: Ipv4Range) -> Ipv4Set {
        let mut out = Vec::with_capacity(self.ranges.len() + 1);
        for r in &self.ranges {
            if r.end < hole.start || r.start > hole.end {
                out.push(*r);
                continue;
            }
            if r.start < hole.start {
                out.push(Ipv4Range { start: r.start, end: hole.start - 1 });
            }
            if r.end > hole.end {
                out.push(Ipv4Range { start: hole.end + 1, end: r.end });
            }
        }
        Ipv4Set { ranges: out }
    }

    /// Whether every address of `r` is in the set.
    pub fn contains_range(&self, r: &Ipv4Range) -> bool {
        let i = self.ranges.partition_point(|x| x.end < r.start);
        self.ranges.get(i).is_some_and(|x| x.contains(r))
    }

    /// Whether some address of `r` is in the set.
    pub fn overlaps(&self, r: &Ipv4Range) -> bool {
        let i = self.ranges.partition_point(|x| x.end < r.start);
        self.ranges.get(i).is_some_and(|x| x.start <= r.end)
    }
}

/// The parts the address space splits into given some sets of addresses: maximal
/// ranges inside which every address belongs to the same sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Partition {
    parts: Vec<Ipv4Range>,
}

impl Ipv4Partition {
    /// Splits the whole IPv4 space at the edges of every range of every set.
    pub fn new<'a>(sets: impl IntoIterator<Item = &'a Ipv4Set>) -> Ipv4Partition {
        let mut starts: Vec<u32> = vec![0];
        for set in sets {
            for r in set.ranges() {
                starts.push(r.start);
                if let Some(next) = r.end.checked_add(1) {
                    starts.push(next);
                }
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let mut parts = Vec::with_capacity(starts.len());
        for (i, &start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).map_or(u32::MAX, |next| next - 1);
            parts.push(Ipv4Range { start, end });
        }
        Ipv4Partition { parts }
    }

    /// The parts, ascending.
    pub fn parts(&self) -> &[Ipv4Range] {
        &self.parts
    }

    /// The part holding `addr`.
    pub fn part_of(&self, addr: Ipv4Addr) -> Option<Ipv4Range> {
        let n = u32::from(addr);
        let i = self.parts.partition_point(|p| p.end < n);
        self.parts.get(i).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    /// One sort and merge gives the set that adding the ranges one at a time gives
    /// (overlapping, adjacent, nested and out-of-order ranges, the ends of the space).
    #[test]
    fn from_ranges_is_the_union_of_its_ranges() {
        let mut ranges = Vec::new();
        let mut x: u32 = 0x9e37_79b9;
        for _ in 0..500 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let start = x % 4096;
            ranges.push(Ipv4Range { start, end: start + x % 7 });
        }
        ranges.push(Ipv4Range { start: 4096, end: 4096 });
        ranges.push(Ipv4Range { start: u32::MAX - 1, end: u32::MAX });
        ranges.push(Ipv4Range { start: 0, end: 0 });
        let one_by_one = ranges.iter().fold(Ipv4Set::empty(), |acc, r| acc.union_range(*r));
        assert_eq!(Ipv4Set::from_ranges(ranges.iter().copied()), one_by_one);
        assert_eq!(Ipv4Set::from_ranges(ranges.iter().rev().copied()), one_by_one);
        let half = Ipv4Set::from_ranges(ranges.iter().take(250).copied());
        let rest = Ipv4Set::from_ranges(ranges.iter().skip(250).copied());
        assert_eq!(half.union(&rest), one_by_one);
    }

    #[test]
    fn blocks_and_partitions() {
        let block = IpBlock { cidr: net("10.0.0.0/8"), except: vec![net("10.10.0.0/16")] };
        let set = Ipv4Set::from_block(&block).unwrap_or_default();
        let shown: Vec<String> = set.ranges().iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.0-10.9.255.255", "10.11.0.0-10.255.255.255"]);
        let p = Ipv4Partition::new([&set]);
        let shown: Vec<String> = p.parts().iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "0.0.0.0-9.255.255.255",
                "10.0.0.0-10.9.255.255",
                "10.10.0.0-10.10.255.255",
                "10.11.0.0-10.255.255.255",
                "11.0.0.0-255.255.255.255"
            ]
        );
        let ten = Ipv4Range::from_net(&net("10.10.1.0/24")).unwrap_or(Ipv4Range::ALL);
        assert!(!set.contains_range(&ten) && !set.overlaps(&ten));
        assert!(set.contains_range(&Ipv4Range::single(Ipv4Addr::new(10, 0, 0, 1))));
        assert_eq!(Ipv4Partition::new([]).parts(), [Ipv4Range::ALL]);
        let everything = Ipv4Set::from_range(Ipv4Range::ALL);
        assert_eq!(Ipv4Partition::new([&everything]).parts(), [Ipv4Range::ALL]);
        assert!(Ipv4Set::from_block(&IpBlock { cidr: net("fd00::/8"), except: vec![] }).is_none());
    }
}
