"""Escalation triggers in what the customer says: asking for a manager, threatening to leave,
threatening legal or regulatory action, lodging a formal complaint, or threatening public
exposure (reviews, social media, the press).

Keywords alone over-fire ("my manager asked me to call", "my wife's a lawyer", "I'm not going to
cancel"), so each trigger is a request or threat pattern, and a match is dropped when the clause
around it negates it, reports it in the past, or only asks how something works. A cancellation
with a neutral reason in the same utterance ("I'm cancelling because I'm moving abroad") is a
routine request, not a threat to leave; a review or a post that is praise ("a good review") is
not a threat either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from extension.text.domain.spans import Span, Utterance

_BOSS = (r"(?:manager|supervisor|team ?leader|someone (?:more )?senior|somebody senior|your boss|head office"
         r"|(?:whoever|someone|somebody|the person) (?:is )?in charge)")
_ACCOUNT = (r"(?:account|contract|subscription|service|membership|policy|broadband|plan|line|direct debit"
            r"|agreement)")
_LAWYER = r"(?:lawyers?|solicitors?|attorneys?|legal team)"
_REGULATOR = (r"(?:the )?(?:(?:[\w']+ ){0,3}ombudsman(?: service)?|regulator|trading standards|ofcom"
              r"|ofgem|ofwat|fca|financial conduct authority|information commissioner(?:'s office)?|ico|cfpb"
              r"|consumer financial protection bureau|ftc|federal trade commission"
              r"|competition and markets authority|cma|bbb|better business bureau|attorney general)")
_PUBLIC = (r"(?:social media|facebook|twitter|x|instagram|tiktok|linkedin|reddit|youtube|trustpilot"
           r"|google|yelp|every review site|review sites?|the internet|online)")
_PRESS = r"(?:the )?(?:local )?(?:press|papers|newspapers?|media|bbc|tv|watchdog)"
_WILL = (r"(?:i'm|i am|i'll|i will|we'll|we will|we're|i'm going to|i am going to|going to|gonna|"
         r"i'll be|i will be|expect)")

TRIGGERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.I)) for kind, pattern in (
    ("manager", rf"\b(?:speak|talk)(?:ing)? (?:to|with) (?:(?:a|the|your|another) )?{_BOSS}"),
    ("manager", rf"\b(?:get|put|transfer|escalate|pass) (?:me|this|it)?\s?(?:through )?(?:to )?"
                rf"(?:a|the|your) {_BOSS}"),
    ("manager", rf"\b(?:get|fetch) me (?:a|the|your) {_BOSS}"),
    ("manager", rf"\b(?:want|need|demand|like) (?:a|the|your|to see a|to see the) {_BOSS}"),
    ("manager", rf"\b(?:your|a) {_BOSS}'?s? (?:name|number|details)"),
    ("manager", r"\bescalate (?:this|it|my complaint)\b"),
    ("cancel", rf"\bcancel(?:l?ing)? (?:my|the|our|this) (?:whole )?{_ACCOUNT}"),
    ("cancel", rf"\b(?:close|closing|terminate|terminating|end|ending) (?:my|our|the) {_ACCOUNT}"),
    ("cancel", r"\b(?:i'm|i am|we're|we are|i'll be|we'll be) (?:leaving|switching|moving) "
               r"(?:you|providers?|to another|elsewhere)"),
    ("cancel", r"\bjust cancel (?:it|everything)\b"),
    ("cancel", r"\bcancel(?:l?ing)? (?:the lot|everything|it all)\b"),
    ("cancel", r"\btaking my (?:business|custom|money) (?:elsewhere|somewhere else)"),
    ("cancel", r"\b(?:i'm|i am|we're|we are) done with (?:you|your company|this company)"),
    ("cancel", r"\b(?:i'm|i am|we're|we are) (?:off|going|switching|moving) (?:over )?to "
               r"(?:a|another|your|a different) "
               r"(?:competitor|supplier|provider|bank|company|network|insurer)"),
    ("cancel", r"\b(?:switch|move|go) (?:over )?to (?:a|another|your|a different) "
               r"(?:competitor|supplier|provider|bank|company|network|insurer)"),
    ("cancel", r"\b(?:i'm|i am|we're|we are) (?:leaving|going elsewhere)(?=\s*(?:[.!,]|$))"),
    ("cancel", r"\byou've (?:just )?lost (?:a|my|our) (?:customer|business|custom)"),
    ("legal", rf"\b(?:speak|speaking|talk|talking|go|going|get|getting|contact|contacting|call|calling"
              rf"|instruct|involve|involving|hear from|phone|ring|see) (?:to |with )?(?:my|a) {_LAWYER}"),
    ("legal", rf"\bmy {_LAWYER} (?:will|is going to|'ll)"),
    ("legal", r"\b(?:legal action|take (?:you|this|it) to court|taking (?:you|this|it) to (?:the )?(?:small "
              r"claims )?court|small claims court|see you in court|sue (?:you|your)|suing (?:you|your))"),
    ("regulator", rf"\b(?:report|reporting|complain|complaining|take|taking|go|going|escalat\w*)"
                  rf" [\w ]{{0,25}}\b(?:to|with) {_REGULATOR}"),
    ("complaint", r"\b(?:make|raise|lodge|file|put in) an? (?:formal |official )?complaint\b"),
    ("complaint", r"\bconsider this (?:a|an) (?:formal |official )?complaint\b"),
    ("complaint", r"\bcomplain (?:officially|formally)\b"),
    ("manager", rf"\bput (?:a|the|your) {_BOSS} on\b"),
    ("manager", r"\b(?:this|it) escalated\b"),
    ("regulator", rf"\b(?:contact|contacting|call|calling|phone|ring|writ(?:e|ing) to) {_REGULATOR}"),
    ("regulator", rf"\b(?:raise|raising|file|filing|lodge|lodging) [\w ]{{0,25}}\bwith {_REGULATOR}"),
    ("regulator", rf"\bhearing from {_REGULATOR}|\b{_REGULATOR} (?:will|is going to|'ll) hear"),
    ("public", r"\b(?:write|writing|leave|leaving|post|posting|put|putting|give|giving)"
               r" (?:you |this )?(?:a |an )?(?P<tone>[\w\- ]{0,20})\breview\b"),
    ("public", rf"\b{_WILL} [\w' ]{{0,20}}\b(?:post|put|share|tell|plaster|splash)\w* [\w' ]{{0,30}}"
               rf"\b(?:on|all over|across) {_PUBLIC}\b"),
    ("public", r"\b(?:a|very) public post\b"),
    ("public", rf"\beveryone (?:on {_PUBLIC} )?(?:is going to|will) (?:hear|know)"),
    ("public", rf"\b(?:go|going|contact|contacting|call|calling|writ(?:e|ing) to|tell|telling)"
               rf" (?:to )?{_PRESS}\b"),
    ("public", rf"\b{_PRESS}(?: [\w ]{{0,25}})? would love (?:this|to hear)"),
))

# Clause-local context that turns a trigger into a non-escalation.
# A few words may sit between the negation and the trigger ("don't really want to"), but not a new
# subject: in "if I don't get one I'm taking you to court" the negation belongs to the condition.
_BRIDGE = r"(?:\s+(?!(?:i|i'm|i'll|we|we'll|then)\b)[\w']+){0,3}\s*$"
_NEGATION = re.compile(
    r"\b(?:don't|do not|didn't|won't|will not|not going to|never|no need to|not|no intention of|"
    r"doesn't|isn't|wasn't)\b" + _BRIDGE, re.I)
_PAST = re.compile(r"\b(?:was|were|had been|have been|i've been)\s*$", re.I)
_PAST_INTENT = re.compile(r"\b(?:was going to|were going to|thought about|almost|nearly|considered)\b"
                          r"(?:\s+\w+){0,3}\s*$", re.I)
_INFORMATIONAL = re.compile(r"\b(?:do i need to|do i have to|how do i|should i|what happens if i)\b"
                            r"(?:\s+\w+){0,2}\s*$", re.I)
_NEUTRAL_REASON = re.compile(
    r"\b(?:moving|relocating|going|travelling) (?:abroad|overseas)\b|\bemigrating\b|\brelocating\b"
    r"|\bmoving (?:house|flat|home)\b|\bmoving to (?-i:[A-Z])\w+|\bpassed away\b|\bno longer need\b"
    r"|\bdon't need it any ?more\b|\bat the old address\b", re.I)
_PRAISE = re.compile(r"\b(?:good|great|lovely|nice|positive|glowing|five[- ]star|5[- ]star|brilliant|"
                     r"excellent|fantastic)\b", re.I)
_CLAUSE_BREAK = re.compile(r"[.!?;:,]|\bbut\b|\bso\b|\band\b", re.I)


@dataclass(frozen=True)
class EscalationRules:
    party: str = "customer"
    triggers: tuple[tuple[str, re.Pattern[str]], ...] = TRIGGERS


def find_escalations(utterances: Sequence[Utterance],
                     rules: EscalationRules | None = None) -> list[Span]:
    rules = rules or EscalationRules()
    spans = []
    for index, utterance in enumerate(utterances):
        if utterance.party == rules.party:
            spans.extend(_utterance_escalations(index, utterance.text, rules.triggers))
    return spans


def _utterance_escalations(index: int, text: str,
                           triggers: tuple[tuple[str, re.Pattern[str]], ...]) -> list[Span]:
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in triggers:
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            if _suppressed(text, match.start()):
                continue
            if kind == "cancel" and _NEUTRAL_REASON.search(text):
                continue  # a routine cancellation, with its reason given
            tone = match.groupdict().get("tone")
            if kind == "public" and tone and _PRAISE.search(tone):
                continue  # "a good review" is praise, not a threat
            taken.append((match.start(), match.end()))
            spans.append(Span(utterance=index, start=match.start(), end=match.end(), kind="escalation",
                              text=match.group(), detail={"trigger": kind}))
    return sorted(spans, key=lambda s: s.start)


def _suppressed(text: str, start: int) -> bool:
    """True when the words just before the trigger, within its clause, negate or defuse it."""
    before = text[:start]
    clause = _CLAUSE_BREAK.split(before)[-1] if _CLAUSE_BREAK.search(before) else before
    return any(p.search(clause) for p in (_NEGATION, _PAST, _PAST_INTENT, _INFORMATIONAL))


def has_escalation(utterances: Sequence[Utterance], rules: EscalationRules | None = None) -> bool:
    return bool(find_escalations(utterances, rules))
