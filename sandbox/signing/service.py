"""The `signing` JupyterHub service: the training CA's front desk.

On the hub every learner's server runs as their own Unix account, so a learner's kernel cannot
read the CA's keys. This service (run by the hub, as root when the hub isolates users) holds
them and issues, renews and describes the personal certificate of whoever's hub token comes
with the request. There is no user name in the API: the hub tells us whose token it is, so
nobody can act on someone else's certificate. Organisation certificates stay with the operator
(`kns signing issue`).

The subject (name, unit) comes from the staff directory. The PKCS#12 key goes into the
learner's home, in a small copy of the PKI that their kernel can open:

    ~/.kynangso/pki/ca/{root,issuing,tsa}.pem, crl.der     public, 0644
    ~/.kynangso/pki/keys/<hub user>/<serial>.p12           the key, 0600, folder 0700
    ~/.kynangso/pki/keys/<hub user>/<serial>.pem           the certificate, 0644

On an isolated hub this service runs as its own unprivileged account (the only one that can
read the CA's private keys, in `<state>/pki`, 0700), so it cannot write into a learner's home,
and it is not given a way to become another uid (CAP_SETUID would let it become root too).
Instead the answer to the learner's own request carries the files (`files`: home-relative
path -> base64 data and mode) and the learner's kernel, which is the learner, writes them
(`sandbox.signing.client`). The key is the PKCS#12 encrypted under the learner's passphrase,
and it travels only to the holder of the learner's token. The CA keeps no copy.
When this process can write as the holder (root, as before; or the holder's own account, as
when the hub does not isolate users and the home is under the state folder), it still writes
the files itself, root through a child that has switched to the learner's Unix account.

API (JSON; errors are `{"error": <Vietnamese message>}`):
    GET  api/certificate          the current personal certificate (404 if none)
    POST api/certificate          {"passphrase"}: issue one (409 while one is valid)
    POST api/certificate/renew    {"passphrase"}: new key, at most 3 years, the old one superseded;
                                  at most `signing.renewals_per_period` in `renewal_period_days`

The title (chức danh) on a certificate is the person's position in the staff directory: a
learner cannot choose it (a "title" in the request that is not that position is refused).
    GET  api/ca                   the public CA certificates and the current CRL

Run by the hub as a managed service: `python -m sandbox.signing.service`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import pwd
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from cryptography.hazmat.primitives import serialization
from jupyterhub.services.auth import HubAuth
from jupyterhub.utils import url_path_join
from sqlalchemy import select
from tornado import ioloop, web

from kynangso import db
from kynangso.errors import KnsError, ValidationError
from kynangso.hub.service_base import TokenServiceHandler
from kynangso.hub.system_accounts import hub_isolated
from kynangso.models import Staff
from kynangso.settings import Settings, load_settings
from sandbox.signing.pki import CertInfo, CertRecord, Subject, TrainingPKI, write_atomic
from sandbox.signing.sign import vn_time

log = logging.getLogger("kns.signing")
SERVICE_NAME = "signing"
HOME_PKI = Path(".kynangso") / "pki"  # the learner's copy of the PKI, relative to their home
ACTIVE = ("valid", "not_yet_valid")


class DeskError(KnsError):
    """A refusal of the front desk, with the HTTP status it is answered with."""

    def __init__(self, status: int, key: str, log_detail: str | None = None, **params: object):
        self.status = status
        super().__init__(key, log_detail=log_detail, **params)


@dataclass(frozen=True)
class Holder:
    """Where a hub user's key goes and as whom it is written (uid None: as this process)."""

    account: str
    home: Path
    uid: int | None = None
    gid: int | None = None


def is_isolated(settings: Settings) -> bool:
    """Whether the hub runs each user's server as their own Unix account (as the configurer
    decides it; this service is not root on such a hub, so the hub says so in $KNS_ISOLATED)."""
    return hub_isolated(settings)


# -- writing into a learner's home --------------------------------------------------------------


