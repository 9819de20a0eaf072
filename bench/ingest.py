"""Ingest benchmark: N concurrent respondents complete a 30-item questionnaire over HTTP.

Starts the real server (uvicorn, SQLite, 2 workers) on a fresh database, then drives
respondents with httpx exactly as a browser without JavaScript would: open the public link,
consent, then GET and POST every page, and read the thank-you page. The questionnaire is 30
required 7-point items on one page by default (``--pages 3`` for three pages of 10: 4 more
requests per complete). Every guarantee of the respondent flow stays on: the CSRF token, consent
before anything is stored, a submission key per post, validation of every answer and the commit
before the redirect to the thank-you page.

The load comes from ``--clients`` processes (default: one per CPU), each an asyncio loop (uvloop)
over keep-alive HTTP/1.1 connections driven through httpx's transport, one connection per
respondent in flight; every respondent keeps its own cookies (the session cookie with its CSRF
token, the public link's resume cookie) and follows redirects as a browser would. The bare
``/healthz`` rate is measured with the same processes in the same run: it is the most this load
generator and server can do together.

Prints the layout, completes per second, requests per complete, p50/p99 latency per request,
acknowledged (thank-you page seen) versus stored complete responses, the CPU time the server
workers and the clients spent per request, the ``/healthz`` rate and the load average.

The server runs in production mode (``--env development`` for the reloading one) and serves this
checkout, or ``--tree`` another one: ``bench/compare.py`` drives two checkouts in turn with the
same load generator.

Usage: ``python bench/ingest.py [--respondents 1000] [--concurrency 50] [--pages 1]
[--clients N] [--tree CHECKOUT] [--env production]``
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

# httpcore asks for sniffio on every request; when it is not installed each ask is a failed
# import that searches sys.path again. Recording it as missing makes that ask free.
sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

import httpx  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

FIELDS = re.compile(r'name="(csrf_token|submission_key)" value="([^"]+)"')
ITEMS = 30
FORM_HEADERS = {"content-type": "application/x-www-form-urlencoded"}
EXPIRED = ("max-age=0", "expires=thu, 01 jan 1970")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Layout:
    items: int
    pages: int

    @property
    def per_page(self) -> int:
        return -(-self.items // self.pages)

    def answers(self, page: int) -> dict[str, str]:
        first = page * self.per_page
        return {
            f"q{i + 1}": str(1 + i % 7)
            for i in range(first, min(first + self.per_page, self.items))
        }


@dataclass
class Share:
    """What one client process reports back."""

    done: int = 0
    latencies: list[float] = field(default_factory=list)
    posts: list[float] = field(default_factory=list)
    """The latencies of the POSTs among them (the requests that write)."""

    def record(self, seconds: float, post: bool = False) -> None:
        self.latencies.append(seconds)
        if post:
            self.posts.append(seconds)

    began: float = 0.0
    ended: float = 0.0
    cpu: float = 0.0


class Respondent:
    """One respondent's cookies (the session and the resume cookie) over a shared connection."""

    def __init__(self, client: Connection, record: Callable[[float, bool], None]) -> None:
        self.client = client
        self.record = record
        self.cookies: dict[str, str] = {}

    async def call(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> httpx.Response:
        headers = dict(FORM_HEADERS) if form is not None else {}
        if self.cookies:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        content = urlencode(form).encode() if form is not None else None
        began = time.perf_counter()
        response = await self.client.request(method, path, content=content, headers=headers)
        self.record(time.perf_counter() - began, method == "POST")
        for value in response.headers.get_list("set-cookie"):
            name, _, rest = value.partition("=")
            if any(mark in value.lower() for mark in EXPIRED):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = rest.split(";", 1)[0]
        return response


async def complete_one(client: Connection, slug: str, layout: Layout, record) -> bool:
    """Open the link, consent, answer every page, read the thank-you page."""
    who = Respondent(client, record)
    page = await who.call("GET", f"/s/{slug}")
    if page.status_code != 200:
        return False
    response = await who.call(
        "POST", f"/s/{slug}/start", {**dict(FIELDS.findall(page.text)), "consent": "yes"}
    )
    for number in range(layout.pages):
        if response.status_code != 303:
            return False
        page = await who.call("GET", response.headers["location"])
        if page.status_code != 200:
            return False
        form = {**dict(FIELDS.findall(page.text)), **layout.answers(number), "action": "next"}
        response = await who.call("POST", f"/s/{slug}/page/{number}", form)
    if response.status_code != 303 or not response.headers["location"].endswith("/done"):
        return False
    done = await who.call("GET", response.headers["location"])
    return done.status_code == 200 and 'role="status"' in done.text


class Connection:
    """One keep-alive HTTP/1.1 connection, driven through httpx's transport.

    The transport is where httpx sends and receives; ``httpx.AsyncClient`` adds URL merging,
    cookie jars, auth and redirect handling on top, ~30% of the load generator's CPU that this
    benchmark does not need (each respondent keeps its own cookies, redirects are followed by
    hand as a browser would).
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self.transport = httpx.AsyncHTTPTransport(
            http1=True,
            http2=False,
            retries=0,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        self.timeout = httpx.Timeout(30).as_dict()

    async def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        request = httpx.Request(
            method,
            self.base + path,
            content=content,
            headers=headers,
            extensions={"timeout": self.timeout},
        )
        response = await self.transport.handle_async_request(request)
        await response.aread()
        return response

    async def get(self, path: str) -> httpx.Response:
        return await self.request("GET", path)

    async def aclose(self) -> None:
        await self.transport.aclose()


async def _run_share(
    base: str, job: str, slug: str, layout: Layout, count: int, concurrency: int, barrier
) -> Share:
    """``concurrency`` loops, each with its own keep-alive connection (as a browser has)."""
    share = Share()
    remaining = iter(range(count))
    clients = [Connection(base) for _ in range(concurrency)]
    # Open the connections before the clock starts.
    await asyncio.gather(*(client.get("/healthz") for client in clients))
    await asyncio.get_running_loop().run_in_executor(None, barrier.wait)
    cpu = time.process_time()
    share.began = time.monotonic()

    async def worker(client: Connection) -> None:
        for _ in remaining:
            try:
                if job == "healthz":
                    began = time.perf_counter()
                    response = await client.get("/healthz")
                    share.record(time.perf_counter() - began)
                    share.done += response.status_code == 200
                else:
                    # Awaited first: `share.done += await ...` would read the count before
                    # the await and lose the other loops' increments.
                    ok = await complete_one(client, slug, layout, share.record)
                    share.done += ok
            except httpx.HTTPError:
                pass

    await asyncio.gather(*(worker(client) for client in clients))
    share.ended = time.monotonic()
    share.cpu = time.process_time() - cpu
    for client in clients:
        await client.aclose()
    return share


def client_process(args: tuple, barrier, results) -> None:
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover (uvicorn[standard] brings uvloop)
        factory = asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        results.put(runner.run(_run_share(*args, barrier)))


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def drive(
    base: str, job: str, slug: str, layout: Layout, total: int, concurrency: int, clients: int
) -> Share:
    """Run ``total`` jobs over ``clients`` processes; the clock runs from a common start."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(clients + 1)
    results = context.Queue()
    counts = split(total, clients)
    slots = split(concurrency, clients)
    processes = [
        context.Process(
            target=client_process,
            args=((base, job, slug, layout, counts[i], max(slots[i], 1)), barrier, results),
        )
        for i in range(clients)
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=120)
    shares = [results.get(timeout=3600) for _ in processes]
    for process in processes:
        process.join()
    merged = Share(
        done=sum(s.done for s in shares),
        began=min(s.began for s in shares),
        ended=max(s.ended for s in shares),
        cpu=sum(s.cpu for s in shares),
    )
    for share in shares:
        merged.latencies.extend(share.latencies)
        merged.posts.extend(share.posts)
    return merged


def worker_pids(server_pid: int) -> list[int]:
    """The uvicorn worker processes (children of the supervisor)."""
    try:
        children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in children]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50, help="respondents in flight")
    parser.add_argument("--pages", type=int, default=1, choices=(1, 2, 3, 5, 6, 10, 15, 30))
    parser.add_argument("--clients", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--healthz", type=int, default=5000, help="requests to /healthz")
    parser.add_argument(
        "--warm-up", type=int, default=40, help="respondents before the measured ones"
    )
    parser.add_argument(
        "--tree", type=Path, default=ROOT, help="the checkout whose app is served (default: this)"
    )
    parser.add_argument(
        "--env",
        default="production",
        choices=("production", "development"),
        help="LOYALTYLAB_ENV of the server (development reloads changed templates)",
    )
    args = parser.parse_args()
    tree = args.tree.resolve()
    # The served checkout's packages; the seeding helpers are this script's.
    sys.path[:0] = [str(tree / "platform"), str(tree), str(Path(__file__).parent)]

    from seed import open_wave, rating_definition
    from sqlalchemy import func
    from sqlmodel import Session, SQLModel, select

    import loyaltylab.models  # noqa: F401
    from loyaltylab.db import make_engine
    from loyaltylab.fieldwork.models import Response, ResponseStatus

    layout = Layout(ITEMS, args.pages)
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/ingest.db"
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            definition = rating_definition(layout.items, per_page=layout.per_page)
            slug = open_wave(session, definition).public_slug
        port = free_port()
        log = open(Path(directory) / "server.log", "w")  # noqa: SIM115 (lives as long as the server)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(tree / "platform"), str(tree)]),
            "LOYALTYLAB_ENV": args.env,
            "LOYALTYLAB_DATABASE_URL": url,
            "LOYALTYLAB_SECRET_KEY": secrets.token_urlsafe(32),
            "LOYALTYLAB_BASE_URL": f"http://127.0.0.1:{port}",
            "LOYALTYLAB_VAR_DIR": directory,
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "loyaltylab.asgi:app",
                "--workers",
                str(args.workers),
                "--port",
                str(port),
                "--no-access-log",
                # As ``loyaltylab serve`` (SERVER_OPTIONS): the app reads forwarded headers
                # itself, from trusted proxies only.
                "--no-proxy-headers",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=tree,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        load_before = os.getloadavg()
        try:
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            workers = worker_pids(server.pid)
            # Every worker compiles its templates and fills its caches on its first
            # respondents: not what a request costs once the server runs.
            warm = drive(
                base, "respond", slug, layout, args.warm_up, args.concurrency, args.clients
            )
            health_cpu = cpu_seconds(workers)
            health = drive(
                base, "healthz", slug, layout, args.healthz, args.concurrency, args.clients
            )
            server_cpu = cpu_seconds(workers)
            health_cpu = server_cpu - health_cpu
            run = drive(
                base, "respond", slug, layout, args.respondents, args.concurrency, args.clients
            )
            server_cpu = cpu_seconds(workers) - server_cpu
            load_after = os.getloadavg()
        finally:
            server.terminate()
            server.wait(timeout=30)
        log.close()
        server_log = (Path(directory) / "server.log").read_text()
        errors = server_log.count("Traceback")
        with Session(engine) as session:
            stored = session.exec(
                select(func.count()).where(Response.status == ResponseStatus.complete)
            ).one()
        engine.dispose()
    stored -= warm.done  # the warm-up's, acknowledged too

    elapsed = run.ended - run.began
    requests = len(run.latencies)
    latencies = sorted(run.latencies)
    health_rate = health.done / (health.ended - health.began)
    per_complete = requests / max(run.done, 1)
    print(
        f"layout           {layout.items} items on {layout.pages} page(s)"
        f"{' (default; --pages 3 for the paged layout)' if layout.pages == 1 else ''}"
    )
    print(
        f"load             {args.respondents} respondents, {args.concurrency} in flight, "
        f"{args.clients} client processes, {args.workers} server workers"
    )
    print(f"server           {tree} ({args.env})")
    print(f"completes/s      {run.done / elapsed:8.1f}   ({requests / elapsed:.0f} requests/s)")
    print(f"requests/complete {per_complete:7.1f}")
    print(f"latency p50      {statistics.median(latencies) * 1000:8.1f} ms")
    print(f"latency p99      {percentile(latencies, 0.99) * 1000:8.1f} ms")
    print(f"latency max      {latencies[-1] * 1000:8.1f} ms")
    posts = sorted(run.posts)
    if posts:
        print(
            f"  POSTs only     p50 {statistics.median(posts) * 1000:.1f} ms,"
            f" p99 {percentile(posts, 0.99) * 1000:.1f} ms ({len(posts)} of {requests})"
        )
    print(f"acknowledged     {run.done:8d}")
    print(f"stored complete  {stored:8d}")
    print(f"lost             {max(run.done - stored, 0):8d}")
    print(f"not completed    {args.respondents - run.done:8d}")
    print(f"/healthz         {health_rate:8.0f} requests/s (same server and clients, same run)")
    ratio = requests / elapsed / health_rate
    print(f"ratio            {ratio:8.2f} of the bare /healthz request rate")
    if workers:
        print(f"server CPU       {server_cpu / requests * 1000:8.2f} ms per request (all workers)")
        print(f"/healthz CPU     {health_cpu / health.done * 1000:8.3f} ms per request (server)")
    print(f"client CPU       {run.cpu / requests * 1000:8.2f} ms per request (all clients)")
    print(f"server errors    {errors:8d}")
    print(
        "load average     "
        + " ".join(f"{v:.2f}" for v in load_before)
        + " before, "
        + " ".join(f"{v:.2f}" for v in load_after)
        + f" after ({os.cpu_count()} CPUs)"
    )
    if errors:
        trace = server_log[server_log.rindex("Traceback") :].splitlines()
        print(
            "last server error:",
            *[line for line in trace if "loyaltylab.access" not in line][-40:],
            sep="\n",
        )
    if stored != run.done:
        sys.exit("acknowledged and stored responses differ")


if __name__ == "__main__":
    main()
