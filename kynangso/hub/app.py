"""The hub process: JupyterHub, with the platform's managed services started side by side.

JupyterHub 6 starts managed services one after another (`JupyterHub.start` awaits
`start_service` for each in turn, and each waits until its service answers), and only then
routes the login page. Ours are independent processes (progress, signing, the exam desk and
its worker, formgrader, admin, the reports' Voilà, the culler), so starting them in turn only
adds up their start-up times. Here the first `start_service` call starts them all at once and
each call then waits for its own: the same checks and errors, in the time of the slowest.
Later calls (a service added at run time) take JupyterHub's own path.

Started together, the services share the CPU: on a busy machine formgrader's Jupyter server
took over JupyterHub's 30 s limit to answer, and the hub stops when a managed service does
not answer in time. So each managed service gets SERVICE_START_TIMEOUT_S here.

Run as `python -m kynangso.hub.app -f hub_config/jupyterhub_config.py` (kynangso.run.start_hub).
"""

from __future__ import annotations

import asyncio

from jupyterhub.app import JupyterHub

SERVICE_START_TIMEOUT_S = 300


class PlatformHub(JupyterHub):
    _service_starts: dict[str, asyncio.Task] | None = None

    async def start_service(self, service_name, service, ssl_context=None):
        if self._service_starts is None:
            self._service_starts = {}
            parent = super()
            for name, other in self._service_map.items():
                if other.managed:
                    other.timeout = max(other.timeout, SERVICE_START_TIMEOUT_S)
                self._service_starts[name] = asyncio.ensure_future(
                    parent.start_service(name, other, ssl_context))
        started = self._service_starts.pop(service_name, None)
        if started is None:
            return await super().start_service(service_name, service, ssl_context)
        return await started


main = PlatformHub.launch_instance

if __name__ == "__main__":
    main()
