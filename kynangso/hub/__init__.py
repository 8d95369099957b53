"""How the hub runs: authenticator, spawners, configuration (apply_config), users' server config."""

# Every cookie of the hub, the users' servers and the services: SameSite=Lax, so that a page on
# another site cannot send them with a POST, a frame or a script. Not Strict: a learner who
# follows a link to the platform from elsewhere must arrive logged in (the OAuth round trip
# through the hub is then a cross-site redirect chain, which Strict cookies do not join).
COOKIE_OPTIONS = {"samesite": "Lax"}


def service_url(settings, name: str, port_key: str) -> str:
    """Where the hub and the servers reach a platform service: loopback on one machine, its
    Kubernetes Service in a cluster (`kubernetes.service_url`)."""
    port = settings["services"][port_key]
    if settings["spawner"] == "kubernetes":
        return settings["kubernetes"]["service_url"].format(service=name, port=port)
    return f"http://127.0.0.1:{port}"
