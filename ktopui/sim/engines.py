"""Real time-series engines (Prometheus, VictoriaMetrics single) as child processes on loopback.

Interface:

    from ktopui.sim.engines import Engine, start_prometheus, start_victoria_metrics
    from ktopui.sim.engines import have_prometheus, have_victoria_metrics

    have_prometheus() / have_victoria_metrics()   # None when usable, else why not (one line)
    eng = start_prometheus(data_dir, scrape_config=None, retention="30d", blocks_from=None, cancel=None)
    eng = start_victoria_metrics(data_dir, scrape_config=None, retention="30d", cancel=None)
    eng.url                      # "http://127.0.0.1:PORT": /api/v1/query, /api/v1/query_range, ...
    eng.kind                     # "prometheus" | "victoriametrics"
    eng.import_openmetrics(text) # VictoriaMetrics only (Prometheus: blocks_from)
    eng.import_exposition(path)  # the same from a Prometheus text file with ms timestamps
    eng.flush()                  # samples imported or scraped so far are queryable after it
    eng.stop()                   # SIGTERM by PID, then waits; an Engine is also a context manager

`scrape_config` is one job of Prometheus's `scrape_configs` (a dict: job_name, scrape_interval,
kubernetes_sd_configs, relabel_configs, ...); both engines read the same one. `data_dir` is the
engine's own directory (its storage, its generated config and its log); it is created if missing.

OpenMetrics text (for `blocks_from` and `import_openmetrics`) carries a timestamp in seconds on
every sample, sorted by time within each series, and ends with `# EOF`, as promtool requires.
VictoriaMetrics drops samples older than its retention counted back from now, so text for it
must lie within `retention` of the present.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
# A free port is found by binding and releasing it; another process can take it before the
# engine binds, so a start whose engine dies at once is retried on a new port.
START_ATTEMPTS = 3


class EngineError(RuntimeError):
    """An engine that would not start or answer; the message ends with the tail of its log."""


def have_prometheus() -> str | None:
    for binary in ("prometheus", "promtool"):
        if shutil.which(binary) is None:
            return f"{binary} is not installed (Debian package prometheus)"
    return None


def have_victoria_metrics() -> str | None:
    if shutil.which("victoria-metrics") is None:
        return "victoria-metrics is not installed (Debian package victoria-metrics)"
    return None


@dataclass
class Engine:
    kind: str
    url: str
    data_dir: Path
    process: subprocess.Popen = field(repr=False)
    log_path: Path = field(repr=False)
    note: str = ""  # for people: what it holds less than asked (a shortened past)

    def import_openmetrics(self, text: str) -> None:
        """Write timestamped samples (OpenMetrics text, seconds) into a VictoriaMetrics engine."""
        if self.kind != "victoriametrics":
            raise EngineError("Prometheus takes no imports over HTTP: start it with blocks_from")
        body = _prometheus_text(text).encode()
        _request(self.url + "/api/v1/import/prometheus", data=body)
        self.flush()

    def import_exposition(self, path: Path) -> None:
        """Write the samples of a Prometheus text file (millisecond timestamps) into a
        VictoriaMetrics engine, streamed from the file."""
        if self.kind != "victoriametrics":
            raise EngineError("Prometheus takes no imports over HTTP: start it with blocks_from")
        with open(path, "rb") as body:
            request = urllib.request.Request(self.url + "/api/v1/import/prometheus", data=body,
                                             headers={"Content-Length": str(path.stat().st_size)})
            _request(request)
        self.flush()

    def flush(self) -> None:
        """Make what was written so far visible to queries (Prometheus's head already is)."""
        if self.kind == "victoriametrics":
            _request(self.url + "/internal/force_flush")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_prometheus(data_dir: str | Path, *, scrape_config: dict | None = None, retention: str = "30d",
                     blocks_from: str | Path | None = None, cancel: threading.Event | None = None) -> Engine:
    """A ready `prometheus` on 127.0.0.1; `blocks_from` (an OpenMetrics file) is first turned into
    TSDB blocks in its storage with promtool. `cancel` set while it starts: it is stopped and
    EngineError raised."""
    why = have_prometheus()
    if why:
        raise EngineError(why)
    data_dir = Path(data_dir)
    storage = data_dir / "tsdb"
    storage.mkdir(parents=True, exist_ok=True)
    if blocks_from is not None:
        _create_blocks(Path(blocks_from), storage, data_dir / "promtool.log", cancel)
    config = data_dir / "prometheus.yml"
    # JSON is YAML: no YAML writer needed for a generated config.
    config.write_text(json.dumps({"global": {}, "scrape_configs": [scrape_config] if scrape_config else []},
                                 indent=1))

    def command(port: int) -> list[str]:
        return ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={storage}",
                f"--storage.tsdb.retention.time={retention}", f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn"]

    return _start("prometheus", data_dir, command, "/-/ready", cancel)


def start_victoria_metrics(data_dir: str | Path, *, scrape_config: dict | None = None,
                           retention: str = "30d", cancel: threading.Event | None = None) -> Engine:
    """A ready single-node `victoria-metrics` on 127.0.0.1, scraping `scrape_config` if given
    (`cancel`: as start_prometheus)."""
    why = have_victoria_metrics()
    if why:
        raise EngineError(why)
    data_dir = Path(data_dir)
    storage = data_dir / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    scrape_flags = []
    if scrape_config:
        config = data_dir / "promscrape.yml"
        config.write_text(json.dumps({"scrape_configs": [scrape_config]}, indent=1))
        scrape_flags = [f"-promscrape.config={config}"]

    def command(port: int) -> list[str]:
        # latencyOffset 0 and no result cache: what was just written or scraped is queryable at once
        # (by default the last 30 s are hidden and results are cached across imports). Dedup at 1 ms:
        # a sample scraped twice with its own timestamp is kept once, as Prometheus keeps it.
        return ["victoria-metrics", f"-storageDataPath={storage}", f"-httpListenAddr=127.0.0.1:{port}",
                f"-retentionPeriod={retention}", "-search.latencyOffset=0s", "-search.disableCache",
                "-dedup.minScrapeInterval=1ms", "-loggerLevel=WARN", *scrape_flags]

    return _start("victoriametrics", data_dir, command, "/health", cancel)


def _start(kind: str, data_dir: Path, command, ready_path: str, cancel: threading.Event | None) -> Engine:
    log_path = data_dir / f"{kind}.log"
    for _attempt in range(START_ATTEMPTS):
        port = _free_port()
        with open(log_path, "ab") as log:
            # A session of its own: a Ctrl-C at the terminal reaches the caller, who stops the engine.
            process = subprocess.Popen(command(port), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                       start_new_session=True)
        engine = Engine(kind, f"http://127.0.0.1:{port}", data_dir, process, log_path)
        if _wait_ready(engine, ready_path, cancel):
            return engine
        engine.stop()
        if cancel is not None and cancel.is_set():
            raise EngineError(f"{kind} was stopped while it started")
    raise EngineError(f"{kind} did not start: {_log_tail(log_path)}")


def _wait_ready(engine: Engine, ready_path: str, cancel: threading.Event | None) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if engine.process.poll() is not None or (cancel is not None and cancel.is_set()):
            return False
        try:
            with urllib.request.urlopen(engine.url + ready_path, timeout=2) as response:
                if response.status == 200:
                    return True
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.1)
    return False


