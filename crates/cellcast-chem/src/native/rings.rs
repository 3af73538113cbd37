//! Ring perception for the native path: ring atoms and bonds (those on a cycle, which is what
//! RDKit's ring membership amounts to), ring systems (biconnected blocks: RDKit's fused ring
//! systems), and a block's symmetrized SSSR when it is unique.

use super::{compressed_adjacency, NativeMol};

/// A ring system: a biconnected block with at least one cycle.
pub(super) struct Block {
    pub(super) atoms: Vec<u32>,
    pub(super) bonds: Vec<u32>,
}

/// Blocks larger than this (bonds) or with more independent cycles are left to chematic.
const MAX_BLOCK_BONDS: usize = 128;
const MAX_CYCLOMATIC: usize = 7;

/// Ring atoms, ring bonds and ring systems, by Tarjan's biconnected components (iterative).
pub(super) fn ring_membership(m: &NativeMol) -> (Vec<bool>, Vec<bool>, Vec<Block>) {
    let n = m.atoms.len();
    let mut ring_atom = vec![false; n];
    let mut ring_bond = vec![false; m.bonds.len()];
    let mut blocks = Vec::new();
    let mut order = vec![u32::MAX; n];
    let mut low = vec![0u32; n];
    let mut counter = 0u32;
    let mut edge_stack: Vec<u32> = Vec::new();
    // (atom, bond it was entered by, next neighbour position)
    let mut stack: Vec<(u32, u32, usize)> = Vec::new();
    for root in 0..n as u32 {
        if order[root as usize] != u32::MAX {
            continue;
        }
        order[root as usize] = counter;
        low[root as usize] = counter;
        counter += 1;
        stack.push((root, u32::MAX, 0));
        while let Some(top) = stack.last_mut() {
            let (v, via, pos) = *top;
            let nbrs = m.neighbors(v);
            if pos < nbrs.len() {
                top.2 += 1;
                let (w, b) = nbrs[pos];
                if b == via {
                    continue;
                }
                if order[w as usize] == u32::MAX {
                    edge_stack.push(b);
                    order[w as usize] = counter;
                    low[w as usize] = counter;
                    counter += 1;
                    stack.push((w, b, 0));
                } else if order[w as usize] < order[v as usize] {
                    edge_stack.push(b);
                    low[v as usize] = low[v as usize].min(order[w as usize]);
                }
                continue;
            }
            stack.pop();
            let Some(&(parent, _, _)) = stack.last() else { continue };
            low[parent as usize] = low[parent as usize].min(low[v as usize]);
            if low[v as usize] >= order[parent as usize] {
                // Pop the block closed by the edge parent–v.
                let mut bonds = Vec::new();
                while let Some(b) = edge_stack.pop() {
                    bonds.push(b);
                    if b == via {
                        break;
                    }
                }
                if bonds.len() > 1 {
                    let mut atoms: Vec<u32> =
                        bonds.iter().flat_map(|&b| [m.bonds[b as usize].a, m.bonds[b as usize].b]).collect();
                    atoms.sort_unstable();
                    atoms.dedup();
                    for &b in &bonds {
                        ring_bond[b as usize] = true;
                    }
                    for &a in &atoms {
                        ring_atom[a as usize] = true;
                    }
                    bonds.sort_unstable();
                    blocks.push(Block { atoms, bonds });
                }
            }
        }
    }
    (ring_atom, ring_bond, blocks)
}

