"""``chuangwen demo`` / ``make demo``: Jiangmen's campaign on a stack of its own (issue 8)."""
