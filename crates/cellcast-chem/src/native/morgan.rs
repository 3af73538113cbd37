//! RDKit's Morgan environments (`rdFingerprintGenerator.GetMorganGenerator` defaults:
//! connectivity invariants with ring membership, bond types as invariants, redundant
//! environments suppressed) on the native model.

use super::NativeMol;

/// `boost::hash_combine` on 32-bit seeds, as RDKit's fingerprint code uses it.
fn hash_combine(seed: u32, value: u32) -> u32 {
    seed ^ value.wrapping_add(0x9e37_79b9).wrapping_add(seed << 6).wrapping_add(seed >> 2)
}

/// `getConnectivityInvariants`: atomic number, total degree, total H, charge, mass delta (the
/// native path has no isotopes, so 0), and a trailing 1 for ring atoms.
fn atom_invariant(m: &NativeMol, a: u32) -> u32 {
    let atom = &m.atoms[a as usize];
    let hs = m.total_hs(a);
    let mut h = hash_combine(0, u32::from(atom.anum));
    h = hash_combine(h, m.degree(a) as u32 + hs);
    h = hash_combine(h, hs);
    h = hash_combine(h, i32::from(atom.charge) as u32);
    h = hash_combine(h, 0);
    if m.ring_atom[a as usize] {
        h = hash_combine(h, 1);
    }
    h
}

/// Calls `emit` with the unfolded id of every environment up to `radius`, as RDKit emits them
/// (one call per environment, so counts fold from repeated ids). `None` when the molecule has
/// more bonds than the 128-bit environment sets hold.
pub(crate) fn morgan_environments(m: &NativeMol, radius: u32, mut emit: impl FnMut(u32)) -> Option<()> {
    let n = m.atoms.len();
    if m.bonds.len() > 128 {
        return None;
    }
    let mut invariants: Vec<u32> = (0..n as u32).map(|a| atom_invariant(m, a)).collect();
    invariants.iter().for_each(|&id| emit(id));
    let bond_invariants: Vec<u32> = m.bonds.iter().map(|b| b.bt.rdkit_code()).collect();
    let mut dead = vec![false; n];
    let mut envs = vec![0u128; n];
    let mut next_invariants = vec![0u32; n];
    let mut next_envs = vec![0u128; n];
    // Environments emitted in earlier rounds, and this round's: environment → (id, atom) of
    // the atom that speaks for it (the smallest pair, as RDKit's sorted scan picks).
    let mut seen = EnvSet::with_capacity(n * radius as usize);
    let mut this_round = EnvSet::with_capacity(n);
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(8);
    for layer in 0..radius {
        this_round.clear();
        for a in 0..n {
            next_invariants[a] = 0;
            next_envs[a] = envs[a];
            if dead[a] {
                continue;
            }
            let nbrs = m.neighbors(a as u32);
            if nbrs.is_empty() {
                dead[a] = true;
                continue;
            }
            let mut env = 0u128;
            pairs.clear();
            for &(w, b) in nbrs {
                env |= 1u128 << b | envs[w as usize];
                pairs.push((bond_invariants[b as usize], invariants[w as usize]));
            }
            pairs.sort_unstable();
            let mut id = hash_combine(layer, invariants[a]);
            for &(bond, nbr) in &pairs {
                id = hash_combine(id, hash_combine(hash_combine(0, bond), nbr));
            }
            next_invariants[a] = id;
            next_envs[a] = env;
            // An environment an earlier round produced says nothing new; of atoms sharing one
            // this round, the smallest (id, atom) speaks and the others stop growing.
            if seen.get(env).is_some() {
                dead[a] = true;
                continue;
            }
            let candidate = (id, a as u32);
            match this_round.get(env) {
                None => this_round.insert(env, candidate),
                Some(held) if candidate < held => {
                    dead[held.1 as usize] = true;
                    this_round.insert(env, candidate);
                }
                Some(_) => dead[a] = true,
            }
        }
        for (env, (id, _)) in this_round.entries() {
            emit(id);
            seen.insert(env, (id, 0));
        }
        std::mem::swap(&mut invariants, &mut next_invariants);
        std::mem::swap(&mut envs, &mut next_envs);
    }
    Some(())
}

/// A small open-addressing map from bond environments (never 0: an environment holds at least
/// one bond) to (id, atom), sized once per molecule.
struct EnvSet {
    slots: Vec<(u128, (u32, u32))>,
    used: Vec<usize>,
}

impl EnvSet {
    fn with_capacity(n: usize) -> Self {
        let size = (2 * n.max(4)).next_power_of_two();
        EnvSet { slots: vec![(0, (0, 0)); size], used: Vec::with_capacity(n) }
    }

    fn slot(&self, env: u128) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = ((env as u64 ^ (env >> 64) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & mask;
        while self.slots[i].0 != 0 && self.slots[i].0 != env {
            i = (i + 1) & mask;
        }
        i
    }

    fn get(&self, env: u128) -> Option<(u32, u32)> {
        let s = &self.slots[self.slot(env)];
        (s.0 == env).then_some(s.1)
    }

    fn insert(&mut self, env: u128, value: (u32, u32)) {
        let i = self.slot(env);
        if self.slots[i].0 == 0 {
            self.used.push(i);
        }
        self.slots[i] = (env, value);
    }

    fn entries(&self) -> impl Iterator<Item = (u128, (u32, u32))> + '_ {
        self.used.iter().map(|&i| self.slots[i])
    }

    fn clear(&mut self) {
        for &i in &self.used {
            self.slots[i] = (0, (0, 0));
        }
        self.used.clear();
    }
}
