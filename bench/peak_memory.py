#!/usr/bin/env python3
"""Runs a command and samples its memory every 0.2 s from /proc/PID/status: the peaks of RSS (VmHWM, as
/usr/bin/time -v reports it), of anonymous memory (RssAnon: what the process allocated) and of file pages
(RssFile: mapped checkpoint pages resident). usage: peak_memory.py OUT.json CMD ARGS...
The command's stdout/stderr pass through; OUT.json gets {"peak_rss_mb", "peak_anon_mb", "peak_file_mb",
"seconds", "exit"}."""
import json, subprocess, sys, time

out, cmd = sys.argv[1], sys.argv[2:]
t0 = time.time()
p = subprocess.Popen(cmd)
peak = {"VmHWM": 0, "RssAnon": 0, "RssFile": 0}
while p.poll() is None:
    try:
        for line in open(f"/proc/{p.pid}/status"):
            k = line.split(":")[0]
            if k in peak:
                peak[k] = max(peak[k], int(line.split()[1]))
    except OSError:
        pass
    time.sleep(0.2)
res = {"peak_rss_mb": peak["VmHWM"] / 1024, "peak_anon_mb": peak["RssAnon"] / 1024,
       "peak_file_mb": peak["RssFile"] / 1024, "seconds": time.time() - t0, "exit": p.returncode}
json.dump(res, open(out, "w"))
print(json.dumps(res), file=sys.stderr)
sys.exit(p.returncode)
