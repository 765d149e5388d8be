"""The HTTP side of the gateway: the aiohttp app, its auth, the message-tracking API.

``app.py`` builds the application (middleware, health, metrics, OpenAPI), ``auth.py``
turns ``Authorization: Bearer KEY`` into a principal, ``api.py`` holds the
``/api/v1/documents`` routes, ``documents.py`` the JSON shape of documents and
events (the CLI prints the same), ``openapi.py`` the OpenAPI document as data.
Inbound posting (``POST /api/v1/documents``) is an adapter (``adapters/http.py``).

Only ``gateway.cli`` and ``gateway.cli_runtime`` import this package.
"""
