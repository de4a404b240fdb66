"""Text helpers shared by search features."""

import unicodedata


def normalize_search(text: str) -> str:
    """Lower-case, accent-free, with hyphens and apostrophes as spaces: "Saint-Flour" and
    "saint flour", "Ytrac" and "YTRAC", "Vic-sur-Cère" and "vic sur cere" all match."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    for sep in "-'’_.,/":
        stripped = stripped.replace(sep, " ")
    return " ".join(stripped.lower().split())
