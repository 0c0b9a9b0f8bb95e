#!/bin/bash
# core.direct job 'golden': 2 MPI process(es)

cd /scratch/w

mpirun -np 2 "sarus" "run" "--mount=src=$PWD,dst=/workdir,type=bind" "--workdir=/workdir" "qe/7.2" pw.x -in aiida.in > aiida.out 2> aiida.err
