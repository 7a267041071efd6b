"""RevokedHostKeys: a host key listed in that file is refused before anything else, as OpenSSH does.

sshconnect.c verify_host_key() calls authfile.c sshkey_check_revoked(): a binary KRL (checked here with
``ssh-keygen -Q``) or, when the file does not start with the KRL magic, a flat list of public keys. A file that
cannot be read refuses the key too ("Error checking host key ... in revoked keys file").
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

KRL_MAGIC = b"SSHKRL\n\0"


def _blob_type(blob: bytes) -> str:
    return blob[4 : 4 + int.from_bytes(blob[:4], "big")].decode(errors="replace")


def in_flat_list(text: str, blobs: list[bytes]) -> bool:
    """authfile.c sshkey_in_file(): one public key per line, ``#`` comments; any of ``blobs`` listed."""
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2 or fields[0].startswith("#"):
            continue
        try:
            if base64.b64decode(fields[1], validate=True) in blobs:
                return True
        except ValueError:
            continue
    return False


def refusal(path: Path | None, blob: bytes, extra_blobs: tuple[bytes, ...] = ()) -> str | None:
    """Why ``path`` refuses the key ``blob`` (the key as offered: plain or certificate), or None.
    ``extra_blobs``: further keys that count in a flat list (a certificate's plain key and its CA)."""
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError as e:
        return f"cannot read the RevokedHostKeys file {path}: {e.strerror or e}"
    if not data.startswith(KRL_MAGIC):
        listed = in_flat_list(data.decode(errors="replace"), [blob, *extra_blobs])
        return f"the host key is listed in the RevokedHostKeys file {path}" if listed else None
    exe = shutil.which("ssh-keygen")
    if exe is None:
        return f"cannot check the KRL {path}: ssh-keygen is not installed"
    with tempfile.TemporaryDirectory(prefix="ita-krl-") as directory:
        key_file = os.path.join(directory, "key.pub")
        with open(key_file, "w") as f:
            f.write(f"{_blob_type(blob)} {base64.b64encode(blob).decode()}\n")
        try:
            proc = subprocess.run([exe, "-Q", "-f", str(path), key_file], stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"cannot check the KRL {path}: {e}"
    if proc.returncode == 0:
        return None
    if proc.returncode == 1:
        return f"the host key is revoked by the KRL {path}"
    return f"cannot check the KRL {path}: {proc.stderr.strip()}"
