"""Request tokens are cut short wherever a log line could show them."""

from __future__ import annotations

from mailtrack.mail.addressing import (
    bounce_address,
    new_token,
    redact,
    reply_address,
    request_message_id,
)


def test_every_form_of_a_token_is_cut_to_its_first_characters() -> None:
    token = new_token()
    tracker = "actas@consultora.test"
    line = " ".join(
        [
            request_message_id(tracker, token),
            request_message_id(tracker, token, reminder=2),
            reply_address(tracker, token),
            bounce_address(tracker, token),
            f"553 5.1.8 <{bounce_address(tracker, token)}>: Sender address rejected",
        ]
    )
    shown = redact(line)
    assert token not in shown
    assert shown.count(token[:4] + "…") == 5


def test_text_without_tokens_is_unchanged() -> None:
    line = "sent digest <mt.x.0a6ebfb409fd11064636e19b@tracker.test> to juan+news@cliente.test"
    assert redact(line) == line
