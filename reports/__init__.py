"""Reports for HR: competency levels computed from the nbgrader gradebook(s), course progress,
exports (.xlsx, PDF) and Voilà dashboards served behind hub OAuth (group `nhansu` only).

- `data`: one read-only data layer over the platform database and the gradebooks, tidy frames;
- `requirements`: the level each position needs per competence (a rule table with sources);
- `charts`: charts as reportlab drawings (SVG in the dashboards, vector in the PDFs);
- `export`: the current view to .xlsx and the printable PDF reports;
- `dashboard`: the widgets each dashboard notebook builds with one call;
- `service`: the hub service (HubOAuth reverse proxy in front of a locked-down Voilà).
"""
