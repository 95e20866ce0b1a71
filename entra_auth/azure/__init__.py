"""Azure SDK credentials: entra_auth applications behind azure-core's credential protocols.

Public through :mod:`entra_auth` (sync) and :mod:`entra_auth.aio` (async); these modules hold
them:

* :mod:`.credential`: :class:`EntraTokenCredential`, any entra_auth application as an
  azure-core ``TokenCredential``; :mod:`.credential_async` is its asyncio twin.
* :mod:`.default_credential`: ``DefaultAzureCredential`` and ``ChainedCredential`` (the chain);
  :mod:`.default_credential_async` is the asyncio twin.
* :mod:`.service_credentials`: environment, workload identity, managed identity.
* :mod:`.developer_credentials`: ``entra-auth login``, the Azure CLI, the Azure Developer CLI
  (:mod:`._cli_cache` reads the Azure CLI's token cache).
* :mod:`.token_provider`: ``get_bearer_token_provider`` (sync and async).
* :mod:`._base`: what the chain's credentials share; :mod:`._azure_core`: azure-core's own
  token and error types when it is installed.

Nothing is imported here, so ``import entra_auth.azure.credential`` stays as light as before.
"""
