"""Money display (R6.1, R7): amounts are integer fen; yuan strings are for people only."""

from __future__ import annotations

FEN_PER_YUAN = 100


def fen_to_yuan(fen: int) -> str:
    """Render integer fen as yuan with exactly two decimals (R6.1), e.g. ``123456 -> "1234.56"``.

    Exact integer arithmetic, never float: ``-5 -> "-0.05"``, ``0 -> "0.00"``.
    """
    if isinstance(fen, bool) or not isinstance(fen, int):
        # bool is an int subclass; a True/False here is a bug upstream, not one fen.
        raise TypeError(f"fen must be int, got {type(fen).__name__}")
    # divmod on the magnitude so that -5 fen is "-0.05", not "-1.95".
    sign = "-" if fen < 0 else ""
    yuan, rest = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{yuan}.{rest:02d}"
