"""Just enough of a PDF reader to test our letters without adding a dependency: fpdf2 writes
uncompressed object dictionaries, Flate-compressed content streams, and text in Type0 fonts
whose ToUnicode maps give back the characters."""

import re
import zlib
from dataclasses import dataclass

_OBJECT = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.DOTALL)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.DOTALL)
_LENGTH = re.compile(rb"/Length (\d+)")
_DELIMITERS = b"()<>[]{}/%"
_WHITESPACE = b" \t\r\n\f\x00"


@dataclass(frozen=True)
class TextRun:
    """A piece of text as drawn by one Tj/TJ operator, at (x, y) in points from the bottom
    left corner of the page."""

    x: float
    y: float
    text: str


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    objects = {}
    for match in _OBJECT.finditer(pdf):
        body = match.group(2)
        stream = _STREAM.search(body)
        data = None
        if stream:
            data = stream.group(1)
            length = _LENGTH.search(body[: stream.start()])
            if length:
                # The dictionary's /Length, not the regex: compressed data may end with a
                # byte the regex would take for the line break before "endstream".
                data = body[stream.start(1) : stream.start(1) + int(length.group(1))]
            if b"/FlateDecode" in body[: stream.start()]:
                data = zlib.decompress(data)
            body = body[: stream.start()]
        objects[int(match.group(1))] = (body, data)
    return objects


def page_count(pdf: bytes) -> int:
    return sum(
        1 for body, _ in _objects(pdf).values() if re.search(rb"/Type\s*/Page(?![a-z])", body)
    )


def _cmap(data: bytes) -> dict[int, str]:
    mapping = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.DOTALL):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.DOTALL):
        for lo, hi, dst in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            start = int(dst, 16)
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(start + offset)
    return mapping


def _literal(data: bytes, i: int) -> tuple[bytes, int]:
    """Read a literal string starting after its "(" at data[i]; return it and the index
    after the closing ")"."""
    out, depth = bytearray(), 1
    escapes = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}
    while True:
        c = data[i]
        if c == ord("\\"):
            nxt = data[i + 1]
            if nxt in escapes:
                out.append(escapes[nxt])
                i += 2
            elif ord("0") <= nxt <= ord("7"):
                digits = re.match(rb"[0-7]{1,3}", data[i + 1 : i + 4]).group()
                out.append(int(digits, 8) & 0xFF)
                i += 1 + len(digits)
            elif nxt in b"\r\n":
                i += 2
            else:
                out.append(nxt)
                i += 2
            continue
        if c == ord("("):
            depth += 1
        elif c == ord(")"):
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
        out.append(c)
        i += 1


def _tokens(data: bytes):
    i, n = 0, len(data)
    while i < n:
        c = data[i]
        if c in _WHITESPACE:
            i += 1
        elif c == ord("%"):
            while i < n and data[i] not in b"\r\n":
                i += 1
        elif c == ord("("):
            value, i = _literal(data, i + 1)
            yield ("string", value)
        elif data[i : i + 2] in (b"<<", b">>"):
            yield ("op", data[i : i + 2].decode())
            i += 2
        elif c == ord("<"):
            end = data.index(b">", i)
            yield ("string", bytes.fromhex(data[i + 1 : end].decode()))
            i = end + 1
        elif c in b"[]":
            yield ("op", chr(c))
            i += 1
        else:
            start = i
            i += 1
            while i < n and data[i] not in _WHITESPACE and data[i] not in _DELIMITERS:
                i += 1
            word = data[start:i].decode("latin-1")
            if word.startswith("/"):
                yield ("name", word[1:])
            elif re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)", word):
                yield ("number", float(word))
            else:
                yield ("op", word)


def text_runs(pdf: bytes) -> list[TextRun]:
    """Every piece of text drawn, in drawing order, decoded through the fonts' ToUnicode."""
    objects = _objects(pdf)
    cmaps: dict[str, dict[int, str]] = {}
    for body, _ in objects.values():
        for name, ref in re.findall(rb"/(F\d+)\s+(\d+) 0 R", body):
            font_body = objects[int(ref)][0]
            to_unicode = re.search(rb"/ToUnicode\s+(\d+) 0 R", font_body)
            if to_unicode:
                cmaps[name.decode()] = _cmap(objects[int(to_unicode.group(1))][1])
    runs = []
    for _body, data in objects.values():
        if data is None or b"BT" not in data:
            continue
        stack: list = []
        font, x, y = "", 0.0, 0.0
        for kind, value in _tokens(data):
            if kind != "op":
                stack.append(value)
                continue
            if value == "[":
                stack.append("[")
                continue
            if value == "]":
                start = len(stack) - 1 - stack[::-1].index("[")
                array = stack[start + 1 :]
                del stack[start:]
                stack.append(array)
                continue
            if value == "Tf":
                font = stack[-2]
            elif value == "Td":
                x, y = stack[-2], stack[-1]
            elif value == "BT":
                x = y = 0.0
            elif value in ("Tj", "TJ"):
                pieces = stack[-1] if value == "TJ" else [stack[-1]]
                raw = b"".join(p for p in pieces if isinstance(p, bytes))
                cmap = cmaps.get(font, {})
                text = "".join(
                    cmap.get(int.from_bytes(raw[k : k + 2], "big"), "\ufffd")
                    for k in range(0, len(raw) - 1, 2)
                )
                runs.append(TextRun(x=x, y=y, text=text))
            stack.clear()
    return runs


def text(pdf: bytes) -> str:
    """All the text of the document, one drawn piece per line."""
    return "\n".join(run.text for run in text_runs(pdf))
