//! Bemis–Murcko scaffolds on the native model: RDKit's `MurckoDecompose` (ring atoms, the
//! linkers between ring systems, and atoms double-bonded to either) with its hydrogen
//! bookkeeping, written as a (non-canonical) SMILES string that chematic canonicalizes.

use super::elements;
use super::{BondType, NativeMol};

/// The scaffold of `m` as SMILES in RDKit's model (aromatic flags kept, hydrogens as RDKit
/// leaves them), the empty string for a molecule without rings, or `None` where the native
/// path declines (then chematic computes it).
pub(crate) fn murcko_smiles(m: &NativeMol) -> Option<String> {
    let n = m.atoms.len();
    // Ring atoms and linkers: prune non-ring leaves until none is left.
    let mut keep: Vec<bool> = m.ring_atom.clone();
    if !keep.iter().any(|&k| k) {
        return Some(String::new());
    }
    let mut alive = vec![true; n];
    let mut degree: Vec<usize> = (0..n as u32).map(|a| m.degree(a)).collect();
    let mut leaves: Vec<u32> = (0..n as u32).filter(|&a| !keep[a as usize] && degree[a as usize] <= 1).collect();
    while let Some(a) = leaves.pop() {
        alive[a as usize] = false;
        for &(w, _) in m.neighbors(a) {
            if alive[w as usize] && !keep[w as usize] {
                degree[w as usize] -= 1;
                if degree[w as usize] == 1 {
                    leaves.push(w);
                }
            }
        }
    }
    for a in 0..n {
        keep[a] |= alive[a];
    }
    // Side-chain atoms double-bonded to the scaffold stay; the others go, and the scaffold atom
    // they leave gets RDKit's hydrogen treatment.
    let mut scaffold = m.clone();
    let mut stays = keep.clone();
    for a in 0..n as u32 {
        if keep[a as usize] {
            continue;
        }
        for &(w, b) in m.neighbors(a) {
            if !keep[w as usize] {
                continue;
            }
            if m.bonds[b as usize].bt == BondType::Double {
                let atom = &m.atoms[a as usize];
                // RDKit keeps it but does not touch its flags when its own side chain goes (its
                // hydrogens are recomputed); a bracket, charged or aromatic atom there is left
                // to chematic.
                if atom.no_implicit || atom.charge != 0 || atom.aromatic {
                    return None;
                }
                stays[a as usize] = true;
                break;
            }
            let atom = &mut scaffold.atoms[w as usize];
            if atom.aromatic && (atom.anum != 6 || atom.charge == 1) {
                atom.explicit_hs = 1;
            } else if atom.no_implicit || atom.chiral {
                atom.no_implicit = false;
                atom.explicit_hs = 0;
                atom.chiral = false;
            }
        }
    }
    let scaffold = scaffold.induced(&stays)?;
    let (smiles, written_order) = scaffold.write_smiles();
    // RDKit writes the scaffold without sanitizing it again; chematic will sanitize what we
    // write. Only when that round trip gives back the same molecule (checked with the native
    // model, which is RDKit's wherever it answers) is the canonical form the same.
    let reread = NativeMol::from_smiles(&smiles)?;
    scaffold.same_molecule(&reread, &written_order).then_some(smiles)
}

