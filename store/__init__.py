"""The FAQ store: the source of truth, with a revision log that indexes catch up from."""
