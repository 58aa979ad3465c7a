#!/usr/bin/env python3
"""Turns a kubectl List dump (`kubectl get nodes,pods,pdb,... -A -o json`) into what it takes
to rebuild that cluster on kwok with the workloads recreated, so that the real kube-scheduler
places the pods again (e2e/ca-compare.sh uses it).

    load-dump.py DUMP OUTDIR [--sample N] [--seed S]

Writes into OUTDIR:
  nodes.json      the nodes (a List), labelled type=kwok, annotated for kwok, for metrics-server
                  and for Cluster Autoscaler's kwok cloud provider: providerID kwok:<name>, node
                  group `cluster-autoscaler.kwok.nodegroup/name` = the instance type, min-count 0
                  and max-count = the group's size (so that CA can never scale a group up);
                  GPU nodes (nvidia.com/gpu allocatable) get the label
                  `kube-compactor.io/gpu-node=true`, CA's GPU label (kwok-provider-config);
  workloads.json  namespaces, PersistentVolumes for the StatefulSets' claims, then
                  ReplicaSets, DaemonSets, StatefulSets and bare pods (no nodeName: the scheduler
                  places them), then the PodDisruptionBudgets;
  summary.json    counts: nodes, pods expected, workloads by kind, node groups.

Each ReplicaSet / StatefulSet gets the template of its first pod (by name) and as many replicas
as it had pods; a DaemonSet tolerates every taint (as a node agent does: the dumps run one on
every node, tainted GPU nodes included). Claims are recreated as statically bound
PersistentVolumes without node affinity (network storage: any node can mount them).

--sample N keeps N nodes chosen at random (seeded) and the pods that ran on them; workloads
shrink to the pods kept. Errors name the object and the field and exit with status 2.
"""
import json
import random
import re
import sys
from collections import defaultdict

GPU = "nvidia.com/gpu"
NG = "cluster-autoscaler.kwok.nodegroup/name"


def fail(msg):
    print(f"load-dump: error: {msg}", file=sys.stderr)
    sys.exit(2)


