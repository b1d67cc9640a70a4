"""DirectFanout's own index of each socket's rooms answers as python-socketio's manager does."""

import asyncio
import random

import socketio

from interfaces.sockets.fanout import DirectFanout, SidSet


def managers() -> tuple[DirectFanout, socketio.AsyncManager]:
    ours, theirs = DirectFanout(), socketio.AsyncManager()
    for manager in (ours, theirs):
        manager.set_server(socketio.AsyncServer(async_mode="asgi"))
    return ours, theirs


def test_rooms_and_pending_sockets_follow_the_library() -> None:
    """Random connects, joins, leaves, disconnects and closed rooms: the same rooms, the same members,
    the same rooms per socket and the same pending state as the library's manager."""
    ours, theirs = managers()
    rng = random.Random(7)
    sids: dict[str, str] = {}  # eio sid -> sio sid (both managers are given the same ids)

    async def run() -> None:
        ids = iter(range(10**6))
        for manager in (ours, theirs):
            manager.server.eio.generate_id = lambda: f"s{next(ids) // 2}"  # type: ignore[method-assign]
        for step in range(3000):
            action = rng.random()
            if action < 0.25 or not sids:
                eio = f"e{step}"
                sid = await ours.pre_connect(eio, "/")
                assert sid == await theirs.pre_connect(eio, "/")
                sids[eio] = sid
                if rng.random() < 0.8:
                    await ours.connect(sid, "/")
                    await theirs.connect(sid, "/")
            else:
                eio = rng.choice(list(sids))
                sid = sids[eio]
                if action < 0.6:
                    room = f"r{rng.randrange(40)}"
                    for manager in (ours, theirs):
                        await manager.enter_room(sid, "/", room)
                elif action < 0.75:
                    rooms = ours.get_rooms(sid, "/")
                    assert sorted(rooms) == sorted(theirs.get_rooms(sid, "/"))
                    if rooms:
                        room = rng.choice(rooms)
                        for manager in (ours, theirs):
                            await manager.leave_room(sid, "/", room)
                elif action < 0.77:
                    room = f"r{rng.randrange(40)}"
                    for manager in (ours, theirs):
                        await manager.close_room(room, "/")
                else:
                    if rng.random() < 0.5:
                        ours.pre_disconnect(sid, "/")
                        theirs.pre_disconnect(sid, "/")
                        assert ours.is_connected(sid, "/") is theirs.is_connected(sid, "/") is False
                    for manager in (ours, theirs):
                        await manager.disconnect(sid, "/")
                    del sids[eio]
            assert rooms_of(ours) == rooms_of(theirs)
            for sid in sids.values():
                assert ours.is_connected(sid, "/") == theirs.is_connected(sid, "/")
                assert sorted(ours.get_rooms(sid, "/")) == sorted(theirs.get_rooms(sid, "/"))
            assert {k: list(v) for k, v in ours.pending_connect.items()} == theirs.pending_connect
            assert {k: list(v) for k, v in ours.pending_disconnect.items()} == theirs.pending_disconnect

    asyncio.run(run())
    # nothing kept for sockets that are gone
    assert set(sid for _, sid in ours._rooms_of) == set(sids.values())


def rooms_of(manager: socketio.AsyncManager) -> dict[object, dict[str, str]]:
    return {room: dict(members) for room, members in manager.rooms.get("/", {}).items()}


def test_pending_sids_keep_the_list_semantics() -> None:
    sids = SidSet()
    sids.append("a")
    sids.append("b")
    assert "a" in sids and len(sids) == 2 and list(sids) == ["a", "b"]
    sids.remove("a")
    assert list(sids) == ["b"]
    try:
        sids.remove("a")
    except ValueError:
        pass
    else:
        raise AssertionError("removing a missing sid raises ValueError, as a list does")
