"""The soak run of issue 12: Parley under steady chat while something breaks underneath every minute.

    python -m benchmarks.soak [--minutes 10] [--rate 300] [--database postgres]

On loopback it starts a PostgreSQL cluster of its own (initdb as the postgres user; a TCP proxy in
front of the local server where that is not possible), a redis-server of its own, two `parley serve
--no-projections` processes and one `parley projections run` (topology.py). Pairs and one group chat
through both servers at a fixed rate, every client sending with a unique client_message_id, retrying
with the same id, reconnecting with backoff and catching up with get_messages (load.py). Every
`--fault-every` seconds the next fault is injected in turn (faults.py): kill -9 of a server, a
PostgreSQL restart, a Redis restart, kill -9 of the projector. At the end the load stops, clients
catch up, and checks.py judges: nothing acknowledged lost or doubled, seqs gap-free, every client has
every message, `parley projections verify` clean, every fault recovered from, every send answered,
the never-killed server's RSS grew at most 10% after the first minute. report.py prints the JSON
lines and the table and writes benchmarks/results/<date>-soak-<commit>.json.
"""
