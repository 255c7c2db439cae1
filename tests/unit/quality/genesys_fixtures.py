"""Realistic Genesys Cloud evaluation forms (``EvaluationFormResponse``) and the scoring sets
Genesys returns for them (``EvaluationScoringSet``), worked out by hand in the comments.

Each case: ``form`` (as ``GET /api/v2/quality/publishedforms/evaluations/{formId}`` returns it)
and ``scoring_set`` (an evaluation's ``answers``). The scoring set doubles as the input: our
engine reads the evaluator's answers out of it, rescores, and must reproduce it exactly.
"""

from __future__ import annotations


def option(oid: str, text: str, value: int) -> dict:
    return {"id": oid, "contextId": f"ctx-{oid}", "text": text, "value": value}


def question(qid: str, text: str, options: list[dict], *, kind="multipleChoiceQuestion",
             visible=None, **flags) -> dict:
    doc = {"id": qid, "contextId": f"ctx-{qid}", "text": text, "helpText": "", "type": kind,
           "naEnabled": flags.get("naEnabled", False), "commentsRequired": False,
           "isKill": flags.get("isKill", False), "isCritical": flags.get("isCritical", False),
           "answerOptions": options}
    if visible:
        doc["visibilityCondition"] = visible
    return doc


def yes_no(qid: str, text: str, *, yes: int = 1, no: int = 0, **flags) -> dict:
    return question(qid, text, [option(f"{qid}-yes", "Yes", yes), option(f"{qid}-no", "No", no)],
                    **flags)


def group(gid: str, name: str, questions: list[dict], *, weight: float, visible=None,
          na: bool = False) -> dict:
    doc = {"id": gid, "contextId": f"ctx-{gid}", "name": name, "type": "questionGroup",
           "defaultAnswersToHighest": False, "defaultAnswersToNA": False, "naEnabled": na,
           "weight": weight, "manualWeight": True, "questions": questions}
    if visible:
        doc["visibilityCondition"] = visible
    return doc


def form(fid: str, name: str, mode: str, groups: list[dict]) -> dict:
    return {"id": fid, "name": name, "contextId": f"ctx-{fid}", "published": True,
            "weightMode": mode, "questionGroups": groups,
            "evaluationSettings": {"revisionsEnabled": True, "disputesEnabled": False},
            "selfUri": f"/api/v2/quality/publishedforms/evaluations/{fid}"}


def qs(qid: str, answer: str | None, score: int, *, na=False, system=False, kill=False) -> dict:
    doc = {"questionId": qid, "score": score, "markedNA": na, "systemMarkedNA": system,
           "failedKillQuestion": kill}
    if answer is not None:
        doc["answerId"] = answer
    return doc


def gs(gid: str, weight: float, *, total, critical, questions, na=False, system=False) -> dict:
    """A group score from raw (score, max) tallies; the non-critical tally is the difference."""
    non = (total[0] - critical[0], total[1] - critical[1])
    return {
        "questionGroupId": gid, "markedNA": na, "systemMarkedNA": system,
        "totalScore": weight * total[0], "maxTotalScore": weight * total[1],
        "totalCriticalScore": weight * critical[0], "maxTotalCriticalScore": weight * critical[1],
        "totalNonCriticalScore": weight * non[0], "maxTotalNonCriticalScore": weight * non[1],
        "totalScoreUnweighted": total[0], "maxTotalScoreUnweighted": total[1],
        "totalCriticalScoreUnweighted": critical[0],
        "maxTotalCriticalScoreUnweighted": critical[1],
        "totalNonCriticalScoreUnweighted": non[0], "maxTotalNonCriticalScoreUnweighted": non[1],
        "questionScores": questions,
    }


