"""The ComfyUI double's file routes: uploads into input/, downloads through /view."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from aiohttp import web


async def upload(folder_of: Callable[[str], Path], request: web.Request) -> web.Response:
    """POST /upload/image with ComfyUI's naming rules (fixtures upload_1..5)."""
    form = await request.post()
    image = form.get("image")
    if image is None or not getattr(image, "filename", None):
        return web.Response(status=400)
    kind = str(form.get("type") or "input")
    kind = kind if kind in ("input", "temp", "output") else "input"
    subfolder = str(form.get("subfolder", ""))
    base = folder_of(kind)
    folder = Path(os.path.join(base, os.path.normpath(subfolder)))
    filename, data = image.filename, image.file.read()
    path = Path(os.path.abspath(folder / filename))
    if os.path.commonpath((str(base), str(path))) != str(base):
        return web.Response(status=400)
    folder.mkdir(parents=True, exist_ok=True)
    overwrite = str(form.get("overwrite", "")).lower() in ("true", "1")
    stem, suffix = os.path.splitext(filename)
    counter = 1
    duplicate = False
    while not overwrite and path.exists():
        if path.read_bytes() == data:  # same content: keep the existing name (upload_2)
            duplicate = True
            break
        filename = f"{stem} ({counter}){suffix}"
        path, counter = folder / filename, counter + 1
    if not duplicate:
        path.write_bytes(data)
    return web.json_response({"name": filename, "subfolder": subfolder, "type": kind})

def view(folder_of: Callable[[str], Path], request: web.Request) -> web.StreamResponse:
    """GET /view: a file of input, temp or output, never outside them."""
    query = request.query
    filename = query.get("filename", "")
    if not filename or filename.startswith("/") or ".." in filename:
        return web.Response(status=400)
    kind = query.get("type", "output")
    base = folder_of(kind if kind in ("input", "temp") else "output")
    folder = Path(os.path.abspath(base / query.get("subfolder", "")))
    if os.path.commonpath((str(folder), str(base))) != str(base):
        return web.Response(status=403)
    path = folder / filename
    if not path.is_file():
        return web.Response(status=404)
    return web.FileResponse(path, headers={"Content-Disposition": f'filename="{filename}"'})
