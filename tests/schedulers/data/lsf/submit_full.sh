#!/bin/bash
#BSUB -rn
#BSUB -J provgraph_calc__42
#BSUB -cwd "/scratch/user/calc 42"
#BSUB -o _scheduler-stdout.txt
#BSUB -e _scheduler-stderr.txt
#BSUB -q debug
#BSUB -P proj1
#BSUB -sp 50
#BSUB -n 16
#BSUB -R "span[ptile=8]"
#BSUB -W 26:04
#BSUB -M 2048000KB
#CUSTOM --licenses=abc

export OMP_NUM_THREADS=2
export GREETING='it'"'"'s $HOME'

module load espresso/7.2

mpirun -np 8 /opt/codes/pw.x -in 'aiida in.txt' < 'input file' > aiida.out 2> aiida.err

post-process --summary > post.out 2>&1

echo finished