def _write_files(home: Path, files: dict[str, tuple[bytes, int]]) -> None:
    """Write `files` (path relative to home: (data, mode)); the PKI folders are 0700."""
    base = home / HOME_PKI
    base.mkdir(parents=True, exist_ok=True)
    for rel, (data, mode) in files.items():
        target = home / rel
        target.relative_to(base)  # only ever inside the copy of the PKI
        target.parent.mkdir(parents=True, exist_ok=True)
        # every folder of the copy but ca/ is private: keys/ and keys/<user>/ hold the key
        folder = target.parent
        while True:
            os.chmod(folder, 0o755 if folder.name == "ca" else 0o700)
            if folder == base:
                break
            folder = folder.parent
        write_atomic(target, data, mode)


def can_write_as(holder: Holder) -> bool:
    """Whether this process can write into the holder's home as the holder."""
    return holder.uid is None or holder.uid == os.geteuid() or os.geteuid() == 0


def deliver(holder: Holder, files: dict[str, tuple[bytes, int]]) -> None:
    """Write `files` into the holder's home as the holder's Unix account.

    A forked child drops to that account before touching the home, so the files are the
    learner's own and root never follows a path the learner controls. Raises DeskError (500)
    when the child fails; its reason goes to the log.
    """
    if holder.uid is None or holder.uid == os.geteuid():
        try:
            _write_files(holder.home, files)
        except OSError as exc:
            raise DeskError(500, "signing.svc_deliver_failed", log_detail=repr(exc)) from None
        return
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns, never runs the parent's cleanup
        code = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(holder.gid)
            os.setuid(holder.uid)
            os.umask(0o077)
            _write_files(holder.home, files)
            code = 0
        except BaseException as exc:  # noqa: BLE001 - reported to the parent through the pipe
            os.write(write_end, repr(exc).encode("utf-8", "replace")[:2000])
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        detail = pipe.read().decode("utf-8", "replace")
    _pid, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise DeskError(500, "signing.svc_deliver_failed", log_detail=detail or f"status {status}")


# -- the front desk -----------------------------------------------------------------------------


