"""The core every feature stands on: settings, models and the store, wire cryptography and keys,
i18n, browser bundles (with the shared wire.js) and their route, input validation, middleware,
staff accounts and security, the staff-route guard, retention, the OpenAPI document; and the two
modules that wire the features together, the composition root (app.py) and the command line
(cli.py). Apart from those two, nothing here imports a feature package (pyproject.toml
[tool.importlinter])."""
