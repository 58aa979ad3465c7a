#!/usr/bin/env python3
"""Fewest kept nodes any drain-only plan can reach on a kubectl dump: an offline check of
how far kube-compactor's plans are from optimal (docs/decisions.md, "Distance from optimal").

Not part of the product or of CI; needs SciPy (HiGHS): `python3 -m venv /tmp/mip &&
/tmp/mip/bin/pip install scipy`, then

    /tmp/mip/bin/python docs/analysis/drain_mip.py DUMP.json CAP [lp|mip] [SECONDS]

CAP is the safety level's cap as a fraction (0.7, 0.8, 0.9). The model is a relaxation of
what a plan may do, so its optimum is a lower bound on the nodes any plan keeps:
- a node is kept (x = 1) or drained (x = 0); nodes with a pod that has no controller or
  uses a volume are kept;
- pods on kept nodes stay; the pods of drained nodes (DaemonSet pods aside) go to kept
  nodes, counted per request shape and node (integer with `mip`, fractional with `lp`);
- a kept node takes pods up to the cap of its allocatable CPU and memory (counting what it
  already runs) and up to its allocatable GPUs; pods without the GPU toleration stay off
  tainted nodes.
Everything else a plan honours (kube-scheduler's choice, budgets, pod slots, storage,
(anti-)affinity) only removes plans, so it can only raise the optimum.
"""
import collections
import json
import re
import sys

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_matrix, lil_matrix

UNITS = {"": 1, "m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
         "k": 1e3, "M": 1e6, "G": 1e9}


def quantity(v):
    if v is None:
        return 0.0
    m = re.match(r"^([0-9.e+-]+?)([a-zA-Z]*)$", str(v))
    return float(m.group(1)) * UNITS[m.group(2)]


def main():
    dump, cap = sys.argv[1], float(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "lp"
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 600.0
    items = json.load(open(dump))["items"]
    nodes = [i for i in items if i["kind"] == "Node"]
    index = {n["metadata"]["name"]: k for k, n in enumerate(nodes)}
    n_nodes = len(nodes)

    def alloc(n, key):
        return quantity(n["status"]["allocatable"].get(key))

    allocatable = np.array([[alloc(n, "cpu"), alloc(n, "memory") / 2**30,
                             alloc(n, "nvidia.com/gpu")] for n in nodes])
    tainted = np.array([bool(n["spec"].get("taints")) for n in nodes])
    usage = np.zeros((n_nodes, 3))
    forced = np.zeros(n_nodes, bool)
    on_node = collections.defaultdict(collections.Counter)  # shape -> node -> pods
    count = collections.Counter()
    for pod in (i for i in items if i["kind"] == "Pod"):
        req = collections.Counter()
        for c in pod["spec"]["containers"]:
            for k, v in c.get("resources", {}).get("requests", {}).items():
                req[k] += quantity(v)
        v = (req["cpu"], req["memory"] / 2**30, req["nvidia.com/gpu"])
        node = index[pod["spec"]["nodeName"]]
        usage[node] += v
        owners = [o["kind"] for o in pod["metadata"].get("ownerReferences", [])]
        if not owners or pod["spec"].get("volumes"):
            forced[node] = True
        if owners == ["DaemonSet"] or not owners or pod["spec"].get("volumes"):
            continue
        shape = (v, bool(pod["spec"].get("tolerations")))
        count[shape] += 1
        on_node[shape][node] += 1
    shapes = list(count)
    room = np.maximum(0, allocatable * np.array([cap, cap, 1.0]) - usage)
    room[:, 2] = allocatable[:, 2] - usage[:, 2]
    pairs = [(s, n) for s, (v, tol) in enumerate(shapes) for n in range(n_nodes)
             if (tol or not tainted[n]) and np.all(np.array(v) <= room[n] + 1e-9)]
    nv = n_nodes + len(pairs)
    cost = np.zeros(nv)
    cost[:n_nodes] = 1
    # Placed pods of each shape = pods of that shape on drained nodes.
    eq = lil_matrix((len(shapes), nv))
    rhs = np.array([count[s] for s in shapes], float)
    for s, shape in enumerate(shapes):
        for node, c in on_node[shape].items():
            eq[s, node] += c
    ub = lil_matrix((3 * n_nodes, nv))
    for j, (s, node) in enumerate(pairs):
        eq[s, n_nodes + j] = 1
        for d in range(3):
            if shapes[s][0][d]:
                ub[3 * node + d, n_nodes + j] = shapes[s][0][d]
    for node in range(n_nodes):
        for d in range(3):
            ub[3 * node + d, node] = -room[node, d]
    lo = np.concatenate([forced.astype(float), np.zeros(len(pairs))])
    hi = np.concatenate([np.ones(n_nodes), np.full(len(pairs), np.inf)])
    if mode == "lp":
        res = linprog(cost, A_ub=csr_matrix(ub), b_ub=np.zeros(3 * n_nodes),
                      A_eq=csr_matrix(eq), b_eq=rhs, bounds=list(zip(lo, hi)), method="highs")
        print(f"{dump} cap {cap}: LP bound {res.fun:.1f} kept nodes")
    else:
        res = milp(cost, integrality=np.ones(nv), bounds=Bounds(lo, hi),
                   constraints=[LinearConstraint(csr_matrix(ub), -np.inf, 0),
                                LinearConstraint(csr_matrix(eq), rhs, rhs)],
                   options={"time_limit": seconds, "mip_rel_gap": 0.01})
        print(f"{dump} cap {cap}: best plan found keeps {res.fun:.0f} nodes; "
              f"no drain-only plan keeps fewer than {np.ceil(res.mip_dual_bound - 1e-6):.0f} "
              f"({res.message})")


if __name__ == "__main__":
    main()
