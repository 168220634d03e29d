"""Local registers a county keeps: support given (stod), Community Readiness interviews
(beredskap), goals in municipal plans (mal) and applications to a call (ansokningar).

`layouts.py` says what each file holds, `parse.py` reads and checks one file, `folder.py`
handles the folder (quarantine, last accepted version), `templates.py` writes templates.
"""
