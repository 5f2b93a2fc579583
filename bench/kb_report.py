"""Markdown report and target check of the retrieval benchmark."""
from __future__ import annotations

import logging

from bench import kb_citizen

_LOGGER = logging.getLogger(__name__)

SHIPPED, LEXICAL = "engine", "engine, lexical only (no encoder)"
BEFORE = ("engine without settling close calls (sibling_min_score=0, "
          "focus_second_look=False)")
"""The engine settling no close call (neither ``knowledge.siblings`` nor the second reading of
a long query's question), run in the same command as a baseline."""
TARGETS = {"top1": 0.94, "mrr5": 0.95, "declined": 0.90, "confident_wrong": 0.015,
           "answered_right": 0.80, "citizen_useless_max": 40, "citizen_useful_min": 22,
           "lcqmc_test": 0.80, "p99_ms_2080": 10.0, "p99_ms_20000": 30.0, "build_s_2080": 5.0}


def _fmt(v, pct: bool = True) -> str:
    if v is None:
        return "–"
    return f"{100 * v:.1f}%" if pct else f"{v}"


def render(report: dict) -> str:
    """Markdown tables of the report."""
    lines = ["## Retrieval quality", ""]
    systems = list(report["quality"])
    for split in ("dev", "test"):
        lines += [f"**{split}**", "", "| system | top-1 | MRR@5 | no-answer declined | "
                  "confident-wrong | answered right | per-style top-1 (unanswerable: declined) |",
                  "|---|---|---|---|---|---|---|"]
        for name in systems:
            m = report["quality"][name].get(split)
            if not m:
                continue
            styles = ", ".join(f"{k} {100 * v:.0f}%" for k, v in m["per_style"].items())
            lines.append(f"| {name} | {_fmt(m['top1'])} | {_fmt(m['mrr5'])} | "
                         f"{_fmt(m['declined'])} | {_fmt(m['confident_wrong'])} | "
                         f"{_fmt(m['answered_right'])} | {styles} |")
        lines.append("")
    lines += direct_answers(report)
    t = TARGETS
    if report.get("homophones"):
        lines += ["**Synthetic speech errors** (homophone substitutions in entry titles, "
                  "top-1):", "", "| engine | " + " | ".join(
                      next(iter(report["homophones"].values()))) + " |", "|---|---|---|"]
        for name, styles in report["homophones"].items():
            lines.append(f"| {name} | " + " | ".join(f"{100 * v:.1f}%" for v in styles.values())
                         + " |")
        lines.append("")
    lines += kb_citizen.render(report.get("citizen", {}))
    lines += kb_citizen.render_sweep(report.get("clarify_sweep", ()))
    lines += [f"Targets: top-1 ≥ {t['top1']:.0%}, MRR@5 ≥ {t['mrr5']:.0%}, declined ≥ "
              f"{t['declined']:.0%}, confident-wrong ≤ {t['confident_wrong']:.0%}.", "",
              "## Question matching (threshold chosen on LCQMC dev)", "",
              "| set | accuracy | target |", "|---|---|---|"]
    mt = report.get("matching", {})
    if "error" in mt:
        lines.append(f"| – | {mt['error']} | |")
    for name in ("lcqmc_dev", "lcqmc_test", "afqmc_dev"):
        if name in mt:
            target = f"≥ {t['lcqmc_test']:.2f}" if name == "lcqmc_test" else ""
            note = " (threshold chosen here)" if name == "lcqmc_dev" else ""
            lines.append(f"| {name}{note} | {mt[name]:.4f} | {target} |")
    lines += ["", "## Speed and memory", "",
              f"{report.get('speed_queries', '?')} queries (dev + test + 200 citizen messages). "
              "p99 is the median of the per-pass p99 over five warm passes (the machine is shared: "
              "a slow patch of a few seconds can spoil a pass or two, and it slows the baselines "
              "run beside as much); p99 cold is the first pass "
              f"(segmentation and pinyin caches empty). BLAS threads: {report.get('blas_threads')}"
              f"; load average at start: {report.get('load_average')}. Builds are timed after a "
              "process warm-up (an index of 20 seed entries built once: dictionaries, libraries "
              f"and the encoder loaded on first use), which took {report.get('warmup_s', '?')} s.",
              "",
              "| system | entries | build s | p50 ms | p99 ms | p99 per pass ms | p99 cold ms "
              "| queries/s | RSS MB | RSS growth MB | upsert/remove ms (median / max) |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in report["speed"]:
        edit = (f"{row['edit_ms_median']} / {row['edit_ms_max']}"
                if row.get("edit_ms_median") is not None else "–")
        passes = ", ".join(f"{p:g}" for p in row.get("p99_per_pass_ms", ()))
        lines.append(f"| {row['system']} | {row['docs']} | {row['build_s']} | {row['p50_ms']} | "
                     f"{row['p99_ms']} | {passes or '–'} | {row['p99_cold_ms']} | {row['qps']} | "
                     f"{row['rss_mb']} | {row['rss_growth_mb']} | {edit} |")
    lines += ["", "## Targets (the shipped engine; quality on dev, where the issue sets the "
              "targets, and on the held-out test set)", "",
              "| target | value | met |", "|---|---|---|"]
    for name, value, goal, ok in target_rows(report):
        lines.append(f"| {name} {goal} | {value} | {'yes' if ok else 'NO'} |")
    return "\n".join(lines)


def direct_answers(report: dict) -> list[str]:
    """Per query style: answered right (direct and right) and answered wrong, for the shipped
    engine beside the engine that settles no close call (neither by the query's words nor
    by a second look at a long query's question)."""
    names = [n for n in (SHIPPED, BEFORE) if n in report["quality"]]
    lines = []
    for split in ("dev", "test"):
        rows = {n: report["quality"][n].get(split) for n in names}
        if not all(rows.values()) or "per_style_answered" not in rows[names[0]]:
            continue
        styles = list(rows[names[0]]["per_style_answered"])
        lines += [f"**Direct answers by query style ({split}): answered right / answered wrong**",
                  "", "| system | " + " | ".join(styles) + " | all |",
                  "|---" * (len(styles) + 2) + "|"]
        for name in names:
            m = rows[name]
            cells = [f"{100 * m['per_style_answered'][s]:.0f}% / {m['per_style_wrong'].get(s, 0)}"
                     for s in styles]
            lines.append(f"| {name} | " + " | ".join(cells) +
                         f" | {100 * m['answered_right']:.1f}% / "
                         f"{100 * m['confident_wrong']:.1f}% |")
        lines.append("")
    return lines


def target_rows(report: dict) -> list[tuple[str, str, str, bool]]:
    """(name, value, goal, met) for every target that could be measured."""
    t, rows = TARGETS, []
    quality_rows = report["quality"].get(SHIPPED, {})
    # The issue sets the quality targets on the dev set (where the defaults are tuned); the
    # held-out test set is reported beside it as the honest check of generalisation.
    for split in ("dev", "test"):
        measured = quality_rows.get(split)
        if not measured:
            continue
        for key, name, low in (("top1", "top-1", True), ("mrr5", "MRR@5", True),
                               ("declined", "no-answer declined", True),
                               ("confident_wrong", "confident-wrong", False),
                               ("answered_right", "answered right (direct)", True)):
            value = measured[key]
            if value is not None:
                ok = value >= t[key] if low else value <= t[key]
                # two decimals: 91.98 % must not print as a 92.0 % that misses 92 %
                rows.append((f"{name} ({split})", f"{100 * value:.2f}%",
                             f"{'≥' if low else '≤'} {100 * t[key]:g}%", ok))
    citizen = report.get("citizen", {}).get(SHIPPED)
    if citizen:
        o = citizen["outcomes"]
        useless = o["clarify useless"] + o["clarify unjudged"]
        rows.append(("useless clarifications (240 labelled messages)", str(useless),
                     f"≤ {t['citizen_useless_max']}", useless <= t["citizen_useless_max"]))
        rows.append(("useful clarifications kept", str(o["clarify useful"]),
                     f"≥ {t['citizen_useful_min']}",
                     o["clarify useful"] >= t["citizen_useful_min"]))
    lcqmc = report.get("matching", {}).get("lcqmc_test")
    if lcqmc is not None:
        rows.append(("LCQMC test accuracy", f"{lcqmc:.4f}", f"≥ {t['lcqmc_test']}",
                     lcqmc >= t["lcqmc_test"]))
    for row in report["speed"]:
        if row["system"].split(" (")[0] != SHIPPED:
            continue
        small = row["docs"] <= 2080
        goal = t["p99_ms_2080"] if small else t["p99_ms_20000"]
        rows.append((f"p99 @{row['docs']} ({row['system']})", f"{row['p99_ms']} ms",
                     f"≤ {goal:g} ms", row["p99_ms"] <= goal))
        if small:
            rows.append((f"build @{row['docs']} ({row['system']}; after the process warm-up)",
                         f"{row['build_s']} s",
                         f"≤ {t['build_s_2080']:g} s", row["build_s"] <= t["build_s_2080"]))
    return rows

