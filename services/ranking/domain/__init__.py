"""Pure rules of the ranking service (R1.3, R3, R4, R7): no I/O, no clock, exact numbers.

Layout: `units` and `issues` fold event facts into snapshots as of a cutoff; `rates` (R3),
`scores` (R4.2), `composite` (R4.3) and `lists` (R4.4-R4.7) are the rules; `edition` chains them;
`payload`, `numbers` and `canonical` give the published form (R7); `rules` holds the versioned
settings; `instants` and `schedule` answer calendar questions (R4.1).
"""
