class DatabaseConfigError(RuntimeError):
    """No usable database: the message is one line that says what was tried and what to set."""
