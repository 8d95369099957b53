"""Digital signatures (chữ ký số) sandbox: a training PKI, PDF signing as NĐ 30/2020 Phụ lục I
describes, a Vietnamese verification report, seeded scenarios, widgets and `kns signing`.

Modules: pki (CA, certificates, CRL), sign (signing), verify (report), scenarios, widgets, cli.
"""
