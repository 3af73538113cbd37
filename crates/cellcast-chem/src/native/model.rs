//! RDKit's `MolFromSmiles` sanitization (`removeHs` + `sanitizeMol`, RDKit 2026.09) for the
//! native subset, step by step and in RDKit's order. Every step either mirrors RDKit exactly or
//! declines (`None`), so a `Some` result is the molecule RDKit would build.

use super::elements as el;
use super::rings::{self, Block};
use super::{compressed_adjacency, Atom, Bond, BondType, Graph, NativeMol};

/// Work limit for the Kekulé search; past it the molecule goes through chematic.
const MAX_KEKULE_STEPS: usize = 20_000;

pub(super) fn sanitize(g: Graph) -> Option<NativeMol> {
    let n = g.atoms.len();
    let has_stereo_marks = g.stereo_marks || g.atoms.iter().any(|a| a.chiral);
    let mut m = NativeMol::from_parts(g.atoms, g.bonds, has_stereo_marks);
    for a in 0..n as u32 {
        let anum = m.atoms[a as usize].anum;
        if !(el::is_modelled_nonmetal(anum) || (el::is_free_ion(anum) && m.degree(a) == 0)) {
            return None;
        }
    }
    m.clean_up()?;
    m.update_property_cache(true)?;
    let (ring_atom, ring_bond, blocks) = rings::ring_membership(&m);
    m.ring_atom = ring_atom;
    m.ring_bond = ring_bond;
    let kekule_choices = m.kekulize(&blocks)?;
    m.check_no_radicals()?;
    m.set_aromaticity(&blocks)?;
    // A bond whose single/double type came from the Kekulé search and did not become aromatic
    // again keeps that type, and RDKit's search may have chosen the other structure.
    if kekule_choices.iter().any(|&b| m.bonds[b as usize].bt != BondType::Aromatic) {
        return None;
    }
    m.adjust_hs()?;
    m.update_property_cache(true)?;
    Some(m)
}

impl NativeMol {
    /// The molecule with its adjacency built (ring information still empty).
    pub(super) fn from_parts(atoms: Vec<Atom>, bonds: Vec<Bond>, has_stereo_marks: bool) -> NativeMol {
        let (start, adj) = compressed_adjacency(atoms.len(), bonds.iter().map(|b| (b.a, b.b)));
        NativeMol { atoms, bonds, start, adj, ring_atom: Vec::new(), ring_bond: Vec::new(), has_stereo_marks }
    }

    fn anum(&self, a: u32) -> i32 {
        i32::from(self.atoms[a as usize].anum)
    }

    fn charge(&self, a: u32) -> i32 {
        i32::from(self.atoms[a as usize].charge)
    }

    /// `isAromaticAtom`: the atom's flag or any aromatic incident bond.
    fn is_aromatic_atom(&self, a: u32) -> bool {
        self.atoms[a as usize].aromatic
            || self.neighbors(a).iter().any(|&(_, b)| {
                let bond = &self.bonds[b as usize];
                bond.aromatic || bond.bt == BondType::Aromatic
            })
    }

    /// `getEffectiveAtomicNum`: the isoelectronic element for a charged atom.
    fn effective_anum(&self, a: u32) -> i32 {
        (self.anum(a) - self.charge(a)).clamp(0, 118)
    }

    fn can_be_hypervalent(&self, a: u32, eff: i32) -> bool {
        let anum = self.anum(a);
        (eff > 16 && (anum == 15 || anum == 16)) || (eff > 34 && (anum == 33 || anum == 34))
    }

