#!/bin/sh
# Container entry point of a provgraph worker (docker/Dockerfile.worker).
# Runs one worker in the foreground (PROVGRAPH_* settings come from the container environment).
set -eu
exec provgraph worker start --foreground "$@"
