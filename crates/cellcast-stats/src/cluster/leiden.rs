//! scanpy's `tl.leiden(flavor="igraph", n_iterations=2)` on a connectivities matrix: the graph
//! python-igraph 1.0.0 builds from it, and igraph 1.0.0's C `igraph_community_leiden`
//! (modularity, beta 0.01), replaying its random stream.
//!
//! What the result depends on, and is kept here:
//! - the graph: scanpy adds one undirected edge per stored entry of the (symmetric) matrix, so
//!   every pair is joined twice; igraph stores an undirected edge as (larger, smaller) endpoint and
//!   lists a vertex's incident edges by neighbour, via its radix-sorted edge indices;
//! - the objective: vertex weights are strengths, the resolution is divided by their sum;
//! - the random stream: `RandomState(0)` behind scanpy's shim (see [`super::numpy_random`]),
//!   consumed by the Fisher–Yates shuffles of the local-moving and refinement phases and by the
//!   refinement's randomised merges;
//! - the floating-point order of every accumulation (edge weights per cluster, strengths, ...).

use super::knn_graph::Connectivities;
use super::numpy_random::NumpyRandomState;
use std::collections::VecDeque;

/// Randomness of the refinement step (python-igraph's default, which scanpy keeps).
const BETA: f64 = 0.01;
/// Leiden iterations cell-eval asks for.
const N_ITERATIONS: usize = 2;

/// An undirected igraph graph: edge endpoints and each vertex's incident edges in igraph's order.
struct Graph {
    n: usize,
    from: Vec<usize>,
    to: Vec<usize>,
    inc: Vec<Vec<usize>>,
}

impl Graph {
    fn new(n: usize, edges: &[(usize, usize)]) -> Self {
        let mut from = Vec::with_capacity(edges.len());
        let mut to = Vec::with_capacity(edges.len());
        for &(a, b) in edges {
            // igraph_add_edges: undirected edges are stored with from >= to.
            if a > b {
                from.push(a);
                to.push(b);
            } else {
                from.push(b);
                to.push(a);
            }
        }
        // igraph_incident(IGRAPH_ALL) on an undirected graph: the edges whose `from` is v (by
        // `to`), then those whose `to` is v (by `from`); igraph_vector_int_pair_order leaves
        // parallel edges in decreasing edge id.
        let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut inn: Vec<Vec<usize>> = vec![Vec::new(); n];
        for e in 0..from.len() {
            out[from[e]].push(e);
            inn[to[e]].push(e);
        }
        let mut inc = Vec::with_capacity(n);
        for v in 0..n {
            let mut o = std::mem::take(&mut out[v]);
            o.sort_by(|&x, &y| to[x].cmp(&to[y]).then(y.cmp(&x)));
            let mut i = std::mem::take(&mut inn[v]);
            i.sort_by(|&x, &y| from[x].cmp(&from[y]).then(y.cmp(&x)));
            o.extend(i);
            inc.push(o);
        }
        Self { n, from, to, inc }
    }

    fn other(&self, e: usize, v: usize) -> usize {
        if self.to[e] == v {
            self.from[e]
        } else {
            self.to[e]
        }
    }
}

/// Leiden labels of scanpy's `tl.leiden(adata, resolution, flavor="igraph", n_iterations=2,
/// random_state=seed)` on the graph of `conn` (use_weights, undirected, modularity). The labels
/// are igraph's membership vector: clusters numbered by first appearance.
pub fn leiden(conn: &Connectivities, resolution: f64, seed: u32) -> Vec<usize> {
    let n = conn.n();
    let mut edges = Vec::with_capacity(conn.nnz());
    let mut weights = Vec::with_capacity(conn.nnz());
    for (i, j, v) in conn.triplets() {
        edges.push((i, j));
        weights.push(f64::from(v));
    }
    let graph = Graph::new(n, &edges);
    // python-igraph: node weights = igraph_strength(ALL, NO_LOOPS), which sums over the edges
    // twice (once crediting `from`, once `to`); resolution /= their sum.
    let mut strength = vec![0.0; n];
    for e in 0..edges.len() {
        if graph.from[e] != graph.to[e] {
            strength[graph.from[e]] += weights[e];
        }
    }
    for e in 0..edges.len() {
        if graph.from[e] != graph.to[e] {
            strength[graph.to[e]] += weights[e];
        }
    }
    let total = strength.iter().fold(0.0, |s, &x| s + x);
    let resolution = resolution / total;
    let mut rng = NumpyRandomState::new(seed);
    let mut membership: Vec<usize> = (0..n).collect();
    for _ in 0..N_ITERATIONS {
        community_leiden(&graph, &weights, &strength, resolution, &mut membership, &mut rng);
    }
    membership
}

