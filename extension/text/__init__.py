"""Text analytics: sentiment, PII redaction, compliance and prohibited phrases and their lists,
escalation, key phrases, silence and over-talk, transcript analysis."""

from __future__ import annotations


def init_app(app) -> None:
    from extension.platform.worker import add_warm_up
    from extension.text.api import interaction_analytics, phrase_lists
    from extension.text.cli import quality_cli

    for api in (interaction_analytics, phrase_lists):
        app.register_blueprint(api.bp)
    app.cli.add_command(quality_cli)
    add_warm_up(app, _load_sentiment_model)


def _load_sentiment_model() -> None:
    from extension.text import scoring

    scoring.party_scores([{"party": "agent", "text": "Thanks for calling."}])
