"""The simulated office: documents/, signing/, filing/ — each a domain library with its own
rules, storage, ipywidgets front end and scenario generator."""
