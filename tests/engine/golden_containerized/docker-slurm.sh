#!/bin/bash
#SBATCH --no-requeue
#SBATCH --job-name=golden
#SBATCH --chdir=/scratch/w
#SBATCH --output=_scheduler-stdout.txt
#SBATCH --error=_scheduler-stderr.txt
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=2
#SBATCH --time=01:00:00

"docker" "run" "-i" "-v" "$PWD:/workdir:rw" "-w" "/workdir" "ubuntu:22.04" "sh" "-c" "pw.x -in aiida.in > aiida.out 2> aiida.err"
