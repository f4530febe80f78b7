"""Microsoft's azure-mgmt-containerservice (the one azure-cli 2.91.0 pins) drives the emulator's
AKS long-running operations with its own pollers (azure-mgmt-core ARMPolling): managedClusters
begin_create_or_update / begin_delete, identity_bindings begin_create_or_update / get /
list_by_managed_cluster / begin_delete, and a binding operation that ends Failed.
Run by tests/aks_sdk.rs with the az venv's python; prints one JSON line of what it saw."""

import json
import os
import sys
import time

from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.containerservice import ContainerServiceClient

env = os.environ.get


class StaticToken:
    """An ARM token minted by the test (the SDK only needs get_token)."""

    def get_token(self, *scopes, **kwargs):
        return AccessToken(env("AZWI_ARM_TOKEN"), int(time.time()) + 3600)


def main():
    client = ContainerServiceClient(
        StaticToken(), env("AZWI_SUBSCRIPTION_ID"), base_url=env("AZWI_EMULATOR_URL")
    )
    rg, identity = env("AZWI_RESOURCE_GROUP"), env("AZWI_IDENTITY_ID")
    seen = {}
    cluster = client.managed_clusters.begin_create_or_update(
        rg,
        "aks1",
        {
            "location": "eastus",
            "properties": {
                "dnsPrefix": "aks1",
                "oidcIssuerProfile": {"enabled": True},
                "securityProfile": {"workloadIdentity": {"enabled": True}},
            },
        },
    ).result()
    seen["cluster_state"] = cluster.properties.provisioning_state
    seen["issuer"] = cluster.properties.oidc_issuer_profile.issuer_url
    body = {"properties": {"managedIdentity": {"resourceId": identity}}}
    # The test queued one failure: the first binding operation ends Failed.
    try:
        client.identity_bindings.begin_create_or_update(rg, "aks1", "broken", body).result()
        seen["failed_error"] = None
    except HttpResponseError as e:
        seen["failed_error"] = e.error.code if e.error else str(e)
    seen["broken_state"] = client.identity_bindings.get(rg, "aks1", "broken").properties.provisioning_state
    ib = client.identity_bindings.begin_create_or_update(rg, "aks1", "mipayments", body).result()
    seen["binding_state"] = ib.properties.provisioning_state
    seen["binding_issuer"] = ib.properties.oidc_issuer.oidc_issuer_url
    seen["binding_client_id"] = ib.properties.managed_identity.client_id
    seen["listed"] = sorted(b.name for b in client.identity_bindings.list_by_managed_cluster(rg, "aks1"))
    client.identity_bindings.begin_delete(rg, "aks1", "mipayments").result()
    try:
        client.identity_bindings.get(rg, "aks1", "mipayments")
        seen["binding_after_delete"] = "present"
    except ResourceNotFoundError:
        seen["binding_after_delete"] = "404"
    client.managed_clusters.begin_delete(rg, "aks1").result()
    try:
        client.managed_clusters.get(rg, "aks1")
        seen["cluster_after_delete"] = "present"
    except ResourceNotFoundError:
        seen["cluster_after_delete"] = "404"
    print(json.dumps(seen))


if __name__ == "__main__":
    sys.exit(main())