/// igraph_reindex_membership: clusters renumbered by first appearance; returns their count.
fn reindex(membership: &mut [usize]) -> usize {
    let n = membership.len();
    let mut new_id = vec![0usize; n.max(membership.iter().copied().max().map_or(0, |m| m + 1))];
    let mut next = 1;
    for &c in membership.iter() {
        if new_id[c] == 0 {
            new_id[c] = next;
            next += 1;
        }
    }
    for c in membership.iter_mut() {
        *c = new_id[*c] - 1;
    }
    next - 1
}

/// igraph_vector_int_shuffle (Fisher–Yates from the back).
fn shuffle(v: &mut [usize], rng: &mut NumpyRandomState) {
    let mut n = v.len();
    while n > 1 {
        let k = rng.igraph_integer(n - 1);
        n -= 1;
        v.swap(n, k);
    }
}

/// The aggregated graph of one level and its weights and membership.
struct Level {
    graph: Graph,
    weights: Vec<f64>,
    vertex_weights: Vec<f64>,
    membership: Vec<usize>,
}

/// One iteration of igraph's `community_leiden` (move, refine, aggregate until every cluster is
/// a single aggregate vertex), updating `membership` in place.
fn community_leiden(
    graph0: &Graph,
    weights0: &[f64],
    vertex_weights0: &[f64],
    resolution: f64,
    membership: &mut [usize],
    rng: &mut NumpyRandomState,
) {
    let n = graph0.n;
    reindex(membership);
    let mut aggregate_vertex: Vec<usize> = (0..n).collect();
    let mut level: Option<Level> = None;
    loop {
        let nb_clusters = match level.as_mut() {
            None => fast_move(graph0, weights0, vertex_weights0, resolution, membership, rng),
            Some(l) => fast_move(&l.graph, &l.weights, &l.vertex_weights, resolution, &mut l.membership, rng),
        };
        let vcount = level.as_ref().map_or(n, |l| l.graph.n);
        // igraph only copies a higher level's clusters back to the vertices when it goes on, so
        // a final move on an aggregate graph that leaves every aggregate alone is not reported.
        if nb_clusters >= vcount {
            break;
        }
        if let Some(l) = &level {
            for i in 0..n {
                membership[i] = l.membership[aggregate_vertex[i]];
            }
        }
        let (graph, weights, vertex_weights, memb): (&Graph, &[f64], &[f64], &[usize]) = match &level {
            None => (graph0, weights0, vertex_weights0, &*membership),
            Some(l) => (&l.graph, &l.weights, &l.vertex_weights, &l.membership),
        };
        let clusters = get_clusters(memb, nb_clusters);
        let mut refined = vec![0usize; graph.n];
        let mut nb_refined = 0usize;
        for (c, cluster) in clusters.iter().enumerate() {
            merge_vertices(
                graph,
                weights,
                vertex_weights,
                cluster,
                memb,
                c,
                resolution,
                &mut nb_refined,
                &mut refined,
                rng,
            );
        }
        if nb_refined >= graph.n {
            refined.copy_from_slice(memb);
            nb_refined = nb_clusters;
        }
        for a in aggregate_vertex.iter_mut() {
            *a = refined[*a];
        }
        let next = aggregate(graph, weights, vertex_weights, memb, &refined, nb_refined);
        level = Some(next);
    }
}

fn get_clusters(membership: &[usize], nb_clusters: usize) -> Vec<Vec<usize>> {
    let mut clusters = vec![Vec::new(); nb_clusters];
    for (i, &c) in membership.iter().enumerate() {
        clusters[c].push(i);
    }
    clusters
}

