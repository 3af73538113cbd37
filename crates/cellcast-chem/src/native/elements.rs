//! The slice of RDKit's periodic table (`atomic_data.cpp`) the native path needs: elements up to
//! xenon, so that every charge-shifted "effective" element of a supported atom is covered.

/// (symbol, outer-shell electrons, allowed valences; -1 means "any", as in RDKit).
const ELEMENTS: [(&str, i32, &[i32]); 55] = [
    ("*", 0, &[-1]),
    ("H", 1, &[1]),
    ("He", 2, &[0]),
    ("Li", 1, &[1, -1]),
    ("Be", 2, &[2]),
    ("B", 3, &[3]),
    ("C", 4, &[4]),
    ("N", 5, &[3]),
    ("O", 6, &[2]),
    ("F", 7, &[1]),
    ("Ne", 8, &[0]),
    ("Na", 1, &[1, -1]),
    ("Mg", 2, &[2, -1]),
    ("Al", 3, &[3]),
    ("Si", 4, &[4]),
    ("P", 5, &[3, 5]),
    ("S", 6, &[2, 4, 6]),
    ("Cl", 7, &[1]),
    ("Ar", 8, &[0]),
    ("K", 1, &[1, -1]),
    ("Ca", 2, &[2, -1]),
    ("Sc", 3, &[-1]),
    ("Ti", 4, &[-1]),
    ("V", 5, &[-1]),
    ("Cr", 6, &[-1]),
    ("Mn", 7, &[-1]),
    ("Fe", 8, &[-1]),
    ("Co", 9, &[-1]),
    ("Ni", 10, &[-1]),
    ("Cu", 11, &[-1]),
    ("Zn", 2, &[-1]),
    ("Ga", 3, &[3]),
    ("Ge", 4, &[4]),
    ("As", 5, &[3, 5]),
    ("Se", 6, &[2, 4, 6]),
    ("Br", 7, &[1]),
    ("Kr", 8, &[0]),
    ("Rb", 1, &[1, -1]),
    ("Sr", 2, &[2, -1]),
    ("Y", 3, &[-1]),
    ("Zr", 4, &[-1]),
    ("Nb", 5, &[-1]),
    ("Mo", 6, &[-1]),
    ("Tc", 7, &[-1]),
    ("Ru", 8, &[-1]),
    ("Rh", 9, &[-1]),
    ("Pd", 10, &[-1]),
    ("Ag", 11, &[-1]),
    ("Cd", 2, &[-1]),
    ("In", 3, &[3]),
    ("Sn", 4, &[2, 4]),
    ("Sb", 5, &[3, 5]),
    ("Te", 6, &[2, 4, 6]),
    ("I", 7, &[1, 3, 5]),
    ("Xe", 8, &[0, 2, 4, 6]),
];

/// Element symbol of a modelled atomic number.
pub(super) fn symbol(anum: u8) -> &'static str {
    ELEMENTS[usize::from(anum)].0
}

/// Atomic number of an element symbol, within the table.
pub(super) fn atomic_number(symbol: &[u8]) -> Option<u8> {
    ELEMENTS.iter().position(|e| e.0.as_bytes() == symbol).map(|i| i as u8)
}

/// Elements the native path models bonded: the organic main group (metals and the rest go
/// through chematic). Alkali and alkaline-earth ions are accepted unbonded only.
pub(super) fn is_modelled_nonmetal(anum: u8) -> bool {
    matches!(anum, 5 | 6 | 7 | 8 | 9 | 14 | 15 | 16 | 17 | 34 | 35 | 53)
}

pub(super) fn is_free_ion(anum: u8) -> bool {
    matches!(anum, 3 | 11 | 12 | 19 | 20)
}

/// `PeriodicTable::getValenceList`; indices past the table (never reached for the modelled
/// elements and charges) read as "any".
pub(super) fn valences(anum: i32) -> &'static [i32] {
    usize::try_from(anum).ok().and_then(|i| ELEMENTS.get(i)).map_or(&[-1], |e| e.2)
}

pub(super) fn default_valence(anum: i32) -> i32 {
    valences(anum)[0]
}

pub(super) fn outer_electrons(anum: i32) -> i32 {
    usize::try_from(anum).ok().and_then(|i| ELEMENTS.get(i)).map_or(0, |e| e.1)
}

/// `PeriodicTable::moreElectroNegative`.
pub(super) fn more_electronegative(a: i32, b: i32) -> bool {
    let (ea, eb) = (outer_electrons(a), outer_electrons(b));
    ea > eb || (ea == eb && a < b)
}

/// RDKit's "early" atoms, whose charge shifts the valence the other way (Kekulize); only the
/// ones the native path can meet.
pub(super) fn is_early_atom(anum: i32) -> bool {
    matches!(anum, 3 | 4 | 5 | 11 | 12 | 13 | 19 | 20)
}
