#!/usr/bin/env bash
# Throughput runs of issues 11 and 12 on a quiet machine (BENCHMARKS.md "EntQuant throughput and stream
# decoding", "Low-rank factorization"). Needs build/tools/random_llama /tmp/r7b-4 --layers 4 first.
# Appends to /tmp/qb.log (copied to bench/results/throughput_2026-12-07.log for the 2026-12-07 run).
set -u
cd /work/main
L=build/lmpress; S=../shared; T=$S/data/corpus/heldout_dev.jsonl; C=$S/reference/calib_128x512.safetensors
log=/tmp/qb.log
t() { /usr/bin/time -v "$@" 2> /tmp/qb.time; grep -E "Maximum resident|Elapsed" /tmp/qb.time | sed 's/^\s*//' >> $log; }
echo "== lscpu: $(lscpu | grep 'Model name' | sed 's/  */ /g')" >> $log
echo "== entquant lm-m lambda 14.5 lbfgs" >> $log
t $L compress $S/models/lm-m -o /tmp/qb-eq-m --method entquant --lambda 14.5 --format lmp --force --json -q > /tmp/qb-eq-m.json
python3 -c "import json;j=json.load(open('/tmp/qb-eq-m.json'));print('seconds',j['seconds'],'params',j['params'],'weights/s',j['params']/j['seconds'])" >> $log
echo "== entquant 7B-shaped (4 of 32 blocks) lambda 14.5 lbfgs, no super-weight scan" >> $log
t $L compress /tmp/r7b-4 -o /tmp/qb-eq-7b --method entquant --lambda 14.5 --super-weight-threshold inf --format lmp --force --json -q > /tmp/qb-eq-7b.json
python3 -c "import json;j=json.load(open('/tmp/qb-eq-7b.json'));print('seconds',j['seconds'],'params',j['params'],'weights/s',j['params']/j['seconds'],'bpw',j['bpw'])" >> $log
for m in "" "--stream-decode"; do
  echo "== eval lm-m lmp lambda 14.5 $m (40 windows)" >> $log
  t $L eval /tmp/qb-eq-m --text $T --ctx 512 --max-windows 40 --json -q $m > /tmp/qb-ev.json
  python3 -c "import json;j=json.load(open('/tmp/qb-ev.json'));print('tok/s',j['tokens_per_second'],'ppl',j['ppl'],'rss',j['peak_rss_mb'])" >> $log
done
echo "== eval lm-m original bf16 dense (40 windows)" >> $log
t $L eval $S/models/lm-m --text $T --ctx 512 --max-windows 40 --json -q > /tmp/qb-ev.json
python3 -c "import json;j=json.load(open('/tmp/qb-ev.json'));print('tok/s',j['tokens_per_second'],'ppl',j['ppl'],'rss',j['peak_rss_mb'])" >> $log
echo "== aa-svd lm-m rho 0.6 closed form, lmp" >> $log
t $L compress $S/models/lm-m -o /tmp/qb-aa-m --method aa-svd --ratio 0.6 --calib $C --format lmp --force --json -q > /tmp/qb-aa-m.json
python3 -c "import json;j=json.load(open('/tmp/qb-aa-m.json'));print('seconds',j['seconds'],'bpw',j['bpw'])" >> $log
echo "== eval lm-m aa-svd 0.6 factored (40 windows)" >> $log
t $L eval /tmp/qb-aa-m --text $T --ctx 512 --max-windows 40 --json -q > /tmp/qb-ev.json
python3 -c "import json;j=json.load(open('/tmp/qb-ev.json'));print('tok/s',j['tokens_per_second'],'ppl',j['ppl'],'rss',j['peak_rss_mb'])" >> $log
echo "== aa-svd lm-m rho 0.6 + 1 refinement epoch" >> $log
t $L compress $S/models/lm-m -o /tmp/qb-aa-m1 --method aa-svd --ratio 0.6 --calib $C --format lmp --refine-epochs 1 --force --json -q > /tmp/qb-aa-m1.json
python3 -c "import json;j=json.load(open('/tmp/qb-aa-m1.json'));b=j['refine']['blocks'];print('seconds',j['seconds'],'refine_s',sum(x['seconds'] for x in b),'mse ratio',[round(x['mse_after']/x['mse_before'],4) for x in b])" >> $log
echo "== done" >> $log