class FrontDesk:
    """Issue, renew and describe hub users' personal certificates (no HTTP here)."""

    def __init__(self, settings: Settings, pki: TrainingPKI, isolated: bool | None = None):
        self.settings, self.pki = settings, pki
        self.isolated = is_isolated(settings) if isolated is None else isolated

    def holder(self, username: str) -> Holder:
        if not self.isolated:
            # the home NonIsolatedSpawner gives the server (configurer: home_dir_template)
            return Holder(username, self.settings.state_dir / "homes" / username)
        unix_name = self.settings["isolation"]["user_prefix"] + username
        try:
            entry = pwd.getpwnam(unix_name)
        except KeyError:
            raise DeskError(409, "signing.svc_no_home", log_detail=f"no Unix account {unix_name}") from None
        if not os.path.isdir(entry.pw_dir):
            raise DeskError(409, "signing.svc_no_home", log_detail=f"no home {entry.pw_dir}")
        return Holder(username, Path(entry.pw_dir), entry.pw_uid, entry.pw_gid)

    def subject(self, username: str) -> Subject:
        """The certificate subject, all of it from the staff directory (title: the position)."""
        with db.session_scope(self.settings.database_url) as s:
            staff = s.scalar(select(Staff).where(Staff.username == username))
            if staff is None or not staff.active:
                raise DeskError(403, "signing.svc_not_in_directory", user=username)
            office = self.settings["office"]
            return Subject(
                staff.full_name,
                office["name"],
                office["province"],
                staff.position,
                staff.department.name,
            )

    def latest(self, username: str) -> CertInfo | None:
        """The user's newest personal certificate that is not revoked (maybe expired)."""
        now = self.pki.clock()
        mine = [
            c
            for c in self.pki.certificates(username)
            if c.kind == "personal" and c.status_at(now) != "revoked"
        ]
        return mine[-1] if mine else None

    def current(self, username: str) -> dict:
        info = self.latest(username)
        if info is None:
            raise DeskError(404, "signing.svc_none")
        try:
            home = self.holder(username).home
        except DeskError:
            home = None  # no home yet: the path is given as the registry has it
        return self.details(info, home)

    def request(self, username: str, passphrase: str, title: str | None = None) -> dict:
        held = self.latest(username)
        now = self.pki.clock()
        if held is not None and held.status_at(now) in ACTIVE:
            raise DeskError(
                409, "signing.svc_already", serial=held.serial[:16], until=_day(held.not_after)
            )
        subject = self.subject(username)
        if title is not None and title.strip() != (subject.title or ""):
            raise DeskError(400, "signing.svc_title_not_yours", position=subject.title or "—",
                            log_detail=f"{username} asked for title {title.strip()[:80]!r}")
        holder = self.holder(username)
        info = self.pki.issue(subject, passphrase, account=username)
        return self._hand_over(info, holder)

    def renew(self, username: str, passphrase: str) -> dict:
        old = self.latest(username)
        if old is None:
            raise DeskError(404, "signing.svc_renew_none")
        holder = self.holder(username)
        self.subject(username)  # someone who left the directory gets no new key
        self._check_renewal_quota(username)
        # The key stays in the CA's folder only until it is handed over; not root, this service
        # can only leave it its own (the registry's owner is the learner's uid).
        owner = holder.uid if os.geteuid() == 0 else os.geteuid()
        info = self.pki.renew(old.serial, passphrase, owner_uid=owner)
        details = self._hand_over(info, holder)
        # One active personal certificate per person: the renewed one supersedes the old.
        if old.status_at(self.pki.clock()) in ACTIVE:
            self.pki.revoke(old.serial, "superseded")
            public = self._public_files()  # the learner's copy of the CRL, now with the old one
            details["files"].update(encode_files(public))
            if can_write_as(holder):
                try:
                    deliver(holder, public)
                except DeskError as exc:
                    log.warning("signing: CRL not copied to %s: %s", username, exc.log_detail)
        return details

    def _check_renewal_quota(self, username: str) -> None:
        """Each renewal makes a key and revokes one: a few per period, then a clear refusal."""
        limit = self.settings["signing"]["renewals_per_period"]
        period = dt.timedelta(days=self.settings["signing"]["renewal_period_days"])
        now = self.pki.clock()
        recent = sorted(c.not_before for c in self.pki.certificates(username)
                        if c.kind == "personal" and c.renewed_from and c.not_before > now - period)
        if len(recent) >= limit:
            raise DeskError(429, "signing.svc_renew_limit", n=limit, days=period.days,
                            next=_day(recent[-limit] + period),
                            log_detail=f"{username}: {len(recent)} renewals in {period.days} days")

    def ca_bundle(self) -> dict:
        def pem(cert) -> str:
            return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

        return {
            "root": pem(self.pki.root),
            "issuing": pem(self.pki.issuing),
            "tsa": pem(self.pki.tsa),
            "crl": base64.b64encode(self.pki.crl_bytes()).decode("ascii"),
        }

    def details(self, info: CertInfo, home: Path | None) -> dict:
        path = info.key_path
        inside = home is not None and path.is_relative_to(home)
        return {
            **info.as_dict(),
            "status": info.status_at(self.pki.clock()),
            # relative to the learner's home when it is there (always, for keys issued here)
            "key_path": str(path.relative_to(home)) if inside else str(path),
        }

    # -- internals ------------------------------------------------------------------------------

    def _public_files(self) -> dict[str, tuple[bytes, int]]:
        ca = HOME_PKI / "ca"
        files = {
            str(ca / f"{stem}.pem"): ((self.pki.dir / "ca" / f"{stem}.pem").read_bytes(), 0o644)
            for stem in ("root", "issuing", "tsa")
        }
        files[str(ca / "crl.der")] = (self.pki.crl_bytes(), 0o644)
        return files

    def _hand_over(self, info: CertInfo, holder: Holder) -> dict:
        """Move the key the PKI just wrote (in its own folder, root's) into the holder's home and
        point the registry at it; on failure nothing of the certificate stays behind."""
        issued = info.key_path
        rel = HOME_PKI / "keys" / holder.account / issued.name
        files = self._public_files()
        files[str(rel)] = (issued.read_bytes(), 0o600)
        files[str(rel.with_suffix(".pem"))] = (issued.with_suffix(".pem").read_bytes(), 0o644)
        try:
            if can_write_as(holder):
                deliver(holder, files)
            # else the learner's kernel writes `files` from this answer (module docstring)
            # the registry belongs to the PKI: its session is used here to record the real path
            with self.pki._session() as s, s.begin():
                rec = s.get(CertRecord, info.serial)
                rec.key_path, rec.owner_uid = str(holder.home / rel), holder.uid
        except BaseException:
            with self.pki._session() as s, s.begin():
                rec = s.get(CertRecord, info.serial)
                if rec is not None:
                    s.delete(rec)
            raise
        finally:
            # the CA keeps no copy of a subscriber's key
            issued.unlink(missing_ok=True)
            issued.with_suffix(".pem").unlink(missing_ok=True)
            try:
                issued.parent.rmdir()
            except OSError:
                pass  # not empty: keys the operator issued there with `kns signing issue`
        log.info("signing: certificate %s handed to %s in %s", info.serial, holder.account, holder.home)
        return {**self.details(self.pki.get(info.serial), holder.home), "files": encode_files(files)}


