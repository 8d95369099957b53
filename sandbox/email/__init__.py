"""Official e-mail (thư điện tử công vụ) sandbox: a simulated office's mailboxes, real MIME
messages, phishing and safe-use scenarios, and the rules on what must not go by e-mail.

Layers, each one module per concern:
- rules/ + rules.py   mail directory, signs of phishing, channel rules, with sources (data)
- message.py          compose, attach, reply, forward, parse, .eml (pure, email package)
- storage.py          one Maildir per address in the learner's home (mailbox package)
- signs.py            rule functions that find each sign in a message, explained (pure)
- channels.py         what may go by e-mail, the document system, or neither (pure)
- intake.py           attachment -> documents register; signed PDF -> signing verifier
- scenarios.py        seeded inboxes of legitimate and unsafe messages (data/messages.yaml)
- cli.py              `kns email`

The package is `sandbox.email`; inside it `import email` is still the standard library
(absolute imports), which message.py relies on.
"""
