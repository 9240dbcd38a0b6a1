"""How far transcript conventions that carry no counseling move the measures (rounds 62-65; docs/metrics.md, "What
the measures read").

The same sessions measured as they are and rewritten five ways that a real transcript may differ from them
(``helpert.probe.markup``):

* ``times``: a time in brackets before every turn ("[01:05] ...", as transcription services export);
* ``notes``: a transcriber's note after some turns ("[inaudible]" after about 30%, "(laughs)" after about 20%);
* ``labels``: the speaker's label repeated at the start of every turn's text ("Therapist: ...", "Client: ...");
* ``fillers``: "um" / "uh" before about 8% of the words of every turn;
* ``unpunctuated``: every sentence mark (. , ! ? ; :) taken out and the text lower-cased, as some speech
  recognisers write.

Sessions: the ten no labeller saw (the HOPE sample and the expert transcripts of ``tests/data/expert_cbt``, as in
``validate_quality.unseen_sessions``). Reported per rewrite: the mean change and the mean absolute change of the main
measures. Since rounds 63-65 the measures read a turn without its times, notes, repeated own label and fillers
(``helpert.text.transcript.speech_view``), so the first four should be 0; the last is what a user of unpunctuated
transcripts should expect: since 2026-12-06 such a session is read with its sentence marks put back
(``helpert.text.punctuation``), which leaves a smaller change, and `helpert measure` still warns about them
(``helpert.text.transcript.unpunctuated``).

    .venv/bin/python benchmarks/transcript_markup.py
    PYTHONPATH=/path/to/other/checkout .venv/bin/python benchmarks/transcript_markup.py --name transcript_markup_other
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report  # noqa: E402

KEYS = ("drift.score", "ctrs.mean", "mi.reflection_share", "mi.adherent_pct", "talk.question_ratio", "drift.lecture_share")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--name", default="transcript_markup", help="results/NAME.json")
    args = ap.parse_args(argv)
    import helpert
    import validate_quality as vq
    from helpert.metrics import measure_sessions
    from helpert.probe.markup import REWRITES
    from helpert.protocols import load_protocol

    protocol = load_protocol("cbt_session")
    sessions = vq.unseen_sessions()
    base = measure_sessions(sessions, protocol)
    out = {"helpert": str(Path(helpert.__file__).resolve().parent), "sessions": len(sessions),
           "base_means": {k: round(float(base[k].mean()), 4) for k in KEYS}, "rewrites": {}}
    for name, rewrite in REWRITES.items():
        frame = measure_sessions([rewrite(s) for s in sessions], protocol)
        diff = frame[list(KEYS)] - base[list(KEYS)]
        out["rewrites"][name] = {k: {"mean_change": round(float(diff[k].mean()), 4), "mean_abs_change": round(float(diff[k].abs().mean()), 4)}
                                 for k in KEYS}
    out["punctuation"] = punctuation()
    report(args.name, out)


def punctuation() -> dict:
    """Per English corpus of ``language_check.corpora`` (sessions only): how many sessions ``unpunctuated`` flags and
    the most words per sentence mark among them (the threshold is MAX_WORDS_PER_MARK)."""
    import language_check
    from helpert.text.transcript import MAX_WORDS_PER_MARK, MIN_WORDS_FOR_MARKS, MIN_WORDS_WITHOUT_MARKS, _END, unpunctuated

    out = {"max_words_per_mark": MAX_WORDS_PER_MARK, "min_words": MIN_WORDS_FOR_MARKS,
           "min_words_without_marks": MIN_WORDS_WITHOUT_MARKS, "corpora": {}}
    for name, sessions in language_check.corpora().items():
        if name.startswith("risk statements"):
            continue
        ratios = [len(" ".join(texts).split()) / max(1, len(_END.findall(" ".join(texts)))) for _, texts in sessions]
        out["corpora"][name] = {"sessions": len(sessions), "flagged": sum(unpunctuated(texts) for _, texts in sessions),
                                "most_words_per_mark": round(max(ratios), 1), "median_words_per_mark": round(sorted(ratios)[len(ratios) // 2], 1)}
    return out


if __name__ == "__main__":
    main()