/// The block's rings as RDKit's symmetrized SSSR has them, each as atoms in cycle order; `None`
/// when the smallest set is not unique (a choice RDKit makes its own way), or the block is too
/// large to enumerate.
///
/// The relevant cycles (those not sums of strictly shorter ones) are found by enumerating every
/// cycle of the block as a sum of fundamental cycles. When there are exactly as many as the
/// block has independent cycles, they are its only minimum cycle basis.
pub(super) fn block_rings(m: &NativeMol, block: &Block) -> Option<Vec<Vec<u32>>> {
    let nb = block.bonds.len();
    let na = block.atoms.len();
    let cyclomatic = nb + 1 - na;
    if cyclomatic == 1 {
        return Some(vec![walk(m, &block.bonds)]);
    }
    if nb > MAX_BLOCK_BONDS || cyclomatic > MAX_CYCLOMATIC {
        return None;
    }
    // Local numbering: atoms by position in the block, bonds by bit.
    let pos = |a: u32| block.atoms.binary_search(&a).expect("atom of the block");
    let ends: Vec<(usize, usize)> =
        block.bonds.iter().map(|&b| (pos(m.bonds[b as usize].a), pos(m.bonds[b as usize].b))).collect();
    let (start, adj) = compressed_adjacency(na, ends.iter().map(|&(u, v)| (u as u32, v as u32)));
    let local_adj = LocalAdjacency { start: &start, adj: &adj };
    // Spanning tree by BFS; each non-tree bond closes one fundamental cycle.
    let mut parent: Vec<Option<(usize, usize)>> = vec![None; na];
    let mut reached = vec![false; na];
    reached[0] = true;
    let mut queue = Vec::with_capacity(na);
    queue.push(0usize);
    let mut tree = vec![false; nb];
    let mut k = 0;
    while k < queue.len() {
        let v = queue[k];
        k += 1;
        for (w, lb) in local_adj.of(v) {
            if !reached[w] {
                reached[w] = true;
                parent[w] = Some((v, lb));
                tree[lb] = true;
                queue.push(w);
            }
        }
    }
    let path_to_root = |mut v: usize| {
        let mut mask = 0u128;
        while let Some((p, lb)) = parent[v] {
            mask ^= 1u128 << lb;
            v = p;
        }
        mask
    };
    let fundamental: Vec<u128> = (0..nb)
        .filter(|&lb| !tree[lb])
        .map(|lb| path_to_root(ends[lb].0) ^ path_to_root(ends[lb].1) ^ (1u128 << lb))
        .collect();
    debug_assert_eq!(fundamental.len(), cyclomatic);
    // Every element of the cycle space that is a single simple cycle.
    let mut degree = vec![0u8; na];
    let mut cycles: Vec<u128> = Vec::new();
    for pick in 1u32..(1 << cyclomatic) {
        let mask = BitIter(u128::from(pick)).fold(0u128, |acc, i| acc ^ fundamental[i]);
        if is_simple_cycle(mask, &ends, &local_adj, &mut degree) {
            cycles.push(mask);
        }
    }
    cycles.sort_by_key(|c| c.count_ones());
    // Relevant cycles: independent of all strictly shorter cycles.
    let mut basis = [0u128; 128];
    let mut relevant = Vec::new();
    let mut i = 0;
    while i < cycles.len() {
        let len = cycles[i].count_ones();
        let j = i + cycles[i..].iter().take_while(|c| c.count_ones() == len).count();
        relevant.extend(cycles[i..j].iter().copied().filter(|&c| reduce(c, &basis) != 0));
        for &c in &cycles[i..j] {
            let r = reduce(c, &basis);
            if r != 0 {
                basis[pivot(r)] = r;
            }
        }
        i = j;
    }
    if relevant.len() != cyclomatic {
        return None;
    }
    Some(
        relevant
            .iter()
            .map(|&mask| {
                let bonds: Vec<u32> = BitIter(mask).map(|lb| block.bonds[lb]).collect();
                walk(m, &bonds)
            })
            .collect(),
    )
}

fn pivot(v: u128) -> usize {
    127 - v.leading_zeros() as usize
}

/// Gaussian elimination over GF(2): `v` reduced by a basis held by pivot (its highest bit);
/// nonzero exactly when `v` is independent of the basis.
fn reduce(mut v: u128, basis: &[u128; 128]) -> u128 {
    while v != 0 && basis[pivot(v)] != 0 {
        v ^= basis[pivot(v)];
    }
    v
}

/// Whether the bonds in `mask` (local bits) form one simple cycle: every atom they touch is
/// touched twice, and following them from one bond comes back after all of them.
fn is_simple_cycle(mask: u128, ends: &[(usize, usize)], adj: &LocalAdjacency, degree: &mut [u8]) -> bool {
    let bits = || BitIter(mask);
    for lb in bits() {
        degree[ends[lb].0] = 0;
        degree[ends[lb].1] = 0;
    }
    for lb in bits() {
        degree[ends[lb].0] += 1;
        degree[ends[lb].1] += 1;
    }
    if bits().any(|lb| degree[ends[lb].0] != 2 || degree[ends[lb].1] != 2) {
        return false;
    }
    let first = mask.trailing_zeros() as usize;
    let (start, mut at) = ends[first];
    let (mut came_by, mut length) = (first, 1u32);
    while at != start {
        let Some((next, lb)) = adj.of(at).find(|&(_, lb)| lb != came_by && mask >> lb & 1 == 1) else {
            return false;
        };
        (at, came_by) = (next, lb);
        length += 1;
    }
    length == mask.count_ones()
}

/// A block's bonds by local atom: (neighbour, bond bit) pairs.
struct LocalAdjacency<'a> {
    start: &'a [u32],
    adj: &'a [(u32, u32)],
}

impl LocalAdjacency<'_> {
    fn of(&self, a: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.adj[self.start[a] as usize..self.start[a + 1] as usize].iter().map(|&(w, b)| (w as usize, b as usize))
    }
}

/// The set bits of a mask, lowest first.
struct BitIter(u128);

impl Iterator for BitIter {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let bit = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(bit)
    }
}

/// The atoms of a cycle given by its bonds, in order, starting from the first bond (stops early
/// if the bonds are not one cycle).
fn walk(m: &NativeMol, bonds: &[u32]) -> Vec<u32> {
    let first = &m.bonds[bonds[0] as usize];
    let mut ring = vec![first.a];
    let (mut prev_bond, mut at) = (bonds[0], first.b);
    while at != first.a {
        ring.push(at);
        let next = m.neighbors(at).iter().find(|&&(_, b)| b != prev_bond && bonds.contains(&b));
        let Some(&(w, b)) = next else { break };
        prev_bond = b;
        at = w;
        if ring.len() > bonds.len() {
            break;
        }
    }
    ring
}
