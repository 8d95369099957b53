"""`python -m kynangso` is `kns`."""

from kynangso.cli import main

main()
