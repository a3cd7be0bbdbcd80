"""How the dashboard is started: the Streamlit command line ``graphviz-bp app`` runs.

The page is a module of the package (``graphviz_bp/app/page.py``), so an installed wheel can
start it from any directory. Streamlit's settings are passed as flags, not read from a
``.streamlit/config.toml`` (a checkout's ``.streamlit/config.toml`` holds the same settings for
``streamlit run streamlit_app.py``; tests/test_app.py checks that the two agree). Flags on the
command line win over any config.toml in the directory the user starts from.

>>> cmd = command(port=8600)
>>> cmd[1:4], "--server.port" in cmd and cmd[cmd.index("--server.port") + 1]
(['-m', 'streamlit', 'run'], '8600')
"""
from __future__ import annotations

import sys
from pathlib import Path

PAGE = Path(__file__).resolve().with_name("page.py")

# section -> option -> value, exactly as .streamlit/config.toml writes them
SETTINGS: dict[str, dict[str, object]] = {
    "server": {"headless": True, "address": "127.0.0.1", "runOnSave": False, "fileWatcherType": "none"},
    "browser": {"gatherUsageStats": False},
    # no traceback ever reaches the page: the app shows its own short messages and logs the rest
    "client": {"showErrorDetails": "none", "toolbarMode": "minimal"},
    "runner": {"magicEnabled": False},
    "theme": {"base": "light", "primaryColor": "#c0560c", "textColor": "#1f2328",
              "backgroundColor": "#ffffff", "secondaryBackgroundColor": "#f4f6f8",
              "font": "sans-serif", "codeFont": "monospace"},
}


def _flag_value(v) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def flags(address: str | None = None, port: int | None = None) -> list[str]:
    """``--section.option value`` for every setting (address and port as given)."""
    out = []
    for section, options in SETTINGS.items():
        for option, value in options.items():
            if (section, option) == ("server", "address") and address is not None:
                value = address
            out += [f"--{section}.{option}", _flag_value(value)]
    if port is not None:
        out += ["--server.port", str(port)]
    return out


def command(address: str | None = None, port: int | None = None, python: str | None = None) -> list[str]:
    """The command that serves the dashboard: ``python -m streamlit run …/page.py --flags``."""
    return [python or sys.executable, "-m", "streamlit", "run", str(PAGE), *flags(address, port)]
