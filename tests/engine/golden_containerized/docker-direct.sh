#!/bin/bash
# core.direct job 'golden': 2 MPI process(es)

cd /scratch/w

"docker" "run" "-i" "-v" "$PWD:/workdir:rw" "-w" "/workdir" "ubuntu:22.04" "sh" "-c" "pw.x -in aiida.in > aiida.out 2> aiida.err"
