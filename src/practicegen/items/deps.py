"""The item domain's request dependencies other edges use, apart from the web-free `names`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from practicegen.api.deps import ContainerDep
from practicegen.items.names import Spellings


async def generator_spellings(container: ContainerDep) -> Spellings:
    """The node's generators' spellings (a part the lifespan builds)."""
    return container.part(Spellings)


GeneratorSpellingsDep = Annotated[Spellings, Depends(generator_spellings)]
