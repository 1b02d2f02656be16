"""Real videos in, face crops out: reading frames and finding faces with OpenCV.

The face teacher looks at small square face crops, the same kind the
built-in corpus draws. A real video holds a whole scene, so three steps
turn it into crops:

1. ``read_frames`` decodes a few frames spread evenly over the video
   (emotion shows over the whole utterance, and neighbouring frames are
   nearly identical, so 8 spread-out frames say about as much as all 100).
2. ``detect_face`` finds the largest frontal face in a frame with the
   Viola-Jones detector (Haar cascade) that ships with ``opencv-python`` 4.x:
   fast, CPU-only, no download, good on frontal, well-lit faces such as
   RAVDESS and CREMA-D; it misses profiles and small faces.
3. ``face_crops`` cuts each found face out with a margin (the brows and the
   chin carry expression) and resizes it to ``size`` x ``size``.

A frame without a face is never guessed at: ``face_crops`` returns a mask
saying which frames had one, and the corpus adapters report clips in which
no frame had a face.

Colours: this module speaks RGB (as matplotlib and the rest of the kit do);
OpenCV's own BGR order stays inside it.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

CASCADE_FILE = "haarcascade_frontalface_default.xml"


class VideoError(ValueError):
    """A file that cannot be used as video; the message names it and says why."""


def _cv2():
    import cv2
    return cv2


def _frame_count(cap) -> int:
    """Frames the container claims to hold (0 when it does not say)."""
    return max(int(cap.get(_cv2().CAP_PROP_FRAME_COUNT) or 0), 0)


def read_frames(path, n_frames: int | None = 8) -> np.ndarray:
    """Decode at most ``n_frames`` frames spread evenly over a video.

    Returns a uint8 array (n, H, W, 3) in RGB order, n = min(n_frames, frames
    in the file); ``n_frames=None`` returns every frame. Raises
    ``VideoError`` naming the file when it is missing, unreadable or empty.

    Frames are decoded in order with ``grab`` (cheap) and converted only at
    the chosen positions with ``retrieve``: seeking is unreliable in some
    containers (FLV, old AVI), reading in order always works.
    """
    cv2 = _cv2()
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such video file")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise VideoError(f"{path}: OpenCV cannot open it as video (damaged, or a codec FFmpeg lacks)")
        total = _frame_count(cap)
        frames = _read_positions(cap, total, n_frames)
        if total and len(frames) < min(total, n_frames or total):  # the header over-counted: pass again
            cap.release()
            cap = cv2.VideoCapture(str(path))
            frames = _read_positions(cap, 0, n_frames)
    finally:
        cap.release()
    if not frames:
        raise VideoError(f"{path}: no frame could be decoded")
    return np.stack([cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in frames])


def _read_positions(cap, total: int, n_frames: int | None) -> list:
    """Frames at evenly spread positions (all frames, then a pick, when ``total`` is unknown)."""
    if total <= 0 or n_frames is None:
        frames = []
        while True:
            ok, f = cap.read()
            if not ok:
                break
            frames.append(f)
        return frames if n_frames is None else [frames[i] for i in even_positions(len(frames), n_frames)]
    wanted = set(even_positions(total, n_frames).tolist())
    frames = []
    for i in range(total):
        if not cap.grab():
            break
        if i in wanted:
            ok, f = cap.retrieve()
            if ok:
                frames.append(f)
            if i == max(wanted):
                break
    return frames


def even_positions(total: int, n: int) -> np.ndarray:
    """``min(n, total)`` distinct positions spread evenly over ``range(total)``,
    each at the middle of its share (8 of 100 -> 6, 18, 31, ...)."""
    n = min(n, total)
    return ((np.arange(n) + 0.5) * total / max(n, 1)).astype(int)


@functools.lru_cache(maxsize=1)
def haar_cascade():
    """The frontal-face Haar cascade of opencv-python 4.x, loaded once per process."""
    cv2 = _cv2()
    hint = ("face detection uses the Haar cascade that ships with OpenCV 4.x; OpenCV 5 dropped "
            "it. Install it with: pip install 'opencv-python-headless<5'")
    if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
        raise RuntimeError(f"this OpenCV ({cv2.__version__}) has no CascadeClassifier: {hint}")
    path = Path(cv2.data.haarcascades) / CASCADE_FILE
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: {hint}")
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise RuntimeError(f"{path} could not be loaded: {hint}")
    return cascade


def detect_face(image_rgb: np.ndarray, max_side: int = 360, min_face: float = 0.1):
    """The largest frontal face in an RGB image as ``(x, y, w, h)``, or None.

    The image is first shrunk so its longer side is at most ``max_side``
    pixels (a face fills a good part of the frame in these corpora, and the
    detector is ~10x faster on a 360-pixel frame than on 720p); the box is
    given in the original image's pixels. Faces smaller than ``min_face``
    times the shorter side are ignored (background people, false alarms).
    ``minNeighbors=5`` asks for a face found at 5 nearby positions/scales,
    the usual setting against false alarms.
    """
    cv2 = _cv2()
    img = np.asarray(image_rgb)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"detect_face expects an (H, W, 3) RGB image, got shape {img.shape}")
    scale = min(1.0, max_side / max(img.shape[:2]))
    gray = cv2.cvtColor(np.ascontiguousarray(img, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    smallest = max(24, int(min_face * min(gray.shape)))
    boxes = haar_cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(smallest, smallest))
    if len(boxes) == 0:
        return None
    x, y, w, h = max(boxes, key=lambda b: b[2] * b[3])
    return tuple(int(round(v / scale)) for v in (x, y, w, h))


def crop_face(image_rgb: np.ndarray, box, size: int = 64, margin: float = 0.2) -> np.ndarray:
    """Cut a square around ``box`` (grown by ``margin`` of its size on each
    side, clipped at the image border) and resize it to ``size`` x ``size``."""
    cv2 = _cv2()
    x, y, w, h = box
    side = int(round(max(w, h) * (1 + 2 * margin)))
    cx, cy = x + w / 2, y + h / 2
    H, W = image_rgb.shape[:2]
    x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    x1, y1 = int(min(W, cx + side / 2)), int(min(H, cy + side / 2))
    crop = np.ascontiguousarray(image_rgb[y0:y1, x0:x1])
    interp = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interp)


def face_crops(frames, size: int = 64, margin: float = 0.2):
    """Face crops of a stack of RGB frames.

    Returns ``(crops, found)``: crops (n_found, size, size, 3) uint8 of the
    frames where a face was found, in order, and a bool mask (n,) saying
    which frames those were. A frame without a face adds no crop, so a
    clip whose mask is all False has no face at all (the adapters keep its
    audio and report it).
    """
    found = np.zeros(len(frames), bool)
    crops = []
    for i, frame in enumerate(frames):
        box = detect_face(frame)
        if box is not None:
            found[i] = True
            crops.append(crop_face(frame, box, size, margin))
    out = np.stack(crops) if crops else np.zeros((0, size, size, 3), np.uint8)
    return out, found


def resize_frames(frames, size: int = 64) -> np.ndarray:
    """Resize every frame to ``size`` x ``size`` (for videos that already are face crops)."""
    cv2 = _cv2()
    frames = np.asarray(frames)
    if frames.shape[1:3] == (size, size):
        return frames.astype(np.uint8, copy=False)
    return np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in frames])


def write_video(path, frames, fps: float = 8) -> Path:
    """Write RGB uint8 frames (n, H, W, 3) as an MP4 file (MPEG-4 Part 2, "mp4v").

    "mp4v" is the codec every opencv-python wheel can write without extra
    libraries; players and ``read_frames`` read it back. Raises
    ``VideoError`` when OpenCV cannot open the file for writing.
    """
    cv2 = _cv2()
    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ValueError(f"write_video expects frames of shape (n, H, W, 3), n >= 1; got {frames.shape}")
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h))
    if not writer.isOpened():
        raise VideoError(f"{path}: OpenCV cannot write an mp4v video there")
    try:
        for f in frames:
            writer.write(cv2.cvtColor(np.ascontiguousarray(f, dtype=np.uint8), cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path