    /// `calculateExplicitValence`, `None` when strict and RDKit would throw.
    fn explicit_valence(&self, a: u32, strict: bool) -> Option<i32> {
        let atom = &self.atoms[a as usize];
        let mut twice: i32 = self.neighbors(a).iter().map(|&(_, b)| self.bonds[b as usize].bt.twice_valence()).sum();
        twice += 2 * i32::from(atom.explicit_hs);
        let ovalens = el::valences(self.anum(a));
        let eff = self.effective_anum(a);
        let dv = el::default_valence(eff);
        let valens = el::valences(eff);
        if dv >= 0 && twice > 2 * dv && self.is_aromatic_atom(a) {
            let mut pval = dv;
            for &v in valens {
                if v == -1 || 2 * v > twice {
                    break;
                }
                pval = v;
            }
            if twice - 2 * pval <= 3 {
                twice = 2 * pval;
            }
        }
        // RDKit rounds accum + 0.1: half valences round up.
        let res = (twice + 1) / 2;
        if strict {
            let mut max_valence = *valens.last().unwrap_or(&-1);
            let mut offset = 0;
            if self.can_be_hypervalent(a, eff) {
                max_valence = *ovalens.last().unwrap_or(&-1);
                offset -= self.charge(a);
            }
            if max_valence >= 0 && *ovalens.last().unwrap_or(&-1) >= 0 && res + offset > max_valence {
                return None;
            }
        }
        Some(res)
    }

    /// `calculateImplicitValence` from the stored explicit valence (no radicals: the native
    /// path declines radicals).
    fn implicit_valence(&self, a: u32, strict: bool) -> Option<i32> {
        let atom = &self.atoms[a as usize];
        if atom.no_implicit {
            return Some(0);
        }
        let mut explicit = atom.explicit_valence;
        let mut eff = self.effective_anum(a);
        if eff == 0 {
            return Some(0);
        }
        let dv = el::default_valence(eff);
        if dv == -1 {
            return Some(0);
        }
        let hypervalent = self.can_be_hypervalent(a, eff);
        if hypervalent {
            eff = self.anum(a);
            explicit -= self.charge(a);
        }
        // Up to the default valence both of RDKit's rules give the same answer (the valence
        // list starts with it); only past it does aromaticity (a neighbour scan) matter.
        if !hypervalent && explicit <= dv {
            return Some(dv - explicit);
        }
        let valens = el::valences(eff);
        if self.is_aromatic_atom(a) {
            let accepted = valens.iter().take_while(|&&v| v > 0).any(|&v| v == explicit);
            return if !accepted && strict { None } else { Some(0) };
        }
        if let Some(v) = valens.iter().take_while(|&&v| v >= 0).find(|&&v| explicit <= v) {
            return Some(v - explicit);
        }
        let ovalens = el::valences(self.anum(a));
        if strict && *valens.last().unwrap_or(&-1) != -1 && *ovalens.last().unwrap_or(&-1) > 0 {
            return None;
        }
        Some(0)
    }

    pub(super) fn update_atom_cache(&mut self, a: u32, strict: bool) -> Option<()> {
        self.atoms[a as usize].explicit_valence = self.explicit_valence(a, strict)?;
        self.atoms[a as usize].implicit_valence = self.implicit_valence(a, strict)?;
        Some(())
    }

    fn update_property_cache(&mut self, strict: bool) -> Option<()> {
        (0..self.atoms.len() as u32).try_for_each(|a| self.update_atom_cache(a, strict))
    }

    fn implicit_hs(&self, a: u32) -> i32 {
        let atom = &self.atoms[a as usize];
        if atom.no_implicit {
            0
        } else {
            atom.implicit_valence
        }
    }

    fn total_valence(&self, a: u32) -> i32 {
        self.atoms[a as usize].explicit_valence + self.implicit_hs(a)
    }

