"""Command-line interception (§7): PATH shims that hand each command to the traffic server.

``shim.py``/``shim.c`` are the shims, ``shims`` installs them, ``request`` decodes what they send,
``describe`` turns a command into its ``<-CMD:`` text, ``handler`` records or replays it, ``edits``
adapts ``fileedits`` (FIL items) to it, ``settings`` reads the ``[command line]`` rc keys and
``session`` wires one server session together.
"""
