"""Clients of `samstar serve`, for acquisition code written in Python.

    pip install requests websockets numpy
    samstar serve --knobs '{"points_per_side": 16}'          # in another terminal
    python examples/client.py http://127.0.0.1:8080 [image.png]

When the server wants a token (--token, SAMSTAR_TOKEN, --token auto), pass the URL it
printed (http://host:8080/?token=...) or set SAMSTAR_TOKEN here too: every request then
carries "Authorization: Bearer <token>", and the WebSocket URL carries ?token=.

- server():         the URL samstar serve printed -> a Server (base URL and token)

- segment_file():   POST an image file (PNG / TIFF / JPEG) -> the JSON answer
- segment_array():  POST a numpy frame as raw pixels (uint8 / uint16 / float32)
- label_image():    the same with ?labels=png -> the 16-bit instance label PNG (bytes)
- stream():         a WebSocket stream: send frames as they are acquired, receive one
                    answer per frame in order; frames that arrive while the server is
                    busy are dropped, oldest first, and reported in `dropped`.
"""

import asyncio
import json
import os
import struct
import sys
import time
from dataclasses import dataclass
from typing import Optional
from urllib.parse import parse_qs, quote, urlsplit

import numpy as np
import requests
import websockets

DTYPES = {np.dtype("uint8"): "uint8", np.dtype("uint16"): "uint16", np.dtype("float32"): "float32"}
CONTENT_TYPES = {".png": "image/png", ".tif": "image/tiff", ".tiff": "image/tiff", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


@dataclass
class Server:
    url: str                      # http://host:port (no path)
    token: Optional[str] = None   # samstar serve --token / SAMSTAR_TOKEN / --token auto

    def headers(self, extra=None):
        headers = dict(extra or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers


def server(address, token=None):
    """'http://host:port[/?token=...]' (the URL samstar serve prints) -> Server; else the token of SAMSTAR_TOKEN."""
    parts = urlsplit(address)
    from_url = parse_qs(parts.query).get("token", [None])[0]
    return Server(f"{parts.scheme}://{parts.netloc}", from_url or token or os.environ.get("SAMSTAR_TOKEN") or None)


def _post(srv, body, headers, query="", retries=5):
    """POST /v1/segment; waits and retries when the queue, or this client's share of it, is full (503 + Retry-After)."""
    for _ in range(retries):
        r = requests.post(f"{srv.url}/v1/segment{query}", data=body, headers=srv.headers(headers), timeout=120)
        if r.status_code == 503:
            time.sleep(float(r.headers.get("Retry-After", "1")))
            continue
        if r.status_code != 200:
            # Every error answer is JSON: {"error": {"code", "message", "hint"?}}; 401 UNAUTHORIZED: missing or wrong token.
            error = r.json()["error"]
            raise RuntimeError(f"{r.status_code} {error['code']}: {error['message']}" + (f" ({error['hint']})" if "hint" in error else ""))
        return r
    raise RuntimeError("server busy: gave up after retries")


def segment_file(srv, path, frame_id=None):
    suffix = path[path.rfind("."):].lower()
    headers = {"Content-Type": CONTENT_TYPES[suffix]}
    if frame_id is not None:
        headers["X-Frame-Id"] = str(frame_id)
    with open(path, "rb") as f:
        return _post(srv, f.read(), headers).json()


def _raw(frame):
    frame = np.ascontiguousarray(frame)
    if frame.dtype not in DTYPES:
        raise ValueError(f"dtype {frame.dtype}: send uint8, uint16 or float32")
    height, width = frame.shape[:2]
    channels = 1 if frame.ndim == 2 else frame.shape[2]
    headers = {
        "Content-Type": "application/octet-stream",
        "X-Width": str(width),
        "X-Height": str(height),
        "X-Dtype": DTYPES[frame.dtype],
        "X-Channels": str(channels),
    }
    return frame.astype(frame.dtype.newbyteorder("<"), copy=False).tobytes(), headers


def segment_array(srv, frame, frame_id=None):
    body, headers = _raw(frame)
    if frame_id is not None:
        headers["X-Frame-Id"] = str(frame_id)
    return _post(srv, body, headers).json()


def label_image(srv, frame):
    """The 16-bit instance label PNG (0 = background, 1..n = instances) and the instance count."""
    body, headers = _raw(frame)
    r = _post(srv, body, headers, query="?labels=png")
    return r.content, int(r.headers["X-Count"])


async def stream(srv, frames, fps=10.0, on_result=print):
    """Send frames at `fps` (as a camera would) and hand each answer to `on_result`, in order."""
    ws_url = srv.url.replace("http://", "ws://").replace("https://", "wss://") + "/v1/stream"
    if srv.token:
        ws_url += "?token=" + quote(srv.token, safe="")  # works with every websockets version (header options were renamed)
    # websockets sends no Origin header unless told to, as the server expects of clients outside a browser.
    async with websockets.connect(ws_url, max_size=None) as ws:
        last_id = None

        async def send():
            nonlocal last_id
            for i, frame in enumerate(frames):
                frame = np.ascontiguousarray(frame)
                height, width = frame.shape[:2]
                header = json.dumps({
                    "id": i, "format": "raw", "width": width, "height": height,
                    "dtype": DTYPES[frame.dtype], "channels": 1 if frame.ndim == 2 else frame.shape[2],
                }).encode()
                # One binary message: [u32 little-endian header length][JSON header][pixels]
                await ws.send(struct.pack("<I", len(header)) + header + frame.tobytes())
                last_id = i
                await asyncio.sleep(1.0 / fps)

        sender = asyncio.create_task(send())
        async for message in ws:
            answer = json.loads(message)
            on_result(answer)
            if sender.done() and answer["id"] == last_id:
                break  # the newest frame is never dropped: its answer is the last one
        await sender


def synthetic_frame(seed, size=256, count=25):
    """Bright round particles on a noisy background, 16-bit, as a camera might deliver them."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    image = np.full((size, size), 400.0)
    for _ in range(count):
        cy, cx = rng.uniform(10, size - 10, 2)
        radius = rng.uniform(3, 7)
        image += 2500.0 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (radius / 1.5) ** 2))
    image += rng.normal(0, 40, image.shape)
    return np.clip(image, 0, 65535).astype(np.uint16)


def main():
    srv = server(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080")
    health = requests.get(f"{srv.url}/v1/health", headers=srv.headers(), timeout=10)
    if health.status_code == 401:
        sys.exit("401: the server wants a token: pass the URL it printed (.../?token=...) or set SAMSTAR_TOKEN")
    print("health:", health.json()["status"])
    print("knobs from:", requests.get(f"{srv.url}/v1/policy", headers=srv.headers(), timeout=10).json()["chooser"].get("source"))

    if len(sys.argv) > 2:
        answer = segment_file(srv, sys.argv[2])
        print(f"{sys.argv[2]}: {answer['count']} instances in {answer['timings_ms']['total']:.0f} ms")

    answer = segment_array(srv, synthetic_frame(0), frame_id="numpy-0")
    sizes = [m["equivalent_diameter"] for m in answer["measurements"]["instances"]]
    print(f"numpy frame: {answer['count']} instances, mean diameter {np.mean(sizes) if sizes else 0:.1f} px, "
          f"coverage {answer['measurements']['frame']['area_fraction']:.3f}, reward {answer['reward']}")

    png, count = label_image(srv, synthetic_frame(0))
    print(f"label PNG: {len(png)} bytes, {count} instances")

    def show(a):
        if a["type"] == "error":
            print(f"  frame {a['id']}: error {a['error']['code']}: {a['error']['message']}")
        else:
            print(f"  frame {a['id']}: {a['count']} instances, {a['timings_ms']['total']:.0f} ms, dropped before it: {a['dropped']['ids']}")

    print("stream (20 frames at 10 frames/s):")
    asyncio.run(stream(srv, (synthetic_frame(s) for s in range(20)), fps=10.0, on_result=show))


if __name__ == "__main__":
    main()
