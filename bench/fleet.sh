#!/usr/bin/env bash
# Creates bench namespaces FROM..TO (inclusive), each with 100 ServiceAccounts (every other one
# annotated with a client id) and 1,000 bare pods spread over them. Pods carry a scheduler name
# nobody serves, so they stay Pending: stored objects of full size, no scheduling or kubelet work.
#   bench/fleet.sh FROM TO          (needs KUBECTL and KUBECONFIG, e.g. from a ground's env)
set -euo pipefail
FROM=${1:?FROM}; TO=${2:?TO}
KUBECTL=${KUBECTL:-kubectl}
SA_PER_NS=${SA_PER_NS:-100}
PODS_PER_NS=${PODS_PER_NS:-1000}
CHUNK=${CHUNK:-250}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

python3 - "$TMP" "$FROM" "$TO" "$SA_PER_NS" "$PODS_PER_NS" "$CHUNK" <<'PY'
import json, sys, uuid
tmp, lo, hi, nsa, npod, chunk = sys.argv[1], *map(int, sys.argv[2:])
def write(name, items):
    with open(f"{tmp}/{name}.json", "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f)
for n in range(lo, hi + 1):
    ns = f"azwi-bench-{n:02d}"
    write(f"0-ns-{ns}", [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}])
    sas = []
    for i in range(nsa):
        ann = {"azure.workload.identity/client-id": str(uuid.UUID(int=n * 100000 + i))} if i % 2 == 0 else {}
        sas.append({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": f"sa-{i:03d}", "namespace": ns, "annotations": ann}})
    write(f"1-sa-{ns}", sas)
    for c in range(0, npod, chunk):
        pods = []
        for i in range(c, min(c + chunk, npod)):
            pods.append({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": f"pod-{i:04d}", "namespace": ns,
                             "labels": {"app": f"app-{i % 37}", "pod-template-hash": "5d8f7c9b6"}},
                "spec": {"serviceAccountName": f"sa-{i % nsa:03d}", "schedulerName": "azwi-bench-unscheduled",
                         "containers": [{"name": "app", "image": "registry.example/app:1.0",
                                         "env": [{"name": "MODE", "value": "bench"}],
                                         "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}})
        write(f"2-pod-{ns}-{c:04d}", pods)
PY
# Namespaces first, then ServiceAccounts (pods need them), then pods, four files at a time.
for stage in 0 1 2; do
  ls "$TMP"/$stage-*.json | xargs -P 4 -I{} "$KUBECTL" create -f {} -o name >/dev/null
done
