"""`make dev`: run the local stack in the foreground until Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import threading

from local.stack import LOCAL_EVOLUTION_KEY, PortBusy, StackConfig, start_stack


def main() -> None:
    config = StackConfig.from_environment(
        dict(os.environ),
        graph_url=os.environ.get("GRAPH_API_BASE_URL") or None,
        evolution_url=os.environ.get("EVOLUTION_URL") or None,
        evolution_api_key=os.environ.get("EVOLUTION_API_KEY") or LOCAL_EVOLUTION_KEY,
        evolution_webhook_url=os.environ.get("EVOLUTION_WEBHOOK_URL") or None,
    )
    try:
        stack = start_stack(config)
    except PortBusy as busy:
        sys.exit(f"make dev: {busy}")
    token = stack.tokens.issue("tenant-demo", "dev-user")
    print(
        f"\nLocal stack ready on {stack.api_url}\n"
        f"The /integrations page: {stack.page_url} (pick a tenant at the top)\n"
        f"A development JWT for tenant 'tenant-demo' (make token TENANT=x for others):\n\n"
        f"export TOKEN={token}\n\n"
        "Walkthrough: README.md. Ctrl-C stops everything this started."
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping...")
        stack.stop()


if __name__ == "__main__":
    main()
