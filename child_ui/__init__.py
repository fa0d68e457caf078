"""The child's pages and the public report page: their routes (web.py, report.py), templates
(templates/: the chat page, the safety pages under help/, the report page) and their own script and
styles (static/child.js, static/report.js, static/child.css). The bundles that carry the scripts are
built by the core (helpline.bundle, with the shared helpline/static/js/wire.js)."""
