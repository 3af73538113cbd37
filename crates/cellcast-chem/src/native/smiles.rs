//! A strict SMILES reader for the native path. It reads the syntax RDKit's parser reads, but
//! answers `None` (meaning "let chematic decide") for everything outside what the native model
//! covers: isotopes, explicit hydrogen atoms, atom classes, wildcards, non-tetrahedral stereo,
//! quadruple bonds, elements beyond the table, and any syntax it is unsure of.

use super::elements;
use super::{Atom, Bond, BondType, Graph};

#[derive(Clone, Copy, PartialEq, Eq)]
enum BondSymbol {
    Single,
    /// `/` or `\\`: a single bond with a direction.
    Directional,
    Double,
    Triple,
    Aromatic,
}

/// Larger molecules go through chematic: the native path's Kekulé search recurses once per
/// atom, and its ring-closure lookups scan the bonds.
const MAX_ATOMS: usize = 1_000;

/// What the reader saw last; each token may only follow some of these.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    Start,
    Atom,
    RingDigit,
    Bond,
    Open,
    Close,
    Dot,
}

/// Parses `smiles` (no whitespace, no CX extension) into the parser-state graph.
pub(super) fn parse(smiles: &[u8]) -> Option<Graph> {
    use Last::*;
    let mut g = Graph::default();
    let mut prev: Option<u32> = None;
    let mut pending: Option<BondSymbol> = None;
    let mut branches: Vec<u32> = Vec::new();
    let mut rings: [Option<(u32, Option<BondSymbol>)>; 100] = [None; 100];
    let mut open_rings = 0usize;
    let mut last = Start;
    // Whether the bond symbol just read follows an atom or ring digit (so a digit may follow).
    let mut bond_after_atom = false;
    let mut i = 0;
    while i < smiles.len() {
        let c = smiles[i];
        match c {
            b'(' => {
                if !matches!(last, Atom | RingDigit | Close) {
                    return None;
                }
                branches.push(prev?);
                last = Open;
                i += 1;
            }
            b')' => {
                if !matches!(last, Atom | RingDigit | Close) {
                    return None;
                }
                prev = Some(branches.pop()?);
                last = Close;
                i += 1;
            }
            b'.' => {
                if !matches!(last, Atom | RingDigit | Close) || !branches.is_empty() {
                    return None;
                }
                prev = None;
                last = Dot;
                i += 1;
            }
            b'-' | b'/' | b'\\' | b'=' | b'#' | b':' => {
                if !matches!(last, Atom | RingDigit | Close | Open) {
                    return None;
                }
                if c == b'/' || c == b'\\' {
                    g.stereo_marks = true;
                }
                pending = Some(match c {
                    b'=' => BondSymbol::Double,
                    b'#' => BondSymbol::Triple,
                    b':' => BondSymbol::Aromatic,
                    b'-' => BondSymbol::Single,
                    _ => BondSymbol::Directional,
                });
                bond_after_atom = matches!(last, Atom | RingDigit);
                last = Bond;
                i += 1;
            }
            b'0'..=b'9' | b'%' => {
                if !(matches!(last, Atom | RingDigit) || (last == Bond && bond_after_atom)) {
                    return None;
                }
                let (digit, used) = if c == b'%' {
                    let d = smiles.get(i + 1..i + 3)?;
                    if !d.iter().all(u8::is_ascii_digit) {
                        return None;
                    }
                    (usize::from((d[0] - b'0') * 10 + (d[1] - b'0')), 3)
                } else {
                    (usize::from(c - b'0'), 1)
                };
                let here = prev?;
                match rings[digit].take() {
                    None => {
                        rings[digit] = Some((here, pending.take()));
                        open_rings += 1;
                    }
                    Some((other, opened_with)) => {
                        open_rings -= 1;
                        let symbol = match (opened_with, pending.take()) {
                            (Some(a), Some(b)) if a != b => return None,
                            // Directions on ring closures are RDKit corner cases: declined.
                            (Some(BondSymbol::Directional), _) | (_, Some(BondSymbol::Directional)) => return None,
                            (a, b) => a.or(b),
                        };
                        if other == here || g.bond_between(other, here).is_some() {
                            return None;
                        }
                        add_bond(&mut g, other, here, symbol)?;
                    }
                }
                last = RingDigit;
                i += used;
            }
            _ => {
                let (atom, used) = if c == b'[' { bracket_atom(&smiles[i..])? } else { organic_atom(&smiles[i..])? };
                if g.atoms.len() == MAX_ATOMS {
                    return None;
                }
                let idx = g.atoms.len() as u32;
                g.atoms.push(atom);
                if let Some(p) = prev {
                    add_bond(&mut g, p, idx, pending.take())?;
                } else if pending.is_some() {
                    return None;
                }
                prev = Some(idx);
                last = Atom;
                i += used;
            }
        }
    }
    if !matches!(last, Atom | RingDigit | Close) || !branches.is_empty() || open_rings != 0 {
        return None;
    }
    Some(g)
}

