"""``chuangwen``: the campaign office's and ops' command line (issue 8).

It talks to the four services over their HTTP APIs (``client``) and, for ops views, to NATS
JetStream (``bus``); one module per command group; what is printed is built by the pure
functions of ``cli.views``, which are tested without servers.
"""
