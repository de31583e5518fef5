"""`AtomsMock`: start the bundled server and drive its control API."""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import AtomsMockError, WaitTimeoutError
from ._executable import executable

if TYPE_CHECKING:  # pragma: no cover
    from types import TracebackType

    from smallestai import AsyncSmallestAI, SmallestAI

#: The API key `client()` uses when none is given. Any non-empty Bearer
#: token authenticates (unless the server runs with `--require-key`), and
#: each key is its own organization.
DEFAULT_API_KEY = "sk_local_dev"

#: The platform API's mount point.
API_PREFIX = "/atoms/v1"

#: Longest long-poll the server allows, in seconds.
MAX_WAIT_SECONDS = 120.0

Json = dict[str, Any]

# Control API calls go straight to loopback: never through an
# `http_proxy` from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def _params(**values: Any) -> dict[str, Any]:
    """snake_case keyword arguments to the control API's camelCase names,
    without the ones left at `None`."""
    return {_camel(k): v for k, v in values.items() if v is not None}


def _timeout_ms(seconds: float) -> int:
    if not 0 <= seconds <= MAX_WAIT_SECONDS:
        raise ValueError(f"timeout must be between 0 and {MAX_WAIT_SECONDS:g} seconds, got {seconds!r}")
    return round(seconds * 1000)


def new_api_key() -> str:
    """A fresh, random API key (`sk_test_<32 hex>`): a new, empty organization."""
    return f"sk_test_{uuid.uuid4().hex}"


def flag_args(flags: Mapping[str, Any]) -> list[str]:
    """Keyword arguments to server command-line flags.

    `security_check_secs=0` becomes `--security-check-secs 0`; a list
    repeats the flag (`require_key=["a", "b"]`); `True` passes the bare
    flag; `None` and `False` leave it out. `atoms-mock --help` lists the
    flags.
    """
    args: list[str] = []
    for key, value in flags.items():
        name = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(name)
        elif isinstance(value, (list, tuple)):
            for item in value:
                args += [name, str(item)]
        else:
            args += [name, str(value)]
    return args