# 1. Inbound support, SCALED. Opening (w 1): greet yes 1/1, verify (critical) no 0/1 → 1/2.
#    Resolution (w 2): "Resolved?" partially 2 of 4, notes (free text, unscored) → 2/4.
#    Compliance (w 1, N/A allowed): recording disclosure (kill) yes → 1/1.
#    total = 100 * (1*1 + 2*2 + 1*1) / (1*2 + 2*4 + 1*1) = 600/11 = 54.545…
#    critical = 100 * (1*0) / (1*1) = 0; non-critical = 100 * (1 + 4 + 1) / (1 + 8 + 1) = 60
#    maxTotalRawScore = 2 + 4 + 1 = 7; maxTotalRawCriticalScore = 1
INBOUND = {
    "form": form("frm-inbound", "Inbound support", "SCALED", [
        group("g-open", "Opening", [
            yes_no("q-greet", "Greeted with the brand script?"),
            yes_no("q-verify", "Verified the caller?", isCritical=True),
        ], weight=1),
        group("g-res", "Resolution", [
            question("q-resolved", "Was the issue resolved?", [
                option("q-resolved-no", "No", 0), option("q-resolved-part", "Partially", 2),
                option("q-resolved-yes", "Fully", 4)]),
            question("q-notes", "Notes", [], kind="freeTextQuestion"),
        ], weight=2),
        group("g-comp", "Compliance", [
            yes_no("q-disclose", "Recording disclosure read?", isKill=True),
        ], weight=1, na=True),
    ]),
    "scoring_set": {
        "totalScore": 600 / 11, "totalCriticalScore": 0.0, "totalNonCriticalScore": 60.0,
        "maxTotalRawScore": 7.0, "maxTotalRawCriticalScore": 1.0,
        "anyFailedKillQuestions": False,
        "questionGroupScores": [
            gs("g-open", 1, total=(1, 2), critical=(0, 1), questions=[
                qs("q-greet", "q-greet-yes", 1), qs("q-verify", "q-verify-no", 0)]),
            gs("g-res", 2, total=(2, 4), critical=(0, 0), questions=[
                qs("q-resolved", "q-resolved-part", 2), qs("q-notes", None, 0)]),
            gs("g-comp", 1, total=(1, 1), critical=(0, 0), questions=[
                qs("q-disclose", "q-disclose-yes", 1)]),
        ],
    },
}

# 2. Callback desk, OFF (weights 3/2/1 are ignored). A read-only text block opens group 0.
#    Handling: callback offered? (5/0) "No" → 0/5; "callback booked right?" is shown only when
#    offered is "Yes" ("../question/1/answer/0"), so it is systemMarkedNA.
#    Customer: NPS-style 0..10 scale, 8 → 8/10.
#    Escalation (shown when no callback was offered, "/form/questionGroup/0/question/1/answer/1"):
#    "escalated properly?" marked N/A by the evaluator; "kept customer informed?" yes → 1/1.
#    total = 100 * (0 + 8 + 1) / (5 + 10 + 1) = 56.25 = non-critical; no critical questions
#    maxTotalRawScore = 16; maxTotalRawCriticalScore = 0
CALLBACK = {
    "form": form("frm-callback", "Callback desk", "OFF", [
        group("g-handle", "Handling", [
            question("q-intro", "Listen to the whole call before scoring.", [],
                     kind="readOnlyTextBlockQuestion"),
            yes_no("q-offer", "Offered a callback?", yes=5, no=0),
            yes_no("q-booked", "Callback booked for the right time?", yes=5, no=0,
                   visible={"combiningOperation": "AND",
                            "predicates": ["../question/1/answer/0"]}),
        ], weight=3),
        group("g-cust", "Customer", [
            question("q-nps", "How likely is the customer to recommend us?",
                     [option(f"q-nps-{v}", str(v), v) for v in range(11)], kind="npsQuestion"),
        ], weight=2),
        group("g-esc", "Escalation", [
            yes_no("q-esc-ok", "Escalated properly?", naEnabled=True),
            yes_no("q-esc-info", "Kept the customer informed?"),
        ], weight=1, visible={"combiningOperation": "OR",
                              "predicates": ["/form/questionGroup/0/question/1/answer/1"]}),
    ]),
    "scoring_set": {
        "totalScore": 56.25, "totalCriticalScore": 0.0, "totalNonCriticalScore": 56.25,
        "maxTotalRawScore": 16.0, "maxTotalRawCriticalScore": 0.0,
        "anyFailedKillQuestions": False,
        "questionGroupScores": [
            gs("g-handle", 1, total=(0, 5), critical=(0, 0), questions=[
                qs("q-offer", "q-offer-no", 0), qs("q-booked", None, 0, na=True, system=True)]),
            gs("g-cust", 1, total=(8, 10), critical=(0, 0), questions=[
                qs("q-nps", "q-nps-8", 8)]),
            gs("g-esc", 1, total=(1, 1), critical=(0, 0), questions=[
                qs("q-esc-ok", None, 0, na=True), qs("q-esc-info", "q-esc-info-yes", 1)]),
        ],
    },
}

