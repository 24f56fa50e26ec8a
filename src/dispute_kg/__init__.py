"""dispute-kg: a checked knowledge graph and query layer for territorial disputes between states."""

from .errors import DisputeKGError
from .kg import KnowledgeGraph

__all__ = ["DisputeKGError", "KnowledgeGraph"]
__version__ = "0.1.0"
