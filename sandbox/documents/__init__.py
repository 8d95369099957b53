"""Document handling (văn bản đến/đi) following Nghị định 30/2020/NĐ-CP.

Layers, each one module per concern:
- rules/ + rules.py   rule tables with sources, versioned by effective date (data)
- symbol.py           số, ký hiệu: parse, format, explain (pure)
- workflow.py         incoming/outgoing state machines and roles (pure)
- deadlines.py        working-day deadlines via kynangso.workdays (pure)
- integrity.py        pluggable integrity / signature checks for electronic documents
- storage.py          registers, numbering, audit trail, exchange (SQLAlchemy, practice DB)
- docx_check.py, drafting.py   layout checker and drafting helper (python-docx)
- scenarios.py        seeded scenario generator
- widgets.py, cli.py  front ends
"""
