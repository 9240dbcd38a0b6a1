"""The safety node's words: vetted, scripted templates, and the check any model text before them must pass
(the graph's safety node puts them together: :func:`helpert.replay.graph.safety.scripted_reply`).

On a safety turn the counselor's words are a template, not free model text. A 135M model told to
acknowledge a crisis and ask about safety often does neither, and sometimes praises what it was told
("It's great that you're taking control of your life", after a client said they had looked up ways to
die). So:

* tier ``crisis`` (the full response): an acknowledgement, a direct question about safety now, and the
  crisis resources (:data:`SAFETY_RESOURCES`). The question follows the kinds of risk
  (:func:`question_group`): suicide or self-harm (and a turn only the learned model flagged, or an
  answer that did not rule risk out) → thoughts of ending one's life or of self-harm; harm to others →
  thoughts of hurting someone; abuse → "Are you safe where you are right now?";
* tier ``check`` (one direct question, no resources): a brief acknowledgement and the question.

Each has :data:`VARIANTS` wordings, chosen by the counselor turn's slot (``slot % VARIANTS``): no random
state, so a replay and a resumed replay write the same bytes, and two safety turns in a row never read
the same. The turn's ``meta.flags`` record the wording used (``safety_template:<tier>:<group>:<i>``,
e.g. ``safety_template:crisis:abuse:2``) beside ``safety_resources`` (crisis) or ``safety_check`` (check).

The model is still called on a safety turn, told by :func:`safety_note` / :data:`SAFETY_CHECK_NOTE` to
reflect what the client said in one short sentence: the call keeps the prompt cache and the journal that
makes resumed runs byte-identical exactly as on any other turn. Its text precedes the template only
when :func:`safety_text_ok` accepts it (and the retries left it neither degenerate nor the fallback);
otherwise the template stands alone and the turn is flagged ``safety_model_text_dropped`` (the dropped
text's ``degenerate`` / ``fallback`` verdicts go with it: they describe words no longer in the turn).
The client's words, and a replayed transcript's human counselor turns, are never altered.
"""

from __future__ import annotations

import re
from typing import Sequence

from helpert.text.lexicon import normalise

SAFETY_RESOURCES = (
    "If you might act on these thoughts or are in danger right now, please contact your local emergency "
    "number or a crisis line now (for example 988 in the US, 116 123 in the UK and Ireland)."
)
VARIANTS = 4  # wordings per tier and question group

# --- what the model is told on a safety turn (it writes at most the sentence before the template) ---

_REFLECT_ONLY = ("In one short sentence, reflect what they said with care. A direct question about their safety "
                 "follows your words, so do not ask anything, do not give advice and do not change the subject.")


def safety_note(risk: Sequence[str]) -> str:
    """The note before the client's words on a crisis turn."""
    kinds = ", ".join(r.replace("_", " ") for r in risk) or "risk"
    return f"Safety first: possible {kinds}. Pause the session plan. {_REFLECT_ONLY}"


# A screen, not a disclosure: one plain question without resources or a change of plan (a false alarm then
# costs one question; an answer that does not rule risk out sends the next turn to the full response).
SAFETY_CHECK_NOTE = f"Safety check: what they said may hide thoughts of suicide or self-harm. {_REFLECT_ONLY}"

# --- the templates ---

CRISIS_ACKNOWLEDGEMENTS = (
    "Thank you for telling me that. It sounds like you are in a lot of pain right now.",
    "Thank you for trusting me with this. It sounds like things are very hard for you right now.",
    "I'm really glad you told me. What you are carrying sounds very painful.",
    "Thank you for saying that out loud. I can hear how much you are hurting.",
)
CRISIS_QUESTIONS = {
    "self": (
        "I want to ask you directly: are you thinking about ending your life or hurting yourself right now?",
        "Can I ask you directly: are you having thoughts of suicide right now?",
        "I need to ask you directly: are you thinking of killing yourself or of hurting yourself right now?",
        "Can I ask you plainly: are you safe right now, or are you thinking about ending your life?",
    ),
    "others": (
        "I want to ask you directly: are you thinking about hurting someone right now?",
        "Can I ask you directly: is anyone in danger of being hurt right now, by you or by anyone else?",
        "I need to ask you directly: do you have thoughts of harming someone right now?",
        "Can I ask you plainly: are you worried you might hurt someone right now?",
    ),
    "abuse": (
        "Are you safe where you are right now?",
        "I want to ask you directly: are you safe where you are right now?",
        "Can I ask you directly: are you safe right now, and is the person who hurt you near you?",
        "Are you safe where you are right now, and do you have somewhere safe you can go?",
    ),
}
CHECK_ACKNOWLEDGEMENTS = (
    "That sounds really hard.",
    "Thank you for telling me how this feels.",
    "It sounds like a lot to carry right now.",
    "I'm sorry things feel this heavy.",
)
CHECK_QUESTIONS = (
    "Can I ask you directly: have you had any thoughts of ending your life or of hurting yourself?",
    "I'd like to ask you directly: have you been having thoughts of suicide or of harming yourself?",
    "When things feel this heavy, some people think about suicide. Can I ask whether you have had thoughts like that?",
    "Can I check something directly: have you had thoughts of hurting yourself or of not wanting to be alive?",
)


def question_group(kinds: Sequence[str]) -> str:
    """Which question a crisis turn asks: ``self`` unless every kind is harm to others or abuse (then
    ``others``, or ``abuse`` when no kind is harm to others): suicide and self-harm come first."""
    if not kinds or set(kinds) - {"harm_to_others", "abuse"}:
        return "self"
    return "others" if "harm_to_others" in kinds else "abuse"


