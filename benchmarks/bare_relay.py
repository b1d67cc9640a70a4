"""The ceiling for the send benchmark: a bare python-socketio relay with Parley's handler shape
(validate, ack with the message, emit message_new to the conversation room) and no storage.

    python -m benchmarks.bare_relay --port 8765      # serves until stopped
"""

import argparse
import itertools
import time
import uuid
from typing import Any

import socketio
import uvicorn

sio = socketio.AsyncServer(async_mode="asgi")
app = socketio.ASGIApp(sio)
seqs: dict[str, "itertools.count[int]"] = {}


@sio.on("join_conversation")
async def join(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    await sio.enter_room(sid, f"conversation:{data['conversation_id']}")
    return {"ok": True}


@sio.on("send_message")
async def send(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    conversation = data["conversation_id"]
    seq = next(seqs.setdefault(conversation, itertools.count(1)))
    message = {
        "id": str(uuid.uuid4()),
        "conversation_id": conversation,
        "seq": seq,
        "sender_id": sid,
        "body": data["body"].strip(),
        "client_message_id": data["client_message_id"],
        "sent_at": time.time(),
        "status": "sent",
    }
    await sio.emit("message_new", message, room=f"conversation:{conversation}")
    return {"ok": True, "message": message}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
