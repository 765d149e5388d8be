"""The browser UI: server-rendered pages (jinja2, autoescaped), no JavaScript build step.

Pages live under ``/ui`` in a sub-application (:mod:`gateway.web.ui.mount`) with its
own middleware: HTML error pages, security headers, session auth and CSRF checks
(:mod:`gateway.web.auth`). Each area of pages is a :class:`~gateway.web.ui.frame.Section`
(its navigation entry, the roles that see it, its routes); see :mod:`gateway.web.ui.mount`
for how a new area plugs in.

This package imports nothing at import time, so :mod:`gateway.web.auth` can use
:mod:`gateway.web.ui.sessions` without a cycle.
"""
