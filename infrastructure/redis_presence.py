"""Presence held in Redis, so every server process agrees on who is online.

Per user a sorted set `<prefix>:presence:user:<user id>` of their socket ids, each scored with the
time (Redis's clock, ms) until which it counts; and one sorted set `<prefix>:presence:expiries` of
`<user id>|<sid>` with the same scores. A user is online while their set is not empty. Each process
re-scores its own sockets every `ttl / 3` (the heartbeat) and sweeps the entries whose time passed:
those of a process that was killed, which nobody else would ever remove. Every change is one Lua
script, so "came online" (the set went from empty to one) and "went offline" (to empty) are each
decided once, by one process, however many processes race: the announcements happen once.

While Redis cannot be reached nothing here fails or waits long (every call is bounded, and after a
failure the calls that follow skip Redis for a moment: `RedisOutage`): sockets still join and leave
this process, who is online reads as nobody, and the sockets' comings and goings are kept here. The
heartbeat is what heals: once Redis answers it records this process's sockets again (a restarted Redis
has lost them; their users are announced online), and replays the leaves that could not be recorded
(their users announced offline where no socket of theirs is left anywhere).
"""

import asyncio
from uuid import UUID

from redis import RedisError

from infrastructure.presence import PresenceChanges
from infrastructure.redis_clients import RedisClients

# KEYS: user set, expiries. ARGV: sid, "<user>|<sid>", ttl ms. Returns 1 when the user came online.
JOIN = """
local t = redis.call('TIME')
local ttl = tonumber(ARGV[3])
local until_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + ttl
local added = redis.call('ZADD', KEYS[1], until_ms, ARGV[1])
redis.call('ZADD', KEYS[2], until_ms, ARGV[2])
redis.call('PEXPIRE', KEYS[1], 2 * ttl)
if added == 1 and redis.call('ZCARD', KEYS[1]) == 1 then return 1 end
return 0
"""

# KEYS: user set, expiries. ARGV: sid, "<user>|<sid>". Returns 1 when the user went offline.
LEAVE = """
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2])
if removed == 1 and redis.call('ZCARD', KEYS[1]) == 0 then return 1 end
return 0
"""

