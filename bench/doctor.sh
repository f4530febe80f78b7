#!/usr/bin/env bash
# doctor's cost: Kubernetes/ARM/https calls, waves, execs and wall time, read from the
# report's `stats` (-o json), and where the time went (`stats.phases`: wave 1 ends at wave1_ms;
# wave 2 and the exec, at once for a pod target, last wave2_ms and exec_ms). Usage:
#   bench/doctor.sh [DIR]   DIR = a running test ground (default: start one, torn down after)
# Sets up a pod bound by hand (emulator identity + federated credential, annotated SA,
# labelled pod), then runs doctor for the cluster, pod/, sa/ and pod/ --exchange, N times each.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-5}
if [ $# -ge 1 ]; then DIR=$1; else
  DIR=$(bash tests/ground/up.sh | tail -1); trap 'bash tests/ground/down.sh "$DIR" >/dev/null' EXIT
fi
set -a; . "$DIR/env"; set +a
# BIN=target/debug/kubectl-azwi skips the release build (call counts do not depend on it).
if [ -z "${BIN:-}" ]; then cargo build -q --release --bin kubectl-azwi; BIN=target/release/kubectl-azwi; fi
K=$AZWI_GROUND_KUBECTL
export SSL_CERT_FILE=$AZWI_GROUND_CA
CURL=(curl -sS --cacert "$AZWI_GROUND_CA")
EMU=$AZURE_EMULATOR_URL

sub=$("${CURL[@]}" -X POST -H 'content-type: application/json' -d "{\"tenantId\":\"$AZWI_GROUND_TENANT\"}" "$EMU/_emulator/subscriptions")
S=$(jq -r .subscriptionId <<<"$sub"); CID=$(jq -r .owner.clientId <<<"$sub"); SEC=$(jq -r .owner.clientSecret <<<"$sub")
TOKEN=$("${CURL[@]}" "$EMU/$AZWI_GROUND_TENANT/oauth2/v2.0/token" -d grant_type=client_credentials \
  -d client_id="$CID" --data-urlencode client_secret="$SEC" --data-urlencode scope=https://management.azure.com/.default | jq -r .access_token)
arm() { "${CURL[@]}" -X PUT -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "$2" "$EMU$1"; }
arm "/subscriptions/$S/resourcegroups/rg?api-version=2021-04-01" '{"location":"eastus"}' >/dev/null
ID=/subscriptions/$S/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/bench
APP=$(arm "$ID?api-version=2023-01-31" '{"location":"eastus"}' | jq -r .properties.clientId)
NS=bench-doctor-$RANDOM
arm "$ID/federatedIdentityCredentials/bench?api-version=2023-01-31" \
  "{\"properties\":{\"issuer\":\"$AZWI_GROUND_ISSUER\",\"subject\":\"system:serviceaccount:$NS:wi\",\"audiences\":[\"api://AzureADTokenExchange\"]}}" >/dev/null
$K create ns "$NS" >/dev/null
$K -n "$NS" create sa wi >/dev/null
$K -n "$NS" annotate sa wi "azure.workload.identity/client-id=$APP" >/dev/null
$K -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: app, labels: {azure.workload.identity/use: "true"}}
spec:
  serviceAccountName: wi
  containers:
  - name: app
    image: busybox
    env: [{name: AZURE_AUTHORITY_HOST, value: "$EMU"}]
YAML
$K -n "$NS" wait --for=condition=Ready pod/app --timeout=60s >/dev/null

export AZURE_TENANT_ID=$AZWI_GROUND_TENANT AZURE_CLIENT_ID=$CID AZURE_CLIENT_SECRET=$SEC \
  AZURE_SUBSCRIPTION_ID=$S AZWI_ARM_ENDPOINT=$EMU AZURE_AUTHORITY_HOST=$EMU
printf '%-22s %6s %5s %5s %5s %6s %5s %9s %9s %8s %8s %8s\n' target exit kube arm https execs waves gather_ms wall_ms wave1_ms wave2_ms exec_ms
for args in "" "pod/app" "sa/wi" "pod/app --exchange"; do
  for _ in $(seq "$N"); do
    t0=$(date +%s%N)
    set +e; out=$($BIN doctor $args -n "$NS" -o json); rc=$?; set -e
    t1=$(date +%s%N)
    jq -r --arg t "${args:-<cluster>}" --arg rc "$rc" --arg wall $(( (t1 - t0) / 1000000 )) \
      '.stats | [$t, $rc, .kubeCalls, .armCalls, .httpCalls, .execs, .waves, .gatherMs, $wall,
        .phases.wave1Ms, .phases.wave2Ms, .phases.execMs] | @tsv' <<<"$out"
  done
done | awk -F'\t' '{printf "%-22s %6s %5s %5s %5s %6s %5s %9s %9s %8s %8s %8s\n", $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12}'
# What wave 2 waits for at the least, on this ground: the same three Azure requests one after
# another (token, identity list, credential list), by curl on its own connections.
chain() {
  local t0 t1 tok
  t0=$(date +%s%N)
  tok=$("${CURL[@]}" "$EMU/$AZWI_GROUND_TENANT/oauth2/v2.0/token" -d grant_type=client_credentials \
    -d client_id="$CID" --data-urlencode client_secret="$SEC" \
    --data-urlencode scope=https://management.azure.com/.default | jq -r .access_token)
  "${CURL[@]}" -o /dev/null -H "authorization: Bearer $tok" \
    "$EMU/subscriptions/$S/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2023-01-31"
  "${CURL[@]}" -o /dev/null -H "authorization: Bearer $tok" "$ID/federatedIdentityCredentials?api-version=2023-01-31"
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
ID=$EMU$ID
printf 'azure chain by curl (token, identity list, credential list), ms:'
for _ in $(seq "$N"); do printf ' %s' "$(chain)"; done
echo
$K delete ns "$NS" --wait=false >/dev/null
