"""Online checks (PC4xx): fetch enclosures, artwork, transcripts and chapters, capped, on threads."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

from pipeline.images import ART_TYPES, artwork_problems
from pipeline.progress import Reporter
from pipeline.validate.checker import Checker, Job
from pipeline.validate.http import Response, http_request
from pipeline.validate.values import (
    CHAPTERS_FETCH_CAP,
    CHAPTERS_SERVED,
    IMAGE_FETCH_CAP,
    SAME_TYPE,
    _ext,
)

Problem = tuple[str, str]


def _reachable(url: str, timeout: float) -> tuple[list[Problem], Response | None, Response | None]:
    """HEAD then a 2-byte Range GET: (problems, head, range) — head is None when HEAD isn't supported."""
    head: Response | None = http_request(url, method="HEAD", timeout=timeout)
    assert head is not None
    if head.error:
        return [("PC401", f"{url} cannot be fetched: {head.error}")], None, None
    if head.status in (401, 403, 407):
        return [("PC401", f"{url}{_landed(url, head)} needs authentication (HTTP {head.status})")], None, None
    problems: list[Problem] = []
    if head.status in (405, 501):
        problems.append(("PC402", f"{url} answers HEAD with HTTP {head.status}"))
        head = None
    elif head.status >= 400:
        return [("PC401", f"{url}{_landed(url, head)} answers HTTP {head.status}")], None, None
    rng = http_request(url, headers={"Range": "bytes=0-1"}, cap=64, timeout=timeout)
    if rng.error or rng.status >= 400:
        reason = rng.error or f"HTTP {rng.status}"
        if head is None:
            return [("PC401", f"{url} cannot be fetched: {reason}")], None, None
        problems.append(("PC403", f"{url} fails a 'Range: bytes=0-1' request ({reason})"))
        return problems, head, None
    if rng.status != 206:
        problems.append(("PC403", f"{url} answers 'Range: bytes=0-1' with HTTP {rng.status}, not 206"))
    return problems, head, rng


def _landed(url: str, resp: Response) -> str:
    """ " (redirected to X)" when a redirect (an analytics prefix such as OP3 or Podtrac) led elsewhere."""
    return f" (redirected to {resp.url})" if resp.url and resp.url != url else ""


def _range_total(rng: Response | None) -> int | None:
    if rng is None or rng.status != 206:
        return None
    m = re.match(r"bytes\s+\d+-\d+/(\d+)", rng.header("content-range"))
    return int(m[1]) if m else None


def _check_enclosure(job: Job, timeout: float) -> list[Problem]:
    problems, head, rng = _reachable(job.url, timeout)
    if head is None and rng is None:
        return problems
    served: list[tuple[str, int]] = []
    if head is not None and head.header("content-length").isdigit():
        served.append(("Content-Length", int(head.header("content-length"))))
    total = _range_total(rng)
    if total is not None:
        served.append(("Content-Range total", total))
    if job.length and job.length.isdigit():
        wrong = [f"{name} {value}" for name, value in served if value != int(job.length)]
        if wrong:
            problems.append(
                ("PC404", f"enclosure length {job.length} but the server says {', '.join(wrong)}")
            )
    served_type = (head.media_type if head is not None else "") or (rng.media_type if rng is not None else "")
    if job.type and served_type and served_type not in SAME_TYPE.get(job.type, frozenset({job.type})):
        problems.append(
            ("PC405", f"enclosure type {job.type} but the server sends Content-Type {served_type}")
        )
    return problems


def _check_art(job: Job, timeout: float) -> list[Problem]:
    problems, head, rng = _reachable(job.url, timeout)
    if head is None and rng is None:
        return problems
    full = http_request(job.url, cap=IMAGE_FETCH_CAP, timeout=timeout)
    if full.error or full.status >= 400:
        return [*problems, ("PC401", f"{job.url} cannot be fetched: {full.error or f'HTTP {full.status}'}")]
    art = _image_problems(job.url, full)
    if job.kind == "episode-art":
        art = [("PC414", message) for _, message in art]
    return problems + art


