"""The item domain's request dependencies that other domains' edges use too.

Kept apart from `items.names`, which the generator processes import: they need no web stack.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from practicegen.api.deps import ContainerDep
from practicegen.items.names import Spellings


async def generator_spellings(container: ContainerDep) -> Spellings:
    """The node's generators' spellings (a part the lifespan builds)."""
    return container.part(Spellings)


GeneratorSpellingsDep = Annotated[Spellings, Depends(generator_spellings)]
