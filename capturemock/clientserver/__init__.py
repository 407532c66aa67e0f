"""Client/server traffic (§8): the traffic server sits between a client and a server, one of them the SUT.

One module per job: ``settings`` (the ``[general]`` keys), ``traffic`` (what is written, in which
direction), ``location`` (where the real server is), ``script`` (the recorded client played when the
server is the SUT), ``replayfiles`` (the replay file, read on first use), ``exchange`` (the replay /
forward / play skeleton every protocol gives its encode/decode hooks: how to add one), ``classic`` (plain-text TCP,
§8.3), ``custom`` (``SUT_CUSTOM:``, §8.4), ``xmlrpc`` (§8.6), ``httpwire``/``httptext``/``httpforward``/
``httpproxy`` (HTTP, §8.5), ``repeats`` (§5.6), ``idmap`` (§5.7), ``session`` (wiring the handlers into
the traffic server) and ``rig`` (``replay_for_server``, §8.10). This package shares the core with the
other families and imports none of them.
"""
