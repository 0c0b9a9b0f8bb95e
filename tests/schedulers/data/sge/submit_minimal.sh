#!/bin/bash
#$ -S /bin/bash
#$ -r no
#$ -N provgraph
#$ -cwd
#$ -o _scheduler-stdout.txt
#$ -e _scheduler-stderr.txt
#$ -V
#$ -pe smp 1

hostname > out.txt
