#!/bin/bash
#PBS -r n
#PBS -N provgraph_calc_
#PBS -o _scheduler-stdout.txt
#PBS -e _scheduler-stderr.txt
#PBS -q debug
#PBS -A proj1
#PBS -p 100
#PBS -V
#PBS -l select=2:mpiprocs=4:ncpus=8:ompthreads=2:mem=2048000kb
#PBS -l walltime=26:03:04
#CUSTOM --licenses=abc

cd '/scratch/user/calc 42'

export OMP_NUM_THREADS=2
export GREETING='it'"'"'s $HOME'

module load espresso/7.2

mpirun -np 8 /opt/codes/pw.x -in 'aiida in.txt' < 'input file' > aiida.out 2> aiida.err

post-process --summary > post.out 2>&1

echo finished
