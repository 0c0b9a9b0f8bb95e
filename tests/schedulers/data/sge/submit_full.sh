#!/bin/bash
#$ -S /bin/bash
#$ -r no
#$ -N provgraph_calc__42
#$ -wd "/scratch/user/calc 42"
#$ -o _scheduler-stdout.txt
#$ -e _scheduler-stderr.txt
#$ -q debug
#$ -P proj1
#$ -p -10
#$ -V
#$ -pe mpi 16
#$ -l h_rt=26:03:04
#CUSTOM --licenses=abc

export OMP_NUM_THREADS=2
export GREETING='it'"'"'s $HOME'

module load espresso/7.2

mpirun -np 8 /opt/codes/pw.x -in 'aiida in.txt' < 'input file' > aiida.out 2> aiida.err

post-process --summary > post.out 2>&1

echo finished
