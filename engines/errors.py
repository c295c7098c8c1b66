"""Errors raised by engines; the scans services map them onto scan states and HTTP answers."""


class EngineError(Exception):
    """Base class: every engine error carries a message a user can read."""


class ParseError(EngineError):
    """The tool's output is not in the format the parser expects (a malformed or mismatched file)."""


class OptionError(EngineError):
    """An option is unknown, of the wrong type or out of range. `option` names it."""

    def __init__(self, option: str, message: str):
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


class EngineUnavailable(EngineError):
    """The tool is not installed on this worker."""


class EngineFailed(EngineError):
    """The tool ran and failed (exit code, resource limit, unparsable output)."""


class EngineTimedOut(EngineFailed):
    """The tool ran past its timeout and was killed."""


class EngineCancelled(EngineError):
    """The scan was cancelled while the tool ran; the tool was killed."""
