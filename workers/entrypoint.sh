#!/bin/sh
# Container entry point of a provgraph worker (docker/Dockerfile.worker).
# The worker command arrives with the process engine; until then this fails loudly.
set -eu
exec provgraph worker start --foreground "$@"
