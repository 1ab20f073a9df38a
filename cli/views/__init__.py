"""Pure formatting: JSON answers of the services → rich renderables and one-line messages.

Nothing here does I/O, so every function is tested without servers (tests/unit/cli/)."""
