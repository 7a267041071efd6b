"""The few error types the package raises. Each message is meant for the user as it is."""


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


class ProbeError(AutolaunchError):
    """The server did not answer through the forward as the announced kind."""