    /// `cleanUp`: nitro-like nitrogens are charge-separated; the phosphorus and halogen-oxide
    /// rewrites are declined (rare, and they need more of RDKit than this path carries).
    fn clean_up(&mut self) -> Option<()> {
        let mut five_valent = Vec::new();
        for a in 0..self.atoms.len() as u32 {
            if self.anum(a) != 7 || self.charge(a) != 0 || self.explicit_valence(a, false)? != 5 {
                continue;
            }
            five_valent.push(a);
            self.separate_charge(a, 8, BondType::Double, BondType::Single);
        }
        for &a in &five_valent {
            self.separate_charge(a, 7, BondType::Triple, BondType::Double);
        }
        for a in 0..self.atoms.len() as u32 {
            let anum = self.anum(a);
            if self.charge(a) != 0 {
                continue;
            }
            if anum == 15 && self.degree(a) == 3 && self.explicit_valence(a, false)? == 5 {
                return None;
            }
            if matches!(anum, 17 | 35 | 53) && matches!(self.explicit_valence(a, false)?, 3 | 5 | 7) {
                return None;
            }
        }
        Some(())
    }

    /// The first `from` bond of `a` to a neutral atom of element `to` becomes `into`, with the
    /// charges moved (+1 on `a`, -1 on the neighbour).
    fn separate_charge(&mut self, a: u32, to: i32, from: BondType, into: BondType) {
        let hit = self
            .neighbors(a)
            .iter()
            .copied()
            .find(|&(nbr, b)| self.anum(nbr) == to && self.charge(nbr) == 0 && self.bonds[b as usize].bt == from);
        if let Some((nbr, b)) = hit {
            self.bonds[b as usize].bt = into;
            self.atoms[a as usize].charge = 1;
            self.atoms[nbr as usize].charge = -1;
        }
    }

    /// `Kekulize` (markAtomsBonds): aromatic input becomes single and double bonds, or the
    /// molecule is declined where RDKit would fail. Returns the ring bonds whose type the
    /// search chose. The choice does not change which rings are perceived aromatic afterwards
    /// (the atoms that get a double bond are fixed by their valences), but a chosen bond that
    /// does not end up aromatic keeps the type of whichever structure was found.
    fn kekulize(&mut self, blocks: &[Block]) -> Option<Vec<u32>> {
        let n = self.atoms.len();
        let mut chosen = Vec::new();
        if !(0..n as u32).any(|a| self.is_aromatic_atom(a)) {
            return Some(chosen);
        }
        let valences: Vec<i32> = (0..n as u32).map(|a| self.total_valence(a)).collect();
        let mut in_block = vec![false; n];
        for block in blocks {
            if !block.atoms.iter().any(|&a| self.is_aromatic_atom(a)) {
                continue;
            }
            for &a in &block.atoms {
                in_block[a as usize] = true;
            }
            let mut candidates = vec![false; n];
            let mut make_single = Vec::new();
            for &a in &block.atoms {
                if self.is_aromatic_atom(a) && self.needs_double_bond(a, &mut make_single) {
                    candidates[a as usize] = true;
                }
            }
            for b in make_single {
                let bond = &mut self.bonds[b as usize];
                bond.bt = BondType::Single;
                if in_block[bond.a as usize] && in_block[bond.b as usize] {
                    chosen.push(b);
                }
            }
            let matched = self.perfect_matching(&block.atoms, &candidates, &in_block)?;
            for b in matched {
                self.bonds[b as usize].bt = BondType::Double;
            }
            for &a in &block.atoms {
                in_block[a as usize] = false;
            }
        }
        // Aromatic bonds outside rings (between two ring systems) are single.
        for bond in &mut self.bonds {
            if bond.bt == BondType::Aromatic {
                bond.bt = BondType::Single;
            }
            bond.aromatic = false;
        }
        for a in 0..n as u32 {
            if !self.atoms[a as usize].aromatic {
                continue;
            }
            if !self.ring_atom[a as usize] {
                return None; // "non-ring atom marked aromatic"
            }
            let atom = &mut self.atoms[a as usize];
            atom.aromatic = false;
            if matches!(atom.anum, 7 | 15) && atom.charge == 0 && atom.explicit_hs == 1 {
                atom.no_implicit = false;
                atom.explicit_hs = 0;
                self.update_atom_cache(a, false)?;
            }
        }
        (0..n as u32).all(|a| self.total_valence(a) == valences[a as usize]).then_some(chosen)
    }

