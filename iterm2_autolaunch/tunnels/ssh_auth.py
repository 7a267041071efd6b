"""Logging in as OpenSSH would: identities from the agent and IdentityFile, honouring IdentitiesOnly."""

from __future__ import annotations

import base64
import getpass
import logging
import os
from pathlib import Path
from typing import Any

import paramiko

from ..errors import TunnelError
from ..target import SshTarget
from .host_key_check import fingerprint

log = logging.getLogger(__name__)


_DEFAULT_IDENTITIES = ("~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ed25519")


def _public_blob(path: Path, key: paramiko.PKey | None) -> bytes | None:
    if key is not None:
        return key.asbytes()
    pub = Path(f"{path}.pub")
    try:
        return base64.b64decode(pub.read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _identities(target: SshTarget, agent: paramiko.Agent | None) -> tuple[list[tuple[str, Any]], list[str]]:
    """Keys to try, in OpenSSH's order: IdentityFiles (agent copy if any), then other agent keys unless
    IdentitiesOnly. Returns (label, key) pairs and notes about keys that could not be used."""
    notes: list[str] = []
    agent_keys = list(agent.get_keys()) if agent is not None else []
    used: set[bytes] = set()
    result: list[tuple[str, Any]] = []
    for name in target.identity_files or _DEFAULT_IDENTITIES:
        path = Path(os.path.expanduser(name))
        if not path.exists():
            continue
        key: paramiko.PKey | None = None
        try:
            key = paramiko.PKey.from_path(path)
        except paramiko.PasswordRequiredException:
            notes.append(f"{path} is encrypted (add it to ssh-agent)")
        except (paramiko.SSHException, OSError, ValueError) as e:
            notes.append(f"{path} could not be loaded ({e})")
        blob = _public_blob(path, key)
        from_agent = next((k for k in agent_keys if blob is not None and k.asbytes() == blob), None)
        chosen = from_agent or key
        if chosen is not None and chosen.asbytes() not in used:
            used.add(chosen.asbytes())
            result.append((f"{path}{' (agent)' if from_agent else ''}", chosen))
    if not target.identities_only:
        for key in agent_keys:
            if key.asbytes() not in used:
                used.add(key.asbytes())
                result.append((f"agent key {key.get_name()} {fingerprint(key)}", key))
    return result, notes


def authenticate(target: SshTarget, transport: paramiko.Transport) -> None:
    user = target.user or getpass.getuser()
    where = f"{user}@{target.hostname}"
    agent = paramiko.Agent() if os.environ.get("SSH_AUTH_SOCK") else None
    try:
        keys, notes = _identities(target, agent)
        tried: list[str] = []
        for label, key in keys:
            tried.append(label)
            try:
                transport.auth_publickey(user, key)
            except paramiko.BadAuthenticationType as e:
                raise TunnelError(
                    f"{where} does not accept public keys (allowed: {', '.join(e.allowed_types)}); "
                    "use the openssh backend with a ControlMaster"
                ) from e
            except paramiko.AuthenticationException:
                continue
            except (paramiko.SSHException, OSError, EOFError) as e:
                raise TunnelError(f"authentication to {where} failed: {e}") from e
            if transport.is_authenticated():
                return
            raise TunnelError(
                f"{where} wants more than a public key (2FA?); use the openssh backend with a ControlMaster"
            )
        detail = f"tried {', '.join(tried)}" if tried else "no usable key (IdentityFile / ssh-agent)"
        if notes:
            detail += "; " + "; ".join(notes)
        raise TunnelError(f"Permission denied (publickey) for {where}: {detail}")
    finally:
        if agent is not None:
            agent.close()


