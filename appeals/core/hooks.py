"""Blocks one module contributes to another's page, through blinker signals (as Indico's template hooks).

The page that shows the blocks sends its signal; each domain connects a receiver in its own
`widgets` module (imported by its views, so connected once the blueprint is registered) and returns
a Block, or None when the block does not apply to this user or object. Neither side imports the
other by name: the register's appeal page shows the mandates box without knowing mandates exist.
"""
from dataclasses import dataclass, field
from typing import Any

from blinker import Namespace

_signals = Namespace()

# sender: the logged-in user. The start page's blocks (deadlines, today's receptions, mandates...).
home_blocks = _signals.signal("home-blocks")
# sender: the appeal; keyword `user`. Boxes under the appeal's details (its mandates...).
appeal_page_blocks = _signals.signal("appeal-page-blocks")
# sender: the appeal; keyword `token` (the tracking link's). Blocks of the citizen's /track page:
# only what the applicant may see without logging in (the answer letter...).
track_page_blocks = _signals.signal("track-page-blocks")


@dataclass(frozen=True)
class Block:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    # Lower comes first on the page.
    order: int = 50


def collect(signal, sender, **kwargs) -> list[Block]:
    """The blocks every receiver of `signal` contributes for `sender`, in page order."""
    blocks = [block for _receiver, block in signal.send(sender, **kwargs) if block is not None]
    return sorted(blocks, key=lambda block: (block.order, block.template))
