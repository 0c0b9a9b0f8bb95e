#!/bin/bash
#BSUB -rn
#BSUB -J provgraph
#BSUB -o _scheduler-stdout.txt
#BSUB -e _scheduler-stderr.txt
#BSUB -n 1
#BSUB -R "span[ptile=1]"

hostname > out.txt
