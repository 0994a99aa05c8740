"""Evidence from text: actors, quotes, numbers, dates and stance cues in Arabic and English
political analysis, with offsets into the original text, and a draft arena from them.

Entry points: :func:`tawazun.evidence.pipeline.extract`,
:func:`tawazun.evidence.pipeline.draft_arena`, :func:`tawazun.evidence.report.render_html`.
Rules and lexicons only; nothing is downloaded.
"""
