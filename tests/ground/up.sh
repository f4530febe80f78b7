#!/usr/bin/env bash
# Starts test ground I on 127.0.0.1 with free ports: azure-emulator (issuer host), etcd,
# kube-apiserver, kube-controller-manager, kwok (one fake node, kubectl exec), ground-agent
# (scheduler + kubelet stand-in) and the real Azure Workload Identity webhook in two versions,
# v1.6.0 once more with identity bindings enabled (its token proxy is played by the emulator).
#
#   tests/ground/up.sh [--dir DIR] [--owner-pid PID]
#
# Prints DIR as the last stdout line once everything is ready (source DIR/env); exits non-zero
# naming the failed piece and its log otherwise. With --owner-pid, a reaper runs
# tests/ground/down.sh DIR when PID exits. Needs root (webhooks run in their own network
# namespace, exec shims use mount namespaces). Go binaries come from tests/ground/build.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$GROUND_DIR/../.." && pwd)
T0=$(date +%s%N)

DIR=
OWNER=
while [ $# -gt 0 ]; do
  case $1 in
    --dir) DIR=$2; shift 2 ;;
    --owner-pid) OWNER=$2; shift 2 ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (usage: up.sh [--dir DIR] [--owner-pid PID])" ;;
  esac
done

[ "$(id -u)" = 0 ] || die "up.sh needs root (network and mount namespaces)"
for b in kube-apiserver kube-controller-manager kubectl etcd kwok azwi-webhook azwi-webhook-old; do
  [ -x "$GROUND_BIN/$b" ] || die "missing $GROUND_BIN/$b: run tests/ground/build.sh"
done
for t in openssl curl unshare ip setsid ss; do
  command -v "$t" >/dev/null || die "missing tool: $t"
done