/// leiden_fastmove_vertices: queue-based greedy moves, strictly improving only.
fn fast_move(
    graph: &Graph,
    weights: &[f64],
    vertex_weights: &[f64],
    resolution: f64,
    membership: &mut [usize],
    rng: &mut NumpyRandomState,
) -> usize {
    let n = graph.n;
    let mut stable = vec![false; n];
    let mut order: Vec<usize> = (0..n).collect();
    shuffle(&mut order, rng);
    let mut queue: VecDeque<usize> = order.into_iter().collect();
    let mut cluster_w = vec![0.0; n];
    let mut nb_vertices = vec![0usize; n];
    for i in 0..n {
        let c = membership[i];
        cluster_w[c] += vertex_weights[i];
        nb_vertices[c] += 1;
    }
    let mut empty: Vec<usize> = (0..n).filter(|&c| nb_vertices[c] == 0).collect();
    let mut ew = vec![0.0; n];
    let mut added = vec![false; n];
    let mut neigh: Vec<usize> = Vec::with_capacity(n);
    while let Some(v) = queue.pop_front() {
        let current = membership[v];
        cluster_w[current] -= vertex_weights[v];
        nb_vertices[current] -= 1;
        if nb_vertices[current] == 0 {
            empty.push(current);
        }
        // Some cluster is always empty here: n vertices, at most n - 1 of them placed.
        let top = *empty.last().expect("an empty cluster exists");
        neigh.clear();
        neigh.push(top);
        added[top] = true;
        for &e in &graph.inc[v] {
            let u = graph.other(e, v);
            if u != v {
                let c = membership[u];
                if !added[c] {
                    added[c] = true;
                    neigh.push(c);
                }
                ew[c] += weights[e];
            }
        }
        let mut best = current;
        let mut max_diff = ew[current] - vertex_weights[v] * cluster_w[current] * resolution;
        for &c in &neigh {
            let diff = ew[c] - vertex_weights[v] * cluster_w[c] * resolution;
            if diff > max_diff {
                best = c;
                max_diff = diff;
            }
            ew[c] = 0.0;
            added[c] = false;
        }
        cluster_w[best] += vertex_weights[v];
        nb_vertices[best] += 1;
        if empty.last() == Some(&best) {
            empty.pop();
        }
        stable[v] = true;
        if best != current {
            membership[v] = best;
            for &e in &graph.inc[v] {
                let u = graph.other(e, v);
                if stable[u] && membership[u] != best {
                    queue.push_back(u);
                    stable[u] = false;
                }
            }
        }
    }
    reindex(membership)
}

