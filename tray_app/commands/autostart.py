"""`autostart on|off|status`: start the tray at login."""

from __future__ import annotations

from tray_app.commands import ExitCode
from tray_app.environment import Environment
from tray_app.wiring.app import autostart_for


def run(switch: str, env: Environment) -> ExitCode:
    autostart = autostart_for(env)
    if switch == "on":
        print(autostart.enable(), file=env.stdout)
    elif switch == "off":
        print(autostart.disable(), file=env.stdout)
    else:
        state = autostart.status()
        runs = f", runs {' '.join(state.command)}" if state.command else ""
        print(f"start at login: {'on' if state.enabled else 'off'} ({state.where}{runs})", file=env.stdout)
    return ExitCode.OK
