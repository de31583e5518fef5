"""A third-party client of the realtime agent WebSocket, written with the
`websockets` package: connect with a raw API key and an agent id, read
`session.created`, send text, read the assistant's transcript, close. Then
a client-tools session (LIVE W1): declare a tool with `session.update`, ask
for it by name, answer the `function_call` with `function_call.result` and
read the agent's answer, which quotes the output.

Environment: ATOMS_MOCK_BASE (http://HOST:PORT/atoms/v1), ATOMS_MOCK_KEY,
ATOMS_MOCK_AGENT. Prints every frame it receives; exits non-zero on any
mismatch and prints "PASS realtime websockets" at the end.
"""

import json
import os
import urllib.parse

from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import connect

base = os.environ["ATOMS_MOCK_BASE"]
key = os.environ["ATOMS_MOCK_KEY"]
agent = os.environ["ATOMS_MOCK_AGENT"]
variables = urllib.parse.quote(json.dumps({"customer_name": "Ada"}))
url = base.replace("http", "ws", 1) + f"/agent/connect?token={key}&agent_id={agent}&mode=chat&variables={variables}"


def recv(ws):
    frame = json.loads(ws.recv(timeout=10))
    print("<-", json.dumps(frame))
    return frame


with connect(url) as ws:
    created = recv(ws)
    assert created["type"] == "session.created", created
    assert set(created) == {"type", "session_id", "call_id", "sample_rate", "channels"}, created
    text = {"type": "input_text.send", "text": "Where is my order?"}
    print("->", json.dumps(text))
    ws.send(json.dumps(text))
    replies = []
    while len(replies) < 2:  # the greeting, then the answer to our text
        frame = recv(ws)
        assert frame["type"] == "transcript" and frame["role"] == "assistant", frame
        replies.append(frame["text"])
    print("->", json.dumps({"type": "session.close"}))
    ws.send(json.dumps({"type": "session.close"}))
    assert recv(ws) == {"type": "session.closed", "reason": "client_requested"}
    try:
        ws.recv(timeout=10)
        raise AssertionError("expected the server to close the socket")
    except ConnectionClosedOK as closed:
        assert closed.rcvd.code == 1000, closed.rcvd
        print("closed", closed.rcvd.code)


# Client tools: the default scenario has no tool step, so the agent calls
# the tool because the user names it ("look up order" ~ lookup_order).
LOOKUP_ORDER = {
    "type": "function",
    "name": "lookup_order",
    "description": "Look up an order by id.",
    "parameters": {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    },
    "timeout_ms": 15000,
    "expectsResponse": True,
}


def send(ws, message):
    print("->", json.dumps(message)[:200])
    ws.send(json.dumps(message))


def run_tool(name, arguments):
    assert name == "lookup_order", name
    return json.dumps({"order_id": arguments["order_id"], "status": "out_for_delivery"})


with connect(url) as ws:
    assert recv(ws)["type"] == "session.created"
    send(ws, {"type": "session.update", "tools": [LOOKUP_ORDER]})
    assert recv(ws) == {"type": "session.updated", "tools": ["lookup_order"]}
    send(ws, {"type": "session.update", "tools": [LOOKUP_ORDER, LOOKUP_ORDER]})
    rejected = recv(ws)
    assert rejected["type"] == "error" and rejected["code"] == "invalid_tools", rejected
    send(ws, {"type": "input_text.send", "text": "Can you lookup order 1234?"})
    answer, call_id = None, None
    while answer is None:
        frame = recv(ws)
        if frame["type"] == "function_call":
            assert list(frame) == ["type", "call_id", "name", "arguments"], frame
            call_id = frame["call_id"]
            output = run_tool(frame["name"], frame["arguments"])
            send(ws, {"type": "function_call.result", "call_id": call_id, "output": output})
        elif frame["type"] == "transcript" and "out_for_delivery" in frame["text"]:
            answer = frame["text"]
    assert answer.startswith("Here is what I found: "), answer
    send(ws, {"type": "function_call.result", "call_id": call_id, "output": "again"})
    again = recv(ws)
    assert again["type"] == "error" and again["code"] == "unknown_call_id", again
    send(ws, {"type": "session.close"})
    assert recv(ws) == {"type": "session.closed", "reason": "client_requested"}

print("PASS realtime websockets")