    /// Kekulize's `markDbondCands` for one aromatic atom (no dummies, no radicals): whether it
    /// must take a double bond. Its aromatic bonds go to `make_single`.
    fn needs_double_bond(&self, a: u32, make_single: &mut Vec<u32>) -> bool {
        let mut sbo = 0;
        for &(_, b) in self.neighbors(a) {
            let bond = &self.bonds[b as usize];
            if bond.aromatic {
                sbo += 1;
                make_single.push(b);
            } else {
                sbo += (bond.bt.twice_valence() + 1) / 2;
            }
        }
        let atom = &self.atoms[a as usize];
        let total_hs = i32::from(atom.explicit_hs) + self.implicit_hs(a);
        sbo += total_hs;
        let anum = self.anum(a);
        let mut charge = self.charge(a);
        if el::is_early_atom(anum) || (anum == 6 && charge > 0) {
            charge = -charge;
        }
        let mut dv = el::default_valence(anum) + charge;
        let tbo = self.total_valence(a);
        let total_degree = self.degree(a) as i32 + self.implicit_hs(a);
        let list = el::valences(anum);
        let mut vi = 1;
        while tbo > dv && vi < list.len() && list[vi] > 0 {
            dv = list[vi] + charge;
            vi += 1;
        }
        if tbo == 5
            && sbo == 4
            && dv == 3
            && total_degree == 3
            && charge == 0
            && total_hs == 0
            && matches!(anum, 7 | 15)
        {
            dv = 5;
        }
        if total_degree >= dv {
            return false;
        }
        dv == sbo + 1 || (atom.no_implicit && dv == sbo + 2)
    }

    /// A set of (formerly aromatic) bonds pairing every candidate atom exactly once, by
    /// depth-first search with backtracking; `None` when there is none (RDKit: "Can't
    /// kekulize") or the search is too long.
    fn perfect_matching(&self, atoms: &[u32], candidates: &[bool], in_block: &[bool]) -> Option<Vec<u32>> {
        let mut open: Vec<bool> = candidates.to_vec();
        let mut chosen = Vec::new();
        let mut steps = 0usize;
        let order: Vec<u32> = atoms.iter().copied().filter(|&a| candidates[a as usize]).collect();
        self.match_from(&order, 0, &mut open, in_block, &mut chosen, &mut steps).then_some(chosen)
    }

    fn match_from(
        &self,
        order: &[u32],
        mut pos: usize,
        open: &mut [bool],
        in_block: &[bool],
        chosen: &mut Vec<u32>,
        steps: &mut usize,
    ) -> bool {
        while pos < order.len() && !open[order[pos] as usize] {
            pos += 1;
        }
        let Some(&a) = order.get(pos) else { return true };
        *steps += 1;
        if *steps > MAX_KEKULE_STEPS {
            return false;
        }
        open[a as usize] = false;
        for &(nbr, b) in self.neighbors(a) {
            if !open[nbr as usize] || !in_block[nbr as usize] || !self.bonds[b as usize].aromatic {
                continue;
            }
            open[nbr as usize] = false;
            chosen.push(b);
            if self.match_from(order, pos + 1, open, in_block, chosen, steps) {
                return true;
            }
            chosen.pop();
            open[nbr as usize] = true;
        }
        open[a as usize] = true;
        false
    }