# 3. Collections, SCALED 0.25 / 0.5 / 0.25, a failed fatal question and a group marked N/A.
#    Verification (w .25): identity verified (kill, critical) "No" → 0/1, failedKillQuestion.
#    Soft skills (w .5): empathy 3 of 5, used the customer's name yes 1/1 → 4/6.
#    Sales (w .25, N/A allowed): marked N/A by the evaluator → 0 of 0.
#    computed total = 100 * (.25*0 + .5*4) / (.25*1 + .5*6) = 61.5…, forced to 0 by the kill
#    critical = 100 * 0 / .25 = 0; non-critical = 100 * (.5*4) / (.5*6) = 66.67 (kept)
#    maxTotalRawScore = 1 + 6 = 7; maxTotalRawCriticalScore = 1
COLLECTIONS = {
    "form": form("frm-collect", "Collections", "SCALED", [
        group("g-verify", "Verification", [
            yes_no("q-id", "Verified identity before discussing the debt?", isKill=True,
                   isCritical=True),
        ], weight=0.25),
        group("g-soft", "Soft skills", [
            question("q-empathy", "Empathy", [option("q-empathy-low", "Low", 1),
                                              option("q-empathy-mid", "Some", 3),
                                              option("q-empathy-high", "High", 5)]),
            yes_no("q-name", "Used the customer's name?"),
        ], weight=0.5),
        group("g-sales", "Sales", [yes_no("q-upsell", "Offered a payment plan upgrade?")],
              weight=0.25, na=True),
    ]),
    "scoring_set": {
        "totalScore": 0.0, "totalCriticalScore": 0.0, "totalNonCriticalScore": 200 / 3,
        "maxTotalRawScore": 7.0, "maxTotalRawCriticalScore": 1.0,
        "anyFailedKillQuestions": True,
        "questionGroupScores": [
            gs("g-verify", 0.25, total=(0, 1), critical=(0, 1), questions=[
                qs("q-id", "q-id-no", 0, kill=True)]),
            gs("g-soft", 0.5, total=(4, 6), critical=(0, 0), questions=[
                qs("q-empathy", "q-empathy-mid", 3), qs("q-name", "q-name-yes", 1)]),
            gs("g-sales", 0.25, total=(0, 0), critical=(0, 0), na=True, questions=[
                qs("q-upsell", None, 0, na=True)]),
        ],
    },
}

# 4. Retention, SCALED 1 / 2 / 1. An unscored routing question (all options worth 0) decides
#    which group is shown: "Billing" → the Save group (shown for "Cancel") is hidden and
#    system-marked N/A. Billing (w 1): explained the bill yes 2/2, refund policy (critical) no 0/1.
#    Intent counts 0 of 0 but is not N/A (it was answered).
#    total = 100 * (1*0 + 1*2) / (1*0 + 1*3) = 66.67; critical = 0/1 = 0; non-critical = 2/2 = 100
#    maxTotalRawScore = 3; maxTotalRawCriticalScore = 1
RETENTION = {
    "form": form("frm-retain", "Retention", "SCALED", [
        group("g-intent", "Intent", [
            question("q-reason", "Reason for the call", [option("q-reason-bill", "Billing", 0),
                                                         option("q-reason-cancel", "Cancel", 0)]),
        ], weight=1),
        group("g-save", "Save attempt", [
            yes_no("q-offer", "Presented a retention offer?", yes=3, no=0),
        ], weight=2, visible={"combiningOperation": "OR",
                              "predicates": ["/form/questionGroup/0/question/0/answer/1"]}),
        group("g-bill", "Billing", [
            yes_no("q-explain", "Explained the bill line by line?", yes=2, no=0),
            yes_no("q-refund", "Stated the refund policy?", isCritical=True),
        ], weight=1, visible={"combiningOperation": "OR",
                              "predicates": ["/form/questionGroup/0/question/0/answer/0"]}),
    ]),
    "scoring_set": {
        "totalScore": 200 / 3, "totalCriticalScore": 0.0, "totalNonCriticalScore": 100.0,
        "maxTotalRawScore": 3.0, "maxTotalRawCriticalScore": 1.0,
        "anyFailedKillQuestions": False,
        "questionGroupScores": [
            gs("g-intent", 1, total=(0, 0), critical=(0, 0), questions=[
                qs("q-reason", "q-reason-bill", 0)]),
            gs("g-save", 2, total=(0, 0), critical=(0, 0), na=True, system=True, questions=[
                qs("q-offer", None, 0, na=True, system=True)]),
            gs("g-bill", 1, total=(2, 3), critical=(0, 1), questions=[
                qs("q-explain", "q-explain-yes", 2), qs("q-refund", "q-refund-no", 0)]),
        ],
    },
}

CASES = {"inbound": INBOUND, "callback": CALLBACK, "collections": COLLECTIONS,
         "retention": RETENTION}