def encode_files(files: dict[str, tuple[bytes, int]]) -> dict[str, dict]:
    """Files for the learner's kernel to write (home-relative path -> base64 data, mode)."""
    return {rel: {"data": base64.b64encode(data).decode("ascii"), "mode": mode}
            for rel, (data, mode) in files.items()}


def _day(when) -> str:
    return vn_time(when)[:10]


# -- HTTP -----------------------------------------------------------------------------------------


class BaseHandler(TokenServiceHandler):
    service_name = SERVICE_NAME
    internal_error_key = "signing.svc_internal"

    def body(self) -> dict:
        """The JSON body: a passphrase (text); a title, if sent, is text (checked by the desk)."""
        try:
            body = json.loads(self.request.body or b"{}")
            ok = isinstance(body, dict) and isinstance(body.get("passphrase"), str)
            ok = ok and isinstance(body.get("title") or "", str)
        except ValueError:
            ok = False
        if not ok:
            raise DeskError(400, "signing.svc_bad_body")
        return body

    def answer(self, action, status: int = 200) -> None:
        """Run `action()` and send its result, or the refusal with its Vietnamese message."""
        user = self.current_user["name"]
        try:
            data = action(user)
        except KnsError as exc:
            code = getattr(exc, "status", 400)
            log.warning("signing: %s refused (%s): %s", user, code, exc.log_detail)
            message = exc.user_message
            problems = getattr(exc, "problems", [])
            if isinstance(exc, ValidationError) and problems:
                message += "\n" + "\n".join(f"- {p}" for p in problems)
            self.send({"error": message, "problems": problems}, code)
            return
        self.send(data, status)


class CertificateHandler(BaseHandler):
    @web.authenticated
    def get(self):
        self.answer(self.desk.current)

    @web.authenticated
    def post(self):
        self.answer(lambda user: self._issue(user), 201)

    def _issue(self, user: str) -> dict:
        body = self.body()
        return self.desk.request(user, body["passphrase"], body.get("title") or None)


class RenewHandler(BaseHandler):
    @web.authenticated
    def post(self):
        self.answer(lambda user: self.desk.renew(user, self.body()["passphrase"]), 201)


class CaHandler(BaseHandler):
    @web.authenticated
    def get(self):
        self.answer(lambda _user: self.desk.ca_bundle())


def make_app(desk: FrontDesk, prefix: str, hub_auth: HubAuth | None = None) -> web.Application:
    hub_auth = hub_auth or HubAuth(cache_max_age=60)
    args = {"hub_auth": hub_auth, "desk": desk}
    return web.Application(
        [
            (url_path_join(prefix, "api/certificate"), CertificateHandler, args),
            (url_path_join(prefix, "api/certificate/renew"), RenewHandler, args),
            (url_path_join(prefix, "api/ca"), CaHandler, args),
        ],
        compress_response=True,
    )


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="[%(levelname)s %(asctime)s kns.signing] %(message)s"
    )
    settings = load_settings()
    # Same as `kns signing init`: idempotent, so a fresh hub has its training CA.
    pki = TrainingPKI.create(settings.state_dir / "pki")
    desk = FrontDesk(settings, pki)
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{SERVICE_NAME}/")
    make_app(desk, prefix).listen(url.port, url.hostname)
    log.info(
        "signing service on %s%s (isolated homes: %s)",
        os.environ["JUPYTERHUB_SERVICE_URL"],
        prefix,
        desk.isolated,
    )
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