impl NativeMol {
    /// The molecule restricted to `keep` (bond types and aromatic flags as they are), with its
    /// valences recomputed strictly as RDKit's `updatePropertyCache` would; `None` if that
    /// fails.
    fn induced(&self, keep: &[bool]) -> Option<NativeMol> {
        let mut new_index = vec![u32::MAX; self.atoms.len()];
        let mut atoms = Vec::new();
        for (a, atom) in self.atoms.iter().enumerate() {
            if keep[a] {
                new_index[a] = atoms.len() as u32;
                atoms.push(atom.clone());
            }
        }
        let mut bonds = Vec::new();
        let mut ring_bond = Vec::new();
        for (k, bond) in self.bonds.iter().enumerate() {
            if keep[bond.a as usize] && keep[bond.b as usize] {
                let mut b = *bond;
                b.a = new_index[bond.a as usize];
                b.b = new_index[bond.b as usize];
                bonds.push(b);
                ring_bond.push(self.ring_bond[k]);
            }
        }
        let ring_atom = (0..self.atoms.len()).filter(|&a| keep[a]).map(|a| self.ring_atom[a]).collect();
        let mut m = NativeMol::from_parts(atoms, bonds, self.has_stereo_marks);
        m.ring_atom = ring_atom;
        m.ring_bond = ring_bond;
        for a in 0..m.atoms.len() as u32 {
            m.update_atom_cache(a, true)?;
        }
        Some(m)
    }

    /// Whether `other` is this molecule with atom `i` of `other` being atom `order[i]` here:
    /// the same elements, charges, aromaticity, hydrogens and bond types.
    fn same_molecule(&self, other: &NativeMol, order: &[u32]) -> bool {
        if other.atoms.len() != self.atoms.len() || other.bonds.len() != self.bonds.len() {
            return false;
        }
        let atoms_match = order.iter().enumerate().all(|(i, &a)| {
            let (x, y) = (&other.atoms[i], &self.atoms[a as usize]);
            x.anum == y.anum
                && x.charge == y.charge
                && x.aromatic == y.aromatic
                && other.total_hs(i as u32) == self.total_hs(a)
        });
        let key = |a: u32, b: u32, bt: BondType| (a.min(b), a.max(b), bt as u8);
        let mut ours: Vec<_> = self.bonds.iter().map(|b| key(b.a, b.b, b.bt)).collect();
        let mut theirs: Vec<_> =
            other.bonds.iter().map(|b| key(order[b.a as usize], order[b.b as usize], b.bt)).collect();
        ours.sort_unstable();
        theirs.sort_unstable();
        atoms_match && ours == theirs
    }

    /// A SMILES string for the molecule as it stands, and the order its atoms are written in:
    /// every atom with its exact hydrogen count and charge (bracketed whenever a reader could
    /// not infer them), bonds explicit wherever an implicit bond would be read differently.
    fn write_smiles(&self) -> (String, Vec<u32>) {
        let n = self.atoms.len();
        // Depth-first order; non-tree bonds become ring closures opened at the earlier atom.
        let mut visited = vec![false; n];
        let mut tree_parent_bond = vec![u32::MAX; n];
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut opens: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut closes: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut used_bond = vec![false; self.bonds.len()];
        let mut roots = Vec::new();
        for root in 0..n as u32 {
            if visited[root as usize] {
                continue;
            }
            roots.push(root);
            visited[root as usize] = true;
            let mut stack = vec![(root, 0usize)];
            while let Some(top) = stack.last_mut() {
                let (v, pos) = *top;
                let nbrs = self.neighbors(v);
                if pos == nbrs.len() {
                    stack.pop();
                    continue;
                }
                top.1 += 1;
                let (w, b) = nbrs[pos];
                if used_bond[b as usize] {
                    continue;
                }
                used_bond[b as usize] = true;
                if visited[w as usize] {
                    // w is an ancestor, written before v.
                    opens[w as usize].push(b);
                    closes[v as usize].push(b);
                } else {
                    visited[w as usize] = true;
                    tree_parent_bond[w as usize] = b;
                    children[v as usize].push(w);
                    stack.push((w, 0));
                }
            }
        }
        let mut out = String::with_capacity(4 * n);
        let mut digit_of_bond = vec![0u8; self.bonds.len()];
        let mut free_digits: Vec<u8> = (1..=99).rev().collect();
        let mut order = Vec::with_capacity(n);
        for (k, &root) in roots.iter().enumerate() {
            if k > 0 {
                out.push('.');
            }
            // Iterative pre-order writing: (atom, index of next child to write).
            let mut stack = vec![(root, 0usize)];
            self.write_atom(root, &mut out);
            order.push(root);
            self.write_closures(root, &opens, &closes, &mut digit_of_bond, &mut free_digits, &mut out);
            while let Some(top) = stack.last_mut() {
                let (v, next) = *top;
                let kids = &children[v as usize];
                if next == kids.len() {
                    stack.pop();
                    if !stack.is_empty() && next_is_branch_end(&stack, &children) {
                        out.push(')');
                    }
                    continue;
                }
                top.1 += 1;
                let w = kids[next];
                if next + 1 < kids.len() {
                    out.push('(');
                }
                self.write_bond(tree_parent_bond[w as usize], &mut out);
                self.write_atom(w, &mut out);
                order.push(w);
                self.write_closures(w, &opens, &closes, &mut digit_of_bond, &mut free_digits, &mut out);
                stack.push((w, 0));
            }
        }
        (out, order)
    }

