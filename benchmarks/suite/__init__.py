"""The benchmark suite of issue 7: one command, bounded in count and time, loopback only.

    python -m benchmarks.suite --database postgres|sqlite|both [--quick] [--client light|socketio|both]

It starts what it measures (a bare python-socketio relay, a contract relay that does a send's socket
work as the contract demands it without storage (benchmarks/contract_relay.py), `parley serve` on a throwaway database,
the rebuild benchmark in a process of its own) and drives the servers from several client worker
processes (benchmarks/loadgen.py), each running many lightweight clients (benchmarks/wire_client.py).
Workloads, each next to its ceiling measured in the same run where the issue asks for one:

    a  pairs      N pairs chatting, each sender with one message in flight: acknowledged sends/s at
                  a few concurrency levels (bare relay, contract relay, then Parley; Parley's rate
                  as a share of each ceiling, server CPU per send), with the light client, python-
                  socketio's own AsyncClient or both (--client; each share is of ceilings measured
                  with the same client, and the load generator's CPU is reported beside it), then p99
                  send -> ack and send -> message_new with open-loop pacing at half Parley's best rate
    l  lag        bounded delivery lag, on Parley after (a): 200 pairs (or the largest level) closed
                  loop for --lag-seconds (60; quick 20), then open loop at 1.5x Parley's best rate
                  (overload) as long: per 5 s window acked/s, delivered/s, p50/p99 send -> ack and
                  send -> message_new, errors by code; acknowledged but never delivered, p99 deliver /
                  p99 ack over the phase, and whether the lag grows (last third's p99 over the first's)
    b  fanout     one sender, 50 members of a group conversation: deliveries/s (messages x
                  recipients) and the fan-out latency, both relays and Parley
    c  idle       10,000 idle authenticated sockets: the server's RSS before and after, per socket
    d  storm      1,000 followers; a sender keeps sending; all drop at once and reconnect at once,
                  each catching up with get_messages after its last seq: nothing missed, p99 catch-up
    e  rebuild    benchmarks.rebuild (its own process): the store's raw read rate and the rebuild's
    2  two-proc   workload a on two `parley serve --no-projections` processes sharing fan-out through
                  Redis, with `parley projections run` beside them, clients split across them: sends/s
                  closed loop against one `parley serve`, and, both open loop at the same offered rate
                  (0.6 x one process's closed-loop best), the CPU per acknowledged message of every
                  process involved (servers, projector, PostgreSQL's processes, Redis), their ratio,
                  and from it an estimate of the sends/s 8 cores would take

Every measurement is printed as one JSON line and all of them are written, with the machine, to
benchmarks/results/<UTC date>-<database>-<commit>[-quick].json.
"""

# One module per workload: pairs (a), fanout (b), idle (c), storm (d), rebuild (e), lag (l), scale_out (2); what they
# share: config (targets, counts), cast (users, conversations), topology (relay, `parley serve`), pool (client
# workers), machine (/proc), profiles (py-spy), report (records, results file, verdicts, table); run (one
# database, every workload); __main__ (the command line).

from benchmarks.suite.cast import make_cast
from benchmarks.suite.machine import machine
from benchmarks.suite.report import pct

__all__ = ["machine", "make_cast", "pct"]  # what benchmarks.soak uses
