"""School-survey extracts: codebooks, readers, validation, inbox and demo waves.

Row-level survey data never leave this package and `transforms/survey.py` except as
parquet under the pipeline's private folder (data/private/surveys/).
"""
