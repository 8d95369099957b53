"""Digital-signature sandbox: sign and verify a 20-page PDF (latency), issue 1,000 certificates
(throughput). Everything runs in a temporary folder with a fresh training PKI."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from sandbox.signing import sample, sign
from sandbox.signing.pki import Subject, TrainingPKI
from sandbox.signing.verify import verify_pdf

PASS = "mat-khau-dao-tao"
ORG = "UBND phường Hòa Bình"


def _median_ms(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pki = TrainingPKI.create(Path(tmp) / "pki")
        person = pki.issue(
            Subject("Nguyễn Văn An", ORG, "Hà Thành", "Phó Chủ tịch"), PASS, account="kns-an"
        )
        office = pki.issue(
            Subject("Ủy ban nhân dân phường Hòa Bình", ORG, "Hà Thành"),
            PASS,
            account="vanthu",
            kind="organisation",
        )
        pdf = sample.make_document(
            organisation=ORG,
            number="05/UBND-VP",
            subject="thử",
            signer_title="KT. Chủ tịch",
            signer_name="Nguyễn Văn An",
            pages=20,
        )
        print(f"document: 20 pages, {len(pdf) / 1024:.0f} KiB")
        p_key = sign.load_key(person.key_path, PASS, pki)
        o_key = sign.load_key(office.key_path, PASS, pki)
        runs = 7
        ms, one = _median_ms(lambda: sign.sign_personal(pdf, p_key, pki), runs)
        print(f"sign, personal (visible image, TSA timestamp): {ms:6.0f} ms  (median of {runs})")
        ms, two = _median_ms(lambda: sign.sign_organisation(one, o_key, pki), runs)
        print(f"sign, organisation (seal over the signature):   {ms:6.0f} ms  (median of {runs})")
        ms, _ = _median_ms(lambda: sign.load_key(person.key_path, PASS, pki), runs)
        print(f"open PKCS#12 key and check the certificate:    {ms:6.0f} ms  (median of {runs})")
        ms, report = _median_ms(lambda: verify_pdf(two, pki), runs)
        if not report.ok:  # timing a failing verification would measure the wrong thing
            print("WARNING: the benchmark document did not verify:", report.failed())
        print(f"verify, 2 signatures, full report:             {ms:6.0f} ms  (median of {runs})")

        n = 1000
        start = time.perf_counter()
        for i in range(n):
            pki.issue(
                Subject(f"Học Viên {i:04d}", ORG, "Hà Thành", "Chuyên viên"),
                PASS,
                account=f"kns-hv{i:04d}",
            )
        elapsed = time.perf_counter() - start
        print(
            f"issue {n} certificates (ECDSA P-256, PKCS#12 + registry): {elapsed:.1f} s, "
            f"{n / elapsed:.0f} certificates/s"
        )
        n_rsa = 50
        start = time.perf_counter()
        for i in range(n_rsa):
            pki.issue(
                Subject(f"Học Viên RSA {i:03d}", ORG, "Hà Thành", "Chuyên viên"),
                PASS,
                account=f"kns-rsa{i:03d}",
                key_type="rsa2048",
            )
        elapsed = time.perf_counter() - start
        print(
            f"issue {n_rsa} certificates (RSA 2048):               {elapsed:.1f} s, "
            f"{n_rsa / elapsed:.0f} certificates/s"
        )
        start = time.perf_counter()
        pki.revoke(pki.certificates("kns-hv0007")[0].serial, "key_compromise")
        print(
            f"revoke one of {n + n_rsa + 2} and republish the CRL:      "
            f"{(time.perf_counter() - start) * 1000:.0f} ms"
        )
