"""How the hub runs: authenticator, spawners, configuration (apply_config), users' server config."""

# Every cookie of the hub, the users' servers and the services: SameSite=Lax, so that a page on
# another site cannot send them with a POST, a frame or a script. Not Strict: a learner who
# follows a link to the platform from elsewhere must arrive logged in (the OAuth round trip
# through the hub is then a cross-site redirect chain, which Strict cookies do not join).
COOKIE_OPTIONS = {"samesite": "Lax"}
