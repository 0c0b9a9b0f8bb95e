#!/bin/bash
#SBATCH --no-requeue
#SBATCH --job-name=golden
#SBATCH --chdir=/scratch/w
#SBATCH --output=_scheduler-stdout.txt
#SBATCH --error=_scheduler-stderr.txt
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=2
#SBATCH --time=01:00:00

mpirun -np 2 "apptainer" "exec" "--bind" "$PWD:$PWD" "/images/qe.sif" pw.x -in aiida.in > aiida.out 2> aiida.err