def owner(pod):
    for ref in pod["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("kind"), ref.get("name")
    refs = pod["metadata"].get("ownerReferences") or []
    return (refs[0].get("kind"), refs[0].get("name")) if refs else (None, None)


def group_name(node):
    itype = node["metadata"].get("labels", {}).get("node.kubernetes.io/instance-type", "default")
    # Node group ids become label-ish strings in CA's logs and metrics.
    return re.sub(r"[^A-Za-z0-9.-]", "-", itype)


def template_of(pod, extra_labels=None):
    spec = {k: v for k, v in pod["spec"].items() if k not in ("nodeName",)}
    labels = dict(pod["metadata"].get("labels") or {})
    if extra_labels:
        labels.update(extra_labels)
    meta = {"labels": labels}
    if pod["metadata"].get("annotations"):
        meta["annotations"] = pod["metadata"]["annotations"]
    return {"metadata": meta, "spec": spec}


def main(argv):
    args = [a for a in argv[1:]]
    sample, seed = None, 1
    rest = []
    i = 0
    while i < len(args):
        if args[i] == "--sample":
            sample = int(args[i + 1]); i += 2
        elif args[i] == "--seed":
            seed = int(args[i + 1]); i += 2
        else:
            rest.append(args[i]); i += 1
    if len(rest) != 2:
        fail("usage: load-dump.py DUMP OUTDIR [--sample N] [--seed S]")
    dump_path, out = rest
    try:
        with open(dump_path) as f:
            dump = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{dump_path}: {e}")
    items = dump.get("items")
    if not isinstance(items, list):
        fail(f"{dump_path}: `items` is not a list (expected a kubectl List)")

    nodes = sorted((o for o in items if o.get("kind") == "Node"), key=lambda o: o["metadata"]["name"])
    pods = sorted((o for o in items if o.get("kind") == "Pod"),
                  key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
    pdbs = [o for o in items if o.get("kind") == "PodDisruptionBudget"]
    if not nodes:
        fail(f"{dump_path}: no Node objects")
    if sample is not None and sample < len(nodes):
        rng = random.Random(seed)
        nodes = sorted(rng.sample(nodes, sample), key=lambda o: o["metadata"]["name"])
    names = {n["metadata"]["name"] for n in nodes}
    pods = [p for p in pods
            if p["spec"].get("nodeName") in names
            and p.get("status", {}).get("phase") not in ("Succeeded", "Failed")
            and not p["metadata"].get("deletionTimestamp")]

    groups = defaultdict(list)
    for n in nodes:
        groups[group_name(n)].append(n["metadata"]["name"])

    out_nodes = []
    for n in nodes:
        name = n["metadata"]["name"]
        labels = dict(n["metadata"].get("labels") or {})
        labels.update({"type": "kwok", "kubernetes.io/hostname": name})
        alloc = (n.get("status") or {}).get("allocatable") or {}
        if not alloc:
            fail(f"node {name}: status.allocatable is missing")
        if GPU in alloc and str(alloc[GPU]) not in ("0", ""):
            labels["kube-compactor.io/gpu-node"] = "true"
        g = group_name(n)
        spec = {"providerID": f"kwok:{name}"}
        if (n.get("spec") or {}).get("taints"):
            spec["taints"] = n["spec"]["taints"]
        if (n.get("spec") or {}).get("unschedulable"):
            spec["unschedulable"] = True
        out_nodes.append({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": name, "labels": labels,
                "annotations": {
                    "kwok.x-k8s.io/node": "fake",
                    "node.alpha.kubernetes.io/ttl": "0",
                    "metrics.k8s.io/resource-metrics-path": f"/metrics/nodes/{name}/metrics/resource",
                    NG: g,
                    "cluster-autoscaler.kwok.nodegroup/min-count": "0",
                    "cluster-autoscaler.kwok.nodegroup/max-count": str(len(groups[g])),
                },
            },
            "spec": spec,
            "status": {
                "allocatable": alloc,
                "capacity": (n.get("status") or {}).get("capacity") or alloc,
                "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux",
                             "kubeletVersion": "fake", "kubeProxyVersion": "fake",
                             "machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "",
                             "osImage": "", "containerRuntimeVersion": ""},
            },
        })

    namespaces = sorted({p["metadata"].get("namespace", "default") for p in pods}
                        | {b["metadata"].get("namespace", "default") for b in pdbs})
    by_owner = defaultdict(list)
    bare = []
    for p in pods:
        kind, oname = owner(p)
        ns = p["metadata"].get("namespace", "default")
        if kind in ("ReplicaSet", "DaemonSet", "StatefulSet"):
            by_owner[(kind, ns, oname)].append(p)
        elif kind is None:
            bare.append(p)
        else:
            fail(f"pod {ns}/{p['metadata']['name']}: metadata.ownerReferences: kind {kind} "
                 "is not recreated (ReplicaSet, DaemonSet, StatefulSet or none)")

    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in namespaces]
    workloads = []
    pvs = []
    counts = defaultdict(int)
    for (kind, ns, oname), members in sorted(by_owner.items()):
        first = members[0]
        selector = {"matchLabels": dict(first["metadata"].get("labels") or {})}
        if not selector["matchLabels"]:
            fail(f"pod {ns}/{first['metadata']['name']}: metadata.labels is empty; "
                 f"its {kind} {oname} needs a selector")
        meta = {"name": oname, "namespace": ns, "labels": selector["matchLabels"]}
        counts[kind] += 1
        if kind == "ReplicaSet":
            workloads.append({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta,
                              "spec": {"replicas": len(members), "selector": selector,
                                       "template": template_of(first)}})
        elif kind == "DaemonSet":
            t = template_of(first)
            t["spec"]["tolerations"] = [{"operator": "Exists"}]
            workloads.append({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta,
                              "spec": {"selector": selector, "template": t}})
        else:
            t = template_of(first)
            claims = []
            vols = []
            for v in t["spec"].get("volumes") or []:
                if "persistentVolumeClaim" in v:
                    claims.append(v["name"])
                else:
                    vols.append(v)
            if vols:
                t["spec"]["volumes"] = vols
            else:
                t["spec"].pop("volumes", None)
            templates = [{"metadata": {"name": c},
                          "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "kwok-static",
                                   "resources": {"requests": {"storage": "1Gi"}}}} for c in claims]
            spec = {"replicas": len(members), "selector": selector, "serviceName": oname,
                    "podManagementPolicy": "Parallel", "template": t}
            if templates:
                spec["volumeClaimTemplates"] = templates
            workloads.append({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta, "spec": spec})
            for c in claims:
                for k in range(len(members)):
                    claim = f"{c}-{oname}-{k}"
                    pvs.append({"apiVersion": "v1", "kind": "PersistentVolume",
                                "metadata": {"name": f"{ns}-{claim}"},
                                "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                                         "persistentVolumeReclaimPolicy": "Retain",
                                         "storageClassName": "kwok-static",
                                         "claimRef": {"namespace": ns, "name": claim},
                                         "hostPath": {"path": f"/kwok/{ns}/{claim}"}}})
    for p in bare:
        counts["bare pod"] += 1
        spec = {k: v for k, v in p["spec"].items() if k != "nodeName"}
        workloads.append({"apiVersion": "v1", "kind": "Pod",
                          "metadata": {"name": p["metadata"]["name"], "namespace": p["metadata"].get("namespace", "default"),
                                       "labels": p["metadata"].get("labels") or {}},
                          "spec": spec})
    out_pdbs = []
    for b in pdbs:
        out_pdbs.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                         "metadata": {"name": b["metadata"]["name"], "namespace": b["metadata"].get("namespace", "default")},
                         "spec": b["spec"]})

    # DaemonSet pods: one per node the DaemonSet's template fits; the dumps have one per node.
    expected = len(pods)
    with open(f"{out}/nodes.json", "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": out_nodes}, f)
    with open(f"{out}/workloads.json", "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": objects + pvs + workloads + out_pdbs}, f)
    with open(f"{out}/summary.json", "w") as f:
        json.dump({"nodes": len(out_nodes), "pods": expected, "nodeGroups": {g: len(v) for g, v in sorted(groups.items())},
                   "workloads": dict(sorted(counts.items())), "persistentVolumes": len(pvs),
                   "pdbs": len(out_pdbs)}, f, indent=1)


if __name__ == "__main__":
    main(sys.argv)
