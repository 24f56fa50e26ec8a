"""dispute-kg: a checked knowledge graph and query layer for territorial disputes between states."""

__all__ = ["DisputeKGError", "KnowledgeGraph"]
__version__ = "0.1.0"


def __getattr__(name: str) -> type:
    # Imported on first use so that `python -m dispute_kg query run ...` pays only for what it runs:
    # this package's top level imports nothing, not even typing.
    if name == "KnowledgeGraph":
        from ..kg import KnowledgeGraph

        return KnowledgeGraph
    if name == "DisputeKGError":
        from ..errors import DisputeKGError

        return DisputeKGError
    raise AttributeError(name)
