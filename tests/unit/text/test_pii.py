"""PII redaction rules, with the near misses that must survive."""

import pytest

from extension.text.domain.pii import find_pii, luhn_ok, redact


def kinds(text):
    return [(s.kind, s.text) for s in find_pii(text)]


@pytest.mark.parametrize("number", ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005",
                                    "6011111111111117", "2223 0031 2200 3222"])
def test_a_card_number_passing_luhn_with_a_scheme_prefix_is_a_card(number):
    assert kinds(f"my card is {number} thanks") == [("card", number)]


@pytest.mark.parametrize("text", [
    "card 4111 1111 1111 1112",  # fails Luhn
    "order number 1002 3345 6677 8899",  # passes Luhn by chance, but no card scheme starts with 1
    "tracking 9400 1000 0000 0000 0000 00",  # 22 digits: never read as a card or phone inside it
    "the UPS tracking is 1Z999AA10123456784",
    "IMEI 35-209900-176148-1",
])
def test_card_like_numbers_that_are_not_cards_stay(text):
    assert find_pii(text) == []


def test_luhn():
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")


def test_ssn_needs_a_valid_area_and_dashes_or_context():
    assert kinds("SSN 536-22-1947") == [("ssn", "536-22-1947")]
    assert kinds("it's 219 09 9999 for the tax form") == [("ssn", "219 09 9999")]
    assert find_pii("part 000-12-3456") == [] and find_pii("code 666-12-3456") == []
    assert find_pii("room 219 09 9999") == []  # spaced digits without SSN context


def test_uk_ni_number_checks_prefix_and_suffix():
    assert kinds("NI AB 12 34 56 C") == [("nino", "AB 12 34 56 C")]
    assert kinds("NI JG103759A") == [("nino", "JG103759A")]
    assert find_pii("serial AB123456") == []  # no suffix letter
    assert find_pii("ref GB123456A") == [] and find_pii("ref QQ123456C") == []  # prefixes never issued


def test_emails_written_and_spoken():
    address = "t.reyes+billing@adatum-bank.co.uk"
    assert kinds(f"mail {address} now") == [("email", address)]
    assert kinds("it's lena dot fischer at gmail dot com") == [("email", "lena dot fischer at gmail dot com")]
    assert find_pii("follow @northwind_help or see example.com") == []


@pytest.mark.parametrize("number", ["07700 900123", "+44 20 7946 0958", "(415) 555-0132", "415-555-0199",
                                    "+1 212 555 0147", "0161 496 0000", "07911123456"])
def test_phone_numbers_in_common_shapes(number):
    assert kinds(f"call me on {number} please") == [("phone", number)]


@pytest.mark.parametrize("text", ["order 100458733 shipped", "ticket number 2024 5581 7719",
                                  "invoice number 01234 567890", "paid on 12/03/2024 at 14:32",
                                  "total £1,299.00", "batch 88213-44"])
def test_reference_numbers_dates_and_amounts_are_not_phones(text):
    assert find_pii(text) == []


def test_a_bare_ten_digit_run_is_a_phone_only_with_phone_words():
    assert kinds("call me on 4155550132") == [("phone", "4155550132")]
    assert find_pii("code 4155550132") == []


def test_redaction_replaces_values_and_spans_index_the_redacted_text():
    result = redact("Card 4111 1111 1111 1111, email jo@example.com.", utterance=3)
    assert result.text == "Card [CARD], email [EMAIL]."
    assert [(s.kind, result.text[s.start:s.end], s.utterance) for s in result.spans] == [
        ("card", "[CARD]", 3), ("email", "[EMAIL]", 3)]
    assert all("4111" not in str(s.as_dict()) for s in result.spans)


def test_the_quick_skip_changes_no_finding(monkeypatch):
    """find_pii skips text with no digit, "@" or "dot": over every held-out snippet, utterance and
    transcript line, the skip must find exactly what the six full scans find."""
    from extension.text.domain import pii
    from tests.unit.text import datasets

    texts = [s.text for s in datasets.pii_snippets()]
    texts += [text for *_, text in datasets.labelled_utterances()]
    texts += [u.text for t in datasets.transcripts() for u in t.utterances]
    texts += ["write to jo at example dot com", "Jo AT example DOT co dot uk", "call ５５５ 0100"]
    quick = [find_pii(text) for text in texts]
    skipped = sum(1 for text in texts if not pii._MAYBE_PII.search(text))
    monkeypatch.setattr(pii, "_MAYBE_PII", pii.re.compile(""))
    assert [find_pii(text) for text in texts] == quick
    assert 0 < skipped < len(texts)