# A leave that could not be recorded when it happened (Redis was down). KEYS, ARGV: as LEAVE. Returns 1
# when the user has no socket left: whether this removed their last one or Redis, restarted, had
# forgotten them (their contacts last heard "online"; an "offline" said twice is still true).
LATE_LEAVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2])
if redis.call('ZCARD', KEYS[1]) == 0 then return 1 end
return 0
"""

# KEYS: expiries. ARGV: user-set key prefix, how many at most. Returns how many it swept, then the
# users that went offline.
# (It names user sets it was not passed as KEYS: fine on one Redis, not on a Redis Cluster.)
SWEEP = """
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms, 'LIMIT', 0, tonumber(ARGV[2]))
local result = {#expired}
for _, member in ipairs(expired) do
  redis.call('ZREM', KEYS[1], member)
  local bar = string.find(member, '|', 1, true)
  local user = string.sub(member, 1, bar - 1)
  local key = ARGV[1] .. user
  if redis.call('ZREM', key, string.sub(member, bar + 1)) == 1 and redis.call('ZCARD', key) == 0 then
    table.insert(result, user)
  end
end
return result
"""

SWEEP_BATCH = 500


class RedisPresence:
    def __init__(self, redis: RedisClients, ttl_seconds: float) -> None:
        self.redis = redis
        self.outage = redis.outage
        self.ttl_ms = int(ttl_seconds * 1000)
        self.heartbeat_seconds: float | None = ttl_seconds / 3
        self.expiries = redis.key("presence", "expiries")
        self._local: dict[str, UUID] = {}  # this process's sockets, for the heartbeat
        self._left: dict[str, UUID] = {}  # sockets whose leave Redis did not hear: the heartbeat replays it
        self._lock = asyncio.Lock()  # a heartbeat must not revive a socket that is leaving
        self._join = redis.asyncio.register_script(JOIN)
        self._leave = redis.asyncio.register_script(LEAVE)
        self._late_leave = redis.asyncio.register_script(LATE_LEAVE)
        self._sweep = redis.asyncio.register_script(SWEEP)

    def _user_key(self, user_id: UUID | str) -> str:
        return self.redis.key("presence", "user", user_id)

    async def join(self, user_id: UUID, sid: str) -> bool:
        """Without Redis the socket is still accepted: the heartbeat records it once Redis answers."""
        async with self._lock:
            self._local[sid] = user_id
            if self.outage.skip():
                return False
            try:
                came = await self._join(
                    keys=[self._user_key(user_id), self.expiries], args=[sid, f"{user_id}|{sid}", self.ttl_ms]
                )
            except RedisError as error:
                self.outage.failed(error)
                return False
            self.outage.succeeded()
            return bool(came)

    async def leave(self, user_id: UUID, sid: str) -> bool:
        async with self._lock:
            self._local.pop(sid, None)
            if not self.outage.skip():
                try:
                    went = await self._leave(
                        keys=[self._user_key(user_id), self.expiries], args=[sid, f"{user_id}|{sid}"]
                    )
                except RedisError as error:
                    self.outage.failed(error)
                else:
                    self.outage.succeeded()
                    return bool(went)
            self._left[sid] = user_id
            return False

    async def sockets(self, user_id: UUID) -> list[str]:
        """The user's sockets in every process; without Redis, those in this one."""
        if not self.outage.skip():
            try:
                found = await self.redis.asyncio.zrange(self._user_key(user_id), 0, -1)
            except RedisError as error:
                self.outage.failed(error)
            else:
                self.outage.succeeded()
                return [s.decode() if isinstance(s, bytes) else str(s) for s in found]
        return [sid for sid, user in list(self._local.items()) if user == user_id]

    def online(self, user_ids: list[UUID]) -> set[UUID]:
        """Without Redis, nobody: a reply that shows people offline beats no reply."""
        if not user_ids or self.outage.skip():
            return set()
        try:
            with self.redis.sync.pipeline(transaction=False) as pipe:
                for user_id in user_ids:
                    pipe.zcard(self._user_key(user_id))
                counts = pipe.execute()
        except RedisError as error:
            self.outage.failed(error)
            return set()
        self.outage.succeeded()
        return {u for u, count in zip(user_ids, counts, strict=True) if count}

    async def heartbeat(self) -> PresenceChanges:
        """Re-score this process's sockets (one that a sweep took while this process stalled, or that a
        restarted Redis forgot, or that joined while Redis was down, comes back, and its user online with
        it), replay the leaves Redis missed, then sweep the sockets whose time passed."""
        if self.outage.skip():
            return PresenceChanges()
        try:
            changes = await self._heartbeat()
        except RedisError as error:
            self.outage.failed(error)
            return PresenceChanges()
        self.outage.succeeded()
        return changes

    async def _heartbeat(self) -> PresenceChanges:
        async with self._lock:
            local = list(self._local.items())
            came: list[UUID] = []
            if local:
                async with self.redis.asyncio.pipeline(transaction=False) as pipe:
                    for sid, user_id in local:
                        await self._join(
                            keys=[self._user_key(user_id), self.expiries],
                            args=[sid, f"{user_id}|{sid}", self.ttl_ms],
                            client=pipe,
                        )
                    results = await pipe.execute()
                came = [user_id for (_, user_id), result in zip(local, results, strict=True) if result]
            left = list(self._left.items())
            gone: list[UUID] = []
            if left:
                async with self.redis.asyncio.pipeline(transaction=False) as pipe:
                    for sid, user_id in left:
                        await self._late_leave(
                            keys=[self._user_key(user_id), self.expiries], args=[sid, f"{user_id}|{sid}"], client=pipe
                        )
                    results = await pipe.execute()
                for sid, _ in left:
                    self._left.pop(sid, None)
                gone = [user_id for (_, user_id), result in zip(left, results, strict=True) if result]
        while True:
            count, *users = await self._sweep(keys=[self.expiries], args=[self._user_key(""), SWEEP_BATCH])
            gone += [UUID(u.decode()) for u in users]
            if count < SWEEP_BATCH:
                break
        return PresenceChanges(online=list(dict.fromkeys(came)), offline=list(dict.fromkeys(gone)))
