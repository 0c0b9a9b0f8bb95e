#!/bin/bash
# core.direct job 'provgraph calc #42': 8 MPI process(es)
#CUSTOM --licenses=abc

exec > 'sched out.txt'
cd '/scratch/user/calc 42'

export OMP_NUM_THREADS=2
export GREETING='it'"'"'s $HOME'

module load espresso/7.2

mpirun -np 8 /opt/codes/pw.x -in 'aiida in.txt' < 'input file' > aiida.out 2> aiida.err

post-process --summary > post.out 2>&1

echo finished
