"""A third-party client of the realtime agent WebSocket, written with the
`websockets` package: connect with a raw API key and an agent id, read
`session.created`, send text, read the assistant's transcript, close.

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

print("PASS realtime websockets")