    fn write_closures(
        &self,
        a: u32,
        opens: &[Vec<u32>],
        closes: &[Vec<u32>],
        digit_of_bond: &mut [u8],
        free: &mut Vec<u8>,
        out: &mut String,
    ) {
        for &b in &closes[a as usize] {
            let d = digit_of_bond[b as usize];
            push_digit(d, out);
            free.push(d);
            free.sort_unstable_by(|x, y| y.cmp(x));
        }
        for &b in &opens[a as usize] {
            let d = free.pop().expect("at most 99 open ring closures");
            digit_of_bond[b as usize] = d;
            self.write_bond(b, out);
            push_digit(d, out);
        }
    }

    fn write_bond(&self, b: u32, out: &mut String) {
        let bond = &self.bonds[b as usize];
        let both_aromatic = self.atoms[bond.a as usize].aromatic && self.atoms[bond.b as usize].aromatic;
        match bond.bt {
            BondType::Single if both_aromatic => out.push('-'),
            BondType::Single => {}
            BondType::Aromatic if both_aromatic => {}
            BondType::Aromatic => out.push(':'),
            BondType::Double => out.push('='),
            BondType::Triple => out.push('#'),
        }
    }

    fn write_atom(&self, a: u32, out: &mut String) {
        let atom = &self.atoms[a as usize];
        let symbol = elements::symbol(atom.anum);
        let organic = matches!(atom.anum, 5 | 6 | 7 | 8 | 9 | 15 | 16 | 17 | 35 | 53);
        let plain = organic && atom.charge == 0 && !atom.no_implicit && atom.explicit_hs == 0;
        if plain {
            push_symbol(symbol, atom.aromatic, out);
            return;
        }
        out.push('[');
        push_symbol(symbol, atom.aromatic, out);
        match self.total_hs(a) {
            0 => {}
            1 => out.push('H'),
            h => {
                out.push('H');
                out.push_str(&h.to_string());
            }
        }
        match atom.charge {
            0 => {}
            1 => out.push('+'),
            -1 => out.push('-'),
            c if c > 0 => out.push_str(&format!("+{c}")),
            c => out.push_str(&format!("-{}", -c)),
        }
        out.push(']');
    }
}

/// After finishing a child, a `)` closes its branch when the parent still has children to
/// write (every child but the last was opened with `(`).
fn next_is_branch_end(stack: &[(u32, usize)], children: &[Vec<u32>]) -> bool {
    let &(parent, next) = stack.last().expect("non-empty");
    next < children[parent as usize].len()
}

fn push_symbol(symbol: &str, aromatic: bool, out: &mut String) {
    if aromatic {
        out.push_str(&symbol.to_ascii_lowercase());
    } else {
        out.push_str(symbol);
    }
}

fn push_digit(d: u8, out: &mut String) {
    if d < 10 {
        out.push((b'0' + d) as char);
    } else {
        out.push('%');
        out.push_str(&d.to_string());
    }
}
