"""HTTP adapter of the ranking service: parse, call one use case, return.

The office publishes, previews and records scores; every role may read what was published.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime

from services.contracts.base import Contract, UnitId
from services.runtime.auth import requires
from services.runtime.http import NotFound

from .assessments import ScoreIn, ScoreRefused, record_score
from .editions import EditionsService, FutureCutoff
from .score_import import MAX_BYTES, import_scores


class CutoffIn(Contract):
    """R4.1: the cutoff instant (RFC 3339 with offset)."""

    cutoff: AwareDatetime


class PublishIn(CutoffIn):
    """R4.1: the cutoff (it must have passed) and the office's override.

    ``force``: publish even though the projection has not reached the streams' last sequences
    (e.g. a message dead-lettered after max_deliver holds a position back); the edition is
    computed from what has been applied (its ``input_positions`` say how far) and the answer
    records ``forced`` and ``behind``."""

    force: bool = False


def router(editions: EditionsService) -> APIRouter:
    tokens = lambda: editions.runtime.tokens  # noqa: E731 - loaded when the service starts
    office = Depends(requires(tokens, "office"))
    reader = Depends(requires(tokens, "office", "inspector", "unit", "viewer", "ops"))
    api = APIRouter(prefix="/v1")

    @api.post("/assessments", status_code=202, dependencies=[office])
    async def score(body: ScoreIn) -> dict[str, Any]:
        """R4.2: accepted for publication on assessments.v1.scored; a ``recorded_at`` in the
        future or a unit the directory does not know is refused (422)."""
        try:
            return await record_score(editions.runtime, body, editions.now)
        except ScoreRefused as exc:
            raise _invalid(exc.errors) from None

    @api.post("/assessments/import", status_code=202, dependencies=[office])
    async def import_file(file: UploadFile) -> dict[str, Any]:
        """R4.2: a CSV or XLSX file of scores, all rows or none (422 lists every bad row)."""
        data = await file.read(MAX_BYTES + 1)
        return await import_scores(
            editions.runtime, file.filename or "", data, editions.tz, editions.now
        )

    @api.post("/editions", dependencies=[office])
    async def publish(body: PublishIn) -> dict[str, Any]:
        """R4.1: publish (or republish) the edition for a cutoff that has passed (a future
        cutoff: 422). Waits up to 10 s for the projection to reach the input streams' last
        sequences, else 409 with ``behind`` per stream; ``force`` overrides that (see
        `PublishIn`), e.g. when the weekly edition is held back by a dead-lettered message."""
        try:
            return await editions.publish(body.cutoff, force=body.force)
        except FutureCutoff as exc:
            raise _invalid([("cutoff", str(exc))]) from None

    @api.post("/editions/preview", dependencies=[office])
    async def preview(body: CutoffIn) -> dict[str, Any]:
        """R4.1: compute without publishing; a future cutoff is allowed and marked
        ``cutoff_in_future``, a projection still behind after the wait ``caught_up: false``."""
        return await editions.preview(body.cutoff)

    @api.get("/editions/latest", dependencies=[reader])
    async def latest() -> dict[str, Any]:
        return _found(await editions.latest(), "no edition has been published yet")

    @api.get("/editions/{year}/{number}", dependencies=[reader])
    async def get(
        year: int, number: int, revision: Annotated[int | None, Query(ge=1)] = None
    ) -> dict[str, Any]:
        """One edition, at its latest revision unless ``revision`` is given."""
        found = await editions.get(year, number, revision)
        return _found(found, f"no edition {year}/{number}")

    @api.get("/units/{unit_id}/history", dependencies=[reader])
    async def history(unit_id: UnitId) -> dict[str, Any]:
        """A unit's rate, score, rank and list in each edition (editions are public)."""
        return await editions.unit_history(unit_id)

    @api.get("/rates", dependencies=[reader])
    async def rates(at: Annotated[AwareDatetime, Query()]) -> dict[str, Any]:
        """R3: every unit's rectification rate as of the instant ``at``."""
        return await editions.rates(at)

    return api


def _invalid(errors: list[tuple[str, str]]) -> RequestValidationError:
    """The 422 of FastAPI's own validation, for checks that need the clock or the projection."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", f), "msg": m, "input": None} for f, m in errors]
    )


def _found(value: dict[str, Any] | None, message: str) -> dict[str, Any]:
    if value is None:
        raise NotFound(message)
    return value