TARGET=${CARGO_TARGET_DIR:-$REPO/target}
case $TARGET in /*) ;; *) TARGET=$REPO/$TARGET ;; esac
AGENT=$TARGET/debug/ground-agent
EMULATOR=${AZWI_GROUND_EMULATOR_BIN:-$TARGET/debug/azure-emulator}
if [ ! -x "$AGENT" ] || [ ! -x "$EMULATOR" ]; then
  log "building ground-agent and azure-emulator"
  (cd "$REPO" && cargo build -q -p ground-agent -p azure-emulator) >&2 || die "cargo build -p ground-agent -p azure-emulator failed"
fi

if [ -z "$DIR" ]; then
  mkdir -p "$GROUND_CACHE/run"
  DIR=$(mktemp -d "$GROUND_CACHE/run/$(date +%Y%m%d-%H%M%S)-XXXX")
fi
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
for f in "$DIR"/pids/*; do
  [ -e "$f" ] || continue
  if kill -0 "$(cat "$f")" 2>/dev/null; then die "ground already running in $DIR: run tests/ground/down.sh $DIR"; fi
done
rm -rf "$DIR"/{etcd,pki,logs,pids,sock,pods,shim,manifests,webhook,kwok-home} "$DIR"/{env,kubeconfig,kwok.yaml}
mkdir -p "$DIR"/{etcd,pki,logs,pids,sock,pods,shim,manifests,webhook,kwok-home}
chmod 700 "$DIR/etcd"
P=$DIR/pki

failed() { # piece message
  local piece=$1; shift
  printf 'ground: %s failed: %s (log: %s)\n' "$piece" "$*" "$DIR/logs/$piece.log" >&2
  tail -n 15 "$DIR/logs/$piece.log" 2>/dev/null | sed 's/^/  | /' >&2 || true
  "$GROUND_DIR/down.sh" "$DIR" >/dev/null 2>&1 || true
  exit 1
}

# --- ports and identities -------------------------------------------------------------------
USED=" $(ss -Htln | awk '{n=split($4,a,":"); printf "%s ", a[n]}') "
# Below the kernel's ephemeral range: a port from inside it can be taken, between this pick and
# the listener's bind, by any outgoing connection on the machine (seen: the webhook's forward
# failing with "Address already in use").
EPHEMERAL_LO=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
[ "$EPHEMERAL_LO" -gt 12000 ] || EPHEMERAL_LO=32768
port() { # VAR
  local p
  while :; do
    p=$((10000 + RANDOM % (EPHEMERAL_LO - 10000)))
    case $USED in *" $p "*) continue ;; esac
    USED="$USED$p "
    printf -v "$1" %s "$p"
    return
  done
}
port EMU_PORT; port ETCD_PORT; port ETCD_PEER_PORT; port API_PORT; port KWOK_PORT; port WH_PORT; port WH_OLD_PORT
port WH_IB_PORT; port IB_PROXY_PORT
TENANT=$(cat /proc/sys/kernel/random/uuid)
ISSUER_UUID=$(cat /proc/sys/kernel/random/uuid)
ISSUER=https://127.0.0.1:$EMU_PORT/$TENANT/$ISSUER_UUID/
API=https://127.0.0.1:$API_PORT
NODE=azwi-node-0
# AKS identity bindings: the webhook's custom token endpoint settings, as upstream's e2e sets
# them (v1.6.0 scripts/ci-e2e.sh: suffix identity-binding, audience api://AKSIdentityBinding, a
# 46-hex-digit SNI name, CA from the ConfigMap kube-root-ca.crt). The proxy is the emulator's
# second port; pods run on the host's network, so the address is 127.0.0.1, not the
# kubernetes Service.
IB_AUDIENCE=api://AKSIdentityBinding
IB_SNI=$(od -An -N23 -tx1 /dev/urandom | tr -d ' \n')
IB_PROXY=https://127.0.0.1:$IB_PROXY_PORT
IB_PROXY_USER=aks-identity-binding-proxy

# --- PKI ------------------------------------------------------------------------------------
ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
leaf() { # name subject eku [san]
  ec_key "$P/$1.key"
  openssl req -new -key "$P/$1.key" -subj "$2" -out "$P/$1.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$3"
    [ -z "${4:-}" ] || echo "subjectAltName=$4"
  } >"$P/$1.ext"
  openssl x509 -req -in "$P/$1.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -CAserial "$P/ca.srl" \
    -days 30 -extfile "$P/$1.ext" -out "$P/$1.crt" 2>/dev/null
  rm -f "$P/$1.csr" "$P/$1.ext"
}
(
  set -e # (runs in the background so that set -e holds; see the wait below)
  ec_key "$P/ca.key"
  openssl req -x509 -new -key "$P/ca.key" -subj "/CN=azwi-ground-ca" -days 30 -out "$P/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  SAN_LOCAL="IP:127.0.0.1,DNS:localhost"
  leaf apiserver "/CN=kube-apiserver" serverAuth "$SAN_LOCAL,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1"
  # graph.microsoft.com: the emulator answers for it through its CONNECT proxy (azure-emulator README).
  leaf emulator "/CN=azure-emulator" serverAuth "$SAN_LOCAL,DNS:graph.microsoft.com"
  leaf kwok "/CN=$NODE" serverAuth "$SAN_LOCAL,DNS:$NODE"
  leaf webhook "/CN=azure-wi-webhook" serverAuth \
    "$SAN_LOCAL,DNS:azure-wi-webhook-webhook-service.azure-workload-identity-system.svc"
  leaf admin "/O=system:masters/CN=azwi-ground-admin" clientAuth
  # The token proxy: serves under the SNI name (trusted through kube-root-ca.crt) and calls
  # TokenReview/SubjectAccessReview as its own user (ClusterRole system:auth-delegator).
  leaf ib-proxy "/CN=$IB_SNI" serverAuth "DNS:$IB_SNI"
  leaf ib-proxy-client "/CN=$IB_PROXY_USER" clientAuth
  leaf limited "/CN=azwi-limited" clientAuth
  leaf apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$P/sa.key" 2>/dev/null
  openssl pkey -in "$P/sa.key" -pubout -out "$P/sa.pub" 2>/dev/null
  mkdir -p "$P/webhook"
  cp "$P/webhook.crt" "$P/webhook/tls.crt"; cp "$P/webhook.key" "$P/webhook/tls.key"
) &
wait $! || die "PKI generation with openssl failed"
CA=$P/ca.crt

# --- kubeconfig -----------------------------------------------------------------------------
b64() { base64 -w0 <"$1"; }
cat >"$DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: azwi-ground
  cluster:
    server: $API
    certificate-authority-data: $(b64 "$CA")
users:
- name: azwi-ground-admin
  user:
    client-certificate-data: $(b64 "$P/admin.crt")
    client-key-data: $(b64 "$P/admin.key")
- name: azwi-limited
  user:
    client-certificate-data: $(b64 "$P/limited.crt")
    client-key-data: $(b64 "$P/limited.key")
contexts:
- name: azwi-ground
  context: {cluster: azwi-ground, user: azwi-ground-admin, namespace: default}
- name: azwi-ground-limited
  context: {cluster: azwi-ground, user: azwi-limited, namespace: default}
current-context: azwi-ground
EOF
chmod 600 "$DIR/kubeconfig"
KUBECTL=("$GROUND_BIN/kubectl" --kubeconfig "$DIR/kubeconfig" --context azwi-ground)

# --- process helpers ------------------------------------------------------------------------
start() { # piece cmd... : own session/process group, output to logs/<piece>.log
  local piece=$1; shift
  setsid "$@" >"$DIR/logs/$piece.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$piece"
  disown $!
}
alive() { kill -0 "$(cat "$DIR/pids/$1")" 2>/dev/null; }
wait_for() { # piece timeout-seconds description command...
  local piece=$1 t=$2 what=$3; shift 3
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    alive "$piece" || failed "$piece" "exited while waiting for: $what"
    [ $SECONDS -lt $end ] || failed "$piece" "timed out after ${t}s waiting for: $what"
    sleep 0.1
  done
}
# Let a piece write its first output before a wait checks it.
log_has() { grep -q "$2" "$DIR/logs/$1.log"; }

# --- emulator, etcd, apiserver --------------------------------------------------------------
start azure-emulator "$EMULATOR" --listen "127.0.0.1:$EMU_PORT" --tls-cert "$P/emulator.crt" --tls-key "$P/emulator.key" \
  --trust-ca "$CA" --issuer-path "/$TENANT/$ISSUER_UUID/" --issuer-jwks-upstream "$API/openid/v1/jwks" \
  --ib-proxy-listen "127.0.0.1:$IB_PROXY_PORT" --ib-proxy-cert "$P/ib-proxy.crt" --ib-proxy-key "$P/ib-proxy.key" \
  --kube-apiserver "$API" --kube-ca "$CA" --kube-client-cert "$P/ib-proxy-client.crt" --kube-client-key "$P/ib-proxy-client.key"
start etcd "$GROUND_BIN/etcd" --name ground --data-dir "$DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "ground=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync --snapshot-count 100000 --log-level warn
start kube-apiserver "$GROUND_BIN/kube-apiserver" \
  --bind-address 127.0.0.1 --secure-port "$API_PORT" --advertise-address 127.0.0.1 \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --tls-cert-file "$P/apiserver.crt" --tls-private-key-file "$P/apiserver.key" --client-ca-file "$CA" \
  --authorization-mode Node,RBAC --allow-privileged=true \
  --service-cluster-ip-range 10.96.0.0/16 \
  --service-account-issuer "$ISSUER" --service-account-jwks-uri "${ISSUER}openid/v1/jwks" \
  --service-account-key-file "$P/sa.pub" --service-account-signing-key-file "$P/sa.key" \
  --api-audiences "https://kubernetes.default.svc.cluster.local,$ISSUER" \
  --kubelet-preferred-address-types InternalIP --kubelet-certificate-authority "$CA" \
  --kubelet-client-certificate "$P/apiserver-kubelet-client.crt" --kubelet-client-key "$P/apiserver-kubelet-client.key" \
  --enable-priority-and-fairness=false --profiling=false --endpoint-reconciler-type none
wait_for etcd 20 "etcd /health" curl -sf "http://127.0.0.1:$ETCD_PORT/health"
wait_for azure-emulator 20 "'azure-emulator listening on' in its log" log_has azure-emulator "azure-emulator listening on"
wait_for kube-apiserver 60 "$API/readyz" curl -sf --cacert "$CA" --cert "$P/admin.crt" --key "$P/admin.key" "$API/readyz"

# --- cluster objects ------------------------------------------------------------------------
CA_B64=$(b64 "$CA")
webhook_config() { # name port selector-operator
  cat <<EOF
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: $1
  labels:
    app: workload-identity-webhook
    chart: workload-identity-webhook
    release: workload-identity-webhook
    azure-workload-identity.io/system: "true"
  annotations:
    azwi.test/ground: "out-of-cluster webhook at https://127.0.0.1:$2 (routing: namespace label azwi.test/webhook)"
webhooks:
- name: mutation.azure-workload-identity.io
  admissionReviewVersions: [v1, v1beta1]
  clientConfig:
    url: https://127.0.0.1:$2/mutate-v1-pod
    caBundle: $CA_B64
  failurePolicy: Fail
  matchPolicy: Equivalent
  reinvocationPolicy: IfNeeded
  sideEffects: None
  timeoutSeconds: 10
  namespaceSelector:
    matchExpressions:
    - {key: azwi.test/webhook, operator: $3, values: [$4]}
  objectSelector:
    matchLabels:
      azure.workload.identity/use: "true"
  rules:
  - apiGroups: [""]
    apiVersions: [v1]
    operations: [CREATE]
    resources: [pods]
EOF
}
{
  cat <<EOF
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: execs.kwok.x-k8s.io
spec:
  group: kwok.x-k8s.io
  names: {kind: Exec, listKind: ExecList, plural: execs, singular: exec}
  scope: Namespaced
  versions:
  - name: v1alpha1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: azwi-ground:service-account-issuer-discovery
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:unauthenticated"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:service-account-issuer-discovery"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: azwi-ground:azwi-limited-view
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: azwi-limited}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
---
# The identity-binding token proxy (the emulator) reviews pod tokens and asks RBAC.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: azwi-ground:$IB_PROXY_USER
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: $IB_PROXY_USER}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:auth-delegator"}
---
# As the Helm chart installs it: the webhook's settings, where tools (and bind) read its tenant.
apiVersion: v1
kind: Namespace
metadata:
  name: azure-workload-identity-system
  labels: {azure-workload-identity.io/system: "true"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: azure-wi-webhook-config
  namespace: azure-workload-identity-system
  labels: {azure-workload-identity.io/system: "true"}
data:
  AZURE_ENVIRONMENT: AzureStackCloud
  AZURE_TENANT_ID: "$TENANT"
---
apiVersion: v1
kind: Node
metadata:
  name: $NODE
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: $NODE
    kubernetes.io/os: linux
    type: kwok
---
EOF
  webhook_config azure-wi-webhook-mutating-webhook-configuration "$WH_PORT" NotIn "v1.5.1, none, identity-binding"
  echo ---
  webhook_config azure-wi-webhook-mutating-webhook-configuration-v1-5-1 "$WH_OLD_PORT" In v1.5.1
  echo ---
  webhook_config azure-wi-webhook-mutating-webhook-configuration-identity-binding "$WH_IB_PORT" In identity-binding
} >"$DIR/manifests/bootstrap.yaml"
"${KUBECTL[@]}" apply -f "$DIR/manifests/bootstrap.yaml" >"$DIR/logs/bootstrap.log" 2>&1 ||
  failed bootstrap "kubectl apply -f $DIR/manifests/bootstrap.yaml"

# --- controller manager, kwok, webhooks, agent ----------------------------------------------
start kube-controller-manager "$GROUND_BIN/kube-controller-manager" --kubeconfig "$DIR/kubeconfig" \
  --leader-elect=false --secure-port 0 --use-service-account-credentials=false \
  --service-account-private-key-file "$P/sa.key" --root-ca-file "$CA" \
  --cluster-signing-cert-file "$CA" --cluster-signing-key-file "$P/ca.key" \
  --controllers '*,-node-lifecycle-controller,-node-ipam-controller' \
  --concurrent-gc-syncs 5 --kube-api-qps 100 --kube-api-burst 200

mkdir -p /var/run/secrets # mount point for the exec shim's per-pod view
for c in sh bash cat env printenv ls test head base64 az id stat echo true false ground-exec-probe; do
  ln -s "$GROUND_DIR/exec-shim.sh" "$DIR/shim/$c"
done
cp "$GROUND_DIR/kwok-stages.yaml" "$DIR/kwok.yaml"
# Clean env: kwok's own env is inherited by exec'd commands (the container env is appended).
start kwok env -i PATH="$DIR/shim:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$DIR/kwok-home" \
  "$GROUND_BIN/kwok" --kubeconfig "$DIR/kubeconfig" --config "$DIR/kwok.yaml" --manage-single-node "$NODE" \
  --node-ip 127.0.0.1 --node-port "$KWOK_PORT" --server-address "127.0.0.1:$KWOK_PORT" \
  --tls-cert-file "$P/kwok.crt" --tls-private-key-file "$P/kwok.key" --enable-crds Exec

# Upstream's webhook server always binds :9443 (no flag), so each webhook gets its own network
# namespace; ground-agent forwards pipe host 127.0.0.1:PORT <-> unix socket <-> netns :9443, and
# the apiserver into the namespace the same way.
start api-forward "$AGENT" forward "unix:$DIR/sock/api.sock" "tcp:127.0.0.1:$API_PORT"
# The ground's Azure is the emulator: the webhook is configured as for a custom cloud (Azure
# Stack's AZURE_ENVIRONMENT_FILEPATH, read by go-autorest), so pods get AZURE_AUTHORITY_HOST
# pointing at the emulator's Entra endpoint, exactly as a sovereign cloud's pods get theirs.
cat >"$DIR/azure-environment.json" <<EOF
{"name": "AzureStackCloud", "activeDirectoryEndpoint": "https://127.0.0.1:$EMU_PORT/",
 "resourceManagerEndpoint": "https://127.0.0.1:$EMU_PORT/", "tokenAudience": "https://management.azure.com/"}
EOF
# The proxy images a release names (the release build stamps them into the binary; the
# ground's build does not, so they come the supported other way, the PROXY_IMAGE and
# PROXY_INIT_IMAGE settings of pkg/config).
REGISTRY=mcr.microsoft.com/oss/azure/workload-identity
WH_ENV=() WH_ARGS=() # extra settings and flags for the next webhook() call
webhook() { # piece binary port version
  local sock=$DIR/sock/$1.sock
  start "$1-forward" "$AGENT" forward "tcp:127.0.0.1:$3" "unix:$sock"
  # shellcheck disable=SC2016
  start "$1" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$DIR/webhook" KUBECONFIG="$DIR/kubeconfig" \
    AZURE_TENANT_ID="$TENANT" AZURE_ENVIRONMENT=AzureStackCloud AZURE_ENVIRONMENT_FILEPATH="$DIR/azure-environment.json" \
    PROXY_IMAGE="$REGISTRY/proxy:$4" PROXY_INIT_IMAGE="$REGISTRY/proxy-init:$4" \
    POD_NAMESPACE=azure-workload-identity-system "${WH_ENV[@]}" \
    unshare --net -- /bin/sh -c '
      ip link set lo up || exit 1
      "$1" forward "tcp:127.0.0.1:$2" "unix:$3" 2>>"$4" &
      "$1" forward "unix:$5" tcp:127.0.0.1:9443 2>>"$4" &
      shift 5
      exec "$@"' netns "$AGENT" "$API_PORT" "$DIR/sock/api.sock" "$DIR/logs/$1-netns-forward.log" "$sock" \
    "$GROUND_BIN/$2" --webhook-cert-dir "$P/webhook" --disable-cert-rotation --log-level info \
    --health-addr 127.0.0.1:9440 --metrics-addr 127.0.0.1:8095 "${WH_ARGS[@]}"
  WH_ENV=() WH_ARGS=()
}
webhook azwi-webhook azwi-webhook "$WH_PORT" "$AZWI_VERSION"
webhook azwi-webhook-old azwi-webhook-old "$WH_OLD_PORT" "$AZWI_OLD_VERSION"
# The same v1.6.0 with identity bindings on: flags and settings of its Helm chart's
# customTokenEndpoint values (deployment args, azure-wi-webhook-config ConfigMap keys).
WH_ENV=(AZURE_KUBERNETES_TOKEN_PROXY="$IB_PROXY" AZURE_KUBERNETES_SNI_NAME="$IB_SNI"
  AZURE_KUBERNETES_CA_CONFIGMAP_NAME=kube-root-ca.crt)
WH_ARGS=(--custom-token-endpoint-annotation-suffix=identity-binding "--custom-token-endpoint-audience=$IB_AUDIENCE")
webhook azwi-webhook-ib azwi-webhook "$WH_IB_PORT" "$AZWI_VERSION"

start ground-agent env GROUND_AGENT_LOG=info KUBECONFIG="$DIR/kubeconfig" \
  "$AGENT" run --dir "$DIR" --node "$NODE" --pod-bin "$GROUND_DIR/pod-bin"

# --- readiness ------------------------------------------------------------------------------
webhook_answers() { # port: any HTTP answer from the registered handler (404 = not registered yet)
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" -X POST -H 'Content-Type: application/json' \
    -d '{}' "https://127.0.0.1:$1/mutate-v1-pod") || true
  [ "$code" != 000 ] && [ "$code" != 404 ]
}
node_ready() {
  [ "$("${KUBECTL[@]}" get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
wait_for kwok 30 "node $NODE Ready" node_ready
wait_for kube-controller-manager 30 "serviceaccount default/default" "${KUBECTL[@]}" get serviceaccount default -n default
wait_for kwok 20 "CRD execs.kwok.x-k8s.io established" "${KUBECTL[@]}" wait --for condition=Established --timeout 1s crd/execs.kwok.x-k8s.io
wait_for azwi-webhook 30 "https://127.0.0.1:$WH_PORT/mutate-v1-pod" webhook_answers "$WH_PORT"
wait_for azwi-webhook-old 30 "https://127.0.0.1:$WH_OLD_PORT/mutate-v1-pod" webhook_answers "$WH_OLD_PORT"
wait_for azwi-webhook-ib 30 "https://127.0.0.1:$WH_IB_PORT/mutate-v1-pod" webhook_answers "$WH_IB_PORT"
wait_for ground-agent 20 "initial pod list synced" log_has ground-agent "initial pod list synced"

cat >"$DIR/env" <<EOF
KUBECONFIG=$DIR/kubeconfig
AZWI_GROUND_DIR=$DIR
AZWI_GROUND_CA=$CA
AZWI_GROUND_APISERVER=$API
AZWI_GROUND_ISSUER=$ISSUER
AZWI_GROUND_TENANT=$TENANT
AZURE_EMULATOR_URL=https://127.0.0.1:$EMU_PORT
AZWI_GROUND_KUBECTL=$GROUND_BIN/kubectl
AZWI_GROUND_BIN=$GROUND_BIN
AZWI_GROUND_WEBHOOK_VERSION=$AZWI_VERSION
AZWI_GROUND_WEBHOOK_OLD_VERSION=$AZWI_OLD_VERSION
AZWI_GROUND_WEBHOOK_URL=https://127.0.0.1:$WH_PORT/mutate-v1-pod
AZWI_GROUND_WEBHOOK_OLD_URL=https://127.0.0.1:$WH_OLD_PORT/mutate-v1-pod
AZWI_GROUND_NODE=$NODE
AZWI_GROUND_WEBHOOK_IB_URL=https://127.0.0.1:$WH_IB_PORT/mutate-v1-pod
AZWI_GROUND_IB_NAMESPACE_LABEL=azwi.test/webhook=identity-binding
AZWI_GROUND_IB_AUDIENCE=$IB_AUDIENCE
AZWI_GROUND_IB_PROXY=$IB_PROXY
AZWI_GROUND_IB_SNI=$IB_SNI
AZWI_GROUND_IB_PROXY_USER=$IB_PROXY_USER
EOF

if [ -n "$OWNER" ]; then
  setsid sh -c 'tail --pid="$1" -f /dev/null; exec "$2" "$3"' reaper "$OWNER" "$GROUND_DIR/down.sh" "$DIR" \
    >"$DIR/logs/reaper.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/reaper"
fi
log "ground ready in $(( ($(date +%s%N) - T0) / 1000000 )) ms: source $DIR/env"
echo "$DIR"
