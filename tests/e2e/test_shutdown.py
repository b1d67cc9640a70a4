"""SIGTERM under load: `parley serve` stops taking sockets, answers what is in flight, sends the
broadcasts it holds, and exits 0 within 10 s; nothing acknowledged is lost, nothing refused is stored."""

import asyncio
import contextlib
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import socketio

from tests.support.clients import Person, Socket
from tests.support.databases import postgres_database
from tests.support.log_checks import assert_acknowledged_exactly_once, assert_projections_verify
from tests.support.server import ServerProcess

SENDERS = 6
EXIT_BOUND = 10.0  # seconds from SIGTERM; orchestrators (and ParleyProcess.stop) SIGKILL after this
REFUSAL_BOUND = 3.0  # a handshake refused takes a round trip, not seconds
UNANSWERED_BOUND = 8.0  # a send neither answered nor ended by a closed socket in this long is a hang


@dataclass
class Outcomes:
    acked: dict[str, int] = field(default_factory=dict)  # client_message_id -> seq
    refused: dict[str, dict[str, Any]] = field(default_factory=dict)  # client_message_id -> error
    cut: list[str] = field(default_factory=list)  # in flight when the socket closed: no answer
    hung: list[str] = field(default_factory=list)
    other: list[dict[str, Any]] = field(default_factory=list)


async def send_until_closed(sock: Socket, conversation: str, outcomes: Outcomes) -> None:
    """Send one message after another until the server closes the socket; each send ends with an ack or
    with the socket closed, never with silence on an open socket."""
    closed = asyncio.Event()
    sock.client.on("disconnect", lambda *_: closed.set())
    loop = asyncio.get_running_loop()
    while not closed.is_set():
        key = str(uuid.uuid4())
        answer: asyncio.Future[Any] = loop.create_future()
        payload = {"conversation_id": conversation, "client_message_id": key, "body": f"load {key[:8]}"}
        try:
            await sock.client.emit(
                "send_message", payload, callback=lambda *args, f=answer: f.done() or f.set_result(args[0])
            )
        except socketio.exceptions.SocketIOError:  # closed under us: this one was never sent
            return
        closing = asyncio.ensure_future(closed.wait())
        await asyncio.wait({answer, closing}, timeout=UNANSWERED_BOUND, return_when=asyncio.FIRST_COMPLETED)
        closing.cancel()
        if answer.done():
            ack = answer.result()
            if ack.get("ok"):
                outcomes.acked[key] = ack["message"]["seq"]
            elif ack.get("error", {}).get("code") == "internal":
                outcomes.refused[key] = ack["error"]
            else:
                outcomes.other.append(ack)
        elif closed.is_set():
            outcomes.cut.append(key)
        else:
            outcomes.hung.append(key)
            return


async def connect_attempts_until_exit(person: Person, process: "subprocess.Popen[bytes]") -> list[tuple[bool, str]]:
    """Try to open a new socket again and again until the process has exited: (started while it was
    still running, what happened). A refusal is prompt: a handshake left unanswered is not one."""
    attempts: list[tuple[bool, str]] = []
    while True:
        alive = process.poll() is None
        sock = Socket(person)
        started = time.monotonic()
        try:
            await sock.connect()
        except socketio.exceptions.ConnectionError as error:
            took = time.monotonic() - started
            attempts.append((alive, f"refused: {error}" if took < REFUSAL_BOUND else f"no answer in {took:.1f} s"))
        else:
            attempts.append((alive, "accepted"))
            await sock.disconnect()
        if not alive:
            return attempts
        await asyncio.sleep(0.02)


