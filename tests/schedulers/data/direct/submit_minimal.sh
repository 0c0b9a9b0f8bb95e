#!/bin/bash
# core.direct job 'provgraph': 1 MPI process(es)

hostname > out.txt
