from .base import Engine, QueryStats
from .client import ClickHouseEngine, engine_for

__all__ = ["ClickHouseEngine", "Engine", "QueryStats", "engine_for"]