def _image_problems(url: str, resp: Response) -> list[Problem]:
    out: list[Problem] = []
    ext = _ext(url)
    served = resp.media_type
    if served not in ("image/jpeg", "image/png"):
        out.append(
            ("PC406", f"artwork is served as '{served or 'no Content-Type'}', not image/jpeg or image/png")
        )
    elif ext in ART_TYPES and ART_TYPES[ext] != served:
        out.append(("PC406", f"a {ext} file served as {served}"))
    if resp.truncated:
        return [*out, ("PC413", f"artwork is larger than {IMAGE_FETCH_CAP // 2**20} MB; not checked further")]
    return out + artwork_problems(resp.body, ext)  # the same rules `podcast check` applies to the files


def _check_transcript(job: Job, timeout: float) -> list[Problem]:
    resp = http_request(job.url, method="HEAD", timeout=timeout)
    if resp.status in (405, 501):
        resp = http_request(job.url, cap=1, timeout=timeout)
    if resp.error or resp.status >= 400:
        return [("PC401", f"{job.url} cannot be fetched: {resp.error or f'HTTP {resp.status}'}")]
    served = resp.media_type
    if job.type and served not in SAME_TYPE.get(job.type, frozenset({job.type})):
        return [("PC415", f"transcript declared {job.type} but served as '{served or 'no Content-Type'}'")]
    return []


def _check_chapters(job: Job, timeout: float) -> list[Problem]:
    resp = http_request(job.url, cap=CHAPTERS_FETCH_CAP, timeout=timeout)
    if resp.error or resp.status >= 400:
        return [("PC401", f"{job.url} cannot be fetched: {resp.error or f'HTTP {resp.status}'}")]
    out: list[Problem] = []
    if resp.media_type not in CHAPTERS_SERVED:
        out.append(("PC416", f"chapters served as '{resp.media_type or 'no Content-Type'}'"))
    problem = "larger than 2 MB" if resp.truncated else _chapters_problem(resp.body)
    if problem:
        out.append(("PC417", f"chapters file {problem}"))
    return out


def _chapters_problem(body: bytes) -> str:
    """What is wrong with a JSON chapters document, or ""."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError) as err:
        return f"is not JSON ({str(err).splitlines()[0][:80]})"
    if not isinstance(doc, dict):
        return "is not a JSON object"
    if not isinstance(doc.get("version"), str):
        return "has no version string"
    chapters = doc.get("chapters")
    if not isinstance(chapters, list):
        return "has no chapters array"
    last = -1.0
    for i, chapter in enumerate(chapters, 1):
        if not isinstance(chapter, dict):
            return f"chapter {i} is not an object"
        start = chapter.get("startTime")
        if isinstance(start, bool) or not isinstance(start, int | float) or start < 0:
            return f"chapter {i} has no numeric startTime"
        if start < last:
            return f"chapter {i} starts at {start}, before the chapter above it"
        last = float(start)
        end = chapter.get("endTime")
        if end is not None and (isinstance(end, bool) or not isinstance(end, int | float) or end < start):
            return f"chapter {i} has an endTime before its startTime"
    return ""


_ONLINE: dict[str, Callable[[Job, float], list[Problem]]] = {
    "enclosure": _check_enclosure,
    "art": _check_art,
    "episode-art": _check_art,
    "transcript": _check_transcript,
    "chapters": _check_chapters,
}


def run_online(checker: Checker, *, timeout: float, workers: int, reporter: Reporter) -> None:
    jobs = checker.jobs
    if not jobs:
        return
    task = reporter.task("checking media URLs", len(jobs), unit="url")
    results: list[list[Problem]] = [[] for _ in jobs]
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        futures = {pool.submit(_ONLINE[job.kind], job, timeout): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            task.advance(1)
    task.close()
    for job, problems in zip(jobs, results, strict=True):
        suffix = f" (used {job.also + 1} times)" if job.also else ""
        for rid, message in problems:
            checker.add(rid, message + suffix, job.where, job.line)
