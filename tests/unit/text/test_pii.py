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


# --- issue 13: IBANs, dates of birth, postal addresses, spoken digits, the company's own contacts


@pytest.mark.parametrize("value", ["GB29 NWBK 6016 1331 9268 19", "DE89370400440532013000",
                                   "FR14 2004 1010 0505 0001 3M02 606", "es91 2100 0418 4502 0005 1332"])
def test_an_iban_passing_mod_97_is_an_iban(value):
    assert kinds(f"my IBAN is {value}, thanks") == [("iban", value)]


def test_an_iban_failing_mod_97_stays():
    assert find_pii("The IBAN GB30 NWBK 6016 1331 9268 19 doesn't validate") == []


@pytest.mark.parametrize(("text", "value"), [
    ("My date of birth is 14/03/1987.", "14/03/1987"),
    ("d.o.b. 05.11.1982", "05.11.1982"),
    ("My son was born on the 2nd of February 2018.", "the 2nd of February 2018"),
    ("date of birth is the fourth of the ninth nineteen eighty", "the fourth of the ninth nineteen eighty"),
])
def test_dates_after_a_birth_word_are_dates_of_birth(text, value):
    assert kinds(text) == [("dob", value)]


@pytest.mark.parametrize("text", ["Your appointment is on 14/03/2025 at 10am.",
                                  "The payment of £45 was taken on 3 May 2024.",
                                  "You've been a customer since 04/07/2015.",
                                  "I was born in Leeds. The refund went out on 3 May 2024."])
def test_other_dates_stay(text):
    assert find_pii(text) == []


@pytest.mark.parametrize("address", [
    "14 Elm Grove, Leeds LS6 2AB", "221 Maple Avenue, Springfield, IL 62704",
    "Unit 4, 18 Beach Road, Bondi NSW 2026", "7 Main Street, Ennis, Co. Clare, V95 X2Y3",
    "Hauptstraße 12, 10115 Berlin", "12 rue de la Paix, 75002 Paris",
    "Flat 302, Sai Residency, Andheri East, Mumbai 400069", "9 Riverside Close"])
def test_postal_addresses(address):
    assert kinds(f"it's {address}.") == [("address", address)]


@pytest.mark.parametrize("text", [
    "Our returns centre is Unit 9, Parkway Industrial Estate, Coventry CV1 2XY.",
    "Call our helpline on 0800 123 4567, it's free.",
    "You can ring us on oh three four five, six oh two, one two three four.",
    "Our complaints mailbox is complaints at northwind dot co dot uk.",
    "Please email our complaints team at complaints@northwind.co.uk.",
    "I waited 2 hours on the phone, then close to giving up I got through.",
])
def test_the_companys_own_contact_points_and_ordinary_numbers_stay(text):
    assert find_pii(text) == []


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("call me on oh seven seven double oh, nine double oh, four five six", "phone",
     "oh seven seven double oh, nine double oh, four five six"),
    ("number's seven-seven-oh-oh, nine-double-oh, one-two-three", "phone",
     "seven-seven-oh-oh, nine-double-oh, one-two-three"),
    ("triple eight, two one four, five five six seven is my work line", "phone",
     "triple eight, two one four, five five six seven"),
    ("my social is five three six, two two, one nine four seven", "ssn",
     "five three six, two two, one nine four seven"),
    ("SSN is 536221947.", "ssn", "536221947"),
    ("it's four five two six, oh one eight one, five nine oh eight, three oh one two", "card",
     "four five two six, oh one eight one, five nine oh eight, three oh one two"),
    ("my email is j dot smith eighty four at gmail dot co dot uk", "email",
     "j dot smith eighty four at gmail dot co dot uk"),
])
def test_spoken_numbers_and_emails(text, kind, value):
    assert kinds(text) == [(kind, value)]


@pytest.mark.parametrize("text", [
    "The tracking number is one two three four five six seven eight nine oh one two.",
    "The claim number is 536221947.",
    "Your order number is 4661 3186 0913 9090.",  # passes Luhn with a Visa prefix: still an order number
])
def test_spoken_and_written_references_stay(text):
    assert find_pii(text) == []
