"""A workload as its developer writes it, for an AKS identity binding: azure-identity's
WorkloadIdentityCredential, configured only by the environment the webhook injected.

Run INSIDE a test-ground pod by tests/it/identity_binding_ground.rs (kubectl exec):

    ib_app.py proxy|direct SCOPE

`proxy` opts in with enable_azure_proxy=True (azure-identity >= 1.27.0: the SDK sends its token
request to AZURE_KUBERNETES_TOKEN_PROXY under AZURE_KUBERNETES_SNI_NAME, trusting only the CA in
AZURE_KUBERNETES_CA_FILE); `direct` does not, so the request goes to AZURE_AUTHORITY_HOST.
Instance discovery is off: the ground's Entra is a custom cloud (the webhook's
AzureStackCloud), as for any sovereign or Azure Stack authority.

Prints one JSON line: {"ok": true, "claims": {...access token claims...}} or
{"ok": false, "error": "<exception type>", "message": "..."}. The token itself is never printed.
"""

import base64
import json
import logging
import sys

from azure.identity import WorkloadIdentityCredential


def claims_of(jwt):
    payload = jwt.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


def main():
    # The verdict line carries the error; azure-identity's own warning on stderr would repeat it
    # (and a long stderr can stall an exec client that drains stdout first).
    logging.getLogger("azure").addHandler(logging.NullHandler())
    logging.getLogger("azure").propagate = False
    mode, scope = sys.argv[1], sys.argv[2]
    if mode not in ("proxy", "direct"):
        sys.exit(f"mode must be proxy or direct, not {mode!r}")
    kwargs = {"disable_instance_discovery": True}
    if mode == "proxy":
        kwargs["enable_azure_proxy"] = True
    try:
        token = WorkloadIdentityCredential(**kwargs).get_token(scope)
    except Exception as e:  # noqa: BLE001 - the verdict is the point
        print(json.dumps({"ok": False, "error": type(e).__name__, "message": str(e)}))
        return
    print(json.dumps({"ok": True, "claims": claims_of(token.token)}))


if __name__ == "__main__":
    main()
