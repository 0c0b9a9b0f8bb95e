#!/bin/bash
#PBS -r n
#PBS -N provgraph
#PBS -o _scheduler-stdout.txt
#PBS -e _scheduler-stderr.txt
#PBS -V
#PBS -l nodes=1:ppn=1

cd "$PBS_O_WORKDIR"

hostname > out.txt
