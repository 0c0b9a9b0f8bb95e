#!/bin/bash
# core.direct job 'golden': 2 MPI process(es)

cd /scratch/w

mpirun -np 2 "apptainer" "exec" "--bind" "$PWD:$PWD" "/images/qe.sif" pw.x -in aiida.in > aiida.out 2> aiida.err
