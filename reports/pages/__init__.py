"""Page models: the start page, a county page, a kommun profile, an indicator page, the
county's own views and the decision memo of a call (`call_memo`).

Each function returns the dict its template lays out. Charts are inline SVG strings built
from `SiteData`; every chart has the same numbers in a table on the page.
"""

from reports.pages.call_memo import call_memo_page
from reports.pages.changes import changes_page
from reports.pages.compare import compare_page
from reports.pages.county import county_page
from reports.pages.dialogue import dialogue_page
from reports.pages.indicator import indicator_page
from reports.pages.memo import memo_page
from reports.pages.profile import profile_page
from reports.pages.sexes import sexes_page
from reports.pages.start import start_page

__all__ = ["call_memo_page", "changes_page", "compare_page", "county_page", "dialogue_page",
           "indicator_page", "memo_page", "profile_page", "sexes_page", "start_page"]

# The county's own views: page kind → (file stem, template, page function of (data, lan)).
COUNTY_VIEW_PAGES = {"changes": ("andringar", "changes.html.j2", changes_page),
                     "compare": ("jamfor", "compare.html.j2", compare_page),
                     "sexes": ("kon", "sexes.html.j2", sexes_page),
                     "memo": ("lansoversikt", "memo.html.j2", memo_page),
                     "dialogue": ("samtal", "dialogue.html.j2", dialogue_page)}