    /// `assignRadicals`: bracket atoms short of a valence carry radicals; the native path
    /// declines them.
    fn check_no_radicals(&self) -> Option<()> {
        for a in 0..self.atoms.len() as u32 {
            let atom = &self.atoms[a as usize];
            if !atom.no_implicit {
                continue;
            }
            let anum = self.anum(a);
            let charge = self.charge(a);
            let valens = el::valences(anum);
            let outer = el::outer_electrons(anum);
            let radicals = if valens.len() != 1 || valens[0] != -1 {
                let twice: i32 =
                    self.neighbors(a).iter().map(|&(_, b)| self.bonds[b as usize].bt.twice_valence()).sum();
                let total = (twice + 2 * i32::from(atom.explicit_hs)) / 2; // (accum + 0.1) truncated
                let mut r = 8 - outer - total + charge;
                if r < 0 {
                    r = 0;
                    if valens.len() > 1 {
                        if let Some(&v) = valens.iter().find(|&&v| v - total + charge >= 0) {
                            r = v - total + charge;
                        }
                    }
                }
                let r2 = outer - total - charge;
                if r2 >= 0 {
                    r = r.min(r2);
                }
                r.max(0)
            } else if self.degree(a) > 0 {
                0
            } else {
                (outer - charge).max(0) % 2
            };
            if radicals != 0 {
                return None;
            }
        }
        Some(())
    }

    /// `setAromaticity` (RDKit model) on the Kekulé structure.
    fn set_aromaticity(&mut self, blocks: &[Block]) -> Option<()> {
        let n = self.atoms.len();
        // Only ring atoms can be in an aromatic ring; the others keep `No`.
        let mut donors = vec![Donor::No; n];
        let mut candidate = vec![false; n];
        for a in (0..n as u32).filter(|&a| self.ring_atom[a as usize]) {
            donors[a as usize] = self.donor_type(a);
            candidate[a as usize] = self.is_aromatic_candidate(a, donors[a as usize]);
        }
        // Rings matter only where candidate atoms close a cycle; the large-ring tweak below can
        // only remove candidates.
        let mut rings: Vec<Vec<u32>> = Vec::new();
        for block in blocks {
            if self.has_candidate_cycle(block, &candidate) {
                rings.extend(rings::block_rings(self, block)?);
            }
        }
        if rings.is_empty() {
            return Some(());
        }
        for a in self.large_ring_bridges(&rings, &candidate, &mut donors)? {
            candidate[a as usize] = self.is_aromatic_candidate(a, donors[a as usize]);
        }
        let c_rings: Vec<&Vec<u32>> = rings.iter().filter(|r| r.iter().all(|&a| candidate[a as usize])).collect();
        let ring_bonds: Vec<Vec<u32>> = c_rings.iter().map(|r| self.ring_bond_list(r)).collect();
        let neighbours = fused_neighbours(&ring_bonds);
        let mut done = vec![false; c_rings.len()];
        for first in 0..c_rings.len() {
            if done[first] {
                continue;
            }
            let mut fused = Vec::new();
            pick_fused(first, &neighbours, &mut fused, &mut done);
            self.huckel_on_fused(&c_rings, &ring_bonds, &fused, &donors, &neighbours)?;
        }
        Some(())
    }

    /// Whether the block's bonds between candidate atoms close a cycle (union-find).
    fn has_candidate_cycle(&self, block: &Block, candidate: &[bool]) -> bool {
        // Union-find over the block's atoms by position.
        let mut parent: Vec<usize> = (0..block.atoms.len()).collect();
        let root = |parent: &[usize], mut i: usize| {
            while parent[i] != i {
                i = parent[i];
            }
            i
        };
        let pos = |a: u32| block.atoms.binary_search(&a).expect("atom of the block");
        for &b in &block.bonds {
            let bond = &self.bonds[b as usize];
            if !(candidate[bond.a as usize] && candidate[bond.b as usize]) {
                continue;
            }
            let (x, y) = (root(&parent, pos(bond.a)), root(&parent, pos(bond.b)));
            if x == y {
                return true;
            }
            parent[x] = y;
        }
        false
    }