def _create_blocks(source: Path, storage: Path, log_path: Path, cancel: threading.Event | None) -> None:
    # Blocks of up to a day: promtool reads the whole file once per block, so 2 h blocks (its
    # default) make a day of history twelve passes; Prometheus compacts them as its own.
    with open(log_path, "wb") as log:
        process = subprocess.Popen(["promtool", "tsdb", "create-blocks-from", "openmetrics",
                                    "--max-block-duration=24h", str(source), str(storage)],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        while True:
            try:
                process.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                if cancel is not None and cancel.is_set():
                    process.kill()
                    process.wait()
                    raise EngineError("prometheus was stopped while promtool made its blocks") from None
    if process.returncode != 0:
        raise EngineError(f"promtool could not turn {source} into blocks: {_log_tail(log_path)}")


def _prometheus_text(openmetrics: str) -> str:
    """OpenMetrics samples (timestamps in seconds) as Prometheus text (milliseconds), comments dropped."""
    lines = []
    for line in openmetrics.splitlines():
        if not line or line.startswith("#"):
            continue
        sample, stamp = line.rsplit(" ", 1)
        lines.append(f"{sample} {round(float(stamp) * 1000)}")
    lines.append("")
    return "\n".join(lines)


def _request(url: str | urllib.request.Request, data: bytes | None = None) -> bytes:
    request = url if isinstance(url, urllib.request.Request) else urllib.request.Request(url, data=data)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        raise EngineError(f"{request.full_url}: HTTP {error.code} {error.read()[:300]!r}") from error


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(path: Path, lines: int = 5) -> str:
    with contextlib.suppress(OSError):
        tail = path.read_text(errors="replace").strip().splitlines()[-lines:]
        return " | ".join(tail) or "(no output)"
    return "(no log)"


__all__ = ["Engine", "EngineError", "have_prometheus", "have_victoria_metrics", "start_prometheus",
           "start_victoria_metrics"]
