"""Where the studio home is: found the same way whichever folder a command runs from.

`STUDIO_HOME` wins (read by studio/settings.py). Otherwise the home is `.studio` in the project root:
the nearest folder at or above the working directory holding the `.studio-root` marker, else the
checkout this code runs from when it holds the marker (an editable install), else `./.studio`. So
`studio import` run from another folder uses the same embedded PostgreSQL as `make up`, instead of
quietly starting a second one there.
"""

from __future__ import annotations

from pathlib import Path

MARKER = ".studio-root"
HOME_FOLDER = ".studio"
_CHECKOUT = Path(__file__).resolve().parents[1]


def project_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` (default: the working directory) holding the marker."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return folder
    if (_CHECKOUT / MARKER).is_file():
        return _CHECKOUT
    return None


def default_home(start: Path | None = None) -> Path:
    root = project_root(start)
    return (root if root is not None else (start or Path.cwd())) / HOME_FOLDER
