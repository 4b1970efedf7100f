"""From a Switch Information File row to an open switch session."""

from __future__ import annotations

from activation.secrets import Vault
from activation.store.models import Switch
from switch_adapters.port import CommandTemplate, SwitchDefinition, SwitchSession
from switch_adapters.session import SAFE_VALUE


def definition(switch: Switch, vault: Vault) -> SwitchDefinition:
    """Turn a switch row into the plain values the adapters take (the secret decrypted)."""
    return SwitchDefinition(
        name=switch.name,
        dialect=switch.dialect,
        code=switch.code,
        primary_url=switch.primary_url,
        backup_url=switch.backup_url or None,
        logon_name=switch.logon_name,
        logon_secret=(
            vault.decrypt(switch.logon_secret_encrypted) if switch.logon_secret_encrypted else ""
        ),
        commands={
            name: CommandTemplate(cmd["format"], cmd["expect"])
            for name, cmd in (switch.commands or {}).items()
        },
        npa_nxx=tuple(block.npa_nxx for block in switch.blocks),
    )


def logon_value_problem(value: str, longest: int) -> str | None:
    """Why a log-on name or secret cannot be sent in a switch command, or None."""
    if len(value) > longest or not SAFE_VALUE.fullmatch(value):
        return f"letters, digits and & + . _ - only, {longest} at most"
    return None


class SwitchGateway:
    """Opens sessions on switches through switch_adapters (the switch port)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def open(self, defn: SwitchDefinition) -> SwitchSession:
        """Open and log on to a switch; raises the adapters' typed errors."""
        from switch_adapters import open_session

        return open_session(defn, deadline=self.deadline)
