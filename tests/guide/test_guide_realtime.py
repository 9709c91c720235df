"""The async guide's "Option 2: WebSocket" and "Option 3: Webhook Callback" JavaScript, in Node.

`option2_websocket.mjs` and `option3_webhook.mjs` hold the guide's code blocks verbatim between
BEGIN and END markers (checked against a SHA-256 of each guide block). Each test copies its
script with only the guide's hosts and placeholders replaced, and nothing else changed:

- Option 2: `https://api.example.com` and `wss://api.example.com` become the `http://` and
  `ws://` base of a real `practicegen serve` subprocess, `'student-uuid'` a real student. Node
  before 22 needs `--experimental-websocket` for the browser's global `WebSocket`.
- Option 3: the same API host and student, and the webhook URL's `https://your-app.com`
  becomes the script's own node:http receiver on loopback (the guide shows the body a receiver
  gets, not a receiver, so the script's wrapper is that receiver). The server allows loopback
  webhooks (`PRACTICEGEN_SSRF_ALLOWLIST=127.0.0.1`); the receiver learns the signing secret
  from `GET /api/v1/webhook-secret`, as an integrator would.

Node must exit 0 having seen the job complete with the 5 items the guide asked for. Both run
once on SQLite and once on a fresh PostgreSQL database (the `database_url` fixture).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks import Webhook

from tests.api.test_practice import new_student, seed_bank
from tests.guide.node import (
    guide_block_in_markdown,
    node_binary,
    outcome_of,
    run_node,
    split_script,
    substitute,
    websocket_flags,
)
from tests.guide.serve import Serve, practicegen_serve
from tests.guide.test_guide_javascript import GUIDE_ACCEPTED_KEYS
from tests.support.processes import wait_until
from tests.support.server import free_port

HERE = Path(__file__).resolve().parent
GUIDE_HOST = "https://api.example.com"
GUIDE_STUDENT = "'student-uuid'"

WS_SCRIPT = HERE / "option2_websocket.mjs"
WS_HEADING = "### Option 2: WebSocket (Real-time)"
WS_BEGIN = "// ---- BEGIN guide: Option 2: WebSocket (Real-time) ----\n"
WS_GUIDE_HOST = "wss://api.example.com"
# SHA-256 of the guide's code block (between its ```javascript fence and the closing fence)
WS_BLOCK_SHA256 = "a07c79e85c8a716c85a73c313da20442476376e55a8489c12bfec324c209cd42"

HOOK_SCRIPT = HERE / "option3_webhook.mjs"
HOOK_HEADING = "### Option 3: Webhook Callback"
HOOK_BEGIN = "// ---- BEGIN guide: Option 3: Webhook Callback ----\n"
HOOK_GUIDE_URL = "'https://your-app.com/"  # the quoted webhook_url; the comments stay as written
HOOK_PATH = "/webhooks/practice-complete"
HOOK_BLOCK_SHA256 = "49692508ef548015ab19ffccfc205f1f9662d69df593f3a34541ca1ce0ae6532"

STATUS_KEYS = {"type", "status", "progress_percent", "progress_message"}


def _block(script: Path, begin: str) -> str:
    return split_script(script.read_text(encoding="utf-8"), begin)[1]


def test_the_websocket_script_holds_the_guide_code_verbatim() -> None:
    block = _block(WS_SCRIPT, WS_BEGIN)
    assert hashlib.sha256(block.encode()).hexdigest() == WS_BLOCK_SHA256
    assert guide_block_in_markdown(WS_HEADING) in (None, block)


def test_the_webhook_script_holds_the_guide_code_verbatim() -> None:
    block = _block(HOOK_SCRIPT, HOOK_BEGIN)
    assert hashlib.sha256(block.encode()).hexdigest() == HOOK_BLOCK_SHA256
    assert guide_block_in_markdown(HOOK_HEADING) in (None, block)


def _copy(script: Path, begin: str, replacements: dict[str, str], workdir: Path) -> Path:
    before, block, after = split_script(script.read_text(encoding="utf-8"), begin)
    copy = workdir / script.name
    copy.write_text(before + substitute(block, replacements) + after, encoding="utf-8")
    return copy


def _check_accepted(outcome: dict[str, Any]) -> str:
    """The 202 the guide's fetch received is the guide's; returns its job id."""
    accepted = outcome["accepted"]
    assert accepted["status"] == 202, accepted
    body = accepted["body"]
    assert set(body) == GUIDE_ACCEPTED_KEYS and body["status"] == "pending", body
    job_id: str = body["job_id"]
    assert body["websocket_url"] == f"/api/v1/jobs/{job_id}/ws"
    return job_id


def _check_result(result: dict[str, Any], student_id: str) -> None:
    assert len(result["items"]) == 5, result
    assert result["student_id"] == student_id and result["num_items"] == 5
    assert result["subject"] == "Algebra"


async def _stored_result(serve: Serve, job_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=serve.base_url, timeout=30) as http:
        data = (await http.get(f"/api/v1/jobs/{job_id}")).json()["data"]
    assert data["status"] == "completed", data
    result: dict[str, Any] = data["result"]
    return result


async def test_guide_option2_websocket_sees_progress_then_the_completed_result(
    database_url: str, tmp_path: Path
) -> None:
    node = node_binary()  # before the server starts: no Node.js is a plain failure
    flags = websocket_flags(node)
    async with (
        practicegen_serve(database_url, tmp_path) as serve,
        httpx.AsyncClient(base_url=serve.base_url, timeout=30) as http,
    ):
        await seed_bank(http)
        student_id = await new_student(http)
        ws_base = serve.base_url.replace("http://", "ws://", 1)
        replacements = {
            GUIDE_HOST: serve.base_url,
            WS_GUIDE_HOST: ws_base,
            GUIDE_STUDENT: f"'{student_id}'",
        }
        script = _copy(WS_SCRIPT, WS_BEGIN, replacements, tmp_path)
        code, stdout, stderr = await run_node(node, script, *flags)
        assert code == 0, f"node exited {code}\n{stdout}\n{stderr}\n{serve.log_tail()}"
        outcome = outcome_of(stdout)
        job_id = _check_accepted(outcome)
        assert outcome["url"] == f"{ws_base}/api/v1/jobs/{job_id}/ws"
        assert outcome["sockets"] == 1 and outcome["errors"] == []
        *updates, last = outcome["messages"]
        assert last["type"] == "completed", outcome["messages"]
        _check_result(last["result"], student_id)
        for update in updates:  # the guide's `status` case, each printed by its own line
            assert set(update) >= STATUS_KEYS and update["type"] == "status", update
            assert update["status"] in ("pending", "processing"), update
            line = f"Progress: {update['progress_percent']}% - {update['progress_message']}"
            assert line in stdout
        percents = [u["progress_percent"] for u in updates]
        assert percents == sorted(percents)
        assert "Practice assignment ready!" in stdout  # the guide's `completed` case ran
        assert outcome["close"]["was_clean"] and outcome["close"]["code"] in (1000, 1005)
        assert await _stored_result(serve, job_id) == last["result"]


async def test_guide_option3_webhook_reaches_a_receiver_signed_with_the_result(
    database_url: str, tmp_path: Path
) -> None:
    node = node_binary()
    async with (
        practicegen_serve(database_url, tmp_path, PRACTICEGEN_SSRF_ALLOWLIST="127.0.0.1") as serve,
        httpx.AsyncClient(base_url=serve.base_url, timeout=30) as http,
    ):
        await seed_bank(http)
        student_id = await new_student(http)
        secret = (await http.get("/api/v1/webhook-secret")).json()["data"]["current"]["secret"]
        port = free_port()
        replacements = {
            GUIDE_HOST: serve.base_url,
            GUIDE_STUDENT: f"'{student_id}'",
            HOOK_GUIDE_URL: f"'http://127.0.0.1:{port}/",
        }
        script = _copy(HOOK_SCRIPT, HOOK_BEGIN, replacements, tmp_path)
        env = {"GUIDE_RECEIVER_PORT": str(port), "GUIDE_WEBHOOK_SECRET": secret}
        code, stdout, stderr = await run_node(node, script, env=env)
        assert code == 0, f"node exited {code}\n{stdout}\n{stderr}\n{serve.log_tail()}"
        outcome = outcome_of(stdout)
        job_id = _check_accepted(outcome)
        assert outcome["job_id"] == job_id and outcome["deliveries"] == 1
        delivery = outcome["delivery"]
        assert (delivery["method"], delivery["path"]) == ("POST", HOOK_PATH)
        assert delivery["signature_valid"] is True
        raw: str = delivery["raw_body"]
        Webhook(secret).verify(raw, delivery["headers"])  # the public library agrees
        body = json.loads(raw)
        # the body the guide's comment promises
        assert body["event"] == "practice.assignment.completed"
        assert body["timestamp"].startswith("20") and body["timestamp"].endswith("Z")
        assert set(body["data"]) == {"job_id", "student_id", "result"}
        assert body["data"]["job_id"] == job_id and body["data"]["student_id"] == student_id
        _check_result(body["data"]["result"], student_id)
        assert await _stored_result(serve, job_id) == body["data"]["result"]

        async def logged() -> list[dict[str, Any]] | None:
            url = f"/api/v1/jobs/{job_id}/webhook-deliveries"
            found: list[dict[str, Any]] = (await http.get(url)).json()["data"]
            return found if found and found[0]["status"] == "completed" else None

        [logged_delivery] = await wait_until(logged, limit_s=10, what="the delivery's log")
        assert logged_delivery["webhook_id"] == delivery["headers"]["webhook-id"]
        assert logged_delivery["url"] == f"http://127.0.0.1:{port}{HOOK_PATH}"
        assert [a["status_code"] for a in logged_delivery["attempts"]] == [204]
