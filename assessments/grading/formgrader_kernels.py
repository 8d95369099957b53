"""The sandboxed kernel manager of formgrader's Jupyter server (kynangso/hub/graderconfig).

Instructors open learners' submissions in formgrader and run them; their kernels get the same
sandbox as grading (sandbox.py): only the notebook's folder, no network, no token, killed with
everything they forked. A module of its own so that grading does not import jupyter_server.
"""

from __future__ import annotations

from jupyter_server.services.kernels.kernelmanager import ServerKernelManager

from assessments.grading.sandbox import SandboxMixin


class SandboxServerKernelManager(SandboxMixin, ServerKernelManager):
    """`MappingKernelManager.kernel_manager_class` of the formgrader service."""
