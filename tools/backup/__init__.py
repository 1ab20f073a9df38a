"""Back up and restore PostgreSQL and the JetStream streams (issue 7, Operations).

``python -m tools.backup create DIR`` writes a new folder; ``python -m tools.backup restore DIR``
restores it into an *empty* PostgreSQL database and an *empty* JetStream (``make backup
DIR=...`` / ``make restore DIR=...``). Both read ``NATS_URL`` and ``DATABASE_URL`` like the
services (``--nats-url`` / ``--database-url`` win); URLs are never printed.

What DIR holds:

- ``postgres.dump``: ``pg_dump --format=custom`` of the whole database (every service's schema,
  outboxes and processed-event records included), taken in one consistent snapshot.
- ``streams/<STREAM>.snapshot``: JetStream's own snapshot (``$JS.API.STREAM.SNAPSHOT``, as
  ``nats stream backup`` takes it) of each stream of ``services/contracts/streams.py``: the
  message store itself, so every message keeps its sequence, subject, headers (``Nats-Msg-Id``)
  and timestamp, and a first sequence > 1 or deleted sequences stay exactly as they were.
  Ranking's editions record input positions as sequences (R7), so this matters.
- ``manifest.json``, written last (a folder without it is not a backup): when, the versions,
  each stream's configuration and state (first/last sequence, messages, bytes, deleted), the
  size and SHA-256 of every file and a checksum of the manifest itself. ``restore`` refuses a
  manifest or a file that does not match (exit 2) and checks that every restored stream's state
  equals the manifest's.

Order and why it is consistent enough: PostgreSQL first, the streams after. Every event a
service commits goes through its transactional outbox, so an event in the dump is either
already on its stream when the streams are snapshotted, or its row is still unpublished in the
dump and the relay publishes it after the restore. Nothing a database recorded is missing from
the streams. Such a row whose event did reach the stream during the backup would be published
a second time after the restore (JetStream's 120 s duplicate window is long over by then), so
``restore`` marks it published with the sequence it has on the restored stream, as the relay
would have done. The other way round, events committed *after* the dump's snapshot began
(while the backup ran) may be on the streams but not in their producer's tables; the consumers
apply them after the restore, and ranking's and incentives' rebuilds recompute their state from
the streams. For an exact point in time, stop the services' writers while ``create`` runs.

Consumers are not part of the stream snapshots: their positions are derived state, and a
position saved *after* the dump could be ahead of what the dump applied (a message acked in
between would be lost). After a restore each service creates its durables again, they deliver
every stream from its start, and the consumers skip what the dump already applied (their
``processed_events`` records, edition/notice/ledger keys).

Exit codes: 0 done; 1 failed (a server unreachable, pg_dump/pg_restore or JetStream failed);
2 refused (the target is not empty, DIR already exists, the manifest or a file does not match).

The parts: ``manifest`` (the folder's layout, checksums, ``verify_backup``), ``postgres``
(pg_dump / pg_restore), ``jetstream`` (the snapshot and restore protocol), ``outboxes`` (rows
whose event reached its stream during the backup), ``commands`` (``create`` and ``restore``),
``cli`` (arguments and exit codes; ``__main__`` runs it).
"""
