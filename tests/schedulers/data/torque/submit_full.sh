#!/bin/bash
#PBS -r n
#PBS -N provgraph_calc_
#PBS -o _scheduler-stdout.txt
#PBS -e _scheduler-stderr.txt
#PBS -q debug
#PBS -A proj1
#PBS -V
#PBS -l nodes=2:ppn=8
#PBS -l mem=4096000kb
#PBS -l qos=high
#PBS -l walltime=26:03:04
#CUSTOM --licenses=abc

cd '/scratch/user/calc 42'

export OMP_NUM_THREADS=2
export GREETING='it'"'"'s $HOME'

module load espresso/7.2

mpirun -np 8 /opt/codes/pw.x -in 'aiida in.txt' < 'input file' > aiida.out 2> aiida.err

post-process --summary > post.out 2>&1

echo finished
