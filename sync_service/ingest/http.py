"""HTTP door (aiohttp) on config.http_port: batch ingest for connected platforms, CAP in and
out, health. Routes and replies are in docs/ingest.md.

Every handler answers JSON (or CAP XML) with a status code; nothing a client sends can produce
a traceback or stop the server (a middleware turns the unexpected into a 500 with no detail).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson
from aiohttp import web

from protocol.enums import DQReason, ErrorCode
from sync_service.alerts.state import Shared
from sync_service.commands.registry import Actor
from sync_service.context import ServiceContext
from sync_service.eventlog import head_seq
from sync_service.ingest import cap, cap_alerts, platform
from sync_service.ingest.auth import Bureau, check_bureau
from sync_service.ingest.pipeline import Pipeline

log = logging.getLogger(__name__)
MAX_BODY = 16 << 20
MAX_READINGS = 20_000
STOP_GRACE = 0.15  # of config.stop_timeout_s: how long requests in progress may finish at stop
CAP_DOMAINS = frozenset({"weather", "emergency"})


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json",
                        headers=headers)


def _err(status: int, code: str, message: str) -> web.Response:
    return _json(status, {"error": code, "message": message})


@web.middleware
async def _guard(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return _err(413, ErrorCode.TOO_LARGE.value, f"body over {MAX_BODY} bytes")
    except web.HTTPException as exc:
        return _err(exc.status, "http", exc.reason or "")
    except Exception:
        log.exception("HTTP %s %s failed", request.method, request.path)
        return _err(500, ErrorCode.INTERNAL.value, "internal error")


def _bearer(request: web.Request) -> str | None:
    h = request.headers.get("Authorization", "")
    return h[7:].strip() if h[:7].lower() == "bearer " else None


async def verify_user_session(ctx: ServiceContext, token: str) -> Actor | None:
    """A console user's session token -> Actor, through the core's sync_service.auth (a read:
    checking a token must not queue behind ingest writes)."""
    from sync_service.auth import AuthFailed, actor_of, check_token

    try:
        user, th = await ctx.db.read(lambda s: check_token(s, token))
    except AuthFailed:
        return None
    return actor_of(user, th[:16])


class HttpIngest:
    door = True  # started after, and stopped before, everything behind it (SyncService)

    def __init__(self, ctx: ServiceContext, pipeline: Pipeline, sh: Shared) -> None:
        self.ctx = ctx
        self.pipeline = pipeline
        self.sh = sh
        self.port: int = 0
        self._runner: web.AppRunner | None = None
        self._inflight: set[asyncio.Task[Any]] = set()  # tasks handling a request now (stop)
        self.cancelled_at_stop = 0

        @web.middleware
        async def _track(request: web.Request, handler: Any) -> web.StreamResponse:
            task = asyncio.current_task()
            if task is not None:
                self._inflight.add(task)
            try:
                return await handler(request)
            finally:
                self._inflight.discard(task)  # type: ignore[arg-type]

        self.app = web.Application(client_max_size=MAX_BODY, middlewares=[_track, _guard])
        self.app.add_routes([
            web.post("/ingest/v1/readings", self._on_http_readings),
            web.post("/ingest/v1/events", self._on_http_events),
            web.post("/ingest/v1/positions", self._on_http_positions),
            web.post("/ingest/v1/cap", self._on_http_cap),
            web.get("/api/v1/alerts/{id}/cap", self._on_http_alert_cap),
            web.get("/healthz", self._on_http_health),
        ])

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.ctx.config.host, self.ctx.config.http_port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []  # noqa: SLF001 - the bound port for port 0
        self.port = sockets[0].getsockname()[1] if sockets else self.ctx.config.http_port
        log.info("HTTP ingest on %s:%s", self.ctx.config.host, self.port)

    async def stop(self) -> None:
        """No new connections at once; requests in progress may finish for a grace period (their
        200 means committed), then are cancelled: their senders get no answer and send again
        (what they sent is written all the same if it was accepted). aiohttp's own shutdown
        would wait twice its timeout for a handler waiting on a commit."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        for site in list(runner.sites):
            await site.stop()
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=STOP_GRACE * self.ctx.config.stop_timeout_s)
        left = [t for t in self._inflight if not t.done()]
        for t in left:
            t.cancel()
        if left:
            self.cancelled_at_stop += len(left)
            await asyncio.wait(left, timeout=1.0)
            log.info("HTTP ingest stopped: %d requests in progress cancelled", len(left))
        await runner.cleanup()

    # ---- helpers -------------------------------------------------------------------------------

    def _bureau(self, request: web.Request, n: int) -> Bureau | DQReason:
        b = check_bureau(self.sh.registry, _bearer(request))
        if isinstance(b, DQReason):
            self.pipeline.dq.count("", b.value, max(n, 1))
            self.pipeline.dq.refused("http", b, "", request.remote or "", time.time(), max(n, 1))
        return b

    async def _body(self, request: web.Request, key: str) -> list[Any] | web.Response:
        raw = await request.read()
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
        items = data.get(key) if isinstance(data, dict) else None
        if not isinstance(items, list):
            self.pipeline.reject_message("", DQReason.MALFORMED, "http")
            return _err(400, DQReason.MALFORMED.value, f'body must be {{"{key}": [...]}}')
        if len(items) > MAX_READINGS:
            return _err(413, ErrorCode.TOO_LARGE.value, f"at most {MAX_READINGS} {key} per request")
        return items

    # ---- routes --------------------------------------------------------------------------------

    async def _on_http_readings(self, request: web.Request) -> web.Response:
        items = await self._body(request, "readings")
        if isinstance(items, web.Response):
            return items
        bureau: Bureau | None = None
        if _bearer(request) is not None:
            b = self._bureau(request, len(items))
            if isinstance(b, DQReason):
                return _err(401, b.value, "bureau credential refused")
            bureau = b
        elif not any(isinstance(it, dict) and it.get("key") for it in items):
            self.pipeline.dq.count("", DQReason.AUTH_MISSING.value, max(len(items), 1))
            self.pipeline.dq.refused("http", DQReason.AUTH_MISSING, "", request.remote or "", time.time(),
                                     max(len(items), 1))
            return _err(401, DQReason.AUTH_MISSING.value, "no bureau credential and no device keys")
        if not self.pipeline.has_room():
            return _json(503, {"error": "busy", "message": "ingest is catching up; retry shortly"},
                         headers={"Retry-After": "1"})
        out = await self.pipeline.ingest_async(items, bureau=bureau, door="http")
        await self.pipeline.committed()  # a 200 means the readings are on disk
        return _json(200, out.reply())

    async def _on_http_events(self, request: web.Request) -> web.Response:
        items = await self._body(request, "events")
        if isinstance(items, web.Response):
            return items
        b = self._bureau(request, len(items))
        if isinstance(b, DQReason):
            return _err(401, b.value, "bureau credential refused")
        now = time.time()
        cfg = self.ctx.config
        checked = platform.check_events(items, b.domain, now, registry=self.sh.registry, labels=self.sh.labels,
                                        silences=self.sh.silences, max_past_s=cfg.ts_max_past_s,
                                        max_future_s=cfg.ts_max_future_s)
        for reason, n in checked.rejected.items():
            self.pipeline.dq.count(b.domain, reason, n)
        by = f"bureau:{b.name}"[:64]
        ids, _ = await self.ctx.db.write_events(lambda s: platform.write_events(s, checked, now, by))
        return _json(200, {"accepted": len(checked.specs), "rejected": checked.rejected, "alert_ids": ids})

    async def _on_http_positions(self, request: web.Request) -> web.Response:
        items = await self._body(request, "positions")
        if isinstance(items, web.Response):
            return items
        b = self._bureau(request, len(items))
        if isinstance(b, DQReason):
            return _err(401, b.value, "bureau credential refused")
        now = time.time()
        result, _ = await self.ctx.db.write_events(lambda s: platform.write_positions(s, items, b.domain, now))
        return _json(200, result)

    async def _on_http_cap(self, request: web.Request) -> web.Response:
        b = self._bureau(request, 1)
        if isinstance(b, DQReason):
            return _err(401, b.value, "bureau credential refused")
        if b.domain not in CAP_DOMAINS:
            return _err(403, DQReason.AUTH_DOMAIN.value, "CAP warnings are accepted from weather and emergency only")
        raw = await request.read()
        try:
            msg = cap.parse(raw)
            text = raw.decode("utf-8")
        except (cap.CapError, UnicodeDecodeError) as exc:
            self.pipeline.reject_message(b.domain, DQReason.MALFORMED, "http-cap")
            return _err(400, DQReason.MALFORMED.value, str(exc))
        now = time.time()
        try:
            spec = None if msg.msg_type != "Alert" and msg.msg_type != "Update" else \
                cap_alerts.to_spec(msg, b.domain, self.sh.labels, self.sh.silences, text, now)
        except ValueError as exc:
            return _err(400, DQReason.MALFORMED.value, str(exc))
        by = f"cap:{b.name}"[:64]
        result, _ = await self.ctx.db.write_events(lambda s: cap_alerts.apply(s, msg, spec, by, now))
        return _json(200, {"status": result.status, "alert_ids": result.alert_ids, "reason": result.reason})

    async def _on_http_alert_cap(self, request: web.Request) -> web.Response:
        token = _bearer(request)
        actor = await verify_user_session(self.ctx, token) if token else None
        if actor is None:
            return _err(401, ErrorCode.UNAUTHENTICATED.value, "a valid session token is required")
        try:
            alert_id = int(request.match_info["id"])
        except ValueError:
            return _err(400, ErrorCode.BAD_ARGS.value, "alert id must be an integer")
        a, xml = await self.ctx.db.read(lambda s: cap_alerts.export_alert(s, alert_id))
        if a is None:
            return _err(404, ErrorCode.NOT_FOUND.value, f"unknown alert {alert_id}")
        if not actor.sees(a.domain):
            return _err(403, ErrorCode.FORBIDDEN.value, "outside your domain scope")
        return web.Response(text=xml, content_type="application/cap+xml", charset="utf-8")

    async def _on_http_health(self, _request: web.Request) -> web.Response:
        seq = await self.ctx.db.read(head_seq)
        body: dict[str, Any] = {"ok": True, "server_id": self.ctx.server_id, "head_seq": seq,
                                "ingest_pending": self.pipeline.pending}
        mqtt = self.ctx.components.get("mqtt")
        if mqtt is not None:
            body["mqtt_messages"] = mqtt.messages
        lead, router = self.ctx.components.get("leader"), self.ctx.components.get("rule_router")
        if lead is not None:
            body["leadership"] = lead.status()
        if router is not None:
            body["rules"] = router.status()
        return _json(200, body)
