#!/usr/bin/python3
"""A TCP relay on loopback that delays every byte by a fixed time in each
direction: a WAN link's latency (not its bandwidth) for the benchmarks,
where the kernel has no netem (sch_netem).

    delay_proxy.py TARGET_HOST TARGET_PORT DELAY_MS [--listen ADDRESS] [--max-seconds S]
    delay_proxy.py --selftest DELAY_MS

Listens on ADDRESS (default 127.0.0.1) at a free port and prints
"LISTEN <port>"; every connection is relayed to TARGET_HOST:TARGET_PORT,
and whatever is read on one side is written to the other DELAY_MS later
(order kept, no rate limit, TCP_NODELAY on both sides). Runs until stdin
closes, SIGTERM, or --max-seconds (default 3600). --selftest relays an echo
server and prints the median round trip of 50 small messages
("RTT_MS <value>"), which should be about twice DELAY_MS.
"""
import asyncio
import os
import signal
import socket
import statistics
import sys
import time


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def relay(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def receive():
        while True:
            try:
                data = await reader.read(1 << 18)
            except OSError:
                data = b""
            queue.put_nowait((loop.time() + delay, data))
            if not data:
                return

    async def send():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                try:
                    writer.write_eof()
                except OSError:
                    pass
                return
            writer.write(data)
            try:
                await writer.drain()
            except OSError:
                return

    await asyncio.gather(receive(), send())


async def serve(target_host, target_port, delay, listen, ready):
    async def handle(creader, cwriter):
        try:
            sreader, swriter = await asyncio.open_connection(target_host, target_port)
        except OSError:
            cwriter.close()
            return
        nodelay(cwriter)
        nodelay(swriter)
        try:
            await asyncio.gather(relay(creader, swriter, delay), relay(sreader, cwriter, delay))
        finally:
            for w in (cwriter, swriter):
                w.close()

    server = await asyncio.start_server(handle, listen, 0)
    ready(server.sockets[0].getsockname()[1])
    return server


async def main_async(args):
    target_host, target_port, delay_ms = args[0], int(args[1]), float(args[2])
    listen, max_seconds = "127.0.0.1", 3600.0
    rest = args[3:]
    while rest:
        if rest[0] == "--listen":
            listen = rest[1]
        elif rest[0] == "--max-seconds":
            max_seconds = float(rest[1])
        else:
            raise SystemExit(__doc__)
        rest = rest[2:]
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    loop.add_reader(sys.stdin.fileno(),
                    lambda: (os.read(sys.stdin.fileno(), 4096) or stop.done() or stop.set_result(None)))
    server = await serve(target_host, target_port, delay_ms / 1000.0, listen,
                         lambda port: print("LISTEN %d" % port, flush=True))
    try:
        await asyncio.wait_for(stop, max_seconds)
    except asyncio.TimeoutError:
        pass
    server.close()


async def selftest(delay_ms):
    async def echo(reader, writer):
        nodelay(writer)
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    echo_server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = echo_server.sockets[0].getsockname()[1]
    ports = []
    proxy = await serve("127.0.0.1", port, delay_ms / 1000.0, "127.0.0.1", ports.append)
    reader, writer = await asyncio.open_connection("127.0.0.1", ports[0])
    nodelay(writer)
    rtts = []
    for _ in range(50):
        t0 = time.monotonic()
        writer.write(b"x" * 100)
        await writer.drain()
        await reader.readexactly(100)
        rtts.append((time.monotonic() - t0) * 1000)
    writer.close()
    proxy.close()
    echo_server.close()
    print("RTT_MS %.2f" % statistics.median(rtts), flush=True)


def main(argv):
    if len(argv) == 3 and argv[1] == "--selftest":
        asyncio.run(selftest(float(argv[2])))
        return 0
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    asyncio.run(main_async(argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
