"""Microsoft's own Python SDK (azure-identity + azure-mgmt-msi) against the Azure emulator.

Driven by tests/azure-emulator/tests/python_client.rs, which starts the emulator and passes:
AZWI_EMULATOR_URL, AZWI_EMULATOR_CA (PEM file), AZWI_TENANT_ID, AZWI_SUBSCRIPTION_ID,
AZWI_CLIENT_ID, AZWI_CLIENT_SECRET, AZWI_RESOURCE_GROUP (already created).
"""

import os

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.models import FederatedIdentityCredential, Identity

ISSUER = "https://eastus.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/11111111-1111-1111-1111-111111111111/"
AUDIENCE = "api://AzureADTokenExchange"


def env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run this through `cargo test -p azure-emulator --test python_client`")
    return value


def status_and_body(pipeline_response, deserialized, _headers):
    """`cls=` hook: keep the HTTP status next to the model."""
    return pipeline_response.http_response.status_code, deserialized


@pytest.fixture(scope="module")
def client():
    url, ca = env("AZWI_EMULATOR_URL"), env("AZWI_EMULATOR_CA")
    credential = ClientSecretCredential(
        env("AZWI_TENANT_ID"),
        env("AZWI_CLIENT_ID"),
        env("AZWI_CLIENT_SECRET"),
        authority=url,
        disable_instance_discovery=True,
        connection_verify=ca,
    )
    return ManagedServiceIdentityClient(
        credential,
        env("AZWI_SUBSCRIPTION_ID"),
        base_url=url,
        credential_scopes=["https://management.azure.com/.default"],
        connection_verify=ca,
    )


def test_identity_and_federated_credentials(client):
    rg = env("AZWI_RESOURCE_GROUP")
    identity = client.user_assigned_identities.create_or_update(
        rg, "py-identity", Identity(location="eastus", tags={"owner": "pytest"})
    )
    assert identity.name == "py-identity"
    assert len(identity.client_id) == 36 and len(identity.principal_id) == 36
    assert identity.tenant_id == env("AZWI_TENANT_ID")
    assert "/resourcegroups/" in identity.id

    fics = client.federated_identity_credentials
    for name, subject in (("fic-a", "system:serviceaccount:demo:a"), ("fic-b", "system:serviceaccount:demo:b")):
        status, created = fics.create_or_update(
            rg,
            "py-identity",
            name,
            FederatedIdentityCredential(issuer=ISSUER, subject=subject, audiences=[AUDIENCE]),
            cls=status_and_body,
        )
        assert status == 201, name
        assert created.issuer == ISSUER and created.subject == subject and created.audiences == [AUDIENCE]

    listed = sorted(f.name for f in fics.list(rg, "py-identity"))
    assert listed == ["fic-a", "fic-b"]

    status, again = fics.create_or_update(
        rg,
        "py-identity",
        "fic-a",
        FederatedIdentityCredential(issuer=ISSUER, subject="system:serviceaccount:demo:a", audiences=[AUDIENCE]),
        cls=status_and_body,
    )
    assert status == 200, "re-PUT of an unchanged credential is an update"
    assert again.name == "fic-a"

    fics.delete(rg, "py-identity", "fic-b")
    with pytest.raises(ResourceNotFoundError):
        fics.get(rg, "py-identity", "fic-b")
    assert [f.name for f in fics.list(rg, "py-identity")] == ["fic-a"]

    fetched = client.user_assigned_identities.get(rg, "py-identity")
    assert fetched.client_id == identity.client_id
    assert fetched.tags == {"owner": "pytest"}