    /// RDKit 2026.09 treats a neutral divalent O or S with only single bonds, first seen in a
    /// ring of nine or more atoms, as a non-donor. "First seen" follows RDKit's ring order,
    /// which the native path does not reproduce, so an atom in both a small and a large ring
    /// that could be aromatic (all atoms candidates) is declined. Rings that cannot be aromatic
    /// do not care about the atom's donor type.
    fn large_ring_bridges(&self, rings: &[Vec<u32>], candidate: &[bool], donors: &mut [Donor]) -> Option<Vec<u32>> {
        let mut changed = Vec::new();
        for a in 0..self.atoms.len() as u32 {
            let plain = donors[a as usize] == Donor::Two
                && matches!(self.anum(a), 8 | 16)
                && self.charge(a) == 0
                && self.degree(a) == 2
                && self.neighbors(a).iter().all(|&(_, b)| self.bonds[b as usize].bt == BondType::Single);
            if !plain {
                continue;
            }
            let containing = || rings.iter().filter(|r| r.contains(&a));
            let (small, large) = containing().fold((false, false), |(s, l), r| (s || r.len() < 9, l || r.len() >= 9));
            let matters = containing().any(|r| r.iter().all(|&x| candidate[x as usize]));
            match (small, large) {
                (true, true) if matters => return None,
                (false, true) => {
                    donors[a as usize] = Donor::No;
                    changed.push(a);
                }
                _ => {}
            }
        }
        Some(changed)
    }

    fn ring_bond_list(&self, ring: &[u32]) -> Vec<u32> {
        (0..ring.len())
            .map(|k| {
                let (x, y) = (ring[k], ring[(k + 1) % ring.len()]);
                self.neighbors(x).iter().find(|&&(nbr, _)| nbr == y).expect("ring atoms are bonded").1
            })
            .collect()
    }

    /// `countAtomElec`: electrons the atom can give to a π system (-1: none possible).
    fn count_atom_elec(&self, a: u32) -> i32 {
        let dv = el::default_valence(self.anum(a));
        if dv <= 1 {
            return -1;
        }
        let degree = self.degree(a) as i32 + self.total_hs(a) as i32;
        if degree > 3 {
            return -1;
        }
        let lone = (el::outer_electrons(self.anum(a)) - dv - self.charge(a)).max(0);
        let mut res = dv - degree + lone;
        if res > 1 && self.atoms[a as usize].explicit_valence - self.degree(a) as i32 > 1 {
            res = 1;
        }
        res
    }

    fn non_ring_multiple_bond(&self, a: u32) -> Option<u32> {
        self.neighbors(a)
            .iter()
            .find(|&&(_, b)| !self.ring_bond[b as usize] && self.bonds[b as usize].bt.twice_valence() >= 4)
            .map(|&(nbr, _)| nbr)
    }

    fn ring_multiple_bond(&self, a: u32) -> bool {
        self.neighbors(a)
            .iter()
            .any(|&(_, b)| self.ring_bond[b as usize] && self.bonds[b as usize].bt.twice_valence() >= 4)
    }

    fn has_multiple_bond(&self, a: u32) -> bool {
        let deg = self.degree(a) as i32 + i32::from(self.atoms[a as usize].explicit_hs);
        self.atoms[a as usize].explicit_valence != deg
    }

    /// `getAtomDonorTypeArom`.
    fn donor_type(&self, a: u32) -> Donor {
        let mut nelec = self.count_atom_elec(a);
        let anum = self.anum(a);
        match nelec {
            e if e < 0 => Donor::No,
            0 => {
                if self.non_ring_multiple_bond(a).is_some() {
                    Donor::Vacant
                } else if self.ring_multiple_bond(a) {
                    Donor::One
                } else {
                    Donor::No
                }
            }
            1 => {
                if let Some(who) = self.non_ring_multiple_bond(a) {
                    if el::more_electronegative(self.anum(who), anum) {
                        Donor::Vacant
                    } else {
                        Donor::One
                    }
                } else if self.has_multiple_bond(a) {
                    Donor::One
                } else if self.charge(a) == 1 {
                    Donor::Vacant
                } else {
                    Donor::No
                }
            }
            _ => {
                if let Some(who) = self.non_ring_multiple_bond(a) {
                    if el::more_electronegative(self.anum(who), anum) {
                        nelec -= 1;
                    }
                }
                if nelec % 2 == 1 {
                    Donor::One
                } else {
                    Donor::Two
                }
            }
        }
    }