def safety_template(tier: str, kinds: Sequence[str], slot: int) -> tuple[str, str]:
    """The scripted words of a safety turn and their tag (``<tier>:<group>:<variant>``)."""
    i = slot % VARIANTS
    if tier == "check":
        return f"{CHECK_ACKNOWLEDGEMENTS[i]} {CHECK_QUESTIONS[i]}", f"check:self:{i}"
    group = question_group(kinds)
    return f"{CRISIS_ACKNOWLEDGEMENTS[i]} {CRISIS_QUESTIONS[group][i]} {SAFETY_RESOURCES}", f"crisis:{group}:{i}"


TEMPLATES: tuple[str, ...] = tuple(
    safety_template(tier, kinds, i)[0]
    for tier, kinds in (("check", ()), ("crisis", ("suicide",)), ("crisis", ("harm_to_others",)), ("crisis", ("abuse",)))
    for i in range(VARIANTS)
)
# what earlier versions appended after the model's words (runs written before the templates)
_LEGACY_SUFFIXES = (SAFETY_RESOURCES,
                    "Can I ask you directly: have you had any thoughts of ending your life or of hurting yourself?")


def model_part(text: str) -> str:
    """A counselor turn without the safety node's scripted words: the model's own words (the whole text
    of any other turn)."""
    for suffix in (*TEMPLATES, *_LEGACY_SUFFIXES):
        if text.endswith(suffix):
            return text[: -len(suffix)].strip()
    return text


# --- the check on model text before a template ---

SAFETY_TEXT_MAX_WORDS = 40
SAFETY_TEXT_MAX_SENTENCES = 2
# (name, pattern, why): model words that must not stand before a safety question
UNSAFE_SAFETY_TEXT: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE), why) for name, pattern, why in (
        ("praise", r"\b(great|wonderful|amazing|awesome|fantastic|excellent|brilliant|impressive|proud of you|well done|"
                   r"congratulations|good for you|good job|happy (to hear|for you))\b",
         "praise after a risk statement reads as praise of the risk"),
        ("approves", r"\b(good|great|smart|wise|brave|right|healthy|reasonable|sensible) (plan|idea|choice|decision|step|move|"
                     r"call|option|thing to do)\b|\bthat'?s (so |really |very )?(good|nice|fine|okay|ok|cool)\b",
         "approving a plan or an idea: the plan may be the risk"),
        ("control", r"\btak(e|es|ing|en) (back )?(control|charge)\b|\bin control of your\b",
         "'taking control of your life' endorses acting on the thoughts"),
        ("agrees_with_wish", r"\bi (can |completely |totally |fully )?(understand|see|get) why you('d| would)? "
                             r"(want|wish|feel like)\b|"
                             r"\b(understandable|natural|normal|reasonable) (that |for you )?(you )?(would |to )?(want|wish)\b|"
                             r"\bmakes? (\w+ )?sense (that you('d| would)? want )?to "
                             r"(end|die|leave|disappear|give up|stop|hurt|kill)\b",
         "understanding *why they want to* die or hurt validates the wish, not the pain"),
        ("agrees", r"\b(you'?re|you are) (right|correct)\b|\bi agree\b|\bthat'?s (true|right|fair)\b|\bbetter off\b|"
                   r"\bdeserve (a |some )?(break|rest|peace|escape|relief)\b",
         "agreeing with the risk ('everyone would be better off', 'you deserve a break from life')"),
        ("minimises", r"\b(every(one|body)|lots of people|many people|we all) (feels?|goes through|go through|gets?|has|have) "
                      r"(that|this|like that)\b|\bnot (that|so) bad\b|\bcould be worse\b|\b(get|got|getting) over it\b|"
                      r"\bdon'?t be (silly|dramatic|ridiculous)\b|\bdon'?t worry\b|\bcheer up\b|\bbright side\b|"
                      r"\b(think|stay) positive\b|\b(no|not a) big deal\b|\boverreact\w*|\bit'?ll (pass|be fine)\b|"
                      r"\byou'?ll (be fine|feel better)\b",
         "minimising or dismissing what they said"),
        ("question", r"\?",
         "the template asks the one question; a second one from the model dilutes it or changes the subject"),
        ("advice", r"\b(you should|you could|try to|try and|why don'?t you|have you (tried|considered)|let'?s|let us|how about|"
                   r"what about|focus on|next step|homework|agenda|set a goal|make a plan)\b",
         "advice or a step of the session plan: the plan is paused"),
    )
)
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


def safety_text_problems(text: str) -> list[str]:
    """Why model text may not precede a safety template (empty when it may): the names of
    :data:`UNSAFE_SAFETY_TEXT` it matches, ``too_long``, or ``empty``."""
    text = normalise(text).strip()
    if not text:
        return ["empty"]
    problems = [name for name, pattern, _ in UNSAFE_SAFETY_TEXT if pattern.search(text)]
    if len(text.split()) > SAFETY_TEXT_MAX_WORDS or len(_SENTENCES.split(text)) > SAFETY_TEXT_MAX_SENTENCES:
        problems.append("too_long")
    return problems


def safety_text_ok(text: str) -> bool:
    """Whether model text may stand before a safety template: short, and no praise, agreement with the
    risk, minimising, question or advice."""
    return not safety_text_problems(text)