/// An unspecified bond is aromatic between two aromatic atoms and single otherwise
/// (RDKit's `SetUnspecifiedBondTypes`); an explicit `:` is only read between aromatic atoms.
fn add_bond(g: &mut Graph, a: u32, b: u32, symbol: Option<BondSymbol>) -> Option<()> {
    let both_aromatic = g.atoms[a as usize].aromatic && g.atoms[b as usize].aromatic;
    let bt = match symbol {
        // A direction between aromatic atoms is an RDKit corner case: declined.
        Some(BondSymbol::Directional) if both_aromatic => return None,
        None if both_aromatic => BondType::Aromatic,
        None | Some(BondSymbol::Single | BondSymbol::Directional) => BondType::Single,
        Some(BondSymbol::Double) => BondType::Double,
        Some(BondSymbol::Triple) => BondType::Triple,
        Some(BondSymbol::Aromatic) if both_aromatic => BondType::Aromatic,
        Some(BondSymbol::Aromatic) => return None,
    };
    g.bonds.push(Bond { a, b, bt, aromatic: bt == BondType::Aromatic });
    Some(())
}

fn organic_atom(s: &[u8]) -> Option<(Atom, usize)> {
    let two = s.get(..2);
    let (anum, aromatic, used) = match s[0] {
        b'C' if two == Some(b"Cl") => (17, false, 2),
        b'B' if two == Some(b"Br") => (35, false, 2),
        b'B' => (5, false, 1),
        b'C' => (6, false, 1),
        b'N' => (7, false, 1),
        b'O' => (8, false, 1),
        b'F' => (9, false, 1),
        b'P' => (15, false, 1),
        b'S' => (16, false, 1),
        b'I' => (53, false, 1),
        b'b' => (5, true, 1),
        b'c' => (6, true, 1),
        b'n' => (7, true, 1),
        b'o' => (8, true, 1),
        b'p' => (15, true, 1),
        b's' => (16, true, 1),
        _ => return None,
    };
    Some((Atom::new(anum, aromatic), used))
}

/// `[symbol chirality? H-count? charge?]`; anything else inside the brackets is declined.
fn bracket_atom(s: &[u8]) -> Option<(Atom, usize)> {
    let end = s.iter().position(|&c| c == b']')?;
    let body = &s[1..end];
    let first = *body.first()?;
    let (anum, aromatic, mut i) = if body.starts_with(b"se") {
        (34, true, 2)
    } else if first.is_ascii_lowercase() {
        let anum = match first {
            b'b' => 5,
            b'c' => 6,
            b'n' => 7,
            b'o' => 8,
            b'p' => 15,
            b's' => 16,
            _ => return None,
        };
        (anum, true, 1)
    } else if first.is_ascii_uppercase() {
        let two = body.get(..2).filter(|t| t[1].is_ascii_lowercase()).and_then(elements::atomic_number);
        match two {
            Some(n) => (n, false, 2),
            None => (elements::atomic_number(&body[..1])?, false, 1),
        }
    } else {
        return None; // isotope or wildcard
    };
    if anum == 1 || !(elements::is_modelled_nonmetal(anum) || elements::is_free_ion(anum)) {
        return None;
    }
    let mut atom = Atom::new(anum, aromatic);
    atom.no_implicit = true;
    if body.get(i) == Some(&b'@') {
        i += 1;
        if body.get(i) == Some(&b'@') {
            i += 1;
        }
        atom.chiral = true;
        if body.get(i).is_some_and(u8::is_ascii_uppercase) && body.get(i) != Some(&b'H') {
            return None; // @TH, @SP, @TB, @OH, @AL
        }
    }
    if body.get(i) == Some(&b'H') {
        i += 1;
        atom.explicit_hs = 1;
        if let Some(&d) = body.get(i).filter(|d| d.is_ascii_digit()) {
            atom.explicit_hs = d - b'0';
            i += 1;
        }
    }
    if let Some(&sign) = body.get(i).filter(|&&c| c == b'+' || c == b'-') {
        let unit: i8 = if sign == b'+' { 1 } else { -1 };
        i += 1;
        let mut charge = unit;
        if let Some(&d) = body.get(i).filter(|d| d.is_ascii_digit()) {
            charge = unit * (d - b'0') as i8;
            i += 1;
        } else {
            while body.get(i) == Some(&sign) {
                if charge.abs() == 3 {
                    return None; // `+++` is the most the native path takes
                }
                charge += unit;
                i += 1;
            }
        }
        if charge.abs() > 3 {
            return None;
        }
        atom.charge = charge;
    }
    (i == body.len()).then_some((atom, end + 1))
}
