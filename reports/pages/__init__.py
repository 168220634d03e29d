"""Page models: the start page, a county page, a kommun profile, an indicator page and the
memo of a call.

Each function returns the dict its template lays out. Charts are inline SVG strings built
from `SiteData`; every chart has the same numbers in a table on the page.
"""

from reports.pages.county import county_page
from reports.pages.indicator import indicator_page
from reports.pages.memo import memo_page
from reports.pages.profile import profile_page
from reports.pages.start import start_page

__all__ = ["county_page", "indicator_page", "memo_page", "profile_page", "start_page"]
