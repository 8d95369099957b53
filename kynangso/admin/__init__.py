"""The admin app: a Vietnamese page for the platform's own work, as a hub service.

    data.py     what the pages show, assembled from the platform database and the hub API's
                answers (pure functions over plain values: tested without a hub)
    service.py  the hub service at /services/admin/ (HubOAuth, XSRF, strict CSP), run as its
                own account `<prefix>svc-admin` on an isolated hub

Who may open it: hub admins and group `quantri`, through ACCESS_SCOPE (configurer).
"""

SERVICE_NAME = "admin"
ACCESS_SCOPE = "custom:kns-admin:manage"