/// leiden_merge_vertices: refine one cluster from singletons, merging each still-singleton,
/// well-connected vertex into a randomly chosen (∝ exp(Δ/β)) non-worsening neighbour cluster.
#[allow(clippy::too_many_arguments)]
fn merge_vertices(
    graph: &Graph,
    weights: &[f64],
    vertex_weights: &[f64],
    subset: &[usize],
    membership: &[usize],
    cluster_subset: usize,
    resolution: f64,
    nb_refined: &mut usize,
    refined: &mut [usize],
    rng: &mut NumpyRandomState,
) {
    let n = subset.len();
    let mut cluster_w = vec![0.0; n];
    let mut external = vec![0.0; n];
    let mut total = 0.0;
    for (i, &v) in subset.iter().enumerate() {
        refined[v] = i;
        cluster_w[i] += vertex_weights[v];
        total += vertex_weights[v];
        for &e in &graph.inc[v] {
            let u = graph.other(e, v);
            if u != v && membership[u] == cluster_subset {
                external[i] += weights[e];
            }
        }
    }
    let mut order = subset.to_vec();
    shuffle(&mut order, rng);
    let mut non_singleton = vec![false; n];
    let mut ew = vec![0.0; n];
    let mut added = vec![false; n];
    let mut neigh: Vec<usize> = Vec::with_capacity(n);
    let mut cum = vec![0.0; n];
    for &v in &order {
        let current = refined[v];
        let prod = cluster_w[current] * (total - cluster_w[current]);
        if non_singleton[current] || external[current] < prod * resolution {
            continue;
        }
        cluster_w[current] = 0.0;
        neigh.clear();
        neigh.push(current);
        added[current] = true;
        for &e in &graph.inc[v] {
            let u = graph.other(e, v);
            if u != v && membership[u] == cluster_subset {
                let c = refined[u];
                if !added[c] {
                    added[c] = true;
                    neigh.push(c);
                }
                ew[c] += weights[e];
            }
        }
        let mut best = current;
        let mut max_diff = 0.0;
        let mut total_cum = 0.0;
        for (j, &c) in neigh.iter().enumerate() {
            let prod = cluster_w[c] * (total - cluster_w[c]);
            if external[c] >= prod * resolution {
                let diff = ew[c] - vertex_weights[v] * cluster_w[c] * resolution;
                if diff > max_diff {
                    best = c;
                    max_diff = diff;
                }
                if diff >= 0.0 {
                    total_cum += (diff / BETA).exp();
                }
            }
            cum[j] = total_cum;
            ew[c] = 0.0;
            added[c] = false;
        }
        let chosen = if total_cum < f64::INFINITY {
            let r = rng.igraph_unif(total_cum);
            neigh[binsearch(&cum[..neigh.len()], r)]
        } else {
            best
        };
        cluster_w[chosen] += vertex_weights[v];
        for &e in &graph.inc[v] {
            let u = graph.other(e, v);
            if membership[u] == cluster_subset {
                if refined[u] == chosen {
                    external[chosen] -= weights[e];
                } else {
                    external[chosen] += weights[e];
                }
            }
        }
        if chosen != current {
            refined[v] = chosen;
            non_singleton[chosen] = true;
        }
    }
    // leiden_clean_refined_membership: number this cluster's pieces from nb_refined on.
    let mut new_cluster = vec![0usize; n];
    *nb_refined += 1;
    for &v in subset {
        let c = refined[v];
        if new_cluster[c] == 0 {
            new_cluster[c] = *nb_refined;
            *nb_refined += 1;
        }
    }
    for &v in subset {
        refined[v] = new_cluster[refined[v]] - 1;
    }
    *nb_refined -= 1;
}

/// igraph_vector_binsearch_slice: the index of an equal element if the search meets one, else
/// the insertion point.
fn binsearch(v: &[f64], what: f64) -> usize {
    let (mut left, mut right) = (0isize, v.len() as isize - 1);
    while left <= right {
        let middle = left + ((right - left) >> 1);
        let m = v[middle as usize];
        if m > what {
            right = middle - 1;
        } else if m < what {
            left = middle + 1;
        } else {
            return middle as usize;
        }
    }
    left as usize
}

/// leiden_aggregate: one vertex per refined cluster, edges between refined clusters (weights
/// summed), the aggregate's membership from the unrefined partition.
fn aggregate(
    graph: &Graph,
    weights: &[f64],
    vertex_weights: &[f64],
    membership: &[usize],
    refined: &[usize],
    nb_refined: usize,
) -> Level {
    let refined_clusters = get_clusters(refined, nb_refined);
    let mut edges = Vec::new();
    let mut agg_w = Vec::new();
    let mut agg_vw = vec![0.0; nb_refined];
    let mut agg_memb = vec![0usize; nb_refined];
    let mut to_cluster = vec![0.0; nb_refined];
    let mut added = vec![false; nb_refined];
    let mut neigh = Vec::new();
    for (c, members) in refined_clusters.iter().enumerate() {
        neigh.clear();
        let mut last = 0;
        for &v in members {
            for &e in &graph.inc[v] {
                let u = graph.other(e, v);
                let c2 = refined[u];
                if c2 > c {
                    if !added[c2] {
                        added[c2] = true;
                        neigh.push(c2);
                    }
                    to_cluster[c2] += weights[e];
                }
            }
            agg_vw[c] += vertex_weights[v];
            last = v;
        }
        for &c2 in &neigh {
            edges.push((c, c2));
            agg_w.push(to_cluster[c2]);
            to_cluster[c2] = 0.0;
            added[c2] = false;
        }
        agg_memb[c] = membership[last];
    }
    Level { graph: Graph::new(nb_refined, &edges), weights: agg_w, vertex_weights: agg_vw, membership: agg_memb }
}
