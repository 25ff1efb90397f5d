"""marsad (مرصد): actors, places, weapons and event types in Arabic conflict news.

    import marsad
    tagger = marsad.load("runs/tiny/model")
    result = tagger.tag(["قصفت قوات النظام السوري قرية كفروما بريف إدلب."])[0]

Importing ``marsad`` or ``marsad.data`` does not import torch; the model parts load on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load", "Tagger"]


def __getattr__(name: str):
    # Lazy: ``marsad.data`` must stay importable without torch.
    if name in ("load", "Tagger"):
        from marsad.models import tagger

        return getattr(tagger, name)
    raise AttributeError(f"module 'marsad' has no attribute {name!r}")
