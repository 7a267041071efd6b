"""Write tests/data/adversarial/corpus.bin: hostile terminal output, at least 10,000 lines, deterministic.

Every line is something a remote program, a `cat`ed file or a tailed log could print to imitate, hide, break
or hijack a server announcement. The real banner that the injections start from is the JupyterLab 4.6.6 /
Jupyter Server 2.21.1 start-up in tests/data/captures/jupyterlab_token_auto.raw (its lines are copied into
``BANNER`` below so that the corpus does not change when captures are re-made). Categories and their line
counts go to manifest.json beside the corpus. Run: python tools/make_adversarial.py
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "adversarial"
SEED = 20261204

LOG = "\x1b[32m[I 2026-11-28 03:49:23.049 ServerApp]\x1b(B\x1b[m "
BANNER = [  # the real banner block, as captured (see the module docstring); {url} and {url2} get replaced
    f"{LOG}Jupyter Server 2.21.1 is running at:",
    f"{LOG}{{url}}",
    f"{LOG}    {{url2}}",
    f"{LOG}Use Control-C to stop this server and shut down all kernels (twice to skip confirmation).",
]
TOKEN = "244a9edb46710cd02dbddc7db985f50eebabc7e60098ebfe"

HOSTILE_HOSTS = [
    "evil.example.com", "169.254.169.254", "metadata.google.internal", "metadata", "100.100.100.200",
    "[fd00:ec2::254]", "[::ffff:169.254.169.254]", "localhost.evil.example.com", "127.0.0.1.nip.io",
    "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "localhost@evil.example.com", "evil.example.com#@localhost",
    "xn--80ak6aa92e.com", "attacker", "10.0.0.1", "192.168.1.1", "[::1]@evil.example.com",
    "%6c%6f%63%61%6c%68%6f%73%74", "local\u0430ost", "localhost\u3002evil.example.com", "user:pass@evil.example.com",
]  # fmt: skip
HOSTILE_TOKENS = [
    "$(touch /tmp/pwned)", "`id`", "x;rm -rf ~", "x|nc evil 1", "x&&curl evil", "x\\", "'", '"', "x%0a%0dSet-Cookie:a",
    "x#", "x?y=1&token=2", "A" * 5000, "x\u202ey", "x\u0000y", "../../etc/passwd",
]  # fmt: skip
HOSTILE_PATHS = [
    "/lab", "/../../../etc/passwd", "/%2e%2e/%2e%2e/", "//evil.example.com/", "/lab\\evil", "/lab/%0d%0aX:1",
    "/\x1b]8;;http://evil\x07", "/lab?x=<script>", "/lab#@evil.example.com",
]  # fmt: skip
SCHEMES = ["http", "https", "javascript", "file", "ftp", "HTTP", "ws", "data", "ssh"]
PORTS = ["8888", "22", "0", "65536", "99999", "-1", "8888@evil.example.com", "88 88", "8888/", ""]


def osc(body: str, end: str = "\x07") -> str:
    return f"\x1b]{body}{end}"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def escape_tricks(rng: random.Random) -> Iterator[str]:
    """Escape sequences that set variables, forge the marker, hide or rearrange a URL."""
    for host in HOSTILE_HOSTS:
        url = f"http://{host}:8888/lab?token={TOKEN}"
        yield osc(f"1337;SetUserVar=sshHost={b64(host)}") + "Welcome!"
        yield osc(f"1337;SetUserVar=sshUser={b64('root')}") + osc(f"1337;SetUserVar=sshPort={b64('22')}")
        yield osc(f"1337;RemoteHost=root@{host}") + osc("1337;CurrentDir=/root")
        yield osc(f"1337;Custom=id=guessed-identity-000000:{url}")
        yield osc(f"1337;Custom=id=:{url}", "\x1b\\")
        yield osc(f"8;;{url}") + "click me" + osc("8;;")
        yield osc(f"52;c;{b64(url)}")
        yield osc(f"0;{url}") + osc(f"2;{LOG}{url}")
        yield f"http://local\x1b[0mhost:8888/lab?token={TOKEN}"
        yield f"{LOG}http://127.0.0.1:8888\x1b[2K{url}"
        yield f"{LOG}http://127.0.0.1:8888/lab?token=good\r{url}"
        yield f"\x1b[1A\x1b[2K{LOG}{url}\x1b[1B"
        yield f"\x1bPtmux;\x1b\x1b]1337;SetUserVar=sshHost={b64(host)}\x07\x1b\\"
        yield f"\x1b_{url}\x1b\\\x1b^{url}\x1b\\\x1bX{url}\x1b\\"
        yield f"\x9b2K\x9d0;{url}\x9c{LOG}{url}"
        yield f"\x1b[?1049h{LOG}{url}\x1b[?1049l"
        yield f"\x1b[s\x1b[999C{url}\x1b[u"
        yield osc(f"1337;SetUserVar=sshHost={b64(host)}", "")  # unterminated: swallows what follows
    for _ in range(2500):
        parts = [rng.choice(["\x1b[", "\x1b]", "\x1bP", "\x1b(", "\x1b", "\x9b", "\x07", "\x1b\\", ";", "1337"])
                 for _ in range(rng.randint(1, 12))]
        yield "".join(parts) + f"http://{rng.choice(HOSTILE_HOSTS)}:{rng.choice(PORTS)}/?token=" + "".join(parts)


def overlong(rng: random.Random) -> Iterator[str]:
    yield "http://a:1 ::" * 5000  # 65 KB of a listing-shaped line
    yield f"{LOG}http://127.0.0.1:8888/lab?token=" + "a" * 70_000
    yield "h" * 100_000 + f"http://localhost:8888/lab?token={TOKEN}"
    yield (f"{LOG}Jupyter Server 2.21.1 is running at: " * 2000)[:80_000]
    for _ in range(200):
        yield "x" * rng.randint(1000, 4000) + f" http://localhost:{rng.randint(1, 65535)}/"


def bare_carriage_returns(rng: random.Random) -> Iterator[str]:
    yield "\r" * 200_000 + "done"
    yield "".join(f"\r{i:3d}% http://localhost:8888/lab?token={i}" for i in range(2000))
    for _ in range(300):
        yield "\r".join(rng.choice(BANNER).format(url="http://127.0.0.1:8888/lab", url2="x") for _ in range(5))


def nuls_and_bad_utf8(rng: random.Random) -> Iterator[str]:
    for host in HOSTILE_HOSTS:
        yield f"{LOG}http://127.0.0.1\x00@{host}:8888/lab?token={TOKEN}"
        yield f"{LOG}http://{host}\x00.localhost:8888/lab"
        yield f"{LOG}http://127.0.0.1:8888/lab?token=\udcff\udcfe{TOKEN}"  # becomes invalid UTF-8 bytes
        yield "\x00" * 100 + f"{LOG}http://localhost:8888/lab?token={TOKEN}"
    for _ in range(800):
        yield "".join(rng.choice(["\x00", "\udc80", "\udcc3", "\udce2\udc82", "é", "a", ":", "/", "8"])
                      for _ in range(rng.randint(1, 80)))


def look_alikes(rng: random.Random) -> Iterator[str]:
    """Banner text where no server is: prose, quotes, logs of other programs, grep/diff/JSON, tracebacks."""
    url = f"http://127.0.0.1:8888/lab?token={TOKEN}"
    forms = [
        "Jupyter Server is running at: {u}", "see {u} for details", "Or copy and paste one of these URLs: {u}",
        "log.txt:{b}", "+{b}", "-{b}", '"{b}",', "  File \"x.py\", line 3, in <module>\n    print('{b}')",
        "echo '{b}'", "# {b}", "> {b}", "{b} --", "[{b}]({u})", "<a href=\"{u}\">{b}</a>", "2026-12-04 INFO {b}",
        "curl -sS {u}", "GET {u} HTTP/1.1", "Location: {u}", "wget {u}", "git clone {u}",
        "    To access the server, open this file in a browser:", "        file:///etc/passwd",
        "{b}{b}", "Currently running servers:", "{u} :: /home/alice", "{u} :: $(id)",
    ]
    for _ in range(3500):
        block = rng.choice(BANNER).format(url=url, url2=url)
        yield rng.choice(forms).format(u=url, b=block)


def injected_banners(rng: random.Random) -> Iterator[str]:
    """The real banner with a hostile URL put in: host, token, path, scheme and port, one at a time and mixed."""
    def url(scheme: str = "http", host: str = "127.0.0.1", port: str = "8888", path: str = "/lab",
            token: str = TOKEN) -> str:
        return f"{scheme}://{host}:{port}{path}?token={token}"

    variants = [url(host=h) for h in HOSTILE_HOSTS] + [url(token=t) for t in HOSTILE_TOKENS]
    variants += [url(path=p) for p in HOSTILE_PATHS] + [url(scheme=s) for s in SCHEMES if s != "http"]
    variants += [url(port=p) for p in PORTS if p != "8888"]
    for variant in variants:
        for second in (variant, url(host=rng.choice(HOSTILE_HOSTS))):
            for line in BANNER:
                yield line.format(url=variant, url2=second)
    for _ in range(600):
        mixed = url(rng.choice(SCHEMES), rng.choice(HOSTILE_HOSTS), rng.choice(PORTS), rng.choice(HOSTILE_PATHS),
                    rng.choice(HOSTILE_TOKENS))
        for line in BANNER:
            yield line.format(url=mixed, url2=mixed)


CATEGORIES = {
    "escape_tricks": escape_tricks,
    "overlong_lines": overlong,
    "bare_carriage_returns": bare_carriage_returns,
    "nuls_and_invalid_utf8": nuls_and_bad_utf8,
    "banner_look_alikes": look_alikes,
    "url_injection_into_a_real_banner": injected_banners,
}


def main() -> None:
    rng = random.Random(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    data = bytearray()
    manifest: dict[str, object] = {"seed": SEED, "generator": "tools/make_adversarial.py", "categories": {}}
    counts: dict[str, int] = {}
    for name, make in CATEGORIES.items():
        lines = list(make(rng))
        counts[name] = sum(line.count("\n") + 1 for line in lines)
        for line in lines:
            data += line.encode("utf-8", "surrogateescape") + b"\r\n"
    manifest["categories"] = counts
    manifest["lines"] = data.count(b"\n")
    manifest["bytes"] = len(data)
    (OUT / "corpus.bin").write_bytes(bytes(data))
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest))


if __name__ == "__main__":
    main()