    /// `isAtomCandForArom`.
    fn is_aromatic_candidate(&self, a: u32, donor: Donor) -> bool {
        let anum = self.anum(a);
        if (anum > 18 && anum != 34 && anum != 52) || donor == Donor::No {
            return false;
        }
        if el::default_valence(anum) > 0 && self.total_valence(a) > el::default_valence((anum - self.charge(a)).max(0))
        {
            return false;
        }
        if self.atoms[a as usize].explicit_valence - self.degree(a) as i32 > 1 {
            let multiple = self
                .neighbors(a)
                .iter()
                .filter(|&&(_, b)| matches!(self.bonds[b as usize].bt, BondType::Double | BondType::Triple))
                .count();
            if multiple > 1 {
                return false;
            }
        }
        true
    }

    /// `applyHuckelToFused`: every connected combination of up to six rings of a fused system
    /// whose atoms (those in one or two of its rings) satisfy 4n+2 makes its non-shared bonds
    /// aromatic.
    fn huckel_on_fused(
        &mut self,
        rings: &[&Vec<u32>],
        ring_bonds: &[Vec<u32>],
        fused: &[usize],
        donors: &[Donor],
        neighbours: &[Vec<usize>],
    ) -> Option<()> {
        const MAX_FUSED: usize = 6;
        let nrings = fused.len();
        if nrings > 12 {
            return None; // RDKit's limits for huge systems are not mirrored
        }
        let mut system_bonds: Vec<u32> = fused.iter().flat_map(|&r| ring_bonds[r].iter().copied()).collect();
        system_bonds.sort_unstable();
        system_bonds.dedup();
        let mut done_bonds: Vec<u32> = Vec::new();
        let mut in_system = vec![0u8; self.atoms.len()];
        let mut union: Vec<u32> = Vec::new();
        for size in 1..=nrings.min(MAX_FUSED) {
            if done_bonds.len() >= system_bonds.len() {
                break;
            }
            let mut comb: Vec<usize> = (0..size).collect();
            loop {
                let chosen: Vec<usize> = comb.iter().map(|&i| fused[i]).collect();
                if is_connected(&chosen, neighbours) {
                    // The atoms in one or two of the chosen rings.
                    for &r in &chosen {
                        for &a in rings[r] {
                            in_system[a as usize] += 1;
                        }
                    }
                    union.clear();
                    for &r in &chosen {
                        for &a in rings[r] {
                            let k = &mut in_system[a as usize];
                            if *k == 1 || *k == 2 {
                                union.push(a);
                            }
                            // Counted once: later visits of the atom see 0.
                            *k = 0;
                        }
                    }
                    if huckel(&union, donors) {
                        let mut counted: Vec<u32> =
                            chosen.iter().flat_map(|&r| ring_bonds[r].iter().copied()).collect();
                        counted.sort_unstable();
                        for (k, &b) in counted.iter().enumerate() {
                            let shared = (k > 0 && counted[k - 1] == b) || counted.get(k + 1) == Some(&b);
                            if shared {
                                continue;
                            }
                            let bond = &mut self.bonds[b as usize];
                            bond.aromatic = true;
                            if matches!(bond.bt, BondType::Single | BondType::Double) {
                                bond.bt = BondType::Aromatic;
                                let (x, y) = (bond.a, bond.b);
                                self.atoms[x as usize].aromatic = true;
                                self.atoms[y as usize].aromatic = true;
                            }
                            if let Err(at) = done_bonds.binary_search(&b) {
                                done_bonds.insert(at, b);
                            }
                        }
                    }
                }
                if !next_combination(&mut comb, nrings) {
                    break;
                }
            }
        }
        Some(())
    }

