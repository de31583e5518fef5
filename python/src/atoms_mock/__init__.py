"""atoms-mock from Python: a stateful fake of the Atoms voice-agent platform
API (smallest.ai), shipped as an executable inside this package.

```python
from atoms_mock import AtomsMock

with AtomsMock.start(clock="virtual") as mock:
    client = mock.client()             # a smallestai.SmallestAI pointed at the mock
    agent_id = client.atoms.agents.create_agent(name="demo").data
    mock.advance(6)                    # move the virtual clock
```

With pytest, the fixtures `atoms_mock` (one server per session),
`atoms_org` (a fresh organization per test) and `webhook_receiver` come with
the package (see `atoms_mock.pytest_plugin`).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from ._errors import AtomsMockError, WaitTimeoutError, WebhookSignatureError
from ._executable import EXECUTABLE_ENV, executable
from ._server import API_PREFIX, DEFAULT_API_KEY, AtomsMock, AtomsOrg, Faults, flag_args, new_api_key
from ._webhooks import EVENT_TYPES, WebhookEvent, WebhookReceiver, sign

try:
    #: The package version, which is the server's (the crate's) version.
    __version__ = version("atoms-mock")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "API_PREFIX",
    "DEFAULT_API_KEY",
    "EVENT_TYPES",
    "EXECUTABLE_ENV",
    "AtomsMock",
    "AtomsMockError",
    "AtomsOrg",
    "Faults",
    "WaitTimeoutError",
    "WebhookEvent",
    "WebhookReceiver",
    "WebhookSignatureError",
    "__version__",
    "executable",
    "flag_args",
    "new_api_key",
    "sign",
]
