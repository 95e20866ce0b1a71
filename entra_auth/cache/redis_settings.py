"""Redis client settings that bound how long a Redis outage takes to surface as ``CacheError``.

redis-py retries a failed command by default (redis-py 6+: three retries with exponential
backoff up to 10 s), so a dead server costs seconds per token request before the cache gives
up. These settings make the first failed call surface within about 1 s.
"""

from __future__ import annotations

from typing import Any

__all__ = ["redis_client_options"]


def redis_client_options(
    *,
    timeout: float = 0.25,
    retries: int = 1,
    backoff: float = 0.05,
    asyncio: bool = False,
) -> dict[str, Any]:
    """Keyword arguments for ``redis.Redis`` (or ``redis.asyncio.Redis``) with bounded waits.

    A failed call gives up after at most ``(retries + 1) * timeout + retries * backoff``
    seconds (0.55 s with the defaults) when the server does not answer, and after
    ``retries * backoff`` when it refuses connections. A retry helps against a dropped idle
    connection (a failover, a proxy's idle timeout); more than one rarely pays in the middle
    of a token request, where the caller is waiting.

    Example::

        client = redis.Redis(host="cache.internal", **redis_client_options())
        cache = entra_auth.RedisTokenCache(client)

    Args:
        timeout: Seconds for each connect and for each command's reply.
        retries: Retries after a connection error or timeout (0 for none).
        backoff: Seconds to wait before each retry.
        asyncio: Build the settings for ``redis.asyncio.Redis``.

    Returns:
        ``socket_connect_timeout``, ``socket_timeout`` and ``retry``.

    Raises:
        ValueError: A negative number.
        ImportError: redis is not installed (``pip install "entra-auth[redis]"``).
    """
    if timeout <= 0 or retries < 0 or backoff < 0:
        raise ValueError("timeout must be > 0, retries and backoff >= 0")
    try:
        from redis.backoff import ConstantBackoff
    except ImportError as exc:
        from ..errors import missing_extra

        raise missing_extra("entra_auth.redis_client_options", "redis", "redis", exc) from exc
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if asyncio:
        from redis.asyncio.retry import Retry as AsyncRetry

        retry: Any = AsyncRetry(ConstantBackoff(backoff), retries,
                                supported_errors=(RedisConnectionError, RedisTimeoutError))
    else:
        from redis.retry import Retry

        retry = Retry(ConstantBackoff(backoff), retries,
                      supported_errors=(RedisConnectionError, RedisTimeoutError))
    return {"socket_connect_timeout": timeout, "socket_timeout": timeout, "retry": retry}
