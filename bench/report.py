#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turn one bench/run.sh results directory into the table.

    bench/report.py OUT_DIR

Reads OUT_DIR/meta.txt and OUT_DIR/raw/manifest.tsv (one line per run:
round, workload, contender, ok|na, file prefix, note) with the files each
run left (fio JSON, iscsi-perf text, CPU ticks).  Prints the table and the
ratios, and writes results.md, results.csv (medians over rounds),
ratios.csv and runs.csv (every round).  Standard library only.
"""

import csv
import json
import os
import re
import statistics
import sys

TOOLS = ["lunbridge", "qemu-nbd", "iscsi-perf"]
MIB = 1 << 20
GIB = 1 << 30

# (numerator, denominator, workload, metric, aim, direction)
# The aims; ratios are information, never a verdict on the run.
RATIOS = [
    ("lunbridge", "qemu-nbd", "randread-4k-qd32", "iops", 1.6, "ge"),
    ("lunbridge", "qemu-nbd", "randwrite-4k-qd32", "iops", 1.6, "ge"),
    ("lunbridge", "qemu-nbd", "read-1m-qd8", "mib_s", 1.8, "ge"),
    ("lunbridge", "qemu-nbd", "write-1m-qd8", "mib_s", 1.8, "ge"),
    ("lunbridge", "iscsi-perf", "randread-4k-qd1", "iops", 0.85, "ge"),
    ("lunbridge", "iscsi-perf", "randread-4k-qd32", "iops", 0.85, "ge"),
    ("lunbridge", "iscsi-perf", "read-1m-qd8", "mib_s", 0.85, "ge"),
]
CPU_AIM = 0.5  # lunbridge's CPU per GiB over qemu-nbd's, every workload
CONTEXT = [  # no aim: how far the bridge we replace is from libiscsi
    ("qemu-nbd", "iscsi-perf", "randread-4k-qd32", "iops"),
    ("qemu-nbd", "iscsi-perf", "read-1m-qd8", "mib_s"),
]
METRIC_NAME = {"iops": "IOPS", "mib_s": "MiB/s", "cpu_per_gib": "CPU s/GiB"}

WL_RE = re.compile(r"^(randread|randwrite|read|write)-(\d+)([kKmM])-qd(\d+)$")


def wl_bytes(name):
    m = WL_RE.match(name)
    if not m:
        return None
    n = int(m.group(2))
    return n * (1024 if m.group(3) in "kK" else MIB)


def read_meta(out):
    meta = {}
    try:
        with open(os.path.join(out, "meta.txt"), encoding="utf-8") as f:
            for line in f:
                k, sep, v = line.rstrip("\n").partition(": ")
                if sep:
                    meta[k] = v
    except OSError:
        pass
    return meta


def read_cpu(prefix):
    """The .cpu file: "TICKS HZ TGTD_TICKS [BUSY_TICKS WALL_NS]" ->
    {cpu_s, tgtd_s, busy_s, wall_s} (the last two None when absent),
    or None."""
    try:
        with open(prefix + ".cpu", encoding="utf-8") as f:
            v = [int(x) for x in f.read().split()]
        hz = v[1]
        c = {"cpu_s": v[0] / hz, "tgtd_s": v[2] / hz, "busy_s": None, "wall_s": None}
        if len(v) >= 5 and v[4] > 0:
            c["busy_s"], c["wall_s"] = v[3] / hz, v[4] / 1e9
        return c
    except (OSError, ValueError, IndexError, ZeroDivisionError):
        return None


def parse_fio(prefix):
    with open(prefix + ".json", encoding="utf-8") as f:
        text = f.read()
    # fio may put a line in front of its JSON; start at the first brace.
    job = json.loads(text[text.index("{"):])["jobs"][0]
    if job.get("error"):
        raise ValueError("fio job error %s" % job["error"])
    sides = [job[d] for d in ("read", "write") if job[d]["io_bytes"] > 0]
    if not sides:
        raise ValueError("fio moved no data")
    main = max(sides, key=lambda s: s["io_bytes"])
    pct = main.get("clat_ns", {}).get("percentile", {})
    p99 = pct.get("99.000000")
    return {
        "fio_cpu": (job.get("usr_cpu", 0) + job.get("sys_cpu", 0)) / 100.0,
        "iops": sum(s["iops"] for s in sides),
        "mib_s": sum(s["bw_bytes"] for s in sides) / MIB,
        "p99_us": p99 / 1000.0 if p99 is not None else None,
        "gib": sum(s["io_bytes"] for s in sides) / GIB,
    }


def parse_iscsi_perf(prefix, bs, runtime):
    """iscsi-perf prints a running "iops average N (M MB/s)" every second
    and a last one when its -t runtime is over; M is N * bytes >> 20 in
    whole MiB, so MiB/s is recomputed here.  No latency."""
    with open(prefix + ".txt", encoding="utf-8", errors="replace") as f:
        found = re.findall(r"iops average (\d+)", f.read())
    if not found:
        raise ValueError("no 'iops average' in iscsi-perf's output")
    iops = int(found[-1])
    return {
        "fio_cpu": 0.0,
        "iops": float(iops),
        "mib_s": iops * bs / MIB,
        "p99_us": None,
        "gib": iops * bs * runtime / GIB,
    }


def load_runs(out, meta):
    runtime = float(meta.get("runtime", "0") or 0)
    runs = []
    with open(os.path.join(out, "raw", "manifest.tsv"), encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 6:
                continue
            rep, wl, tool, status, base, note = parts[:6]
            r = {"round": int(rep), "workload": wl, "tool": tool,
                 "status": status, "note": note, "iops": None, "mib_s": None,
                 "p99_us": None, "gib": None, "cpu_s": None,
                 "cpu_per_gib": None, "tgtd_cpu_per_gib": None,
                 "others_cpus": None, "contender_cpus": None, "tgtd_cpus": None,
                 "fio_cpus": None, "busy_cpus": None}
            prefix = os.path.join(out, base)
            if status == "ok":
                try:
                    if tool == "iscsi-perf":
                        r.update(parse_iscsi_perf(prefix, wl_bytes(wl), runtime))
                    else:
                        r.update(parse_fio(prefix))
                except (OSError, ValueError, KeyError, IndexError) as e:
                    r["status"], r["note"] = "na", "unreadable result: %s" % e
                c = read_cpu(prefix)
                if r["status"] == "ok" and c is not None and r["gib"]:
                    r["cpu_s"] = c["cpu_s"]
                    r["cpu_per_gib"] = c["cpu_s"] / r["gib"]
                    r["tgtd_cpu_per_gib"] = c["tgtd_s"] / r["gib"]
                if r["status"] == "ok" and c is not None and c["wall_s"]:
                    # What the rest of the machine used meanwhile, in CPUs:
                    # all busy time less the contender's, tgtd's and fio's
                    # (fio's own usr+sys share of one CPU, over the window).
                    ours = c["cpu_s"] + c["tgtd_s"] + r["fio_cpu"] * c["wall_s"]
                    r["others_cpus"] = max(0.0, (c["busy_s"] - ours) / c["wall_s"])
                    # where the machine's CPU went, in CPUs
                    r["contender_cpus"] = c["cpu_s"] / c["wall_s"]
                    r["tgtd_cpus"] = c["tgtd_s"] / c["wall_s"]
                    r["fio_cpus"] = r["fio_cpu"] if tool != "iscsi-perf" else None
                    r["busy_cpus"] = c["busy_s"] / c["wall_s"]
            runs.append(r)
    return runs


def median_rows(runs):
    """One row per (workload, tool): the median of each figure over the
    rounds that worked, with the IOPS spread; n/a with the first reason
    when none did."""
    order = []
    groups = {}
    for r in runs:
        key = (r["workload"], r["tool"])
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(r)
    workloads = []
    for wl, _ in order:
        if wl not in workloads:
            workloads.append(wl)
    rows = []
    for wl in workloads:
        for tool in TOOLS:
            rs = groups.get((wl, tool))
            if rs is None:
                continue
            ok = [r for r in rs if r["status"] == "ok"]
            row = {"workload": wl, "tool": tool, "rounds": len(ok),
                   "status": "ok" if ok else "na",
                   "note": "" if ok else rs[0]["note"],
                   "cpu_of": "client" if tool == "iscsi-perf" else "bridge"}
            for k in ("iops", "mib_s", "p99_us", "gib", "cpu_s",
                      "cpu_per_gib", "tgtd_cpu_per_gib", "others_cpus", "contender_cpus",
                      "tgtd_cpus", "fio_cpus", "busy_cpus"):
                vals = [r[k] for r in ok if r[k] is not None]
                row[k] = statistics.median(vals) if vals else None
            iops = [r["iops"] for r in ok]
            row["iops_min"] = min(iops) if iops else None
            row["iops_max"] = max(iops) if iops else None
            rows.append(row)
    return rows


def fmt_num(v, kind):
    if v is None:
        return None
    if kind == "iops":
        return "{:,.0f}".format(v)
    if kind == "mib_s":
        return "{:,.1f}".format(v) if v < 100 else "{:,.0f}".format(v)
    if kind == "p99_us":
        return "{:,.0f}".format(v) if v >= 100 else "{:.1f}".format(v)
    if kind in ("cpu_per_gib", "ratio"):
        return "{:.3f}".format(v) if v < 10 else "{:.1f}".format(v)
    return str(v)


class Notes:
    """Footnotes: the same reason gets the same number."""

    def __init__(self):
        self.items = []

    def ref(self, text):
        if text not in self.items:
            self.items.append(text)
        return "[%d]" % (self.items.index(text) + 1)


def table_cells(rows, notes):
    head = ["workload", "contender", "IOPS", "MiB/s", "p99 µs", "CPU s/GiB"]
    body = []
    last_wl = None
    for r in rows:
        wl = r["workload"] if r["workload"] != last_wl else ""
        last_wl = r["workload"]
        if r["status"] != "ok":
            na = "n/a " + notes.ref(r["note"])
            body.append([wl, r["tool"], na, "", "", ""])
            continue
        p99 = fmt_num(r["p99_us"], "p99_us")
        if p99 is None:
            p99 = "n/a " + notes.ref("iscsi-perf measures no latency")
        cpu = fmt_num(r["cpu_per_gib"], "cpu_per_gib") or "n/a"
        if r["cpu_of"] == "client" and r["cpu_per_gib"] is not None:
            cpu += " (client) " + notes.ref(
                "iscsi-perf's own CPU: the libiscsi initiator with no bridge and no "
                "NBD client in between; not a bridge's CPU")
        body.append([wl, r["tool"], fmt_num(r["iops"], "iops"),
                     fmt_num(r["mib_s"], "mib_s"), p99, cpu])
    return head, body


def get(rows, wl, tool, metric, rnd=None):
    for r in rows:
        if (r["workload"] == wl and r["tool"] == tool and r["status"] == "ok"
                and (rnd is None or r["round"] == rnd)):
            return r[metric]
    return None


def ratio_rows(rows, runs):
    present = {r["workload"] for r in rows}
    tools = {r["tool"] for r in rows}
    out = []
    for num, den, wl, metric, aim, how in RATIOS:
        if wl in present:
            out.append((num, den, wl, metric, aim, how))
    for wl in [w for w in dict.fromkeys(r["workload"] for r in rows)]:
        out.append(("lunbridge", "qemu-nbd", wl, "cpu_per_gib", CPU_AIM, "le"))
    for num, den, wl, metric in CONTEXT:
        if wl in present:
            out.append((num, den, wl, metric, None, None))
    result = []
    for num, den, wl, metric, aim, how in out:
        if num not in tools or den not in tools:
            continue  # a contender left out with --only
        a, b = get(rows, wl, num, metric), get(rows, wl, den, metric)
        value = a / b if a is not None and b else None
        per_round = []
        for rnd in sorted({r["round"] for r in runs}):
            x, y = get(runs, wl, num, metric, rnd), get(runs, wl, den, metric, rnd)
            if x is not None and y:
                per_round.append(x / y)
        if aim is None:
            aim_s, meets = "(context)", ""
        else:
            aim_s = ("≥ " if how == "ge" else "≤ ") + "{:g}".format(aim)
            if value is None:
                meets = ""
            elif how == "ge":
                meets = "yes" if value >= aim else "no"
            else:
                meets = "yes" if value <= aim else "no"
        result.append({"ratio": "%s / %s" % (num, den), "workload": wl,
                       "metric": METRIC_NAME[metric], "value": value,
                       "aim": aim_s, "meets_aim": meets, "per_round": per_round,
                       "rounds": " ".join("%.2f" % v for v in per_round)})
    return result


def ratio_cells(ratios, rounds):
    head = ["ratio", "workload", "figure", "value", "issue's aim", "meets aim"]
    if rounds > 1:
        head.append("each round")
    body = []
    for x in ratios:
        row = [x["ratio"], x["workload"], x["metric"],
               fmt_num(x["value"], "ratio") or "n/a", x["aim"], x["meets_aim"]]
        if rounds > 1:
            row.append(x["rounds"])
        body.append(row)
    return head, body


def render_text(head, body, right_from=2):
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body)]

    def line(cells):
        out = []
        for i, c in enumerate(cells):
            c = str(c)
            out.append(c.rjust(widths[i]) if i >= right_from else c.ljust(widths[i]))
        return "  ".join(out).rstrip()

    lines = [line(head), "  ".join("-" * w for w in widths)]
    lines += [line(b) for b in body]
    return "\n".join(lines)


def render_md(head, body, right_from=2):
    esc = [[str(c).replace("|", "\\|") for c in row] for row in [head] + body]
    align = ["---:" if i >= right_from else "---" for i in range(len(head))]
    lines = ["| " + " | ".join(esc[0]) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in esc[1:]]
    return "\n".join(lines)


def write_csv(path, fields, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else
                            (round(r[k], 6) if isinstance(r[k], float) else r[k]))
                        for k in fields})


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out = sys.argv[1]
    meta = read_meta(out)
    runs = load_runs(out, meta)
    if not runs:
        print("report: no runs recorded in %s/raw/manifest.tsv" % out, file=sys.stderr)
        return 1
    rows = median_rows(runs)
    ratios = ratio_rows(rows, runs)
    rounds = int(meta.get("repeat", "1") or 1)
    notes = Notes()
    th, tb = table_cells(rows, notes)
    rh, rb = ratio_cells(ratios, rounds)
    what = ("medians of %d rounds" % rounds) if rounds > 1 else "one round"
    setup = ("fio %s s (after %s s ramp) per workload and contender, %s; nbd engine, "
             "region %s of a tgtd null LUN" % (meta.get("runtime", "?"), meta.get("ramp", "?"),
                                               what, meta.get("region", "?")))
    foot = ["[%d] %s" % (i + 1, t) for i, t in enumerate(notes.items)]
    others = [r["others_cpus"] for r in runs if r["others_cpus"] is not None]
    noise = None
    if others:
        noise = ("Other processes on this host used %.2f CPUs on average (at most %.2f, "
                 "in one measurement) while this run measured; host: %s"
                 % (statistics.mean(others), max(others), meta.get("host", "?")))

    print(setup)
    print()
    print(render_text(th, tb))
    if foot:
        print()
        print("\n".join(foot))
    print()
    print(render_text(rh, rb, right_from=3))
    print()
    if noise:
        print(noise)
    print("results: %s/results.md, results.csv, ratios.csv, runs.csv" % out)

    md = ["# lunbridge benchmark", ""]
    for k in ("command", "date", "host", "fio", "qemu-nbd", "tgt", "libiscsi-bin",
              "lunbridge", "loadavg_start", "loadavg_end",
              "other_benchmark_processes_at_start"):
        if k in meta:
            md.append("- %s: `%s`" % (k, meta[k]) if k == "command" else "- %s: %s" % (k, meta[k]))
    md += ["", setup + ".", "", render_md(th, tb), ""]
    md += ["%s  " % f for f in foot]
    md += ["", "CPU s/GiB: user+system CPU seconds of the bridge process (all its threads) "
           "from the end of the ramp to fio's exit, over the GiB fio moved in its measured time.",
           ""] + ([noise + ".", ""] if noise else []) + ["## Ratios", "", "Information, not a verdict: the issue's aims next to what this run measured.",
           "", render_md(rh, rb, right_from=3), ""]
    if rounds > 1:
        md += ["## Every round", ""]
        eh = ["round", "workload", "contender", "IOPS", "MiB/s", "p99 µs", "CPU s/GiB",
              "others' CPUs"]
        eb = [[r["round"], r["workload"], r["tool"],
               fmt_num(r["iops"], "iops") or "n/a", fmt_num(r["mib_s"], "mib_s") or "",
               fmt_num(r["p99_us"], "p99_us") or "", fmt_num(r["cpu_per_gib"], "cpu_per_gib") or "",
               "" if r["others_cpus"] is None else "%.2f" % r["others_cpus"]]
              for r in runs]
        md += [render_md(eh, eb, right_from=3), ""]
    with open(os.path.join(out, "results.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md))

    write_csv(os.path.join(out, "results.csv"),
              ["workload", "contender", "status", "iops", "mib_s", "p99_us", "cpu_per_gib",
               "cpu_of", "cpu_s", "gib", "tgtd_cpu_per_gib", "contender_cpus", "tgtd_cpus",
               "fio_cpus", "busy_cpus", "others_cpus", "rounds",
               "iops_min", "iops_max", "note"],
              [dict(r, contender=r["tool"]) for r in rows])
    write_csv(os.path.join(out, "ratios.csv"),
              ["ratio", "workload", "metric", "value", "aim", "meets_aim", "rounds"], ratios)
    write_csv(os.path.join(out, "runs.csv"),
              ["round", "workload", "contender", "status", "iops", "mib_s", "p99_us",
               "cpu_per_gib", "cpu_s", "gib", "tgtd_cpu_per_gib", "contender_cpus", "tgtd_cpus",
               "fio_cpus", "busy_cpus", "others_cpus", "note"],
              [dict(r, contender=r["tool"]) for r in runs])
    return 0


if __name__ == "__main__":
    sys.exit(main())
