"""One self-contained HTML page per run: what was run, how the LLM differs from the peers, and every
session's pictures and transcripts side by side.

Everything is inline (CSS in a <style> element, images as base64 PNG data URIs), so the file can be
mailed, archived or opened offline. All text from transcripts, labels and the manifest is escaped.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpert.metrics import registry
from helpert.metrics.mi import THRESHOLDS
from helpert.protocols import Protocol
from helpert.report.tables import fmt
from helpert.session import Session, Turn

if TYPE_CHECKING:
    import pandas
    from matplotlib.figure import Figure

    from helpert.compare import ComparedRun
    from helpert.replay.runs import Manifest



def _session_metrics() -> tuple[tuple[str, str, str], ...]:
    """(metric, what it means, direction) of the per-session table, from the registry; the MITI summary
    scores carry their fair and good thresholds."""
    out = []
    for key in registry.SESSION:
        metric = registry.METRICS[key]
        meaning = metric.title
        if key in THRESHOLDS:
            meaning = f"MITI {meaning} (fair ≥ {THRESHOLDS[key][0]:g}, good ≥ {THRESHOLDS[key][1]:g})"
        out.append((key, meaning, metric.direction_note))
    return tuple(out)


# Per-session table: (metric, what it means, direction), shown peer | LLM | diff.
SESSION_METRICS = _session_metrics()

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1d1d1d;background:#fafafa;line-height:1.4}
main{max-width:1320px;margin:0 auto;padding:16px 28px 48px}
h1{font-size:1.6em;margin:.6em 0 .1em}h2{font-size:1.3em;margin:1.6em 0 .5em;border-bottom:2px solid #ddd;padding-bottom:.2em}
h3{font-size:1.05em;margin:1.2em 0 .4em}.sub{color:#666;margin:0 0 1em}
table{border-collapse:collapse;font-size:.88em;background:#fff}th,td{border:1px solid #ddd;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv th{width:12em}td.mono,span.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.92em}
tr.sig td.diff{font-weight:600}td.diff.up{color:#b35900}td.diff.down{color:#1b6ca8}
figure{margin:12px 0;background:#fff;border:1px solid #e3e3e3;padding:8px}figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption{font-size:.85em;color:#555;margin-top:4px}
nav ul{columns:3;font-size:.9em}details{margin:.6em 0}summary{cursor:pointer;color:#1b6ca8}
table.transcript{width:100%;table-layout:fixed}table.transcript col.slot{width:3.2em}
table.transcript td{font-size:.95em}td.client{background:#f7f7f7;color:#333}td.client .who{font-size:.8em;color:#666;margin-top:.3em}
td.empty,span.empty{color:#999;font-style:italic}span.dim{color:#777;font-family:sans-serif;font-size:.9em}tr.drift-peer td.peer,tr.drift-llm td.llm{box-shadow:inset 3px 0 0 #d62728}
.tags{margin-bottom:3px}.tag{display:inline-block;border-radius:3px;padding:0 5px;margin:0 4px 2px 0;font-size:.78em;border:1px solid rgba(0,0,0,.25)}
.tag.behaviour{background:#eef2f7;color:#243b53}.tag.plan{background:#fff7d6;color:#6b5200}.tag.safety{background:#ede3f5;color:#4b1d6b}.tag.drift{background:#fde2e2;color:#9b1c1c;border-color:#e8a0a0}
.tag.degenerate{background:#fff0d9;color:#7a3e00;border-color:#e0b070}
.legend .tag{font-size:.8em}.warn{color:#9b1c1c}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)




def _img(fig: "Figure", alt: str, caption: str = "", dpi: int = 100) -> str:
    """A figure as an inline PNG data URI inside <figure>."""
    from helpert.report.plot.common import figure_png

    data = base64.b64encode(figure_png(fig, dpi=dpi)).decode("ascii")
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{data}">{cap}</figure>'


def _short(sha: Any, n: int = 12) -> str:
    return str(sha)[:n] if sha else "-"


def manifest_rows(manifest: "Manifest", protocol: Protocol, n_sessions: int, skipped: list[str]) -> list[tuple[str, str]]:
    """(field, value) rows of the run summary; values are plain text (escaped when rendered)."""
    model = manifest.model
    sampling = model.get("sampling") or {}
    rows = [
        ("model", f"{model.get('model_file') or model.get('model_path') or model.get('served_model') or '-'}"
                  f"{' (sha256 ' + _short(model.get('model_sha256')) + '…)' if model.get('model_sha256') else ''}"),
        ("backend", f"{model.get('backend', '-')}, n_ctx {model.get('n_ctx', '-')}, "
                    + (f"servers {', '.join(model['endpoints'])}" if model.get("endpoints")
                       else f"threads {model.get('n_threads', '-')}")),
        ("sampling", ", ".join(f"{k} {v}" for k, v in sampling.items()) or "-"),
        ("seed", str("-" if manifest.seed is None else manifest.seed)),
        ("protocol", f"{protocol.name} — {protocol.title}; {protocol.source or 'no file'}, "
                     f"sha256 {_short(protocol.sha256)}…"),
        ("sessions", f"{n_sessions} compared" + (f"; incomplete, left out: {', '.join(skipped)}" if skipped else "")),
        ("helpert", str(manifest.helpert or "-")),
        ("libraries", ", ".join(f"{k} {v}" for k, v in manifest.libraries.items()) or "-"),
        ("python / platform", f"{manifest.python or '-'} / {manifest.platform or '-'}"),
    ]
    if manifest.guidance:
        rows.insert(5, ("guidance", manifest.guidance))
    if manifest.mode != "replay":
        client = manifest.client_model or {}
        rows.insert(0, ("mode", manifest.mode + (f"; client model {client.get('model_file') or client.get('model_path') or '-'}"
                                                 if manifest.mode == "simulate" else "")))
    return rows


def _kv_table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="kv manifest">{body}</table>'


def corpus_table(stats: "pandas.DataFrame", metrics: list[str] | None = None) -> str:
    """metric | n | peer | LLM | diff [95% CI] | dz | p; rows whose CI excludes 0 are marked ``sig``."""
    rows = list(stats.index) if metrics is None else [m for m in metrics if m in stats.index]
    out = ['<table class="corpus"><thead><tr><th>metric</th><th>n</th><th>peer</th><th>LLM</th>'
           "<th>diff [95% CI]</th><th>dz</th><th>p</th></tr></thead><tbody>"]
    for m in rows:
        s = stats.loc[m]
        lo, hi, d = float(s["ci_low"]), float(s["ci_high"]), float(s["mean_diff"])
        has_ci = not (math.isnan(lo) or math.isnan(hi))
        ci = f" [{fmt(lo, True)}, {fmt(hi, True)}]" if has_ci else ""
        sig = has_ci and (lo > 0 or hi < 0)
        direction = "" if math.isnan(d) or d == 0 else (" up" if d > 0 else " down")
        n = "-" if math.isnan(float(s["n"])) else str(int(s["n"]))
        note = registry.direction_note(m)
        label = f'{_e(m)} <span class="dim">({_e(note)})</span>' if note else _e(m)
        out.append(f'<tr{" class=sig" if sig else ""}><td class="mono">{label}</td><td class="num">{n}</td>'
                   f'<td class="num">{fmt(s["peer_mean"])}</td><td class="num">{fmt(s["llm_mean"])}</td>'
                   f'<td class="num diff{direction}">{fmt(d, True)}{ci}</td><td class="num">{fmt(s["dz"], True, 2)}</td>'
                   f'<td class="num">{fmt(s["p_value"])}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def session_table(row: "pandas.Series | None") -> str:
    """Main metrics of one session: metric | meaning | peer | LLM | LLM − peer."""
    out = ['<table class="session-metrics"><thead><tr><th>metric</th><th>meaning</th><th>peer</th><th>LLM</th>'
           "<th>LLM − peer</th></tr></thead><tbody>"]
    for key, meaning, direction in SESSION_METRICS:
        peer = None if row is None else row.get(f"{key}.peer")
        llm = None if row is None else row.get(f"{key}.llm")
        both = peer is not None and llm is not None and not (math.isnan(peer) or math.isnan(llm))
        note = f" ({direction})" if direction else ""
        out.append(f'<tr><td class="mono">{_e(key)}</td><td>{_e(meaning + note)}</td><td class="num">{fmt(peer)}</td>'
                   f'<td class="num">{fmt(llm)}</td><td class="num">{fmt(llm - peer, True) if both else "-"}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def slot_rows(original: Session, reconstruction: Session) -> list[tuple[int, str, str, Turn | None, Turn | None]]:
    """(slot, client text the peer's turn answers, client text the LLM's turn answers, peer turn, LLM turn) for every
    slot of either side. In a replay both client texts are the same words; in a simulation the LLM's client is the
    client model."""
    from helpert.report.plot.common import counselor_slots

    def clients(session: Session) -> dict[int, str]:
        out, last, slot_of = {}, [], {id(t): k for k, t in counselor_slots(session)}
        for t in session.turns:
            if t.role == "client":
                last.append(t.text)
            else:
                out[slot_of[id(t)]] = " ".join(last)
                last = []
        return out

    peer = {k: t for k, t in counselor_slots(original)}
    llm = {k: t for k, t in counselor_slots(reconstruction)}
    said = {"peer": clients(original), "llm": clients(reconstruction)}
    return [(k, said["peer"].get(k, ""), said["llm"].get(k, ""), peer.get(k), llm.get(k)) for k in sorted(set(peer) | set(llm))]


def _tags(turn: Turn, colours: dict[str, str], drift: list[str]) -> str:
    from helpert.report.plot.common import text_colour

    phase = turn.labels.get("phase")
    phase = phase if isinstance(phase, str) and phase else None
    bg = colours.get(phase or "", "#ffffff")
    shown = phase or "no label"
    tags = [f'<span class="tag phase" data-phase="{_e(shown)}" style="background:{bg};color:{text_colour(bg)}">'
            f"{_e(shown)}</span>"]
    behaviour = turn.labels.get("behaviour")
    if behaviour:
        tags.append(f'<span class="tag behaviour">{_e(behaviour)}</span>')
    plan = turn.labels.get("graph_phase")
    if plan and plan != phase:
        tags.append(f'<span class="tag plan" title="phase the graph router chose">asked: {_e(plan)}</span>')
    tier = turn.meta.get("safety_tier")
    if tier:
        tags.append(f'<span class="tag safety" title="safety node: full response (crisis) or one question (check)">'
                    f"safety: {_e(tier)}</span>")
    if drift:
        tags.append(f'<span class="tag drift">drift: {_e("; ".join(drift))}</span>')
    checks = [f.split(":", 1)[1] for f in turn.meta.get("flags") or [] if f.startswith("degenerate:")]
    if checks:
        tags.append(f'<span class="tag degenerate" title="still degenerate after the retries (helpert.replay.llm.degenerate)">'
                    f"degenerate: {_e(', '.join(checks))}</span>")
    return f'<div class="tags">{"".join(tags)}</div>'


def transcript_table(original: Session, reconstruction: Session, protocol: Protocol, simulated: bool = False) -> str:
    """Slot | client | peer counselor | LLM counselor, every counselor turn tagged with phase and
    behaviour (and, for the LLM, the router's phase when the model did something else). In a replay the client column
    is the original's words (the LLM answered the same); in a simulation (``simulated``) it shows both clients where
    they differ: the LLM counselor answered the client model."""
    from helpert.report.plot.common import phase_colours
    from helpert.report.plot.timeline import drift_reasons

    colours = phase_colours(protocol)
    drift = {"peer": drift_reasons(original, protocol), "llm": drift_reasons(reconstruction, protocol)}
    out = ['<table class="transcript"><colgroup><col class="slot"><col><col><col></colgroup>'
           "<thead><tr><th>#</th><th>client</th><th>peer counselor</th><th>LLM counselor</th></tr></thead><tbody>"]
    for k, peer_client, llm_client, peer, llm in slot_rows(original, reconstruction):
        classes = " ".join(f"drift-{side}" for side in ("peer", "llm") if k in drift[side])
        cells = []
        for side, turn in (("peer", peer), ("llm", llm)):
            if turn is None:
                cells.append(f'<td class="{side} empty">(no turn: the session ended)</td>')
            else:
                cells.append(f'<td class="{side} counselor" data-slot="{k}">{_tags(turn, colours, drift[side].get(k, []))}'
                             f'<div class="text">{_e(turn.text)}</div></td>')
        attr = f' class="{classes}"' if classes else ""
        if not simulated or peer_client == llm_client or not (peer_client and llm_client):  # one client, verbatim
            client = peer_client or llm_client
            said = _e(client) if client else '<span class="empty">(opening: the counselor speaks first)</span>'
        else:  # a simulation: the LLM counselor answered the client model, not the peer's client
            said = (f'<div class="who">peer\'s client</div>{_e(peer_client)}'
                    f'<div class="who">simulated client (what the LLM answered)</div>{_e(llm_client)}')
        out.append(f'<tr data-slot="{k}"{attr}><td class="num">{k}</td><td class="client">{said}</td>'
                   f'{"".join(cells)}</tr>')
    out.append("</tbody></table>")
    return "".join(out)


def _phase_legend(protocol: Protocol) -> str:
    from helpert.report.plot.common import phase_colours, phase_order, text_colour

    colours = phase_colours(protocol)
    spans = "".join(f'<span class="tag" style="background:{colours[p]};color:{text_colour(colours[p])}">{_e(p)}</span>'
                    for p in phase_order(protocol))
    return f'<p class="legend">phases: {spans}</p>'


def _small_sample_note(stats: "pandas.DataFrame") -> str:
    """A warning when the corpus is too small for its bootstrap CIs to mean much (:func:`helpert.compare.small_sample_note`)."""
    from helpert.compare import small_sample_note

    note = small_sample_note(stats)
    return f'<p class="warn">{_e(note)}</p>' if note else ""


def _how(manifest, protocol: Protocol) -> str:
    """What the LLM side of the run is, in words, for the page's subtitle."""
    if manifest.mode == "simulate":
        return (f"simulated through the {protocol.name} graph with a client model: the LLM counselor answered the "
                "simulated client, so the sessions part after the opening and the client column shows both clients")
    return f"replay through the {protocol.name} graph: the client's words are the same in both, slot by slot"


def render_report(run: "ComparedRun") -> str:
    """The whole page as a string."""
    from helpert.report.plot.run import corpus_figures, session_figures

    name = run.root.resolve().name
    protocol, comparison, pairs = run.protocol(), run.comparison(reuse=True), run.labelled()
    table, stats = comparison.table, comparison.stats
    corpus = corpus_figures(run)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>helpert report: {_e(name)}</title><style>{CSS}</style></head><body><main>",
        f"<h1>helpert report: {_e(name)}</h1>",
        f'<p class="sub">Peer counselor (original) vs LLM counselor ({_e(_how(run.manifest, protocol))}).</p>',
        '<section id="run"><h2>Run</h2>',
        _kv_table(manifest_rows(run.manifest, protocol, len(pairs), run.skipped)), "</section>",
        '<section id="corpus"><h2>Corpus: LLM − peer</h2>',
        "<p>Mean of paired differences (LLM − peer) with a percentile bootstrap 95% CI; bold rows: the CI excludes 0. "
        "Beside each metric: which way is better (drift metrics: higher = more drift).</p>",
        _small_sample_note(stats),
        corpus_table(stats, list(registry.MAIN)),
        f"<details><summary>all {len(stats)} metrics</summary>{corpus_table(stats)}</details>",
        _img(corpus["differences"], "paired differences per metric with 95% CIs"), "</section>",
        '<section id="protocol"><h2>Protocol</h2>', _img(corpus["protocol"], f"protocol {protocol.name}"),
        "</section>",
        '<section id="sessions"><h2>Sessions</h2><nav><ul>',
        *(f'<li><a href="#s-{_e(run.slug(o.dialogue_id))}">{_e(o.dialogue_id)}</a></li>' for o, _ in pairs),
        "</ul></nav>", _phase_legend(protocol), "</section>",
    ]
    for original, reconstruction in pairs:
        did = original.dialogue_id
        figs = session_figures(run, original, reconstruction)
        row = table.loc[did] if did in table.index else None
        parts += [
            f'<section class="session" id="s-{_e(run.slug(did))}"><h2>{_e(did)}</h2>',
            session_table(row),
            _img(figs["flow"], f"{did}: phase flow, peer and LLM",
                 "Phase flow: node size = turns in the phase; solid grey = a move the protocol allows, dashed red = "
                 "one it does not, dotted purple = the safety node."),
            _img(figs["timeline"], f"{did}: phase timeline",
                 "Phase per slot; a red ▼ marks a drift turn. 'LLM plan' is the phase the graph's router chose."),
        ]
        if "scores" in figs:
            parts.append(_img(figs["scores"], f"{did}: CTRS and empathy"))
        parts += ["<h3>Transcripts</h3>", transcript_table(original, reconstruction, protocol, run.manifest.mode == "simulate"), "</section>"]
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def write_report(run_dir: "str | Path | ComparedRun", protocol: Protocol | None = None) -> Path:
    """Write RUN_DIR/report.html (atomically) and return its path; ``run_dir`` may be an open
    :class:`helpert.compare.ComparedRun`, whose comparison and labelled pairs are then reused."""
    from helpert.compare import ComparedRun
    from helpert.io.atomic import atomic_write_text

    run = ComparedRun.open(run_dir, protocol)
    path = run.root / "report.html"
    atomic_write_text(path, render_report(run))
    return path
