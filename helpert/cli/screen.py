"""`helpert screen`: flag the client turns of any transcripts that call for a safety response (no LLM)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from helpert.cli.options import DEFAULT_POLICY, RISK_POLICIES, speaker_option


@click.command(short_help="Screen transcripts' client turns for crisis content (no model).")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--policy", type=click.Choice(RISK_POLICIES), default=DEFAULT_POLICY, show_default=True,
              help="Safety policy, as replay's --risk-sensitivity. stepped: 'crisis' turns call for the full safety "
                   "response, 'check' turns for one direct safety question. The others have no 'check' tier: every "
                   "flagged turn is 'crisis' (lexicon: the phrase list alone; balanced, high, screen: rising sensitivity).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON Lines instead of the table: one object per client turn, flagged or not, with the keys "
                   "dialogue_id, idx, tier, kinds, score. The client turns of a session that is not in English get the kind "
                   "not_english too: the detector reads English only, so none there is no all-clear (a Latin-script session under "
                   "30 words is too short to tell and is read as English).")
@click.option("--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write those JSON Lines to this file (atomically).")
@click.option("--dialogue", default=None, help="Screen only the dialogue with this id.")
@speaker_option
def screen(paths: tuple[Path, ...], policy: str, as_json: bool, output: Path | None, dialogue: str | None,
           speakers: "dict[str, str] | None") -> None:
    """Screen the client turns of the sessions in PATH... (files or folders, any transcript format) for crisis
    content: suicide, self-harm, harm to others, abuse. Each client turn is read with the client's earlier
    turns; idx numbers the turns of the session as loaded (from 0, every speaker, empty turns dropped).
    Prints the flagged turns and per-corpus counts.

    Exits 0 whether or not anything is flagged; 2 on unreadable input or when no session is found."""
    from helpert.cli.errors import UserError, refuse_run_folders
    from helpert.io import read_sessions
    from helpert.safety.screen import screen_by_session, summarise

    refuse_run_folders(paths, "screen")
    sessions = read_sessions(*paths, dialogue=dialogue, speakers=speakers)
    if not sessions:
        raise UserError(f"no sessions found in {', '.join(map(str, paths))}")
    from helpert.text.transcript import unpunctuated_ids, unpunctuated_screen_warning

    bare = unpunctuated_ids(sessions)
    if bare:
        click.echo(unpunctuated_screen_warning(bare), err=True)
    per_session = screen_by_session(sessions, policy)
    turns = [t for ts in per_session for t in ts]
    lines = "".join(json.dumps(t.to_record(), ensure_ascii=False) + "\n" for t in turns)
    if output is not None:
        from helpert.io.atomic import atomic_write_text

        try:
            atomic_write_text(output, lines)
        except OSError as exc:
            raise UserError(f"{output}: cannot write ({exc.strerror or exc})") from None
    if as_json:
        unread = summarise(per_session).not_english_sessions
        if unread:
            click.echo(f"warning: {unread} session(s) not in English: the detector reads English only, so their "
                       "turns (kind not_english) are not cleared by a tier of none", err=True)
        click.echo(lines, nl=False)
        return
    from helpert.report.tables import print_screen_table

    print_screen_table(turns, summarise(per_session), title=f"helpert screen ({policy})")