    /// `adjustHs`: an atom whose implicit hydrogens dropped with aromaticity keeps them as
    /// explicit ones.
    fn adjust_hs(&mut self) -> Option<()> {
        for a in 0..self.atoms.len() as u32 {
            let before = self.implicit_hs(a);
            self.atoms[a as usize].explicit_valence = self.explicit_valence(a, false)?;
            let after = self.implicit_valence(a, false)?;
            self.atoms[a as usize].implicit_valence = after;
            let after = if self.atoms[a as usize].no_implicit { 0 } else { after };
            if after < before {
                self.atoms[a as usize].explicit_hs += (before - after) as u8;
                self.atoms[a as usize].explicit_valence = self.explicit_valence(a, false)?;
            }
        }
        Some(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Donor {
    Vacant,
    One,
    Two,
    No,
}

/// `applyHuckel`: the electron count range of `atoms` contains some 4n+2 (n ≥ 1), or is
/// exactly 2 for a ring that cannot hold more.
fn huckel(atoms: &[u32], donors: &[Donor]) -> bool {
    let (mut low, mut up) = (0, 0);
    for &a in atoms {
        let (l, u) = match donors[a as usize] {
            Donor::One => (1, 1),
            Donor::Two => (2, 2),
            Donor::Vacant | Donor::No => (0, 0),
        };
        low += l;
        up += u;
    }
    if up >= 6 {
        (low..=up).any(|e| (e - 2) % 4 == 0)
    } else {
        up == 2
    }
}

/// `makeRingNeighborMap(brings, 24, 1)`: rings of at most 24 atoms sharing exactly one bond.
fn fused_neighbours(ring_bonds: &[Vec<u32>]) -> Vec<Vec<usize>> {
    const MAX_SIZE: usize = 24;
    let n = ring_bonds.len();
    let mut neigh = vec![Vec::new(); n];
    for i in 0..n {
        if ring_bonds[i].len() > MAX_SIZE {
            continue;
        }
        for j in i + 1..n {
            if ring_bonds[j].len() > MAX_SIZE {
                continue;
            }
            let shared = ring_bonds[i].iter().filter(|b| ring_bonds[j].contains(b)).count();
            if shared == 1 {
                neigh[i].push(j);
                neigh[j].push(i);
            }
        }
    }
    neigh
}

/// `pickFusedRings`: the rings reachable from `first` (depth first).
fn pick_fused(first: usize, neigh: &[Vec<usize>], out: &mut Vec<usize>, done: &mut [bool]) {
    done[first] = true;
    out.push(first);
    for &n in &neigh[first] {
        if !done[n] {
            pick_fused(n, neigh, out, done);
        }
    }
}

/// `checkFused`: the chosen rings form one connected piece of the neighbour map.
fn is_connected(chosen: &[usize], neigh: &[Vec<usize>]) -> bool {
    let mut reached = vec![chosen[0]];
    let mut k = 0;
    while k < reached.len() {
        let r = reached[k];
        for &n in &neigh[r] {
            if chosen.contains(&n) && !reached.contains(&n) {
                reached.push(n);
            }
        }
        k += 1;
    }
    reached.len() == chosen.len()
}

/// The next k-combination of 0..n in lexicographic order; false after the last.
fn next_combination(comb: &mut [usize], n: usize) -> bool {
    let k = comb.len();
    let Some(i) = (0..k).rev().find(|&i| comb[i] < n - k + i) else { return false };
    comb[i] += 1;
    for j in i + 1..k {
        comb[j] = comb[j - 1] + 1;
    }
    true
}
