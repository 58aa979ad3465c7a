//! Splitting the evictions of a plan into waves.

/// Assigns a 1-based wave to each eviction, in eviction order. A new wave starts when the next
/// eviction would spend more of a PodDisruptionBudget than it allows (budgets are plan-wide and
/// renew only once the previous wave's replacements are Ready), or touch more than
/// `max_nodes` nodes.
///
/// `evictions` holds `(node, covering PDB indices)`; `allowed[i]` is PDB i's
/// `disruptionsAllowed` (every covering PDB must allow at least one).
///
/// # Complexity
/// O(E · (p + max_nodes)) for E evictions covered by p PDBs each.
pub(crate) fn assign_waves(
    evictions: &[(usize, &[usize])],
    allowed: &[u32],
    max_nodes: u32,
) -> Vec<u32> {
    let mut spent = vec![0u32; allowed.len()];
    let mut touched: Vec<usize> = Vec::new();
    let mut wave = 1u32;
    let mut out = Vec::with_capacity(evictions.len());
    for (node, pdbs) in evictions {
        let new_node = !touched.contains(node);
        let over_nodes = new_node && touched.len() >= max_nodes.max(1) as usize;
        let over_budget = pdbs.iter().any(|b| spent[*b] >= allowed[*b]);
        if over_nodes || over_budget {
            wave += 1;
            spent.iter_mut().for_each(|s| *s = 0);
            touched.clear();
        }
        if !touched.contains(node) {
            touched.push(*node);
        }
        for b in *pdbs {
            spent[*b] += 1;
        }
        out.push(wave);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_and_node_limits_split_waves() {
        let one: &[usize] = &[0];
        let none: &[usize] = &[];
        // Two pods under one PDB allowing 1: second pod waits for the next wave.
        assert_eq!(assign_waves(&[(0, one), (0, one)], &[1], 3), vec![1, 2]);
        // Budget 2: both in wave 1.
        assert_eq!(assign_waves(&[(0, one), (0, one)], &[2], 3), vec![1, 1]);
        // One node per wave.
        assert_eq!(
            assign_waves(&[(0, none), (0, none), (1, none), (2, none)], &[], 1),
            vec![1, 1, 2, 3]
        );
        // Three nodes per wave.
        assert_eq!(
            assign_waves(&[(0, none), (1, none), (2, none), (3, none)], &[], 3),
            vec![1, 1, 1, 2]
        );
    }
}
