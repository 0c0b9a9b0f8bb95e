#!/bin/bash
#SBATCH --no-requeue
#SBATCH --job-name=provgraph_calc__42
#SBATCH --chdir="/scratch/user/calc 42"
#SBATCH --output=_scheduler-stdout.txt
#SBATCH --error=_scheduler-stderr.txt
#SBATCH --partition=debug
#SBATCH --account=proj1
#SBATCH --qos=high
#SBATCH --nice=10
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=4
#SBATCH --cpus-per-task=2
#SBATCH --time=1-02:03:04
#SBATCH --mem=2000
#CUSTOM --licenses=abc

export OMP_NUM_THREADS=2
export GREETING='it'"'"'s $HOME'

module load espresso/7.2

mpirun -np 8 /opt/codes/pw.x -in 'aiida in.txt' < 'input file' > aiida.out 2> aiida.err

post-process --summary > post.out 2>&1

echo finished
