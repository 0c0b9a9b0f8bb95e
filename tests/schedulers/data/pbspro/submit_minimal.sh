#!/bin/bash
#PBS -r n
#PBS -N provgraph
#PBS -o _scheduler-stdout.txt
#PBS -e _scheduler-stderr.txt
#PBS -V
#PBS -l select=1:mpiprocs=1:ncpus=1

cd "$PBS_O_WORKDIR"

hostname > out.txt
