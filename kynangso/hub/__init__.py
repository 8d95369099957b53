"""How the hub runs: authenticator, spawners, configuration (apply_config), users' server config."""
