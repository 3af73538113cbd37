#!/usr/bin/env python3
"""Generate the golden *chemistry* fixtures (fixtures/golden/chem/) for cellcast, with RDKit itself.

Dev-only script (venv from requirements-chem.txt). Deterministic: two runs give byte-identical
files (fixed seeds, gzip with mtime=0 and no file name). Notes, versions and counts: README-chem.md.

Reference calls (RDKit defaults unless stated):
* parse        Chem.MolFromSmiles(smiles) (default sanitisation, CXSMILES extensions parsed),
               Chem.MolToSmiles(mol) / (mol, isomericSmiles=False), mol.GetNumHeavyAtoms(),
               error text from rdBase.CaptureErrorLog.
* fingerprints rdFingerprintGenerator.GetMorganGenerator(radius, fpSize[, includeChirality=True])
               .GetFingerprint(mol) / .GetCountFingerprint(mol).
* scaffold     MurckoScaffold.MurckoScaffoldSmiles(mol=mol[, includeChirality=True]),
               Chem.MolToSmiles(MurckoScaffold.MakeScaffoldGeneric(MurckoScaffold.GetScaffoldForMol(mol))).
* descriptors  Descriptors / Crippen / rdMolDescriptors / Lipinski / QED (see DESCRIPTORS below).
* tanimoto     DataStructs.TanimotoSimilarity (bit vectors and count vectors),
               DataStructs.BulkTanimotoSimilarity for the neighbour lists.
* splits       sklearn GroupKFold(n_splits=5) on Murcko scaffolds; DeepChem ScaffoldSplitter and
               chemprop v1 scaffold_split(balanced=False) TRANSCRIBED from their published source
               (neither package is installed; ../shared/specs/metrics.md sections 6.2 / 6.3).

Every molecule is parsed afresh from its SMILES for each output family, so no output depends on
properties cached on the Mol by another RDKit call.

A. fixtures/golden/chem/public/  hand-assembled molecules (MOLECULES below), committed with SMILES.
B. fixtures/golden/chem/real/    ids + expected outputs for the SMILES of the shared data sets in
   ../shared (read only). The SMILES are NOT copied: the Rust test re-reads them from the shared
   files following real/sources.json (file, delimiter, id / SMILES columns, filters, dedup).

Run:  /tmp/golden-chem/bin/python scripts/golden/chem_fixtures.py [--shared /work/shared]
Deletes and rewrites fixtures/golden/chem/public/ and (when the shared data exist) .../real/.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import math
import re
import shutil
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
from rdkit import Chem, DataStructs, rdBase
from rdkit.Chem import QED, Crippen, Descriptors, Lipinski, rdFingerprintGenerator, rdMolDescriptors
from rdkit.Chem.Scaffolds import MurckoScaffold
from sklearn.model_selection import GroupKFold

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "fixtures" / "golden" / "chem"
SEED_PUBLIC = 20260201
SEED_REAL = 20260202

# ------------------------------------------------------------------------------------------------
# A. public molecules
# ------------------------------------------------------------------------------------------------
MOLECULES: list[tuple[str, str]] = [
    # ---------------------------------------------------------------- common drugs
    ("d_aspirin", "CC(=O)Oc1ccccc1C(=O)O"),
    ("d_caffeine", "Cn1cnc2c1c(=O)n(C)c(=O)n2C"),
    ("d_ibuprofen", "CC(C)Cc1ccc(cc1)C(C)C(=O)O"),
    ("d_ibuprofen_s", "CC(C)Cc1ccc(cc1)[C@H](C)C(=O)O"),
    ("d_paracetamol", "CC(=O)Nc1ccc(O)cc1"),
    ("d_penicillin_g", "CC1(C)S[C@@H]2[C@H](NC(=O)Cc3ccccc3)C(=O)N2[C@H]1C(=O)O"),
    ("d_morphine", "CN1CC[C@]23c4c5ccc(O)c4O[C@H]2[C@@H](O)C=C[C@H]3[C@H]1C5"),
    ("d_paclitaxel", "CC1=C2[C@@]([C@]([C@H]([C@@H]3[C@]4([C@H](OC4)C[C@@H]([C@]3(C(=O)[C@@H]2OC(=O)C)C)O)OC(=O)C)OC(=O)c5ccccc5)(C[C@@H]1OC(=O)[C@H](O)[C@@H](NC(=O)c6ccccc6)c7ccccc7)O)(C)C"),
    ("d_erythromycin", "CC[C@@H]1[C@@]([C@@H]([C@H](C(=O)[C@@H](C[C@@]([C@@H]([C@H]([C@@H]([C@H](C(=O)O1)C)O[C@H]2C[C@@]([C@H]([C@@H](O2)C)O)(C)OC)C)O[C@H]3[C@@H]([C@H](C[C@H](O3)C)N(C)C)O)(C)O)C)C)O)(C)O"),
    ("d_cholesterol", "C[C@H](CCCC(C)C)[C@H]1CC[C@@H]2[C@@]1(CC[C@H]3[C@H]2CC=C4[C@@]3(CC[C@@H](C4)O)C)C"),
    ("d_testosterone", "C[C@]12CC[C@H]3[C@H]([C@@H]1CC[C@@H]2O)CCC4=CC(=O)CC[C@]34C"),
    ("d_estradiol", "C[C@]12CC[C@H]3[C@H]([C@@H]1CC[C@@H]2O)CCc4c3ccc(c4)O"),
    ("d_cortisol", "C[C@]12CCC(=O)C=C1CC[C@@H]3[C@@H]2[C@H](C[C@]4([C@H]3CC[C@@]4(C(=O)CO)O)C)O"),
    ("d_dexamethasone", "C[C@@H]1C[C@H]2[C@@H]3CCC4=CC(=O)C=C[C@@]4([C@]3([C@H](C[C@@]2([C@]1(C(=O)CO)O)C)O)F)C"),
    ("d_adenosine", "C1=NC(=C2C(=N1)N(C=N2)[C@H]3[C@@H]([C@@H]([C@H](O3)CO)O)O)N"),
    ("d_uridine", "C1=CN(C(=O)NC1=O)[C@H]2[C@@H]([C@@H]([C@H](O2)CO)O)O"),
    ("d_zidovudine", "CC1=CN(C(=O)NC1=O)[C@H]2C[C@@H]([C@H](O2)CO)N=[N+]=[N-]"),
    ("d_atp", "C1=NC(=C2C(=N1)N(C=N2)[C@H]3[C@@H]([C@@H]([C@H](O3)COP(=O)(O)OP(=O)(O)OP(=O)(O)O)O)O)N"),
    ("d_gemcitabine", "C1=CN(C(=O)N=C1N)[C@H]2C([C@@H]([C@H](O2)CO)O)(F)F"),
    ("d_glutathione", "C(CC(=O)N[C@@H](CS)C(=O)NCC(=O)O)[C@@H](C(=O)O)N"),
    ("d_leu_enkephalin", "CC(C)C[C@@H](C(=O)O)NC(=O)[C@H](Cc1ccccc1)NC(=O)CNC(=O)CNC(=O)[C@H](Cc2ccc(cc2)O)N"),
    ("d_aspartame", "COC(=O)[C@H](Cc1ccccc1)NC(=O)[C@H](CC(=O)O)N"),
    ("d_oxytocin", "CC[C@H](C)[C@H]1C(=O)N[C@H](C(=O)N[C@H](C(=O)N[C@@H](CSSC[C@@H](C(=O)N[C@H](C(=O)N1)CC2=CC=C(C=C2)O)N)C(=O)N3CCC[C@H]3C(=O)N[C@@H](CC(C)C)C(=O)NCC(=O)N)CC(=O)N)CCC(=O)N"),
    ("d_metformin", "CN(C)C(=N)N=C(N)N"),
    ("d_nicotine", "CN1CCC[C@H]1c2cccnc2"),
    ("d_diazepam", "CN1C(=O)CN=C(c2ccccc2)c3cc(Cl)ccc13"),
    ("d_imatinib", "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1"),
    ("d_sildenafil", "CCCc1nn(C)c2c1nc([nH]c2=O)-c1cc(ccc1OCC)S(=O)(=O)N1CCN(C)CC1"),
    ("d_omeprazole", "COc1ccc2[nH]c(S(=O)Cc3ncc(C)c(OC)c3C)nc2c1"),
    ("d_warfarin", "CC(=O)CC(c1ccccc1)c1c(O)c2ccccc2oc1=O"),
    ("d_fluoxetine", "CNCCC(Oc1ccc(cc1)C(F)(F)F)c1ccccc1"),
    ("d_cocaine", "CN1[C@H]2CC[C@@H]1[C@H]([C@H](C2)OC(=O)c1ccccc1)C(=O)OC"),
    ("d_quinine", "COc1ccc2nccc([C@@H](O)[C@@H]3C[C@@H]4CCN3C[C@@H]4C=C)c2c1"),
    ("d_artemisinin", "C[C@@H]1CC[C@H]2[C@H](C)C(=O)O[C@@H]3O[C@@]4(C)CC[C@@H]1[C@]32OO4"),
    ("d_camphor", "CC1(C)C2CCC1(C)C(=O)C2"),
    ("d_amantadine", "NC12CC3CC(CC(C3)C1)C2"),
    ("d_dopamine", "NCCc1ccc(O)c(O)c1"),
    ("d_serotonin", "NCCc1c[nH]c2ccc(O)cc12"),
    ("d_histamine", "NCCc1c[nH]cn1"),
    ("d_glucose_pyranose", "OC[C@H]1OC(O)[C@H](O)[C@@H](O)[C@@H]1O"),
    ("d_glucose_open", "O=C[C@H](O)[C@@H](O)[C@H](O)[C@H](O)CO"),
    ("d_sucrose", "OC[C@H]1O[C@@](CO)(O[C@H]2O[C@H](CO)[C@@H](O)[C@H](O)[C@H]2O)[C@@H](O)[C@@H]1O"),
    ("d_ciprofloxacin", "OC(=O)c1cn(C2CC2)c2cc(N3CCNCC3)c(F)cc2c1=O"),
    ("d_tamoxifen", "CC/C(=C(\\c1ccccc1)c1ccc(OCCN(C)C)cc1)c1ccccc1"),
    ("d_retinol", "CC1=C(/C=C/C(C)=C/C=C/C(C)=C/CO)C(C)(C)CCC1"),
    ("d_resveratrol", "Oc1ccc(/C=C/c2cc(O)cc(O)c2)cc1"),
    ("d_ascorbic_acid", "OC[C@H](O)[C@H]1OC(=O)C(O)=C1O"),
    ("d_lidocaine", "CCN(CC)CC(=O)Nc1c(C)cccc1C"),
    ("d_propranolol", "CC(C)NCC(O)COc1cccc2ccccc12"),
    ("d_sulfamethoxazole", "Cc1cc(NS(=O)(=O)c2ccc(N)cc2)no1"),
    ("d_captopril", "C[C@H](CS)C(=O)N1CCC[C@H]1C(=O)O"),
    ("d_chloroquine", "CCN(CC)CCCC(C)Nc1ccnc2cc(Cl)ccc12"),
    ("d_doxorubicin", "COc1cccc2C(=O)c3c(O)c4C[C@](O)(C[C@H](O[C@H]5C[C@H](N)[C@H](O)[C@H](C)O5)c4c(O)c3C(=O)c12)C(=O)CO"),
    ("d_methotrexate", "CN(Cc1cnc2nc(N)nc(N)c2n1)c1ccc(cc1)C(=O)N[C@@H](CCC(=O)O)C(=O)O"),
    ("d_thalidomide", "O=C1CCC(N2C(=O)c3ccccc3C2=O)C(=O)N1"),
    ("d_atorvastatin", "CC(C)c1c(C(=O)Nc2ccccc2)c(-c2ccccc2)c(-c2ccc(F)cc2)n1CC[C@@H](O)C[C@@H](O)CC(=O)O"),
    ("d_cyclophane_macrocycle", "O=C1NCc2ccc(cc2)Oc2ccc(cc2)CNC(=O)CC1"),
    ("d_cyclosporin_like_macrocycle", "CC[C@H]1C(=O)N(C)CC(=O)N(C)[C@@H](CC(C)C)C(=O)N[C@@H](C(C)C)C(=O)N(C)[C@@H](CC(C)C)C(=O)N[C@@H](C)C(=O)N1C"),
    ("d_18_crown_6", "C1COCCOCCOCCOCCOCCO1"),
    ("d_penicillin_v_potassium", "CC1(C)S[C@@H]2[C@H](NC(=O)COc3ccccc3)C(=O)N2[C@H]1C(=O)[O-].[K+]"),
    ("d_cetirizine_dihydrochloride", "OC(=O)COCCN1CCN(CC1)C(c1ccccc1)c1ccc(Cl)cc1.Cl.Cl"),
    ("d_metformin_hcl", "CN(C)C(=N)N=C(N)N.Cl"),
    ("d_cisplatin_dative", "[NH3]->[Pt](<-[NH3])(Cl)Cl"),
    ("d_cisplatin_fragments", "N.N.Cl[Pt]Cl"),
    ("d_vitamin_b12_like_cobalt", "C[Co]"),
    ("d_heme_like_porphyrin", "c1cc2cc3ccc(cc4ccc(cc5ccc(cc1n2)[nH]5)n4)[nH]3"),
    ("d_biotin", "OC(=O)CCCC[C@@H]1SC[C@@H]2NC(=O)N[C@H]12"),
    ("d_penicillamine", "CC(C)(S)[C@@H](N)C(=O)O"),
    ("d_nitroglycerin", "O=[N+]([O-])OCC(CO[N+](=O)[O-])O[N+](=O)[O-]"),
    ("d_dmso", "CS(C)=O"),
    ("d_sulfolane", "O=S1(=O)CCCC1"),
    ("d_trimethylphosphate", "COP(=O)(OC)OC"),
    ("d_fosfomycin", "C[C@@H]1O[C@@H]1P(=O)(O)O"),
    ("d_boronic_bortezomib", "CC(C)C[C@H](NC(=O)[C@H](Cc1ccccc1)NC(=O)c1cnccn1)B(O)O"),
    ("d_silicon_tms_ether", "C[Si](C)(C)OC1CCCCC1"),
    ("d_selenomethionine", "C[Se]CC[C@H](N)C(=O)O"),
    ("d_iodine_thyroxine", "N[C@@H](Cc1cc(I)c(Oc2cc(I)c(O)c(I)c2)c(I)c1)C(=O)O"),
    ("d_bromo_bromazepam", "O=C1CN=C(c2ccccn2)c2cc(Br)ccc2N1"),
    # ---------------------------------------------------------------- number-like ids
    ("007", "CCN(CC)C(=O)[C@H]1CN(C)[C@@H]2Cc3c[nH]c4cccc(C2=C1)c34"),
    ("12", "CC(C)(C)NC[C@@H](O)c1ccc(O)c(CO)c1"),
    # ---------------------------------------------------------------- charged species, zwitterions
    ("e_ammonium", "[NH4+]"),
    ("e_acetate", "CC(=O)[O-]"),
    ("e_choline", "C[N+](C)(C)CCO"),
    ("e_glycine_neutral", "NCC(=O)O"),
    ("e_glycine_zwitterion", "[NH3+]CC([O-])=O"),
    ("e_betaine", "C[N+](C)(C)CC(=O)[O-]"),
    ("e_nitro_charge_separated", "C[N+](=O)[O-]"),
    ("e_nitro_pentavalent", "CN(=O)=O"),
    ("e_n_oxide_amine", "C[N+](C)(C)[O-]"),
    ("e_dication", "C[N+](C)(C)CCCC[N+](C)(C)C"),
    ("e_carbanion", "[CH3-]"),
    ("e_carbocation", "C[C+](C)C"),
    ("e_radical", "C[CH2]"),
    ("e_hydride", "[H-]"),
    ("e_proton", "[H+]"),
    ("e_azide", "CN=[N+]=[N-]"),
    ("e_diazonium", "N#[N+]c1ccccc1"),
    ("e_sulfonate", "Cc1ccc(cc1)S(=O)(=O)[O-]"),
    ("e_phosphate_dianion", "COP(=O)([O-])[O-]"),
    # ---------------------------------------------------------------- isotopes, explicit H
    ("e_methane_13c", "[13CH4]"),
    ("e_deuterium_methane_d4", "[2H]C([2H])([2H])[2H]"),
    ("e_heavy_water", "[2H]O[2H]"),
    ("e_chloroform_d", "[2H]C(Cl)(Cl)Cl"),
    ("e_acetic_acid_14c", "C[14C](=O)O"),
    ("e_tritium", "[3H]C"),
    ("e_fdg_18f", "OC[C@H]1OC(O)[C@H]([18F])[C@@H](O)[C@@H]1O"),
    ("e_toluene_13c_ring", "[13cH]1ccccc1C"),
    ("e_benzene_d1", "[2H]c1ccccc1"),
    ("e_methane_explicit_h", "[H]C([H])([H])[H]"),
    ("e_hydrogen_molecule", "[H][H]"),
    ("e_water_explicit_h", "[H]O[H]"),
    ("e_alanine_explicit_h_stereo", "C[C@@]([H])(N)C(=O)O"),
    ("e_explicit_h_bracket_count", "[CH3][CH2][OH]"),
    # ---------------------------------------------------------------- stereo, E/Z
    ("e_l_alanine", "C[C@H](N)C(=O)O"),
    ("e_d_alanine", "C[C@@H](N)C(=O)O"),
    ("e_bromochlorofluoromethane", "F[C@H](Cl)Br"),
    ("e_but2ene_e", "C/C=C/C"),
    ("e_but2ene_z", "C/C=C\\C"),
    ("e_difluoroethene_e", "F/C=C/F"),
    ("e_ene_stereo_partial", "C/C=C/C=C(C)C"),
    ("e_ring_stereo_cis_dimethylcyclohexane", "C[C@H]1CCCC[C@@H]1C"),
    ("e_ring_stereo_trans_dimethylcyclohexane", "C[C@H]1CCCC[C@H]1C"),
    ("e_cyclooctene_trans_cx", "C1=CCCCCCC1 |t:0|"),
    ("e_imine_ez", "C/N=C/c1ccccc1"),
    ("e_allene_axial", "CC=[C@]=CC"),
    # ---------------------------------------------------------------- aromatic heterocycles
    ("e_pyrrole", "c1cc[nH]c1"),
    ("e_n_methylpyrrole", "Cn1cccc1"),
    ("e_imidazole", "c1c[nH]cn1"),
    ("e_furan", "c1ccoc1"),
    ("e_thiophene", "c1ccsc1"),
    ("e_pyridine", "c1ccncc1"),
    ("e_pyridine_n_oxide", "[O-][n+]1ccccc1"),
    ("e_tropylium", "[cH+]1cccccc1"),
    ("e_cyclopentadienide", "[cH-]1cccc1"),
    ("e_azulene", "c1ccc2cccc2cc1"),
    ("e_indole", "c1ccc2[nH]ccc2c1"),
    ("e_purine", "c1ncc2[nH]cnc2n1"),
    ("e_2_pyridone", "O=c1cccc[nH]1"),
    ("e_thiazole", "c1cscn1"),
    ("e_oxazole", "c1cocn1"),
    ("e_tetrazole", "c1nn[nH]n1"),
    ("e_triazine", "c1ncncn1"),
    ("e_selenophene", "c1cc[se]c1"),
    ("e_borazine_like", "B1NBNBN1"),
    # ---------------------------------------------------------------- kekule vs aromatic twins
    ("e_benzene_aromatic", "c1ccccc1"),
    ("e_benzene_kekule", "C1=CC=CC=C1"),
    ("e_pyridine_kekule", "C1=CC=NC=C1"),
    ("e_pyrrole_kekule", "C1=CNC=C1"),
    ("e_naphthalene_aromatic", "c1ccc2ccccc2c1"),
    ("e_naphthalene_kekule", "C1=CC=C2C=CC=CC2=C1"),
    ("e_toluene_kekule", "CC1=CC=CC=C1"),
    ("e_caffeine_kekule", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C"),
    # ---------------------------------------------------------------- salts, multi-fragment, metals
    ("e_sodium_chloride", "[Na+].[Cl-]"),
    ("e_sodium_acetate", "CC(=O)[O-].[Na+]"),
    ("e_magnesium_sulfate", "[Mg+2].[O-]S([O-])(=O)=O"),
    ("e_lithium_carbonate", "[Li+].[Li+].[O-]C([O-])=O"),
    ("e_hydrate", "CC(=O)O.O"),
    ("e_benzene_toluene_mixture", "c1ccccc1.Cc1ccccc1"),
    ("e_ferrocene", "[cH-]1cccc1.[cH-]1cccc1.[Fe+2]"),
    ("e_grignard", "C[Mg]Br"),
    ("e_tetraethyllead", "CC[Pb](CC)(CC)CC"),
    ("e_butyllithium", "[Li]CCCC"),
    ("e_tributyltin_chloride", "CCCC[Sn](Cl)(CCCC)CCCC"),
    ("e_gold_ion", "[Au+3]"),
    ("e_xenon", "[Xe]"),
    ("e_dummy_atom", "*c1ccccc1"),
    # ---------------------------------------------------------------- acyclic
    ("e_hexane", "CCCCCC"),
    ("e_ethanol", "CCO"),
    ("e_glycerol", "OCC(O)CO"),
    ("e_citric_acid", "OC(=O)CC(O)(CC(=O)O)C(=O)O"),
    ("e_edta", "OC(=O)CN(CCN(CC(=O)O)CC(=O)O)CC(=O)O"),
    ("e_oleic_acid", "CCCCCCCC/C=C\\CCCCCCCC(=O)O"),
    ("e_acetylene", "C#C"),
    ("e_single_atom_carbon", "C"),
    ("e_empty", ""),
    # ---------------------------------------------------------------- spiro, fused, bridged rings
    ("e_spiro_4_5_decane", "C1CCC2(C1)CCCCC2"),
    ("e_spiropentane", "C1CC12CC2"),
    ("e_decalin", "C1CCC2CCCCC2C1"),
    ("e_norbornane", "C1CC2CCC1C2"),
    ("e_adamantane", "C1C2CC3CC1CC(C2)C3"),
    ("e_cubane", "C12C3C4C1C5C2C3C45"),
    ("e_bicyclo_2_2_2_octane", "C1CC2CCC1CC2"),
    ("e_quinuclidine", "C1CN2CCC1CC2"),
    ("e_dabco", "C1CN2CCN1CC2"),
    ("e_biphenyl", "c1ccc(cc1)-c1ccccc1"),
    ("e_diphenylmethane_linker", "c1ccc(cc1)Cc1ccccc1"),
    ("e_cyclopropane", "C1CC1"),
    ("e_macrocycle_cyclododecane", "C1CCCCCCCCCCC1"),
    ("e_ring_closure_percent", "C%10CCCCC%10"),
    ("e_ring_bond_double_closure", "C1CCCCC=1"),
    # ---------------------------------------------------------------- exocyclic double bonds
    ("e_cyclohexanone", "O=C1CCCCC1"),
    ("e_methylenecyclohexane", "C=C1CCCCC1"),
    ("e_benzoquinone", "O=C1C=CC(=O)C=C1"),
    ("e_benzophenone_linker_co", "O=C(c1ccccc1)c1ccccc1"),
    ("e_benzanilide_linker_amide", "O=C(Nc1ccccc1)c1ccccc1"),
    ("e_cyclohexanone_oxime", "ON=C1CCCCC1"),
    ("e_thiolactam_cs", "S=C1CCCCN1"),
    ("e_ring_n_oxide_exo", "C[N+]1([O-])CCCCC1"),
    ("e_exo_triple_not_kept", "C#Cc1ccccc1"),
    ("e_benzylidene_linker_cc", "C(=C1CCCC1)c1ccccc1"),
    ("e_sulfone_on_ring", "CS(=O)(=O)c1ccccc1"),
    # ---------------------------------------------------------------- CXSMILES extensions
    ("e_cx_cis_flag", "C/C=C/C |c:1|"),
    ("e_cx_atom_labels", "CC |$foo;bar$|"),
    ("e_cx_coordinates", "CO |(0,0,;1.5,0,)|"),
    ("e_cx_enhanced_stereo_and", "C[C@H](F)C[C@@H](C)Cl |&1:1,4|"),
    ("e_cx_enhanced_stereo_or", "C[C@H](O)C(=O)O |o1:1|"),
    ("e_cx_radical", "[CH2]C |^1:0|"),
    ("e_cx_ring_double_bond_flags", "OCCOC(=O)C1=C(O)C=CC=C1 |c:6,9,11|"),
    ("e_cx_dummy_rgroup_label", "*CC1CCCCC1 |$_R1;;;;;;;$|"),
    ("e_cx_trans_cyclooctene", "C1=CCCCCCC1 |t:0|"),
    ("e_cx_with_name_after", "CCO ethanol"),
    # ---------------------------------------------------------------- invalid strings
    ("x_unbalanced_open", "CC(C"),
    ("x_unbalanced_close", "CC)C"),
    ("x_pentavalent_carbon", "C(C)(C)(C)(C)C"),
    ("x_unclosed_ring", "C1CCCC"),
    ("x_garbage", "this is not smiles"),
    ("x_bad_element", "[Xx]CC"),
    ("x_unkekulizable_ring", "c1cccc1"),
    ("x_pyrrole_missing_h", "c1ccnc1"),
    ("x_double_bond_operator", "C==C"),
    ("x_hypervalent_fluorine", "FF(F)F"),
    ("x_bracket_unclosed", "[CH3CC"),
    ("x_aromatic_outside_ring", "cc"),
    # ChemAxon bridged-stereo hash THB: RDKit's strict CXSMILES parser returns None WITHOUT any log
    # message (7 rxrx3 compounds fail this way; see README-chem.md)
    ("x_cx_chemaxon_thb", "CN1C2CCC1CC(O)C2 |THB:0:1:6.7:3.4|"),
]


# ------------------------------------------------------------------------------------------------
# RDKit wrappers
# ------------------------------------------------------------------------------------------------
GEN = {
    "morgan_r2_2048": rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048),
    "morgan_r2_2048_chiral": rdFingerprintGenerator.GetMorganGenerator(
        radius=2, fpSize=2048, includeChirality=True
    ),
    "morgan_r3_1024": rdFingerprintGenerator.GetMorganGenerator(radius=3, fpSize=1024),
    "morgan_r1_4096": rdFingerprintGenerator.GetMorganGenerator(radius=1, fpSize=4096),
}
BIT_FILES = ["morgan_r2_2048", "morgan_r2_2048_chiral", "morgan_r3_1024", "morgan_r1_4096"]

_TS = re.compile(r"^\[\d\d:\d\d:\d\d\] ?")


def parse_logged(smi: str):
    """MolFromSmiles with default sanitisation; returns (mol or None, cleaned error text)."""
    with rdBase.CaptureErrorLog() as cap:
        mol = Chem.MolFromSmiles(smi)
    lines = []
    for line in cap.messages.split("\n"):
        line = _TS.sub("", line).rstrip()
        if line.strip() and line not in lines:  # drop blank and repeated lines (kekulize twice)
            lines.append(line)
    return mol, " | ".join(lines)


def fresh(smi: str):
    with rdBase.BlockLogs():
        return Chem.MolFromSmiles(smi)


def fnum(x) -> str:
    """Full-precision float text (%.17g); NaN / inf -> empty cell."""
    x = float(x)
    return "" if not math.isfinite(x) else "%.17g" % x


def bits_str(fp) -> str:
    return " ".join(str(b) for b in fp.GetOnBits())


def counts_str(fp) -> str:
    return " ".join(f"{k}:{v}" for k, v in sorted(fp.GetNonzeroElements().items()))


DESCRIPTORS = [
    # (column, function, kind)
    ("MolWt", Descriptors.MolWt, "f"),
    ("ExactMolWt", Descriptors.ExactMolWt, "f"),
    ("MolLogP", Crippen.MolLogP, "f"),
    ("MolMR", Crippen.MolMR, "f"),
    ("TPSA", rdMolDescriptors.CalcTPSA, "f"),
    ("NumHDonors", Lipinski.NumHDonors, "i"),
    ("NumHAcceptors", Lipinski.NumHAcceptors, "i"),
    ("CalcNumHBD", rdMolDescriptors.CalcNumHBD, "i"),
    ("CalcNumHBA", rdMolDescriptors.CalcNumHBA, "i"),
    ("NumRotatableBonds", Descriptors.NumRotatableBonds, "i"),
    ("RingCount", Descriptors.RingCount, "i"),
    ("NumAromaticRings", Descriptors.NumAromaticRings, "i"),
    ("HeavyAtomCount", Descriptors.HeavyAtomCount, "i"),
    ("FractionCSP3", Descriptors.FractionCSP3, "f"),
    ("FormalCharge", Chem.GetFormalCharge, "i"),
    ("qed", QED.qed, "f"),
]
DESC_ERRORS: list[str] = []


def compute(key: str, smi: str) -> dict:
    """All per-molecule outputs. key = 'id' or 'source/id' (for messages only)."""
    mol, err = parse_logged(smi)
    rec = {"ok": mol is not None, "error": err}
    if mol is None:
        return rec
    rec["canonical"] = Chem.MolToSmiles(mol)
    rec["canonical_nostereo"] = Chem.MolToSmiles(fresh(smi), isomericSmiles=False)
    rec["n_atoms"] = mol.GetNumHeavyAtoms()
    rec["n_graph_atoms"] = mol.GetNumAtoms()
    for name, gen in GEN.items():
        rec[name] = gen.GetFingerprint(fresh(smi))
    rec["counts"] = GEN["morgan_r2_2048"].GetCountFingerprint(fresh(smi))
    rec["scaffold"] = MurckoScaffold.MurckoScaffoldSmiles(mol=fresh(smi))
    rec["scaffold_chiral"] = MurckoScaffold.MurckoScaffoldSmiles(mol=fresh(smi), includeChirality=True)
    try:
        with rdBase.BlockLogs():
            rec["generic"] = Chem.MolToSmiles(
                MurckoScaffold.MakeScaffoldGeneric(MurckoScaffold.GetScaffoldForMol(fresh(smi)))
            )
        # RDKit's direct MolToSmiles of MakeScaffoldGeneric(...) keeps stale bond-stereo flags
        # of the original double bonds, which change its canonical atom order (not the graph):
        # the same generic scaffold can get different strings depending on where it came
        # from. `generic_canonical` is the canonical SMILES of that same graph, read afresh.
        rec["generic_canonical"] = Chem.MolToSmiles(Chem.MolFromSmiles(rec["generic"])) if rec["generic"] else ""
        rec["generic_error"] = ""
    except Exception as e:  # noqa: BLE001  (sanitisation of the all-carbon scaffold can fail)
        rec["generic"] = ""
        rec["generic_canonical"] = ""
        rec["generic_error"] = f"{type(e).__name__}: {e}".replace("\n", " ")
    desc = {}
    dmol = fresh(smi)  # one fresh Mol for all descriptors (their cached props are deterministic)
    for col, fn, kind in DESCRIPTORS:
        try:
            with rdBase.BlockLogs():
                v = fn(fresh(smi) if col == "qed" else dmol)
            desc[col] = str(int(v)) if kind == "i" else fnum(v)
        except Exception as e:  # noqa: BLE001
            desc[col] = ""
            DESC_ERRORS.append(f"{key} {col}: {type(e).__name__}: {e}")
    rec["desc"] = desc
    return rec


# ------------------------------------------------------------------------------------------------
# writers
# ------------------------------------------------------------------------------------------------
WRITTEN: list[Path] = []


def write_csv(path: Path, header: list[str], rows) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    data = buf.getvalue().encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        with open(path, "wb") as fh, gzip.GzipFile(
            filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9
        ) as gz:
            gz.write(data)
    else:
        path.write_bytes(data)
    WRITTEN.append(path)


def write_family(outdir: Path, keys: list[tuple], recs: list[dict], key_cols: list[str], ext: str):
    """keys[i] is the key tuple (id,) or (source, id) of recs[i]; writes the per-molecule files."""
    write_csv(
        outdir / f"parse{ext}",
        key_cols + ["ok", "canonical", "canonical_nostereo", "n_atoms", "n_graph_atoms", "error"],
        (
            list(k) + ([1, r["canonical"], r["canonical_nostereo"], r["n_atoms"], r["n_graph_atoms"], ""]
                       if r["ok"] else [0, "", "", "", "", r["error"]])
            for k, r in zip(keys, recs)
        ),
    )
    okp = [(k, r) for k, r in zip(keys, recs) if r["ok"]]
    for name in BIT_FILES:
        write_csv(outdir / f"{name}{ext}", key_cols + ["on_bits"], (list(k) + [bits_str(r[name])] for k, r in okp))
    write_csv(
        outdir / f"morgan_counts_r2_2048{ext}", key_cols + ["counts"], (list(k) + [counts_str(r["counts"])] for k, r in okp)
    )
    write_csv(
        outdir / f"scaffold{ext}",
        key_cols + ["scaffold", "generic", "generic_canonical", "scaffold_chiral", "generic_error"],
        (
            list(k) + [r["scaffold"], r["generic"], r["generic_canonical"], r["scaffold_chiral"], r["generic_error"]]
            for k, r in okp
        ),
    )
    write_csv(
        outdir / f"descriptors{ext}",
        key_cols + [c for c, _, _ in DESCRIPTORS],
        (list(k) + [r["desc"][c] for c, _, _ in DESCRIPTORS] for k, r in okp),
    )


def tanimoto_rows(pairs, keys, recs):
    for i, j in pairs:
        a, b = recs[i], recs[j]
        yield list(keys[i]) + list(keys[j]) + [
            fnum(DataStructs.TanimotoSimilarity(a["morgan_r2_2048"], b["morgan_r2_2048"])),
            fnum(DataStructs.TanimotoSimilarity(a["counts"], b["counts"])),
        ]


def random_pairs(rng, n_items: int, n_pairs: int, taken: set) -> list[tuple[int, int]]:
    out = []
    while len(out) < n_pairs:
        i, j = (int(x) for x in rng.integers(0, n_items, size=2))
        if i == j or (min(i, j), max(i, j)) in taken:
            continue
        taken.add((min(i, j), max(i, j)))
        out.append((i, j))
    return out


# ------------------------------------------------------------------------------------------------
# scaffold splits
# ------------------------------------------------------------------------------------------------
def split_groupkfold(scaffolds: list[str]) -> list[int]:
    gkf = GroupKFold(n_splits=5)
    assert getattr(gkf, "shuffle", False) is False
    fold = [-1] * len(scaffolds)
    X = np.zeros((len(scaffolds), 1))
    for f, (_, test) in enumerate(gkf.split(X, groups=np.array(scaffolds, dtype=object))):
        for t in test:
            fold[int(t)] = f
    assert min(fold) >= 0
    return fold


def split_deepchem(scaffolds: list[str], frac_train=0.8, frac_valid=0.1) -> list[str]:
    """Transcription of deepchem ScaffoldSplitter.split / generate_scaffolds (metrics.md 6.2)."""
    groups: dict[str, list[int]] = {}
    for ind, sc in enumerate(scaffolds):
        groups.setdefault(sc, []).append(ind)
    groups = {k: sorted(v) for k, v in groups.items()}
    scaffold_sets = [s for (_, s) in sorted(groups.items(), key=lambda x: (len(x[1]), x[1][0]), reverse=True)]
    n = len(scaffolds)
    train_cutoff = frac_train * n
    valid_cutoff = (frac_train + frac_valid) * n
    train, valid, test = [], [], []
    for s in scaffold_sets:
        if len(train) + len(s) > train_cutoff:
            if len(train) + len(valid) + len(s) > valid_cutoff:
                test += s
            else:
                valid += s
        else:
            train += s
    out = [""] * n
    for name, idx in (("train", train), ("valid", valid), ("test", test)):
        for i in idx:
            out[i] = name
    return out


def split_chemprop(scaffolds: list[str], sizes=(0.8, 0.1, 0.1)) -> list[str]:
    """Transcription of chemprop v1 chemprop.data.scaffold.scaffold_split(balanced=False) (6.3)."""
    n = len(scaffolds)
    train_size, val_size, _test_size = sizes[0] * n, sizes[1] * n, sizes[2] * n
    scaffold_to_indices: dict[str, set[int]] = {}
    for i, sc in enumerate(scaffolds):
        scaffold_to_indices.setdefault(sc, set()).add(i)
    index_sets = sorted(list(scaffold_to_indices.values()), key=lambda s: len(s), reverse=True)
    train, val, test = [], [], []
    for s in index_sets:
        if len(train) + len(s) <= train_size:
            train += s
        elif len(val) + len(s) <= val_size:
            val += s
        else:
            test += s
    out = [""] * n
    for name, idx in (("train", train), ("valid", val), ("test", test)):
        for i in idx:
            out[i] = name
    return out


# ------------------------------------------------------------------------------------------------
# A. public
# ------------------------------------------------------------------------------------------------
def make_public() -> dict:
    outdir = OUT / "public"
    shutil.rmtree(outdir, ignore_errors=True)
    ids = [i for i, _ in MOLECULES]
    assert len(ids) == len(set(ids))
    write_csv(outdir / "molecules.csv", ["id", "smiles"], MOLECULES)
    keys = [(i,) for i in ids]
    recs = [compute(i, s) for i, s in MOLECULES]
    for i, r in zip(ids, recs):
        assert r["ok"] == (not i.startswith("x_")), (i, r["error"])
    write_family(outdir, keys, recs, ["id"], ".csv")

    # tanimoto: forced pairs first, then seeded random pairs among parsed molecules (300 total)
    okidx = [k for k, r in enumerate(recs) if r["ok"]]
    pos = {ids[k]: k for k in okidx}
    empty_fp = [ids[k] for k in okidx if recs[k]["morgan_r2_2048"].GetNumOnBits() == 0]
    forced_names = [
        ("e_empty", "e_benzene_aromatic"), ("e_empty", "e_empty"), ("e_sodium_chloride", "e_empty"),
        ("e_benzene_aromatic", "e_benzene_kekule"), ("e_pyridine", "e_pyridine_kekule"),
        ("e_pyrrole", "e_pyrrole_kekule"), ("e_naphthalene_aromatic", "e_naphthalene_kekule"),
        ("d_caffeine", "e_caffeine_kekule"), ("d_ibuprofen", "d_ibuprofen_s"),
        ("e_l_alanine", "e_d_alanine"), ("e_but2ene_e", "e_but2ene_z"), ("e_but2ene_e", "e_cx_cis_flag"),
        ("d_aspirin", "d_aspirin"), ("e_glycine_neutral", "e_glycine_zwitterion"),
        ("e_nitro_charge_separated", "e_nitro_pentavalent"), ("e_methane_13c", "e_single_atom_carbon"),
        ("e_methane_explicit_h", "e_single_atom_carbon"), ("e_benzene_d1", "e_benzene_aromatic"),
        ("e_hydrogen_molecule", "e_proton"), ("d_cisplatin_dative", "d_cisplatin_fragments"),
        ("d_testosterone", "d_estradiol"), ("d_cortisol", "d_dexamethasone"), ("d_adenosine", "d_atp"),
        ("d_penicillin_g", "d_penicillin_v_potassium"), ("d_metformin", "d_metformin_hcl"),
    ]
    pairs = [(pos[a], pos[b]) for a, b in forced_names]
    # random pairs are drawn as positions in okidx; forced pairs are not drawn again
    taken = {tuple(sorted((okidx.index(i), okidx.index(j)))) for i, j in pairs}
    rng = np.random.default_rng(SEED_PUBLIC)
    rnd = random_pairs(rng, len(okidx), 300 - len(pairs), taken)
    pairs += [(okidx[i], okidx[j]) for i, j in rnd]
    assert len(pairs) == 300
    write_csv(outdir / "tanimoto.csv", ["id_a", "id_b", "bits", "counts"], tanimoto_rows(pairs, keys, recs))

    # neighbours: top-5 other molecules by bit Tanimoto, stable ties in library order
    fps = [recs[k]["morgan_r2_2048"] for k in okidx]
    rows = []
    for qi, k in enumerate(okidx):
        sims = DataStructs.BulkTanimotoSimilarity(fps[qi], fps)
        order = sorted((j for j in range(len(okidx)) if j != qi), key=lambda j: -sims[j])
        for rank, j in enumerate(order[:5], start=1):
            rows.append([ids[k], rank, ids[okidx[j]], fnum(sims[j])])
    write_csv(outdir / "neighbors.csv", ["query_id", "rank", "neighbor_id", "similarity"], rows)
    n_ok = len(okidx)
    return {
        "n_molecules": len(ids), "n_parse_ok": n_ok, "n_parse_fail": len(ids) - n_ok,
        "no_on_bits": empty_fp, "n_tanimoto": len(pairs), "n_neighbors_rows": len(rows),
    }


# ------------------------------------------------------------------------------------------------
# B. real
# ------------------------------------------------------------------------------------------------
SOURCES = [
    {
        "source": "lincs", "file": "data/l1000/lincs_pertinfo.tsv.gz", "compression": "gzip",
        "delimiter": "\t", "id_column": "pert_id", "smiles_column": "canonical_smiles",
        "filters": [
            {"column": "pert_type", "op": "eq", "value": "trt_cp"},
            {"column": "canonical_smiles", "op": "not_in", "values": ["", "-666"],
             "note": "-666 is LINCS' missing-value marker (29 trt_cp rows), not a SMILES"},
        ],
    },
    {
        "source": "rxrx3", "file": "data/rxrx3/derived_rxrx3_core_compounds.csv", "compression": None,
        "delimiter": ",", "id_column": "treatment", "smiles_column": "smiles",
        "filters": [{"column": "smiles", "op": "not_in", "values": [""]}],
    },
    {
        "source": "vcpi", "file": "data/vcpi/test_compounds.csv", "compression": None,
        "delimiter": ",", "id_column": "compound", "smiles_column": "smiles",
        "filters": [{"column": "smiles", "op": "not_in", "values": [""]}],
    },
    {
        "source": "l1000task_train", "file": "tasks/l1000-drugbank/train.csv", "compression": None,
        "delimiter": ",", "id_column": "drugbank_id", "smiles_column": "SMILES",
        "filters": [{"column": "SMILES", "op": "not_in", "values": [""]}],
    },
    {
        "source": "l1000task_test", "file": "tasks/l1000-drugbank/test_features.csv", "compression": None,
        "delimiter": ",", "id_column": "id", "smiles_column": "SMILES",
        "filters": [{"column": "SMILES", "op": "not_in", "values": [""]}],
    },
]
SKIPPED_SOURCES = [
    {
        "source": "sciplex", "file": "data/chemical_singlecell/sciplex3_drug_properties_targets_pathways.tsv",
        "reason": "the file has no SMILES column (its columns are Catalog.Number, Product.Name, Target, "
                  "Pathway); no sci-Plex SMILES exist anywhere in ../shared",
    },
]
SPLIT_SETS = [("l1000task", "l1000task_train"), ("rxrx3", "rxrx3")]


def read_table(path: Path, delimiter: str, gz: bool) -> list[list[str]]:
    raw = path.read_bytes()
    if gz:
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def load_source(shared: Path, spec: dict) -> tuple[list[tuple[str, str]], dict]:
    path = shared / spec["file"]
    rows = read_table(path, spec["delimiter"], spec["compression"] == "gzip")
    header, data = rows[0], rows[1:]
    col = {c: k for k, c in enumerate(header)}
    kept, seen, dups = [], set(), []
    n_filtered = 0
    for r in data:
        good = True
        for f in spec["filters"]:
            v = r[col[f["column"]]]
            if f["op"] == "eq" and v != f["value"]:
                good = False
            if f["op"] == "not_in" and v in f["values"]:
                good = False
        if not good:
            continue
        n_filtered += 1
        mid, smi = r[col[spec["id_column"]]], r[col[spec["smiles_column"]]]
        if mid in seen:
            dups.append(mid)
            continue
        seen.add(mid)
        kept.append((mid, smi))
    info = dict(spec)
    info.update({
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "n_rows_file": len(data),
        "n_rows_after_filters": n_filtered,
        "duplicate_ids_dropped": dups,
        "n_molecules": len(kept),
    })
    return kept, info


def make_real(shared: Path) -> dict:
    outdir = OUT / "real"
    shutil.rmtree(outdir, ignore_errors=True)
    keys, recs, smiles_of, infos = [], [], [], []
    for spec in SOURCES:
        mols, info = load_source(shared, spec)
        fails = []
        for mid, smi in mols:
            r = compute(f"{spec['source']}/{mid}", smi)
            keys.append((spec["source"], mid))
            recs.append(r)
            if not r["ok"]:
                fails.append({"id": mid, "error": r["error"]})
        info["n_parse_ok"] = len(mols) - len(fails)
        info["n_parse_fail"] = len(fails)
        info["parse_failures"] = fails
        infos.append(info)
        print(f"  {spec['source']}: {len(mols)} molecules, {len(fails)} fail to parse", flush=True)
    write_family(outdir, keys, recs, ["source", "id"], ".csv.gz")

    # tanimoto: 2000 uniform random pairs + 1000 random same-scaffold pairs (high similarity)
    okidx = [k for k, r in enumerate(recs) if r["ok"]]
    no_bits = [keys[k] for k in okidx if recs[k]["morgan_r2_2048"].GetNumOnBits() == 0]
    rng = np.random.default_rng(SEED_REAL)
    taken: set = set()
    rnd = random_pairs(rng, len(okidx), 2000, taken)
    pairs = [(okidx[i], okidx[j]) for i, j in rnd]
    by_scaf: dict[str, list[int]] = {}
    for p, k in enumerate(okidx):
        sc = recs[k]["scaffold"]
        if sc:
            by_scaf.setdefault(sc, []).append(p)
    multi = [v for v in by_scaf.values() if len(v) >= 2]
    while len(pairs) < 3000:
        g = multi[int(rng.integers(0, len(multi)))]
        a, b = (int(x) for x in rng.choice(len(g), size=2, replace=False))
        i, j = g[a], g[b]
        if (min(i, j), max(i, j)) in taken:
            continue
        taken.add((min(i, j), max(i, j)))
        pairs.append((okidx[i], okidx[j]))
    write_csv(
        outdir / "tanimoto.csv.gz", ["source_a", "id_a", "source_b", "id_b", "bits", "counts"],
        tanimoto_rows(pairs, keys, recs),
    )

    # splits
    split_info = {}
    for set_name, source in SPLIT_SETS:
        sub = [(k, r) for k, r in zip(keys, recs) if k[0] == source]
        excluded = [k[1] for k, r in sub if not r["ok"]]
        sub = [(k, r) for k, r in sub if r["ok"]]
        sids = [k[1] for k, _ in sub]
        scafs = [r["scaffold"] for _, r in sub]
        gk = split_groupkfold(scafs)
        dc = split_deepchem(scafs)
        cp = split_chemprop(scafs)
        write_csv(outdir / f"split_{set_name}_groupkfold5.csv", ["id", "fold"], zip(sids, gk))
        write_csv(outdir / f"split_{set_name}_deepchem.csv", ["id", "split"], zip(sids, dc))
        write_csv(outdir / f"split_{set_name}_chemprop.csv", ["id", "split"], zip(sids, cp))
        split_info[set_name] = {
            "source": source, "n": len(sids), "n_scaffolds": len(set(scafs)),
            "n_acyclic_empty_scaffold": scafs.count(""), "excluded_unparsable_ids": excluded,
            "groupkfold_fold_sizes": [gk.count(f) for f in range(5)],
            "deepchem_sizes": {s: dc.count(s) for s in ("train", "valid", "test")},
            "chemprop_sizes": {s: cp.count(s) for s in ("train", "valid", "test")},
        }
    meta = {
        "shared_root_default": "/work/shared",
        "reading": (
            "Each file is read as UTF-8 text with an RFC-4180 CSV reader (Python csv module, the "
            "given delimiter, '\"' quoting; the LINCS TSV contains no quotes). All cells are strings: "
            "no NA conversion, no whitespace trimming. A row is kept when every filter holds "
            "(eq: cell == value; not_in: cell not in values). Then ids are de-duplicated keeping the "
            "first occurrence. The SMILES cell is passed verbatim to Chem.MolFromSmiles. Output "
            "files list the molecules in source order, then file order."
        ),
        "versions": versions(),
        "sources": infos,
        "skipped_sources": SKIPPED_SOURCES,
        "no_on_bits_molecules": [list(k) for k in no_bits],
        "tanimoto": {"n_pairs": len(pairs), "n_uniform_random": 2000, "n_same_scaffold": len(pairs) - 2000,
                     "seed": SEED_REAL},
        "splits": split_info,
    }
    (outdir / "sources.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    WRITTEN.append(outdir / "sources.json")
    return meta


def versions() -> dict:
    return {
        "python": sys.version.split()[0], "rdkit": rdBase.rdkitVersion, "rdkit_pypi": version("rdkit"),
        "boost": rdBase.boostVersion, "numpy": version("numpy"), "scikit-learn": version("scikit-learn"),
        "pandas": version("pandas"),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="/work/shared", type=Path)
    args = ap.parse_args()
    print("versions:", versions())
    pub = make_public()
    print("public:", pub)
    (OUT / "public" / "summary.json").write_text(
        json.dumps({"versions": versions(), "seed": SEED_PUBLIC, **pub}, indent=1) + "\n"
    )
    WRITTEN.append(OUT / "public" / "summary.json")
    if (args.shared / SOURCES[0]["file"]).exists():
        meta = make_real(args.shared)
        print("splits:", json.dumps(meta["splits"], indent=1))
        print("no-on-bit real molecules:", meta["no_on_bits_molecules"])
    else:
        print(f"shared data not found under {args.shared}: real/ left untouched")
    if DESC_ERRORS:
        print("descriptor errors:", *DESC_ERRORS, sep="\n  ")
    total = 0
    for p in WRITTEN:
        total += p.stat().st_size
        print(f"  {p.relative_to(ROOT)}  {p.stat().st_size:>10,d}")
    print(f"total {total:,d} bytes")


if __name__ == "__main__":
    main()
