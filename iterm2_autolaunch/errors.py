"""Every error type the package raises, in one tree. Each message is meant for the user as it is.

    AutolaunchError          something to tell the user; never a crash of the daemon
    ├── ConfigError          the config file or a flag is wrong
    ├── ResolveError         where a session connects could not be worked out
    ├── TunnelError          a forward could not be opened or died
    │   ├── HostKeyError     the host key is unknown or changed: refused as OpenSSH would
    │   └── PortTaken        the local port was taken between our check and the bind
    ├── ProbeError           the server did not answer as the announced kind
    ├── ControlError         the control socket (`list`, a second daemon) failed
    ├── InstallError         installing or uninstalling the AutoLaunch script cannot go on
    └── SessionGone          iTerm2 no longer knows a session (closed between a notification and our request)

Foreign errors (OSError, paramiko, sshtunnel, subprocess) are turned into these by type where they arise, at
the edge of each effect (``tunnels.base.tunnel_errors``), never by matching their message text.
"""


class AutolaunchError(Exception):
    """Base class: something the user should be told about, never a crash of the daemon."""


class ConfigError(AutolaunchError):
    """The config file or a flag is wrong (the message names the file, key and what is allowed)."""


class ResolveError(AutolaunchError):
    """The SSH target of a session could not be worked out."""


class TunnelError(AutolaunchError):
    """A forward could not be opened or died (host key refused, ssh failed, port taken)."""


class HostKeyError(TunnelError):
    """The server's host key is unknown or changed; refused as OpenSSH would."""


class PortTaken(TunnelError):
    """The local port is no longer free: another program took it after we chose it. Worth one more try."""


class ProbeError(AutolaunchError):
    """The server did not answer through the forward as the announced kind."""


class ControlError(AutolaunchError):
    """The control socket could not be used (no daemon, another daemon, a bad answer)."""


class InstallError(AutolaunchError):
    """Installing or uninstalling cannot go on (the message says why and where)."""


class SessionGone(AutolaunchError):
    """iTerm2 no longer knows the session (it closed between a notification and our request)."""
