"""MinIO S3 server of the service kit, built from source with ``go install``.

MinIO stopped tagging releases as Go modules, so we pin a pseudo-version of
``github.com/minio/minio`` that the Go module proxy serves and build it once:

* the binary goes to ``~/.cache/provgraph-services/minio/bin/minio-<version>``;
  the Go module and build caches sit beside it (``go/``), so another clone on
  the same machine, or a later version bump, does not start from scratch.  A
  cold build takes about 8 minutes on 2 cores;
* the server keeps its data, certs folder, log and pidfile under
  ``.services/minio``, serves S3 on ``127.0.0.1:port("minio")`` and its web
  console on ``127.0.0.1:port("minio_console")``;
* credentials (root user), endpoint, region and a default bucket are generated
  once into ``.services/secrets/minio.json``; ``start()`` creates the bucket
  with one SigV4-signed request (stdlib only).

MinIO is AGPLv3; we only run the unmodified server locally and never ship it.

Usage: ``python3 services/svc_minio.py install|start|stop|status``
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import hmac
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from _common import (
    HOST,
    ServiceError,
    Status,
    cache_dir,
    ensure_port_free,
    main,
    port,
    port_open,
    read_pid,
    run,
    secret,
    service_dir,
    spawn,
    terminate,
    which,
    write_secret,
)

NAME = "minio"
MODULE = "github.com/minio/minio"
#: Last commit of the (now archived) MinIO repository, 2026-02-12.
PSEUDO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"
COMMIT_TIME = "2026-02-12T20:18:48Z"
VERSION = f"DEVELOPMENT.{COMMIT_TIME.replace(':', '-')} ({MODULE} {PSEUDO_VERSION})"
REGION = "us-east-1"
BUCKET = "provgraph"


def _binary() -> Path:
    """The cached server binary, keyed on the pinned version."""
    return cache_dir(NAME) / "bin" / f"minio-{PSEUDO_VERSION}"


def _paths() -> dict[str, Path]:
    root = service_dir(NAME)
    return {
        "data": root / "data",
        "certs": root / "certs",  # else MinIO would use ~/.minio/certs
        "log": root / "minio.log",
        "pid": root / "minio.pid",
    }


def _credentials() -> dict:
    """The generated credentials; endpoint_url follows a changed port."""
    creds = secret(NAME, {
        "endpoint_url": f"http://{HOST}:{port(NAME)}",
        "access_key": "provgraph",
        "secret_key": "<generate>",
        "region": REGION,
        "bucket": BUCKET,
    })
    if creds["endpoint_url"] != f"http://{HOST}:{port(NAME)}":
        creds["endpoint_url"] = f"http://{HOST}:{port(NAME)}"
        write_secret(NAME, creds)
    return creds


def install() -> None:
    """Build the pinned MinIO server unless its binary is already cached."""
    binary = _binary()
    if binary.exists():
        return
    go = which("go")
    if go is None:
        raise ServiceError("minio: the Go toolchain (go) is needed to build MinIO")
    cache = cache_dir(NAME)
    with open(cache / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another clone may be building it
        if binary.exists():
            return
        gobin = cache / "gobin.tmp"
        shutil.rmtree(gobin, ignore_errors=True)
        env = dict(
            os.environ, GOBIN=str(gobin), GOPATH=str(cache / "go"),
            GOMODCACHE=str(cache / "go" / "mod"), GOCACHE=str(cache / "go" / "build"),
            GOFLAGS="-modcacherw -buildvcs=false", CGO_ENABLED="0",
        )
        pkg = "github.com/minio/minio/cmd"
        ldflags = " ".join([
            "-s -w",
            f"-X {pkg}.Version={COMMIT_TIME}",
            f"-X {pkg}.ReleaseTag=DEVELOPMENT.{COMMIT_TIME.replace(':', '-')}",
            f"-X {pkg}.CommitID={PSEUDO_VERSION[-12:]}",
            f"-X {pkg}.ShortCommitID={PSEUDO_VERSION[-12:]}",
            f"-X {pkg}.CopyrightYear={COMMIT_TIME[:4]}",
        ])
        print(f"minio: building {MODULE}@{PSEUDO_VERSION} (several minutes on first run)",
              file=sys.stderr)
        run([go, "install", "-trimpath", "-ldflags", ldflags, f"{MODULE}@{PSEUDO_VERSION}"],
            env=env, cwd=cache)
        binary.parent.mkdir(parents=True, exist_ok=True)
        os.replace(gobin / "minio", binary)
        shutil.rmtree(gobin, ignore_errors=True)


def _sign(method: str, path: str, creds: dict) -> dict[str, str]:
    """Headers of an AWS SigV4-signed S3 request with an empty body."""
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    host = creds["endpoint_url"].split("://", 1)[1]
    headers = {"host": host, "x-amz-content-sha256": hashlib.sha256(b"").hexdigest(),
               "x-amz-date": stamp}
    names = ";".join(sorted(headers))
    canonical = "\n".join([method, path, "", *(f"{k}:{headers[k]}" for k in sorted(headers)),
                           "", names, headers["x-amz-content-sha256"]])
    scope = f"{day}/{creds['region']}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + creds["secret_key"]).encode()
    for part in (day, creds["region"], "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={creds['access_key']}/{scope}, "
                                f"SignedHeaders={names}, Signature={signature}")
    return headers


def _s3(method: str, path: str, creds: dict) -> int:
    """Send one signed request to the server; return the HTTP status."""
    request = urllib.request.Request(creds["endpoint_url"] + path, method=method,
                                     headers=_sign(method, path, creds))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _ensure_bucket(creds: dict, timeout: float = 60.0) -> None:
    """Create the default bucket if it does not exist yet.

    A server that already passes its readiness probe may still answer 503 while it finishes
    initialising its storage, so a 503 is retried until ``timeout``.
    """
    path = "/" + creds["bucket"]
    deadline = time.monotonic() + timeout
    while True:
        if _s3("HEAD", path, creds) == 200:
            return
        code = _s3("PUT", path, creds)
        if code == 200:
            return
        if code != 503 or time.monotonic() > deadline:
            raise ServiceError(f"minio: creating bucket {creds['bucket']!r} failed with HTTP {code}")
        time.sleep(0.5)


def _ready(timeout: float, log: Path) -> None:
    """Wait until MinIO answers its readiness probe with 200."""
    url = f"http://{HOST}:{port(NAME)}/minio/health/ready"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # refused, reset, or HTTPError (503 while starting)
            pass
        time.sleep(0.3)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:]) if log.exists() else ""
    raise ServiceError(f"minio: not ready on port {port(NAME)} within {timeout:.0f}s\n{tail}")


def start() -> None:
    """Build if needed, start the server, wait until ready, create the bucket."""
    paths = _paths()
    if read_pid(paths["pid"]) is not None:
        _ready(60, paths["log"])  # ours: maybe still starting; otherwise untouched
        return
    install()
    ensure_port_free(port(NAME), NAME)
    ensure_port_free(port("minio_console"), "minio_console")
    creds = _credentials()
    for key in ("data", "certs"):
        paths[key].mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ, MINIO_ROOT_USER=creds["access_key"], MINIO_ROOT_PASSWORD=creds["secret_key"],
        MINIO_SITE_REGION=creds["region"], MINIO_UPDATE="off", MINIO_BROWSER="on",
    )
    cmd = [str(_binary()), "server", "--address", f"{HOST}:{port(NAME)}",
           "--console-address", f"{HOST}:{port('minio_console')}",
           "--certs-dir", str(paths["certs"]), str(paths["data"])]
    spawn(cmd, paths["log"], paths["pid"], env=env, cwd=service_dir(NAME))
    try:
        _ready(120, paths["log"])
        _ensure_bucket(creds)
    except BaseException:
        terminate(paths["pid"])
        raise


def stop() -> None:
    """Stop the server if it runs."""
    terminate(_paths()["pid"])


def status() -> Status:
    """Installed / running / port / pinned version."""
    running = read_pid(_paths()["pid"]) is not None and port_open(port(NAME))
    return Status(NAME, _binary().exists(), running, port(NAME), VERSION)


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__], sys.argv[1:]))
