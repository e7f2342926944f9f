"""The container stack (compose.yaml on Podman): build time, `up` to healthy, image sizes and
idle memory per container.

Images are built as tests/test_containers.py builds them (Debian base from mmdebstrap tagged
python:3.11-slim, ``--pull=never``). ``--cold`` first removes the base and the images and
builds everything with ``--no-cache`` (pip's download cache, a build cache mount, stays
warm unless ``--purge-pip-cache``). Then, ``--runs`` times each: ``podman-compose up -d``
on new volumes (first start: PostgreSQL's cluster is made, the schema is created) and on
the volumes of the previous run (every later start), timed until /api/v1/health answers
``ok``; after ``--idle`` seconds, each container's memory from ``podman stats --no-stream``.
Prints a table and writes bench/results/containers.json.

    .venv/bin/python bench/containers.py [--cold] [--runs 3] [--idle 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import container_stack as cs  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "containers.json"


def cold_reset(env: dict[str, str], purge_pip_cache: bool) -> None:
    for image in [*cs.IMAGES, "python:3.11-slim"]:
        cs.podman(env, "rmi", "--force", image, check=False)
    cs.podman(env, "image", "prune", "--force", "--filter", f"label={cs.BASE_LABEL}", check=False)
    if purge_pip_cache:
        # Buildah keeps RUN --mount=type=cache folders under its temporary directory.
        subprocess.run("rm -rf /var/tmp/buildah-cache*/*", shell=True, check=False)


def one_start(stack: cs.Stack, idle: float) -> dict[str, object]:
    start = time.perf_counter()
    stack.up()
    up_returned = time.perf_counter() - start
    healthy = up_returned + stack.wait_healthy(timeout=180)
    time.sleep(idle)
    return {"up_s": round(up_returned, 2), "healthy_s": round(healthy, 2), **stack_rss(stack)}


def stack_rss(stack: cs.Stack) -> dict[str, object]:
    return {"rss_mb": {k: round(v / 1e6, 1) for k, v in sorted(stack.idle_rss().items())}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", action="store_true", help="remove base and images first")
    parser.add_argument("--purge-pip-cache", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=20.0, help="seconds before podman stats")
    args = parser.parse_args()
    missing = cs.missing_tools()
    if missing:
        sys.exit(f"missing {', '.join(missing)}: scripts/system-deps.sh --containers")

    result: dict[str, object] = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "podman": subprocess.run(
            ["podman", "--version"], capture_output=True, text=True
        ).stdout.strip(),
    }
    env = cs.podman_env()  # conf only when the base exists (built below when cold)
    if args.cold:
        cold_reset(env, args.purge_pip_cache)
        start = time.perf_counter()
        env = cs.podman_env()
        result["base_build_s"] = round(time.perf_counter() - start, 1)
    builds = cs.build_images(env, no_cache=args.cold)
    result["cold" if args.cold else "warm"] = True
    result["build_s"] = {k: round(v, 1) for k, v in builds.items()}
    result["image_mb"] = {
        image: round(cs.image_size(env, image) / 1e6) for image in [*cs.IMAGES, "python:3.11-slim"]
    }

    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp)
        models.chmod(0o755)
        stack = cs.Stack(env, f"lexobench{uuid.uuid4().hex[:6]}", cs.free_port(), models)
        first, later = [], []
        try:
            for _ in range(args.runs):
                stack.down()  # new volumes
                first.append(one_start(stack, args.idle))
                stack.compose("down", "--timeout", "10")  # volumes kept
                later.append(one_start(stack, 0))
        finally:
            stack.down()
    result["first_start"] = first
    result["later_start"] = later
    result["healthy_s_median"] = {
        "new_volumes": statistics.median(r["healthy_s"] for r in first),  # type: ignore[misc]
        "existing_volumes": statistics.median(r["healthy_s"] for r in later),  # type: ignore[misc]
    }
    _print(result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0


def _print(result: dict[str, object]) -> None:
    if "base_build_s" in result:
        print(f"base image (mmdebstrap + podman import)   {result['base_build_s']:>7.1f} s")
    for image, seconds in result["build_s"].items():  # type: ignore[attr-defined]
        print(f"build {image:<34} {seconds:>7.1f} s")
    for image, mb in result["image_mb"].items():  # type: ignore[attr-defined]
        print(f"size  {image:<34} {mb:>7} MB")
    medians = result["healthy_s_median"]
    print(f"up -> healthy, new volumes (median)       {medians['new_volumes']:>7.2f} s")  # type: ignore[index]
    print(f"up -> healthy, existing volumes (median)  {medians['existing_volumes']:>7.2f} s")  # type: ignore[index]
    rss = result["first_start"][-1]["rss_mb"]  # type: ignore[index]
    for service, mb in rss.items():
        print(f"idle RSS {service:<32} {mb:>7.1f} MB")


if __name__ == "__main__":
    sys.exit(main())
