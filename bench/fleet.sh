#!/usr/bin/env bash
# Creates bench namespaces FROM..TO (inclusive), each with 100 ServiceAccounts (every other one
# annotated with a client id) and 1,000 pods spread over them, of production size: the pods of
# annotated ServiceAccounts carry the use label and what webhook v1.6 writes at admission (four
# env variables, the reserved projected token volume and its mount), every pod a few labels and
# annotations, ports, probes and resources; the API server adds managedFields, the
# kube-api-access volume and status. The webhook's output is written here rather than asked of
# it (namespaces labelled `azwi.test/webhook=none`): the same bytes, without 50,000 admission
# calls. Pods carry a scheduler name nobody serves, so they stay Pending: stored objects of full
# size, no scheduling or kubelet work.
#   bench/fleet.sh FROM TO          (needs KUBECTL and KUBECONFIG, e.g. from a ground's env)
set -euo pipefail
FROM=${1:?FROM}; TO=${2:?TO}
KUBECTL=${KUBECTL:-kubectl}
SA_PER_NS=${SA_PER_NS:-100}
PODS_PER_NS=${PODS_PER_NS:-1000}
CHUNK=${CHUNK:-250}
PARALLEL=${PARALLEL:-6}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

python3 - "$TMP" "$FROM" "$TO" "$SA_PER_NS" "$PODS_PER_NS" "$CHUNK" <<'PY'
import hashlib, json, sys, uuid
tmp, lo, hi, nsa, npod, chunk = sys.argv[1], *map(int, sys.argv[2:])
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
def write(name, items):
    with open(f"{tmp}/{name}.json", "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f)
def client_id(n, i):
    return str(uuid.UUID(int=n * 100000 + i))
def pod(ns, n, i):
    sa = i % nsa
    bound = sa % 2 == 0
    app = f"app-{i % 37}"
    labels = {"app": app, "app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "bench",
              "pod-template-hash": "5d8f7c9b6", "version": "1.0.3"}
    env = [{"name": "MODE", "value": "bench"}, {"name": "LOG_LEVEL", "value": "info"},
           {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}]
    mounts = []
    volumes = [{"name": "config", "configMap": {"name": f"{app}-config", "defaultMode": 420}}]
    mounts.append({"name": "config", "mountPath": "/etc/app", "readOnly": True})
    if bound:
        labels["azure.workload.identity/use"] = "true"
        vol = "azure-workload-identity-reserved-" + hashlib.sha256(f"{ns}/{sa}".encode()).hexdigest()[:30]
        env += [{"name": "AZURE_CLIENT_ID", "value": client_id(n, sa)},
                {"name": "AZURE_TENANT_ID", "value": TENANT},
                {"name": "AZURE_FEDERATED_TOKEN_FILE", "value": "/var/run/secrets/azure/wi/token/azure-identity-token"},
                {"name": "AZURE_AUTHORITY_HOST", "value": "https://login.microsoftonline.com/"}]
        mounts.append({"name": vol, "mountPath": "/var/run/secrets/azure/wi", "readOnly": True})
        volumes.append({"name": vol, "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {
            "audience": "api://AzureADTokenExchange", "expirationSeconds": 3600, "path": "token/azure-identity-token"}}]}})
    return {"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"{app}-5d8f7c9b6-{i:05d}", "namespace": ns, "labels": labels,
                     "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9090",
                                     "kubectl.kubernetes.io/restartedAt": "2026-11-30T09:12:44Z",
                                     "azure.workload.identity/proxy-sidecar-port": "8000"}},
        "spec": {"serviceAccountName": f"sa-{sa:03d}", "schedulerName": "azwi-bench-unscheduled",
                 "containers": [{"name": "app", "image": f"registry.example/{app}:1.0.3",
                                 "imagePullPolicy": "IfNotPresent", "env": env, "volumeMounts": mounts,
                                 "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                                           {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}],
                                 "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
                                 "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                                               "limits": {"memory": "64Mi"}}}],
                 "volumes": volumes}}
for n in range(lo, hi + 1):
    ns = f"azwi-bench-{n:02d}"
    write(f"0-ns-{ns}", [{"apiVersion": "v1", "kind": "Namespace",
                          "metadata": {"name": ns, "labels": {"azwi.test/webhook": "none"}}}])
    sas = []
    for i in range(nsa):
        ann = {"azure.workload.identity/client-id": client_id(n, i)} if i % 2 == 0 else {}
        sas.append({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": f"sa-{i:03d}", "namespace": ns, "annotations": ann}})
    write(f"1-sa-{ns}", sas)
    for c in range(0, npod, chunk):
        write(f"2-pod-{ns}-{c:04d}", [pod(ns, n, i) for i in range(c, min(c + chunk, npod))])
PY
# Namespaces first, then ServiceAccounts (pods need them), then pods, PARALLEL files at a time.
for stage in 0 1 2; do
  ls "$TMP"/$stage-*.json | xargs -P "$PARALLEL" -I{} "$KUBECTL" create -f {} -o name >/dev/null
done
