"""How a database says that its engagement is a simulated audience (a rehearsal's): one
``store_info`` entry. Nothing is imported here, so that any reader may check it at once.
"""

#: The ``store_info`` key that marks a database's engagement as simulated.
AUDIENCE_KEY = "audience"
#: Its value starts with this word (then the seed: ``simulated (seed 0)``).
SIMULATED = "simulated"


def is_simulated(mark: str | None) -> bool:
    """Whether the value of :data:`AUDIENCE_KEY` (None: no such entry) says simulated."""
    return mark is not None and mark.startswith(SIMULATED)