class _Log:
    """The server's stderr, kept in a temporary file (the process appends to
    it; we read it by name, so reading never races the writer's offset)."""

    def __init__(self) -> None:
        fd, name = tempfile.mkstemp(prefix="atoms-mock-", suffix=".log")
        os.close(fd)
        self.path = Path(name)
        self.kept: str | None = None

    def text(self, since: int = 0) -> str:
        if self.kept is not None:
            return self.kept[since:]
        try:
            with self.path.open("rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def size(self) -> int:
        if self.kept is not None:
            return len(self.kept)
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def close(self) -> None:
        if self.kept is None:
            self.kept = self.text()
            with contextlib.suppress(OSError):
                self.path.unlink()


def _terminate(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Faults:
    """Fault rules (`/_admin/faults`): answer or delay matching requests to
    `/atoms/v1` before any handler runs, so a faulted request changes no
    state. Reached as `AtomsMock.faults`."""

    def __init__(self, mock: AtomsMock) -> None:
        self._mock = mock

    def add(
        self,
        path_pattern: str,
        *,
        method: str | None = None,
        api_key: str | None = None,
        status: int | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        delay_ms: int | None = None,
        times: int | None = None,
        probability: float | None = None,
        retry_after: int | None = None,
    ) -> str:
        """Add a rule after the existing ones and return its id (`flt_<n>`).

        Args:
            path_pattern: relative to `/atoms/v1`: an exact path, `*` for one
                segment (`/agent/*/drafts`), a final `**` for any rest.
            method: only this HTTP method.
            api_key: only requests with this Bearer token (a rule without
                one also answers requests with a missing or rejected key).
            status: answer with this status; without `body`, in the
                platform's error envelope (429 also gets `Retry-After`).
                Without `status` the rule only delays.
            body: the JSON answer instead of the envelope.
            headers: headers added to the answer.
            delay_ms: hold the request this many ms of the mock's clock
                first (with a virtual clock, until `advance` passes it).
            times: fire on the next N matches only.
            probability: 0-1, rolled with the `--seed`ed RNG.
            retry_after: seconds for a 429's `Retry-After` (default 60).

        Raises:
            AtomsMockError: 400 naming the bad field.
        """
        rule = _params(
            method=method,
            path_pattern=path_pattern,
            api_key=api_key,
            status=status,
            body=body,
            headers=dict(headers) if headers is not None else None,
            delay_ms=delay_ms,
            times=times,
            probability=probability,
            retry_after=retry_after,
        )
        return str(self._mock.admin("POST", "/faults", rule)["id"])

    def list(self) -> builtins.list[Json]:
        """Every rule in checking order, each with `remaining` (`None` when
        unlimited) and `hits`."""
        return list(self._mock.admin("GET", "/faults")["faults"])

    def remove(self, fault_id: str) -> None:
        """Remove one rule. Raises `AtomsMockError` (404) for an unknown id."""
        self._mock.admin("DELETE", f"/faults/{urllib.parse.quote(fault_id, safe='')}")

    def clear(self) -> None:
        """Remove every rule."""
        self._mock.admin("DELETE", "/faults")


class AtomsMock:
    """A running atoms-mock server and its control API.

    Start one with `AtomsMock.start()` (the executable bundled with this
    package, on a free loopback port) or attach to one already running with
    `AtomsMock.connect(url)`. Use it as a context manager, or call `stop()`.

    Attributes:
        base_url: `http://127.0.0.1:PORT`, the server's root.
        atoms_url: `http://127.0.0.1:PORT/atoms/v1`, the platform API.
        ws_url: `ws://127.0.0.1:PORT/atoms/v1/agent/connect`, the realtime
            agent WebSocket.
        admin_url: `http://127.0.0.1:PORT/_admin`, the control API.
        faults: fault-rule helpers (`add`, `list`, `remove`, `clear`).
        startup_seconds: wall-clock seconds `start()` took until the server
            answered `/healthz` (`None` for `connect()`).
    """

    def __init__(
        self,
        base_url: str,
        *,
        _process: subprocess.Popen[bytes] | None = None,
        _log: _Log | None = None,
        _reader: threading.Thread | None = None,
    ) -> None:
        url = urllib.parse.urlsplit(base_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError(f"not an http URL: {base_url!r}")
        path = url.path[: -len(API_PREFIX)] if url.path.endswith(API_PREFIX) else url.path
        self.base_url = f"{url.scheme}://{url.netloc}{path}"
        self.atoms_url = self.base_url + API_PREFIX
        ws_root = ("wss" if url.scheme == "https" else "ws") + self.base_url[len(url.scheme) :]
        self._ws_root = ws_root
        self.ws_url = ws_root + API_PREFIX + "/agent/connect"
        self.admin_url = self.base_url + "/_admin"
        self.faults = Faults(self)
        self.startup_seconds: float | None = None
        self._process = _process
        self._log = _log
        self._reader = _reader
        self._finalizer = weakref.finalize(self, _terminate, _process, 5.0) if _process is not None else None

    # -- lifecycle -------------------------------------------------------

    @classmethod
    def start(
        cls,
        clock: str = "real",
        seed: int | None = None,
        fixtures: str | os.PathLike[str] | None = None,
        *,
        args: Sequence[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        env: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        **flags: Any,
    ) -> AtomsMock:
        """Start the bundled `atoms-mock` executable and wait until it serves.

        Args:
            clock: `"real"` (the system clock) or `"virtual"` (starts at
                2026-01-01T00:00:00Z and moves only through `advance()`).
            seed: deterministic ids (and, with a virtual clock, timestamps).
            fixtures: a directory whose fixture files replace the embedded
                ones (`--fixtures`).
            args: extra command-line arguments, passed as they are.
            host: address to bind; loopback by default.
            port: port to bind; 0 (the default) picks a free one.
            env: environment for the server (default: this process's).
                `ATOMS_MOCK_LOG=info` makes the log more verbose.
            timeout: seconds to wait for the server to be ready.
            **flags: any other server flag by its long name in snake_case,
                e.g. `security_check_secs=0`, `concurrency_limit=3`,
                `require_key=["sk_a", "sk_b"]`, `webhook_retries=2`.

        Returns:
            The running server. The server prints its base URL as the first
            line on stdout once it accepts connections; `start()` reads it
            and then checks `GET /healthz`.

        Raises:
            AtomsMockError: the server exited or was not ready in time; the
                message holds its log (stderr).
            FileNotFoundError: no `atoms-mock` executable (see `executable()`).
        """
        began = time.perf_counter()
        command = [str(executable()), "--host", host, "--port", str(port), "--clock", clock]
        if seed is not None:
            command += ["--seed", str(seed)]
        if fixtures is not None:
            command += ["--fixtures", os.fspath(fixtures)]
        command += flag_args(flags) + list(args)

        log = _Log()
        try:
            with log.path.open("ab") as stderr:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    env=dict(env) if env is not None else None,
                )
        except OSError:
            log.close()
            raise
        ready: list[str] = []
        first_line = threading.Event()

        def read_stdout() -> None:
            assert process.stdout is not None
            for raw in process.stdout:
                if not ready:
                    ready.append(raw.decode("utf-8", "replace").strip())
                    first_line.set()
            first_line.set()

        reader = threading.Thread(target=read_stdout, name="atoms-mock-stdout", daemon=True)
        reader.start()

        def fail(why: str) -> AtomsMockError:
            _terminate(process, 5.0)
            reader.join(5.0)
            if process.stdout is not None:
                process.stdout.close()
            log.close()
            text = log.text().strip() or "(empty)"
            return AtomsMockError(f"atoms-mock {why}\ncommand: {' '.join(command)}\n--- server log ---\n{text}")

        if not first_line.wait(timeout):
            raise fail(f"was not ready within {timeout:g} s")
        if not ready:
            try:
                code: int | None = process.wait(5.0)
            except subprocess.TimeoutExpired:
                code = None
            raise fail(f"exited with code {code} before it was ready")
        try:
            mock = cls(ready[0], _process=process, _log=log, _reader=reader)
            mock.request("GET", "/healthz", timeout=max(1.0, timeout - (time.perf_counter() - began)))
        except (AtomsMockError, OSError, ValueError) as e:
            raise fail(f"printed {ready[0]!r} but does not answer GET /healthz: {e}") from e
        mock.startup_seconds = time.perf_counter() - began
        return mock

    @classmethod
    def connect(cls, base_url: str) -> AtomsMock:
        """Attach to a server that is already running (started elsewhere,
        e.g. `cargo run` or a container): `base_url` is its root or its
        `/atoms/v1` URL. `stop()` leaves that server running.

        Raises:
            AtomsMockError: it does not answer `GET /healthz`.
        """
        mock = cls(base_url)
        mock.request("GET", "/healthz")
        return mock

    @property
    def pid(self) -> int | None:
        """The server's process id (`None` when attached with `connect()`)."""
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> int | None:
        """The server's exit code once it exited, else `None` (0 after a
        graceful `stop()`)."""
        return self._process.poll() if self._process is not None else None

    def log(self, since: int = 0) -> str:
        """The server's log (its stderr) from byte offset `since`; empty for
        `connect()`. The level follows `ATOMS_MOCK_LOG` (default `warn`)."""
        return self._log.text(since) if self._log is not None else ""

    def log_offset(self) -> int:
        """The log's current size in bytes, for a later `log(since=...)`."""
        return self._log.size() if self._log is not None else 0

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server gracefully (SIGTERM; killed after `timeout`
        seconds). Idempotent; a no-op for `connect()`."""
        if self._process is None:
            return
        _terminate(self._process, timeout)
        if self._reader is not None:
            self._reader.join(timeout)
        if self._process.stdout is not None:
            self._process.stdout.close()
        if self._log is not None:
            self._log.close()
        if self._finalizer is not None:
            self._finalizer.detach()

    def __enter__(self) -> AtomsMock:
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"AtomsMock({self.base_url!r}, pid={self.pid})"

    # -- HTTP --------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> Any:
        """Send one request to the server (`path` from its root, e.g.
        `/_admin/clock` or `/atoms/v1/agent`) with a JSON `body`, and return
        the decoded JSON answer.

        Raises:
            WaitTimeoutError: the server answered 408 (a long-poll timed out).
            AtomsMockError: any other non-2xx answer, with `status` and `body`.
        """
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        sent = dict(headers or {})
        if data is not None:
            sent["content-type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=sent)
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                decoded: Any = json.loads(raw)
            except ValueError:
                decoded = raw.decode("utf-8", "replace")
            kind = WaitTimeoutError if e.code == 408 else AtomsMockError
            raise kind(f"{method} {path} answered {e.code}: {decoded}", status=e.code, body=decoded) from None
        return json.loads(raw) if raw else None

    def admin(self, method: str, path: str, body: Any = None, /, **query: Any) -> Any:
        """Call any control API route under `/_admin` (`path` relative to
        it, e.g. `"/realtime"`); keyword arguments become the query string
        (snake_case names are sent in camelCase, `None` values are left
        out). The README's "Control API" sections list the routes."""
        timeout = 30.0 + (query.get("timeout_ms") or 0) / 1000.0
        return self.request(method, "/_admin" + path, body, query=_params(**query), timeout=timeout)

    # -- SDK clients -------------------------------------------------------

    def _environment(self) -> Any:
        try:
            from smallestai import SmallestAIEnvironment
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                "atoms_mock's client() needs the smallestai package: pip install 'atoms-mock[sdk]'"
            ) from e
        return SmallestAIEnvironment(
            atoms=self.atoms_url, waves=self.base_url, waves_ws=self._ws_root, payment=self.base_url
        )

    def client(self, api_key: str | None = None, **kwargs: Any) -> SmallestAI:
        """A `smallestai.SmallestAI` pointed at this server: every base URL
        of the SDK's environment (`atoms` = `atoms_url`; `payment`, `waves`
        = `base_url`, as the SDK appends `payment/v1/...`; `waves_ws` =
        `ws://HOST:PORT`).

        Args:
            api_key: the Bearer key, i.e. the organization (default
                `DEFAULT_API_KEY`).
            **kwargs: passed to `SmallestAI` (`max_retries`, `timeout`,
                `headers`, ...). Unless `httpx_client` is given, the client
                ignores proxy settings from the environment, since the
                server is on loopback.

        Raises:
            ImportError: `smallestai` is not installed.
        """
        environment = self._environment()
        from smallestai import SmallestAI

        if "httpx_client" not in kwargs:
            import httpx

            kwargs["httpx_client"] = httpx.Client(
                timeout=kwargs.get("timeout") or 60.0, follow_redirects=True, trust_env=False
            )
        return SmallestAI(api_key=api_key or DEFAULT_API_KEY, environment=environment, **kwargs)

    def async_client(self, api_key: str | None = None, **kwargs: Any) -> AsyncSmallestAI:
        """`client()`, as a `smallestai.AsyncSmallestAI`."""
        environment = self._environment()
        from smallestai import AsyncSmallestAI

        if "httpx_client" not in kwargs:
            import httpx

            kwargs["httpx_client"] = httpx.AsyncClient(
                timeout=kwargs.get("timeout") or 60.0, follow_redirects=True, trust_env=False
            )
        return AsyncSmallestAI(api_key=api_key or DEFAULT_API_KEY, environment=environment, **kwargs)

    def new_org(self) -> AtomsOrg:
        """A fresh organization on this server (a new random API key)."""
        return AtomsOrg(self, new_api_key())

    # -- control API ---------------------------------------------------------

    def clock(self) -> Json:
        """`{"mode": "real" | "virtual", "now": ISO-8601 UTC, "nowMs": epoch ms}`."""
        return dict(self.admin("GET", "/clock"))

    def advance(self, seconds: float) -> Json:
        """Move a virtual clock forward by `seconds`; everything due fires in
        order before this returns. Returns the new clock (see `clock()`).

        Raises:
            AtomsMockError: 409 on a real clock; 400 for a negative value.
        """
        return dict(self.admin("POST", "/clock/advance", {"seconds": seconds}))

    def reset(self, api_key: str | None = None) -> None:
        """Forget all state and re-create the fixture agents (the clock does
        not move). With `api_key`, only that organization, its journal
        entries and its key-scoped fault rules."""
        self.admin("POST", "/reset", api_key=api_key)

    def versioning(self, api_key: str) -> Json:
        """An organization's versioning: `{apiKey, mode: "auto"|"v1"|"v2",
        scan: "pass"|"fail", default}`."""
        return dict(self.admin("GET", "/versioning", api_key=api_key))

    def set_versioning(self, api_key: str, mode: str | None = None, scan: str | None = None) -> Json:
        """Switch one organization to `mode` `"auto"` (the server default:
        each agent is v1 until its first v2 call), `"v1"` (drafts and
        versions) or `"v2"` (branches and revisions); `scan="fail"` makes v2 security
        scans started afterwards fail. Returns the settings."""
        return dict(self.admin("PUT", "/versioning", _params(mode=mode, scan=scan), api_key=api_key))

    def scenarios(self) -> Json:
        """`{scenarios: [{name, description, outcome, ...}], assignments:
        {default, byAgent, byPhone}}`."""
        return dict(self.admin("GET", "/scenarios"))

    def assign_scenario(self, scenario: str, *, agent_id: str | None = None, phone: str | None = None) -> Json:
        """Make calls run `scenario`: every call of `agent_id`, or every call
        to the E.164 `phone`, or (with neither) every call without a more
        specific choice (the server default). Assignments are server-wide
        and last until a full `reset()`; a per-call choice is the
        `x-atoms-mock-scenario` request header. Returns the assignments.

        Raises:
            AtomsMockError: 400 for an unknown scenario or a bad number.
            ValueError: both `agent_id` and `phone` given.
        """
        body = {"scenario": scenario}
        if agent_id is not None and phone is not None:
            raise ValueError("give agent_id or phone, not both")
        if agent_id is not None:
            return dict(self.admin("PUT", f"/scenarios/agents/{urllib.parse.quote(agent_id, safe='')}", body))
        if phone is not None:
            return dict(self.admin("PUT", f"/scenarios/phones/{urllib.parse.quote(phone, safe='')}", body))
        return dict(self.admin("PUT", "/scenarios/default", body))

    def unassign_scenario(self, *, agent_id: str | None = None, phone: str | None = None) -> Json:
        """Remove an agent's or a phone number's assignment. Returns the
        assignments."""
        if (agent_id is None) == (phone is None):
            raise ValueError("give exactly one of agent_id or phone")
        if agent_id is not None:
            return dict(self.admin("DELETE", f"/scenarios/agents/{urllib.parse.quote(agent_id, safe='')}"))
        return dict(self.admin("DELETE", f"/scenarios/phones/{urllib.parse.quote(str(phone), safe='')}"))

    def concurrency(self, api_key: str) -> Json:
        """An organization's call concurrency: `{apiKey, limit, running, queued}`."""
        return dict(self.admin("GET", "/concurrency", api_key=api_key))

    def set_concurrency(self, api_key: str, limit: int) -> Json:
        """Set an organization's concurrent-call limit (R108); queued calls
        that now fit start. Returns `{apiKey, limit, running, queued}`."""
        return dict(self.admin("PUT", "/concurrency", {"limit": limit}, api_key=api_key))

    def retry_call(self, call_id: str, api_key: str, scenario: str | None = None) -> Json:
        """Place a retry of an ended call. Returns `{callId, retryOf,
        retryAttemptNumber}`."""
        path = f"/calls/{urllib.parse.quote(call_id, safe='')}/retry"
        return dict(self.admin("POST", path, api_key=api_key, scenario=scenario))

    def journal(
        self,
        *,
        api_key: str | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
        status: int | str | None = None,
        since: int | None = None,
        limit: int | None = None,
    ) -> Json:
        """Recorded `/atoms/v1` requests, oldest first: `{"entries": [...],
        "lastSeq": int, "capacity": int}`. Each entry has `seq`, `at`,
        `latencyMs`, `method`, `path`, `query`, `apiKey`, `request: {headers,
        body}`, `response: {status, headers, body, streamed}` and `fault`.

        Args:
            api_key: only requests with this Bearer token.
            method: only this method.
            path_prefix: only paths starting with this (relative to
                `/atoms/v1`), e.g. `"/agent"`.
            status: a code (`503`) or a class (`"5xx"`).
            since: only entries after this `seq`.
            limit: at most this many entries (server default 1000).
        """
        return dict(
            self.admin(
                "GET",
                "/journal",
                api_key=api_key,
                method=method,
                path_prefix=path_prefix,
                status=status,
                since=since,
                limit=limit,
            )
        )

    def wait_for_request(
        self,
        *,
        api_key: str | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
        status: int | str | None = None,
        since: int | None = None,
        timeout: float = 10.0,
    ) -> Json:
        """Wait for the first recorded request matching the filters (see
        `journal()`) with a `seq` after `since`, and return it; at once if
        one is already there.

        Raises:
            WaitTimeoutError: none within `timeout` seconds (at most 120).
        """
        return dict(
            self.admin(
                "GET",
                "/journal/wait",
                api_key=api_key,
                method=method,
                path_prefix=path_prefix,
                status=status,
                since=since,
                timeout_ms=_timeout_ms(timeout),
            )
        )

    def clear_journal(self) -> None:
        """Forget every recorded request (sequence numbers go on)."""
        self.admin("DELETE", "/journal")

    def deliveries(
        self,
        *,
        call_id: str | None = None,
        webhook_id: str | None = None,
        agent_id: str | None = None,
        event: str | None = None,
        result: str | None = None,
        min_attempts: int | None = None,
        after: int | None = None,
    ) -> list[Json]:
        """Webhook deliveries matching the filters, oldest first. Each has
        `id`, `seq`, `webhookId`, `agentId`, `callId`, `event`, `result`
        (`PENDING`, `SUCCEEDED`, `FAILED`), `request: {method, url, headers,
        body}` (exactly as sent, `X-Signature` included) and `attempts`.

        Args:
            event: `pre-conversation`, `post-conversation` or
                `analytics-completed`.
            result: `PENDING`, `SUCCEEDED` or `FAILED`.
            min_attempts: at least this many attempts.
            after: only deliveries logged after this `seq`.
        """
        return list(
            self.admin(
                "GET",
                "/webhooks/deliveries",
                call_id=call_id,
                webhook_id=webhook_id,
                agent_id=agent_id,
                event=event,
                result=result,
                min_attempts=min_attempts,
                after=after,
            )["deliveries"]
        )

    def wait_for_delivery(
        self,
        *,
        call_id: str | None = None,
        webhook_id: str | None = None,
        agent_id: str | None = None,
        event: str | None = None,
        result: str | None = None,
        min_attempts: int | None = None,
        after: int | None = None,
        timeout: float = 10.0,
    ) -> Json:
        """Wait for the first delivery matching the filters (see
        `deliveries()`) and return it. Without `result` or `min_attempts`
        only finished deliveries (`SUCCEEDED` or `FAILED`) match.

        Raises:
            WaitTimeoutError: none within `timeout` seconds (at most 120).
        """
        return dict(
            self.admin(
                "GET",
                "/webhooks/deliveries/wait",
                call_id=call_id,
                webhook_id=webhook_id,
                agent_id=agent_id,
                event=event,
                result=result,
                min_attempts=min_attempts,
                after=after,
                timeout_ms=_timeout_ms(timeout),
            )
        )

    def redeliver(self, delivery_id: str) -> Json:
        """Send a logged delivery again (same bytes and signature) and
        return the updated entry once the attempt is over."""
        path = f"/webhooks/deliveries/{urllib.parse.quote(delivery_id, safe='')}/redeliver"
        return dict(self.admin("POST", path))

    def clear_deliveries(self) -> None:
        """Forget every logged webhook delivery."""
        self.admin("DELETE", "/webhooks/deliveries")


class AtomsOrg:
    """One organization on an `AtomsMock`: an API key no one else uses.

    Attributes:
        mock: the server.
        api_key: the organization's Bearer key.
    """

    def __init__(self, mock: AtomsMock, api_key: str) -> None:
        self.mock = mock
        self.api_key = api_key
        self._client: SmallestAI | None = None

    @property
    def client(self) -> SmallestAI:
        """A `smallestai.SmallestAI` for this organization (made on first use)."""
        if self._client is None:
            self._client = self.mock.client(self.api_key)
        return self._client

    @property
    def headers(self) -> dict[str, str]:
        """`{"Authorization": "Bearer <api_key>"}` for hand-written requests."""
        return {"Authorization": f"Bearer {self.api_key}"}

    def reset(self) -> None:
        """Forget this organization's state (agents, calls, webhooks, ...),
        its journal entries and its key-scoped fault rules."""
        self.mock.reset(self.api_key)

    def set_versioning(self, mode: str | None = None, scan: str | None = None) -> Json:
        """`AtomsMock.set_versioning` for this organization."""
        return self.mock.set_versioning(self.api_key, mode, scan)

    def set_concurrency(self, limit: int) -> Json:
        """`AtomsMock.set_concurrency` for this organization."""
        return self.mock.set_concurrency(self.api_key, limit)

    def journal(self, **filters: Any) -> Json:
        """`AtomsMock.journal` of this organization's requests."""
        return self.mock.journal(api_key=self.api_key, **filters)

    def wait_for_request(self, **filters: Any) -> Json:
        """`AtomsMock.wait_for_request` for this organization's requests."""
        return self.mock.wait_for_request(api_key=self.api_key, **filters)

    def __repr__(self) -> str:
        return f"AtomsOrg({self.api_key!r}, {self.mock.base_url!r})"
