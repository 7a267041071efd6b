"""Run the real daemon process against the fake iTerm2, as iTerm2 starts its AutoLaunch scripts."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.browser_pages import recorder
from tests.fake_iterm2 import FakeITerm2, FakeSession

RECORDER = recorder(append=False)  # a browser that writes down the URL (and its argv, in FILE.argv)


@dataclass
class DaemonRun:
    fake: FakeITerm2
    session: FakeSession
    process: subprocess.Popen[str]
    opened_file: Path
    output: list[str] = field(default_factory=list)  # filled when the run ends

    def wait_opened(self, timeout: float = 60) -> str:
        """The URL the daemon handed to the browser."""
        deadline = time.monotonic() + timeout
        while not self.opened_file.exists():
            assert self.process.poll() is None, "the daemon exited"
            assert time.monotonic() < deadline, "the daemon opened nothing"
            time.sleep(0.05)
        url = self.opened_file.read_text()
        argv = Path(f"{self.opened_file}.argv").read_text()
        assert argv.startswith("file://") and "token" not in argv, f"the browser's argv holds {argv!r}"
        return url


@contextmanager
def daemon_on_fake(
    home: Path,
    argv: Sequence[str],
    python: str,
    config: str = "",
    variables: Mapping[str, Any] | None = None,
) -> Iterator[DaemonRun]:
    """Fake iTerm2 with one session, then the daemon (``argv``) with a recording browser; yields once the
    daemon has read the session. On exit iTerm2 "quits" and the daemon must exit 0 by itself."""
    opened = home / "opened.txt"
    opened.unlink(missing_ok=True)
    config_file = home / "xdg" / "iterm2-autolaunch" / "config.toml"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    browser = [python, "-c", RECORDER, str(opened)]
    config_file.write_text(f"browser = {json.dumps(browser)}\n{config}")  # a JSON array of strings is TOML too
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}  # as iTerm2's wrapper does
    with FakeITerm2(home).running() as fake:
        session = fake.add_session(variables=variables or {"jobName": "zsh", "commandLine": "-zsh"})
        env.update(HOME=str(home), ITERM2_COOKIE=fake.issue_cookie(), XDG_CONFIG_HOME=str(home / "xdg"),
                   XDG_RUNTIME_DIR=str(home / "run"), PYTHONIOENCODING="utf-8")
        process = subprocess.Popen(list(argv), env=env, cwd="/", stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        run = DaemonRun(fake, session, process, opened)
        try:
            deadline = time.monotonic() + 60
            while fake.connection_count() == 0 or session.screen_reads == 0:
                assert process.poll() is None and time.monotonic() < deadline, "the daemon did not connect"
                time.sleep(0.05)
            yield run
            fake.drop_connections()
            assert process.wait(10) == 0, "the daemon did not exit by itself when iTerm2 went away"
        finally:
            if process.poll() is None:
                process.kill()
            run.output.append(process.communicate(timeout=10)[0])