async def history(sock: Socket, conversation: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while True:
        page = await sock.call(
            "get_messages",
            {"conversation_id": conversation, "after_seq": messages[-1]["seq"] if messages else 0, "limit": 200},
        )
        assert page["ok"], page
        messages += page["messages"]
        if not page["has_more"]:
            return messages


async def test_sigterm_under_load_answers_everything_flushes_broadcasts_and_exits_0(database_url: str) -> None:
    server = ServerProcess(database_url).start()
    opened: list[Socket] = []
    try:
        alice = Person(server.url, "alice").register()
        bob = Person(server.url, "bob").register()
        alice.connect_with(bob)
        listener = await Socket(bob).connect()
        conversation = (await listener.call("start_conversation", {"user_ids": [alice.id]}))["conversation"]["id"]
        assert (await listener.call("join_conversation", {"conversation_id": conversation}))["ok"]
        senders = [await Socket(alice if n % 2 else bob).connect() for n in range(SENDERS)]
        opened += [listener, *senders]
        outcomes = Outcomes()
        tasks = [asyncio.create_task(send_until_closed(s, conversation, outcomes)) for s in senders]

        deadline = time.monotonic() + 30
        while len(outcomes.acked) < 100:  # under load: sends flowing on every socket
            assert time.monotonic() < deadline, f"only {len(outcomes.acked)} sends acknowledged in 30 s"
            assert not any(t.done() for t in tasks), "a sender stopped before the SIGTERM"
            await asyncio.sleep(0.05)

        assert server.process is not None
        process = server.process
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        stopped: list[float] = []
        exited = asyncio.create_task(asyncio.to_thread(process.wait, EXIT_BOUND + 5))
        exited.add_done_callback(lambda _: stopped.append(time.monotonic()))
        attempts = await connect_attempts_until_exit(alice, process)
        code = await exited
        took = stopped[0] - signalled
        assert code == 0, f"exit status {code}:\n{server.log()}"
        assert took < EXIT_BOUND, f"took {took:.1f} s to exit"
        await asyncio.wait_for(asyncio.gather(*tasks), UNANSWERED_BOUND + 2)

        # Every send was answered, or was in flight (one per socket at most) when its socket closed.
        assert not outcomes.hung, f"{len(outcomes.hung)} sends never answered on an open socket"
        assert not outcomes.other, outcomes.other[:3]
        assert len(outcomes.cut) <= SENDERS
        # New sockets during the shutdown were refused, never accepted (to be dropped later).
        assert any(alive for alive, _ in attempts), "no connection was attempted while the server stopped"
        assert all(result.startswith("refused") for _, result in attempts), attempts

        # Every message acknowledged ok was broadcast to the listener before its socket closed.
        delivered = [m for m in listener.pending("message_new") if m["conversation_id"] == conversation]
        delivered_keys = {m["client_message_id"] for m in delivered}
        undelivered = [key for key in outcomes.acked if key not in delivered_keys]
        assert not undelivered, f"{len(undelivered)} acknowledged messages were never broadcast"
        seqs = [m["seq"] for m in delivered]
        assert seqs == sorted(set(seqs)), "broadcasts out of order, or one twice"

        log = server.log()
        # After a restart: every acknowledged message is in the log exactly once, seqs without gaps; a
        # send refused with "nothing was changed" was not stored; sending works again.
        server = ServerProcess(database_url, port=server.port).start()  # where the clients knew it
        again = await Socket(alice).connect()
        opened.append(again)
        stored = await history(again, conversation)
        stored_keys = {m["client_message_id"] for m in stored}
        not_done = {key for key, error in outcomes.refused.items() if "nothing was changed" in error["message"]}
        assert not stored_keys & not_done, "a send refused as not done was stored"
        # The sockets closed only once what they had in flight was answered: a send without an answer
        # was one the server had not taken on (emitted after it stopped taking events).
        assert not stored_keys & set(outcomes.cut), "a send was stored but its socket closed before its ack"
        assert set(delivered_keys) <= stored_keys, "a message was broadcast that is not stored"
        after = await again.send(conversation, "after the restart")
        assert after["ok"], after
        assert after["message"]["seq"] == len(stored) + 1
        await again.disconnect()
        server.stop()
        assert "shutting down: drained" in log, log  # what an operator sees
        count = assert_acknowledged_exactly_once(database_url, conversation, outcomes.acked)
        assert count == len(stored) + 1
        assert_projections_verify(database_url)
        print(
            f"\nSIGTERM under load: exit 0 in {took:.2f} s; {len(outcomes.acked)} acknowledged (all broadcast, all "
            f"stored once), {len(outcomes.refused)} refused `internal`, {len(outcomes.cut)} cut by the close; "
            f"{len(attempts)} connection attempts refused"
        )
    finally:
        for sock in opened:
            with contextlib.suppress(Exception):
                await sock.disconnect()
        server.stop()


class StallingProxy:
    """A TCP proxy that can stall: bytes stop flowing both ways without any connection being closed,
    as when the network to the database hangs (a cut, by contrast, fails fast)."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        self._flowing.clear()

    def close(self) -> None:
        """Drop every connection, then let the stalled pumps run into the closed sockets (nothing held
        back is delivered late)."""
        self._closed = True
        for s in [self.listener, *self._sockets]:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self._flowing.set()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
                self._flowing.wait()
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                continue
            upstream.settimeout(None)
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                self._flowing.wait()
                if self._closed:
                    return
                sink.sendall(data)


async def test_sigterm_while_the_database_stalls_answers_in_flight_sends_and_exits_0_in_time() -> None:
    """Sends in flight that cannot finish (the store does not answer) are cut short at the drain's bound
    and answered `internal`; the process exits 0 within the bound although calls into the store never
    return. Nothing acknowledged is lost, and each cut-short send retried is stored once."""
    with postgres_database() as direct_url:
        proxy = StallingProxy(5432)
        server = ServerProcess(direct_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")).start()
        opened: list[Socket] = []
        try:
            alice = Person(server.url, "alice").register()
            bob = Person(server.url, "bob").register()
            alice.connect_with(bob)
            senders = [await Socket(alice).connect() for _ in range(3)]
            opened += senders
            conversation = (await senders[0].call("start_conversation", {"user_ids": [bob.id]}))["conversation"]["id"]
            acked: dict[str, int] = {}
            for n in range(3):
                ack = await senders[n].send(conversation, f"before {n}", key := str(uuid.uuid4()))
                acked[key] = ack["message"]["seq"]

            proxy.stall()
            loop = asyncio.get_running_loop()
            stalled: dict[str, asyncio.Future[Any]] = {}
            for sock in senders:
                key = str(uuid.uuid4())
                stalled[key] = loop.create_future()
                await sock.client.emit(
                    "send_message",
                    {"conversation_id": conversation, "client_message_id": key, "body": "stalled"},
                    callback=lambda *args, f=stalled[key]: f.done() or f.set_result(args[0]),
                )
            # The sends stay unanswered: the store does not answer (and nothing else would).
            done, _ = await asyncio.wait(stalled.values(), timeout=1.0)
            assert not done, [f.result() for f in done]

            assert server.process is not None
            signalled = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(server.process.wait, EXIT_BOUND + 5)
            took = time.monotonic() - signalled
            assert code == 0, f"exit status {code}:\n{server.log()}"
            assert took < EXIT_BOUND, f"took {took:.1f} s to exit:\n{server.log()}"
            # Each was answered before its socket closed: `internal`, not silence.
            assert all(f.done() for f in stalled.values()), "a send in flight was left without an answer"
            answers = [f.result() for f in stalled.values()]
            assert all(a["ok"] is False and a["error"]["code"] == "internal" for a in answers), answers
            assert "did not finish in time; answered `internal`" in server.log(), server.log()
        finally:
            for sock in opened:
                with contextlib.suppress(Exception):
                    await sock.disconnect()
            server.stop()
            proxy.close()

        # Restarted on the database itself: everything acknowledged is there once; the cut-short sends,
        # retried with the same client_message_id, are stored once each.
        server = ServerProcess(direct_url, port=server.port).start()
        try:
            again = await Socket(alice).connect()
            for key in stalled:
                ack = await again.send(conversation, "stalled", key)
                assert ack["ok"], ack
                acked[key] = ack["message"]["seq"]
            await again.disconnect()
        finally:
            server.stop()
        assert assert_acknowledged_exactly_once(direct_url, conversation, acked) == len(acked)
        assert_projections_verify(direct_url)
        print(f"\nSIGTERM with the database stalled: exit 0 in {took:.2f} s; {len(stalled)} sends in flight answered")
