"""The filing sandbox: a training copy of the public-service portal and the one-stop back office.

Layers: rules and data (`data/*.yaml`, `catalogue`, `codes`, `workflow`, `fullyonline`), domain
service over storage (`desk`, `storage`), documents (`forms`), statistics (`stats`), scenario
generator (`scenario`), widgets (`widgets`), command line (`cli`). Domain README §3.
"""
