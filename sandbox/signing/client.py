"""What the signing widgets call, from inside the learner's kernel, to reach the training CA.

On the hub the kernel inherits its server's hub token ($JUPYTERHUB_API_TOKEN) and the address
of the `signing` service ($KNS_SIGNING_URL), so the learner types neither. The service's answer
to a request or a renewal carries the key (PKCS#12, under the learner's passphrase) and this
kernel, which runs as the learner, writes it into `~/.kynangso/pki/keys/<hub user>/` (the
service runs as its own account and cannot write into homes); `local_pki()` opens that folder as a
TrainingPKI (public CA certificates and CRL, refreshed from the service), which is all that
signing and verifying need. Outside the hub (`enabled()` is False) nothing here is used.
"""

from __future__ import annotations

import base64
import getpass
import logging
import os
from pathlib import Path

import requests

from kynangso.errors import KnsError
from sandbox.signing.pki import TrainingPKI, write_atomic

log = logging.getLogger(__name__)
HOME_PKI = Path(".kynangso") / "pki"  # as in sandbox.signing.service, relative to the home


class ServiceRefusal(KnsError):
    """The service said no; `user_message` is its Vietnamese reason, `status` its HTTP code."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__("signing.svc_said", log_detail=f"{status}: {message}", message=message)


def enabled() -> bool:
    """True inside a hub server, where requests go to the signing service."""
    return bool(os.environ.get("KNS_SIGNING_URL") and os.environ.get("JUPYTERHUB_API_TOKEN"))


def account() -> str:
    """The hub user name: the service files keys under it."""
    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


def home_pki() -> Path:
    return Path.home() / HOME_PKI


def key_file(info: dict) -> Path:
    """The PKCS#12 file of a certificate the service described (`key_path` is home-relative)."""
    return Path.home() / info["key_path"]


def _call(method: str, path: str, body: dict | None = None, timeout: float = 60) -> dict | None:
    """Send one request; the answer's JSON, None for 404, ServiceRefusal for other refusals."""
    url = os.environ["KNS_SIGNING_URL"].rstrip("/") + "/api/" + path
    headers = {"Authorization": f"token {os.environ['JUPYTERHUB_API_TOKEN']}"}
    try:
        r = requests.request(method, url, json=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise KnsError("signing.svc_unreachable", log_detail=f"{url}: {exc!r}") from None
    if r.status_code in (200, 201):
        return r.json()
    if r.status_code == 404 and method == "GET":
        return None
    try:
        message = r.json()["error"]
    except (ValueError, KeyError, TypeError):
        raise KnsError("signing.svc_unreachable", log_detail=f"{url}: {r.status_code}") from None
    raise ServiceRefusal(r.status_code, message)


def store(answer: dict) -> dict:
    """Write the files the service handed over into my home's copy of the PKI (folders 0700
    but ca/); only paths inside that copy are accepted. Returns the answer without them."""
    answer = dict(answer)
    files = answer.pop("files", None) or {}
    home = Path.home()
    base = (home / HOME_PKI).resolve()
    for rel, item in files.items():
        target = (home / rel).resolve()
        if not target.is_relative_to(base) or target == base:
            log.warning("signing: refused a file outside %s: %s", base, rel)
            continue
        folder = target.parent
        folder.mkdir(parents=True, exist_ok=True)
        while folder != base.parent:
            os.chmod(folder, 0o755 if folder.name == "ca" else 0o700)
            folder = folder.parent
        write_atomic(target, base64.b64decode(item["data"]), int(item["mode"]) & 0o644)
    return answer


def current() -> dict | None:
    """My current personal certificate as the service describes it, or None."""
    return _call("GET", "certificate")


def request(passphrase: str) -> dict:
    """Ask for my personal certificate (subject from the staff directory)."""
    return store(_call("POST", "certificate", {"passphrase": passphrase}))


def renew(passphrase: str) -> dict:
    """Renew my personal certificate: a new key, the old certificate superseded."""
    return store(_call("POST", "certificate/renew", {"passphrase": passphrase}))


def local_pki(refresh: bool = True) -> TrainingPKI:
    """My copy of the training PKI, with the CA certificates and CRL fetched fresh.

    When the service cannot be reached the copy already in the home is used, if there is one.
    """
    folder = home_pki()
    if refresh:
        try:
            bundle = _call("GET", "ca", timeout=20)
            ca = folder / "ca"
            for stem in ("root", "issuing", "tsa"):
                write_atomic(ca / f"{stem}.pem", bundle[stem].encode("ascii"))
            write_atomic(ca / "crl.der", base64.b64decode(bundle["crl"]))
        except KnsError as exc:
            if not (folder / "ca" / "root.pem").exists():
                raise
            log.warning("signing service unreachable, using the copy in %s: %s", folder, exc)
    return TrainingPKI(folder)
