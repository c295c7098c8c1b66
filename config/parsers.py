"""The JSON parser of every API: DRF's, but a body nested too deeply for the decoder is a 400 that says so
rather than a RecursionError (and a 500)."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON nests too deeply") from None
